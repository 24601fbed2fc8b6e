"""RBAC: the dailyscrum ServiceAccount may create and patch WorkflowTaskResults in dsm, nothing else."""

from __future__ import annotations

from pathlib import Path

import yaml

RBAC = Path(__file__).resolve().parents[2] / "workflows" / "cluster" / "manifests"


def load(name: str) -> dict:
    [document] = [d for d in yaml.safe_load_all((RBAC / name).read_text()) if d]
    return document


def test_files_and_namespace() -> None:
    for name in ("role.yaml", "rolebinding.yaml", "serviceaccount.yaml"):
        assert load(name)["metadata"]["namespace"] == "dsm"


def test_service_account_is_the_one_the_workflow_uses() -> None:
    from tests.workflows.manifests import workflow_template

    account = load("serviceaccount.yaml")
    assert (account["apiVersion"], account["kind"], account["metadata"]["name"]) == (
        "v1",
        "ServiceAccount",
        "dailyscrum",
    )
    assert workflow_template()["spec"]["serviceAccountName"] == account["metadata"]["name"]


def test_role_grants_only_workflowtaskresults_create_and_patch() -> None:
    role = load("role.yaml")
    assert role["kind"] == "Role"  # namespaced, never a ClusterRole
    assert role["apiVersion"] == "rbac.authorization.k8s.io/v1"
    assert role["rules"] == [
        {"apiGroups": ["argoproj.io"], "resources": ["workflowtaskresults"], "verbs": ["create", "patch"]}
    ]


def test_binding_ties_the_role_to_the_service_account() -> None:
    binding, role, account = load("rolebinding.yaml"), load("role.yaml"), load("serviceaccount.yaml")
    assert binding["kind"] == "RoleBinding"
    assert binding["roleRef"] == {
        "apiGroup": "rbac.authorization.k8s.io",
        "kind": "Role",
        "name": role["metadata"]["name"],
    }
    assert binding["subjects"] == [
        {"kind": "ServiceAccount", "name": account["metadata"]["name"], "namespace": "dsm"}
    ]

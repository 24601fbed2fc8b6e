"""Strict validation against Argo's CronWorkflow CRD schemas (3.6.19, 3.7.18, 4.1.2) from ../shared/argo."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest

from tests.workflows.manifests import golden_documents, templates
from workflows import config, crd, render

CRD_DIR = crd.crd_dir()
pytestmark = pytest.mark.skipif(
    not CRD_DIR.is_dir(),
    reason=f"Argo CRD schemas not found at {CRD_DIR} (shared/argo beside the repository)",
)
VERSIONS = list(crd.iter_crd_versions())


@pytest.mark.parametrize(("version", "path"), VERSIONS, ids=[v for v, _ in VERSIONS])
def test_golden_manifest_is_valid(version: str, path: Path) -> None:
    assert path.is_file(), f"missing {path}"
    for document in golden_documents():
        assert crd.validate(document, path) == []


@pytest.mark.parametrize(("version", "path"), VERSIONS, ids=[v for v, _ in VERSIONS])
def test_unknown_fields_are_rejected(version: str, path: Path) -> None:
    [document] = golden_documents()
    document = copy.deepcopy(document)
    templates(document)["report"]["container"]["imagePullPolcy"] = "Always"
    document["spec"]["concurrency_policy"] = "Forbid"
    errors = crd.validate(document, path)
    assert "spec.workflowSpec.templates[5].container: unknown field(s) imagePullPolcy" in errors
    assert "spec: unknown field(s) concurrency_policy" in errors


@pytest.mark.parametrize(("version", "path"), VERSIONS, ids=[v for v, _ in VERSIONS])
def test_int_or_string_and_types(version: str, path: Path) -> None:
    [document] = golden_documents()
    document = copy.deepcopy(document)
    retry = templates(document)["fetch-team"]["retryStrategy"]
    retry["limit"] = "3"  # int-or-string: both are fine
    assert crd.validate(document, path) == []
    retry["limit"] = [3]
    document["spec"]["startingDeadlineSeconds"] = "600"
    errors = crd.validate(document, path)
    assert any(e.startswith("spec.startingDeadlineSeconds:") for e in errors)
    assert any(e.startswith("spec.workflowSpec.templates[4].retryStrategy.limit:") for e in errors)


def test_display_names_need_argo_3_7() -> None:
    """Why the default target is 3.6: the template-level `annotations` field is new in Argo 3.7."""
    [document] = render.render_documents(config.load(), argo_version="3.7")
    for version, path in VERSIONS:
        errors = crd.validate(document, path)
        if version == "v3.6.19":
            assert errors and all(e.endswith("unknown field(s) annotations") for e in errors)
        else:
            assert errors == []


def test_two_project_config_renders_lints_and_validates(tmp_path: Path) -> None:
    from workflows import lint

    projects = tmp_path / "projects.toml"
    projects.write_text(
        '[[projects]]\nid = "GEM-001"\nname = "run-dailyscrum"\nsprint = "GEM-001-S01"\n\n'
        '[[projects]]\nid = "ACME-042"\nschedule = ["30 9 * * 1-5", "0 16 * * 5"]\n'
        'timezone = "Europe/Berlin"\nsuspended = true\n'
    )
    text = render.render_text(projects)
    count, findings = lint.lint_text(text, "two.yaml")
    assert (count, findings) == (2, [])
    documents = render.render_documents(config.load(projects))
    assert [d["metadata"]["name"] for d in documents] == ["run-dailyscrum", "run-dailyscrum-acme-042"]
    acme = documents[1]
    assert acme["spec"]["schedules"] == ["30 9 * * 1-5", "0 16 * * 5"]
    assert acme["spec"]["timezone"] == "Europe/Berlin" and acme["spec"]["suspend"] is True
    params = {p["name"]: p["value"] for p in acme["spec"]["workflowSpec"]["arguments"]["parameters"]}
    assert params["project_id"] == "ACME-042" and params["sprint_id"] == ""
    env = {e["name"]: e["value"] for e in templates(acme)["prepare"]["container"]["env"]}
    assert env["SCHEDULE_TIMEZONE"] == "Europe/Berlin"
    for _, path in VERSIONS:
        for document in documents:
            assert crd.validate(document, path) == []


def test_strict_transform_closes_objects_but_respects_k8s_extensions() -> None:
    schema = {
        "type": "object",
        "properties": {
            "open": {"type": "object", "x-kubernetes-preserve-unknown-fields": True, "properties": {"a": {}}},
            "map": {"type": "object", "additionalProperties": {"type": "string"}},
            "port": {"x-kubernetes-int-or-string": True},
            "maybe": {"type": "string", "nullable": True},
        },
    }
    closed = crd.strict(schema)
    assert closed["additionalProperties"] is False
    assert "additionalProperties" not in closed["properties"]["open"]
    assert closed["properties"]["map"]["additionalProperties"] == {"type": "string"}
    assert closed["properties"]["port"]["anyOf"] == [{"type": "integer"}, {"type": "string"}]
    assert closed["properties"]["maybe"]["type"] == ["string", "null"]

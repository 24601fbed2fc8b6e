"""Security: no secret in the manifest or in what a run leaves behind; every template restricted.

RBAC (the ServiceAccount may only create/patch WorkflowTaskResults) is tested in
tests/workflows/test_rbac.py; the exact securityContext of the six contract steps in
tests/workflows/test_manifest.py::test_security_resources_and_lifetimes. This module adds what
those do not check: every template of every rendered document (also with many projects and for
Argo 3.7), judged by the Kubernetes "restricted" Pod Security Standard, and the absence of secrets.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from steps import http
from tests.reliability.harness import DAY, run_workflow
from tests.workflows.manifests import golden_documents
from workflows import checks
from workflows.cluster import config, dailyscrum
from workflows.runner.executor import PASSED_STEP_SETTINGS, base_environment
from workflows.standin.client import StandIn

REPO = Path(__file__).resolve().parents[2]
SECRET_KEYS = re.compile(r"authorization|token|passw|secret|api[-_]?key|credential|private[-_]?key", re.I)
SECRET_VALUES = [
    re.compile(r"\b(Bearer|Basic)\s+\S+", re.I),
    re.compile(r"-----BEGIN [A-Z ]*(PRIVATE KEY|CERTIFICATE)"),
    re.compile(r"\beyJ[A-Za-z0-9_-]{10,}\."),  # a JWT (Kubernetes ServiceAccount tokens are JWTs)
    re.compile(r"://[^/\s:@]+:[^/\s@]+@"),  # user:password@ in a URL
    re.compile(r"(?i)\b(ghp|gho|github_pat|glpat|xox[abp]|AKIA)[A-Za-z0-9_-]{8,}"),
]
CONTAINER_KINDS = ("container", "script")
FAKE_SECRET = "s3cr3t-FAKE-7f1c2e9b4d"  # what a leak would carry


def documents() -> list[dict[str, Any]]:
    """The golden manifest, plus a render with two projects."""
    two = config.parse({"projects": [{"id": "GEM-001"}, {"id": "ACME-042", "timezone": "Europe/Berlin"}]})
    return [*golden_documents(), *dailyscrum.documents(two)]


def run_specs() -> list[tuple[str, dict[str, Any]]]:
    """(name, the workflow spec Argo runs) for every CronWorkflow: the template merged in, with its
    templateDefaults applied to each step, as the controller does."""
    docs = documents()
    templates = checks.workflow_templates(docs)
    crons = [doc for doc in docs if doc["kind"] == "CronWorkflow"]
    return [(doc["metadata"]["name"], checks.resolve_cron(doc, templates).spec) for doc in crons]


def strings(node: Any, where: str = "") -> Iterator[tuple[str, str, str]]:
    """(path, key, string value) of every string in a YAML tree; keys are yielded too."""
    if isinstance(node, dict):
        for key, value in node.items():
            yield f"{where}.{key}", str(key), str(key)
            yield from strings(value, f"{where}.{key}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            name = value.get("name", index) if isinstance(value, dict) else index
            yield from strings(value, f"{where}[{name}]")
    elif node is not None:
        yield where, where.rsplit(".", 1)[-1], str(node)


@pytest.mark.parametrize(
    "source",
    [
        pytest.param("manifest", id="golden-manifest"),
        *[
            pytest.param(p, id=p.name)
            for p in sorted((REPO / "workflows" / "cluster" / "rbac").glob("*.yaml"))
        ],
    ],
)
def test_no_secret_in_the_manifest_or_rbac(source: str | Path) -> None:
    docs = documents() if source == "manifest" else list(yaml.safe_load_all(Path(source).read_text()))
    for doc in docs:
        for path, key, value in strings(doc):
            assert not SECRET_KEYS.search(key), f"{path}: a key that names a secret"
            for pattern in SECRET_VALUES:
                assert not pattern.search(value), f"{path}: {value!r} looks like a secret"
            # Env values are parameters or fixed words, never a literal credential; no secretKeyRef either.
            if ".env[" in path:
                assert key in {"name", "value"}, f"{path}: env must be plain values"


def test_no_env_reads_a_secret_and_no_token_is_mounted_by_the_manifest() -> None:
    for doc in documents():
        text = yaml.safe_dump(doc)
        assert "secretKeyRef" not in text and "secretRef" not in text
        assert "Authorization" not in text
    for _, spec in run_specs():
        volumes = spec.get("volumes", []) + [v for t in spec["templates"] for v in t.get("volumes", [])]
        assert all(set(v) - {"name"} == {"emptyDir"} for v in volumes), volumes  # no secret/hostPath


def _effective(pod: dict[str, Any], container: dict[str, Any], key: str) -> Any:
    """A container setting, falling back to the pod's (as Kubernetes does for the shared fields)."""
    own = (container.get("securityContext") or {}).get(key)
    return own if own is not None else (pod or {}).get(key)


def containers(template: dict[str, Any]) -> list[dict[str, Any]]:
    found = [template[kind] for kind in CONTAINER_KINDS if kind in template]
    found += template.get("initContainers", []) + template.get("sidecars", [])
    found += (template.get("containerSet") or {}).get("containers", [])
    return found


def test_every_template_is_restricted() -> None:
    checked = 0
    for name, spec in run_specs():
        for field_name in ("hostNetwork", "hostPID", "hostIPC"):
            assert not spec.get(field_name), field_name
        for template in spec["templates"]:
            where = f"{name}: template {template['name']}"
            if "dag" in template or "steps" in template:
                assert not containers(template), where
                continue
            assert containers(template), f"{where}: neither a DAG nor a container: check it here"
            # A template's own securityContext is the pod's for that template.
            pod = {**(spec.get("securityContext") or {}), **(template.get("securityContext") or {})}
            for container in containers(template):
                context = container.get("securityContext") or {}
                assert _effective(pod, container, "runAsNonRoot") is True, where
                assert _effective(pod, container, "runAsUser") not in (None, 0), where
                seccomp = _effective(pod, container, "seccompProfile") or {}
                assert seccomp.get("type") == "RuntimeDefault", where
                assert context.get("allowPrivilegeEscalation") is False, where
                assert context.get("readOnlyRootFilesystem") is True, where
                assert not context.get("privileged"), where
                assert context.get("capabilities", {}).get("drop") == ["ALL"], where
                assert not context.get("capabilities", {}).get("add"), where
                assert all("hostPort" not in port for port in container.get("ports", [])), where
                checked += 1
    assert checked >= 18  # six steps, in the golden CronWorkflow and the two of the two-project render


def test_a_run_leaves_no_secret_anywhere(stack: StandIn, tmp_path: Path) -> None:
    """Secrets in the runner's environment never reach a step, a log, status.json or an artifact."""
    env = {
        "ARGO_TOKEN": f"Bearer {FAKE_SECRET}",
        "ARGO_SERVER": "argo.example:2746",
        "DSM_FAKE_PASSWORD": FAKE_SECRET,
        "AWS_SECRET_ACCESS_KEY": FAKE_SECRET,
    }
    # One run that succeeds and one whose steps fail and log errors (the chronicle cannot tell).
    good = run_workflow(stack, tmp_path / "good", f"report_date={DAY}", env=env)
    stack.fault("chronicle", "status", count=100, status=500, method="GET")
    bad = run_workflow(stack, tmp_path / "bad", "report_date=2026-11-26", env=env)
    assert good.code == 0, good
    assert bad.code == 1, bad
    files = [path for path in tmp_path.rglob("*") if path.is_file()]
    assert any(p.name.endswith(".log") for p in files) and any(p.name == "status.json" for p in files)
    for path in files:
        assert FAKE_SECRET.encode() not in path.read_bytes(), path
    for printed in (good.out, good.err, bad.out, bad.err):
        assert FAKE_SECRET not in printed


@pytest.mark.parametrize(
    "leak",
    ["Bearer abc.def", "-----BEGIN RSA PRIVATE KEY-----", "eyJhbGciOiJSUzI1NiJ9.e30.sig", "http://u:pw@host"],
)
def test_the_secret_detectors_detect(leak: str) -> None:
    assert any(pattern.search(leak) for pattern in SECRET_VALUES)


def test_a_step_gets_only_the_allow_listed_part_of_the_runner_environment() -> None:
    environ = {
        "PATH": "/usr/bin",
        "ARGO_TOKEN": FAKE_SECRET,
        "HTTP_PROXY": "http://proxy:3128",
        "HTTPS_PROXY": "http://proxy:3128",
        "HTTP_READ_TIMEOUT": "2",
        "HTTP_AUTHORIZATION": FAKE_SECRET,
    }
    env = base_environment(environ)
    assert env["HTTP_READ_TIMEOUT"] == "2" and env["PATH"] == "/usr/bin"
    assert not {"ARGO_TOKEN", "HTTP_PROXY", "HTTPS_PROXY", "HTTP_AUTHORIZATION"} & set(env)
    # The pass-through names are exactly the HTTP knobs steps/http.py reads.
    assert set(PASSED_STEP_SETTINGS) == {
        http.ENV_CONNECT_TIMEOUT, http.ENV_READ_TIMEOUT, http.ENV_RETRIES, http.ENV_BACKOFF_FACTOR
    }

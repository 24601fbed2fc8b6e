"""Strict validation against Argo's CronWorkflow CRD schemas (3.6.19, 3.7.18, 4.1.2) from ../shared/argo."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest

from tests.workflows.manifests import golden_documents, templates
from workflows import crd, render
from workflows.cluster import config

CRD_DIR = crd.crd_dir()
pytestmark = pytest.mark.skipif(
    not CRD_DIR.is_dir(),
    reason=f"Argo CRD schemas not found at {CRD_DIR} (shared/argo beside the repository)",
)
VERSIONS = list(crd.iter_crd_versions())


def _minor(version: str) -> tuple[int, int]:
    """"v3.7.18" or "3.7" -> (3, 7)."""
    major, minor = version.lstrip("v").split(".")[:2]
    return int(major), int(minor)


GOLDEN_TARGETS = [
    (golden, version, path)
    for golden, target in render.GOLDEN_ARGO_VERSIONS.items()
    for version, path in VERSIONS
    if _minor(version) >= _minor(target or config.load().argo_version)
]


@pytest.mark.parametrize(
    ("golden", "version", "path"), GOLDEN_TARGETS, ids=[f"{g.name}-{v}" for g, v, _ in GOLDEN_TARGETS]
)
def test_golden_manifests_are_valid_for_their_releases(golden: Path, version: str, path: Path) -> None:
    assert path.is_file(), f"missing {path}"
    for document in golden_documents(golden):
        assert crd.validate(document, path) == []


def golden_for(version: str) -> dict:
    """The golden document that release `version` takes (its newest-target golden file)."""
    golden = max((g for g, v, _ in GOLDEN_TARGETS if v == version), key=lambda g: g == render.GOLDEN)
    [document] = golden_documents(golden)
    return copy.deepcopy(document)


def test_every_release_has_a_valid_golden_manifest() -> None:
    """Argo 3.6 takes the .argo36 file; 3.7 and 4.1 take the main one, display names and all."""
    assert {version for _, version, _ in GOLDEN_TARGETS} == {version for version, _ in VERSIONS}
    assert ("run-dailyscrum.yaml", "v3.7.18") in {(g.name, v) for g, v, _ in GOLDEN_TARGETS}


@pytest.mark.parametrize(("version", "path"), VERSIONS, ids=[v for v, _ in VERSIONS])
def test_unknown_fields_are_rejected(version: str, path: Path) -> None:
    document = golden_for(version)
    templates(document)["report"]["container"]["imagePullPolcy"] = "Always"
    document["spec"]["concurrency_policy"] = "Forbid"
    errors = crd.validate(document, path)
    assert "spec.workflowSpec.templates[5].container: unknown field(s) imagePullPolcy" in errors
    assert "spec: unknown field(s) concurrency_policy" in errors


@pytest.mark.parametrize(("version", "path"), VERSIONS, ids=[v for v, _ in VERSIONS])
def test_int_or_string_and_types(version: str, path: Path) -> None:
    document = golden_for(version)
    retry = templates(document)["fetch-team"]["retryStrategy"]
    retry["limit"] = "3"  # int-or-string: both are fine
    assert crd.validate(document, path) == []
    retry["limit"] = [3]
    document["spec"]["startingDeadlineSeconds"] = "600"
    errors = crd.validate(document, path)
    assert any(e.startswith("spec.startingDeadlineSeconds:") for e in errors)
    assert any(e.startswith("spec.workflowSpec.templates[4].retryStrategy.limit:") for e in errors)


def test_display_names_need_argo_3_7() -> None:
    """Why Argo 3.6 has its own golden file: the template-level `annotations` field is new in 3.7."""
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
    for version, path in VERSIONS:
        target = "3.6" if version.startswith("v3.6") else None
        for document in render.render_documents(config.load(projects), argo_version=target):
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

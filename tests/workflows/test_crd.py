"""Strict validation against the bundled CRD schemas of Argo 3.7.18 and 4.1.2 (workflows/crds/, no skip)."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest
import yaml

from tests.workflows.test_lint import layout, templates
from workflows import crd


def validate(document: dict, version: str) -> list[str]:
    """Every way `document` breaks its kind's CRD schema at `version`, as 'field.path: message' lines."""
    return [f"{field}: {message}" for field, message, _ in crd.problems(document, version)]


CASES = [(kind, version) for kind in crd.KINDS for version in crd.VERSIONS]


@pytest.mark.parametrize(("kind", "version"), CASES, ids=[f"{k}-{v}" for k, v in CASES])
def test_every_schema_is_bundled_with_its_source_and_licence(kind: str, version: str) -> None:
    assert crd.schema_path(kind, version).is_file()
    schema = crd.openapi_schema(kind, version)
    assert set(schema["properties"]) >= {"apiVersion", "kind", "metadata", "spec"}
    readme = (crd.CRD_DIR / "README.md").read_text(encoding="utf-8")
    assert crd.schema_path(kind, version).name in readme and f"| {version} |" in readme
    assert "argoproj/argo-workflows" in readme and "manifests/base/crds/full/" in readme
    assert "Apache License, Version 2.0" in readme
    assert "Apache License" in (crd.CRD_DIR / "LICENSE").read_text(encoding="utf-8")


def _documents(version: str) -> list[dict]:
    return [d for d in layout() if d["kind"] in crd.KINDS]


@pytest.mark.parametrize("version", crd.VERSIONS)
def test_the_layout_is_valid(version: str) -> None:
    for document in _documents(version):
        assert validate(document, version) == []


@pytest.mark.parametrize("version", crd.VERSIONS)
def test_unknown_fields_are_rejected_with_their_path(version: str) -> None:
    template, cron = _documents(version)
    templates([template])["report"]["container"]["imagePullPolcy"] = "Always"
    cron["spec"]["concurrency_policy"] = "Forbid"
    assert validate(template, version) == ["spec.templates[3].container: unknown field(s) imagePullPolcy"]
    assert validate(cron, version) == ["spec: unknown field(s) concurrency_policy"]


@pytest.mark.parametrize("version", crd.VERSIONS)
def test_int_or_string_and_types(version: str) -> None:
    template, cron = _documents(version)
    retry = templates([template])["prepare"]["retryStrategy"]
    retry["limit"] = "3"  # int-or-string: both are fine
    assert validate(template, version) == []
    retry["limit"] = [3]
    cron["spec"]["startingDeadlineSeconds"] = "600"
    assert [e.split(":")[0] for e in validate(template, version)] == [
        "spec.templates[1].retryStrategy.limit"
    ]
    assert [e.split(":")[0] for e in validate(cron, version)] == ["spec.startingDeadlineSeconds"]


def test_argo_4_refuses_what_it_dropped() -> None:
    _, cron = _documents("v4.1.2")
    cron["spec"]["schedule"] = "0 9 * * *"
    assert validate(cron, "v4.1.2") == ["spec: unknown field(s) schedule"]
    assert validate(cron, "v3.7.18") == []


def test_releases_by_short_name() -> None:
    assert crd.release("4.1") == "v4.1.2" and crd.release("v3.7.18") == "v3.7.18"
    with pytest.raises(ValueError, match=r"only v3\.7\.18, v4\.1\.2"):
        crd.release("3.6")


def test_each_validator_is_built_once() -> None:
    document = _documents("v4.1.2")[1]
    validate(document, "v4.1.2")
    before = crd._validator.cache_info()
    for _ in range(50):
        validate(document, "v4.1.2")
    after = crd._validator.cache_info()
    assert after.misses == before.misses and after.hits == before.hits + 50


def test_bundle_keeps_the_schema_without_descriptions(tmp_path: Path) -> None:
    schema = {
        "description": "a CronWorkflow",
        "type": "object",
        "properties": {
            "description": {"type": "string", "description": "a field named description stays"},
            "spec": {"type": "object", "required": ["x"], "properties": {"x": {"type": "integer"}}},
        },
    }
    source = tmp_path / "argoproj.io_cronworkflows.yaml"
    crd_document = {"spec": {"versions": [{"name": "v1alpha1", "schema": {"openAPIV3Schema": schema}}]}}
    source.write_text(yaml.safe_dump(crd_document))
    first = crd.bundle(source, "CronWorkflow", "v4.1.2", tmp_path)
    data = first.read_bytes()
    assert crd.bundle(source, "CronWorkflow", "v4.1.2", tmp_path).read_bytes() == data  # reproducible
    assert json.loads(gzip.decompress(data)) == {
        "type": "object",
        "properties": {
            "description": {"type": "string"},
            "spec": {"type": "object", "required": ["x"], "properties": {"x": {"type": "integer"}}},
        },
    }


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

"""Validate CronWorkflow documents against Argo's CRD schemas, strictly, as `kubectl apply --validate=strict`.

The schemas are the CustomResourceDefinitions Argo ships (`../shared/argo/crd-cronworkflows-<v>.yaml`,
beside the repository). Kubernetes treats an object schema that lists `properties` and does not set
`x-kubernetes-preserve-unknown-fields` as closed, so this module adds `additionalProperties: false`
to each such schema before handing it to jsonschema, and turns the Kubernetes extensions
(`x-kubernetes-int-or-string`, `nullable`) into plain JSON Schema. CEL rules
(`x-kubernetes-validations`) are not evaluated: `cel_rule_count` says how many were skipped.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema
import yaml

REPO_ROOT = Path(__file__).resolve().parents[1]
VERSIONS = ("v3.6.19", "v3.7.18", "v4.1.2")
_NOT_SCHEMAS = {"properties", "enum", "required", "default", "example", "x-kubernetes-validations"}
# libyaml when present: the newest CRD is 2.9 MB of YAML
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def crd_dir(repo_root: Path = REPO_ROOT) -> Path:
    """`shared/argo` beside the repository (a checkout in dev, a fresh clone in CI)."""
    return Path(repo_root).resolve().parent / "shared" / "argo"


def crd_path(version: str, directory: Path | None = None) -> Path:
    return (directory or crd_dir()) / f"crd-cronworkflows-{version}.yaml"


@functools.cache
def openapi_schema(path: Path) -> dict[str, Any]:
    """`spec.versions[name=v1alpha1].schema.openAPIV3Schema` of a CRD file."""
    crd = yaml.load(path.read_text(encoding="utf-8"), Loader=_LOADER)
    for version in crd["spec"]["versions"]:
        if version["name"] == "v1alpha1":
            return version["schema"]["openAPIV3Schema"]
    raise ValueError(f"{path}: no v1alpha1 version in the CRD")


def strict(schema: Any) -> Any:
    """A copy of a Kubernetes structural schema as closed, plain JSON Schema."""
    if isinstance(schema, list):
        return [strict(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    out = {key: value if key in _NOT_SCHEMAS else strict(value) for key, value in schema.items()}
    if "properties" in schema:  # its keys are field names, not schema keywords: transform the values only
        out["properties"] = {name: strict(sub) for name, sub in schema["properties"].items()}
    if out.get("x-kubernetes-int-or-string"):
        out.pop("type", None)
        out.setdefault("anyOf", [{"type": "integer"}, {"type": "string"}])
    if out.pop("nullable", False) and isinstance(out.get("type"), str):
        out["type"] = [out["type"], "null"]
    if (
        "properties" in out
        and not out.get("x-kubernetes-preserve-unknown-fields")
        and "additionalProperties" not in out
    ):
        out["additionalProperties"] = False
    return out


@functools.cache
def _validator(path: Path) -> jsonschema.protocols.Validator:
    schema = strict(openapi_schema(path))
    cls = jsonschema.validators.validator_for(schema, default=jsonschema.Draft7Validator)
    return cls(schema)


def validate(document: dict[str, Any], path: Path) -> list[str]:
    """Every way `document` breaks the CRD schema at `path`, as 'field.path: message' lines."""
    errors = sorted(_validator(path).iter_errors(document), key=lambda e: list(map(str, e.absolute_path)))
    return [f"{_field(error.absolute_path)}: {_short(error)}" for error in errors]


def cel_rule_count(path: Path) -> int:
    """How many CEL rules the CRD carries (not checked here; the API server checks them)."""
    return json.dumps(openapi_schema(path)).count('"x-kubernetes-validations"')


def _field(parts: Any) -> str:
    text = ""
    for part in parts:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "(document)"


def _short(error: jsonschema.ValidationError) -> str:
    if error.validator == "additionalProperties" and error.validator_value is False:
        extra = sorted(set(error.instance) - set(error.schema.get("properties", {})))
        return f"unknown field(s) {', '.join(extra)}"
    return error.message


def iter_crd_versions(directory: Path | None = None) -> Iterator[tuple[str, Path]]:
    for version in VERSIONS:
        yield version, crd_path(version, directory)

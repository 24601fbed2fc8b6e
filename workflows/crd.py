"""Validate Argo documents against Argo's CRD schemas, strictly, as `kubectl apply --validate=strict` does.

The schemas ship with the package; `python -m workflows.crd SOURCE_DIR RELEASE` rebuilds them (see
workflows/crds/README.md). CEL rules are not evaluated here (docs/offline-checks.md).
"""

from __future__ import annotations

import functools
import gzip
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from workflows.checks import parse_documents

CRD_DIR = Path(__file__).parent / "crds"
VERSIONS = ("v3.7.18", "v4.1.2")
KINDS = {"CronWorkflow": "cronworkflows", "WorkflowTemplate": "workflowtemplates"}
_NOT_SCHEMAS = {"properties", "enum", "required", "default", "example", "x-kubernetes-validations"}


def schema_path(kind: str, version: str) -> Path:
    return CRD_DIR / f"{KINDS[kind]}-{version}.json.gz"


@functools.cache
def openapi_schema(kind: str, version: str) -> dict[str, Any]:
    """The bundled `openAPIV3Schema` of `kind` (CronWorkflow, WorkflowTemplate) at Argo `version`."""
    with gzip.open(schema_path(kind, version), "rt", encoding="utf-8") as file:
        return json.load(file)


def _each_schema(schema: Any, change: Callable[[dict[str, Any]], dict[str, Any]]) -> Any:
    """A copy of `schema` with `change` applied to it and to every schema inside it, innermost first."""
    if isinstance(schema, list):
        return [_each_schema(item, change) for item in schema]
    if not isinstance(schema, dict):
        return schema
    out = {k: v if k in _NOT_SCHEMAS else _each_schema(v, change) for k, v in schema.items()}
    if "properties" in schema:  # its keys are field names, not schema keywords: transform the values only
        out["properties"] = {name: _each_schema(sub, change) for name, sub in schema["properties"].items()}
    return change(out)


def strict(schema: Any) -> Any:
    """A copy of a Kubernetes structural schema as closed, plain JSON Schema."""
    return _each_schema(schema, _closed)


def _closed(out: dict[str, Any]) -> dict[str, Any]:
    # Kubernetes treats an object schema that lists `properties` and does not preserve unknown fields
    # as closed; its extensions become plain JSON Schema.
    if out.get("x-kubernetes-int-or-string"):
        out.pop("type", None)
        out.setdefault("anyOf", [{"type": "integer"}, {"type": "string"}])
    if out.pop("nullable", False) and isinstance(out.get("type"), str):
        out["type"] = [out["type"], "null"]
    if "properties" in out and not out.get("x-kubernetes-preserve-unknown-fields"):
        out.setdefault("additionalProperties", False)
    return out


@functools.cache
def _validator(kind: str, version: str) -> Any:
    """Built once per (kind, release): the closed schema is 1-2 MB and slow to transform."""
    import jsonschema  # here, so that importing the lint does not pay for it

    return jsonschema.Draft7Validator(strict(openapi_schema(kind, version)))


def problems(document: dict[str, Any], version: str) -> list[tuple[str, str, str]]:
    """(field, message, JSON Schema keyword) for each way `document` (of a kind in KINDS) breaks its CRD."""
    errors = _validator(document["kind"], version).iter_errors(document)
    ordered = sorted(errors, key=lambda e: [str(p) for p in e.absolute_path])
    return [(field_path(error.absolute_path), _short(error), str(error.validator)) for error in ordered]


def release(text: str) -> str:
    """The bundled release for "4.1", "v4.1" or "v4.1.2"; ValueError naming the choices otherwise."""
    wanted = text if text.startswith("v") else f"v{text}"
    for version in VERSIONS:
        if version == wanted or version.startswith(f"{wanted}."):
            return version
    raise ValueError(f"Argo {text!r} has no bundled CRD schemas (only {', '.join(VERSIONS)})")


def field_path(parts: Any) -> str:
    """`spec.templates[3].container` from the parts of jsonschema's location."""
    text = ""
    for part in parts:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "(document)"


def _short(error: Any) -> str:
    if error.validator == "additionalProperties" and error.validator_value is False:
        extra = sorted(set(error.instance) - set(error.schema.get("properties", {})))
        return f"unknown field(s) {', '.join(extra)}"
    return error.message


# --- rebuilding the bundle ----------------------------------------------------------------------


def bundle(crd_file: Path, kind: str, version: str, directory: Path = CRD_DIR) -> Path:
    """Write the bundled schema of `kind` at `version` from a full CRD file into `directory`; its path."""
    [crd] = parse_documents(crd_file.read_text(encoding="utf-8"))
    [served] = [v for v in crd["spec"]["versions"] if v["name"] == "v1alpha1"]
    openapi = served["schema"]["openAPIV3Schema"]  # without its `description` texts (most of its size)
    schema = _each_schema(openapi, lambda out: {k: v for k, v in out.items() if k != "description"})
    out = directory / schema_path(kind, version).name
    data = json.dumps(schema, sort_keys=True, separators=(",", ":")).encode()
    out.write_bytes(gzip.compress(data, compresslevel=9, mtime=0))  # mtime 0: the same bytes on every rebuild
    return out


def main(argv: list[str]) -> int:
    if len(argv) != 2 or argv[1] not in VERSIONS:
        print(f"usage: python -m workflows.crd SOURCE_DIR RELEASE  (RELEASE one of {', '.join(VERSIONS)})")
        return 2
    source, version = Path(argv[0]), argv[1]
    for kind, plural in KINDS.items():
        candidates = [source / f"argoproj.io_{plural}.yaml", source / f"crd-{plural}-{version}.yaml"]
        found = next((path for path in candidates if path.is_file()), None)
        if found is None:
            print(f"{source}: no {candidates[0].name} or {candidates[1].name}")
            return 2
        print(f"{found} -> {bundle(found, kind, version)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

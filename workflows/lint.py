"""`python -m workflows lint FILE...`: check manifests offline, as a cluster with Argo 3.7 or 4.1 would.

A file holds WorkflowTemplates, ConfigMaps and CronWorkflows (whose `workflowSpec` is either inline
or a `workflowTemplateRef` to a WorkflowTemplate of the same file). Each Argo document is validated
strictly against the CRD schema of every supported release (workflows/crds/: an unknown field is an
error, as with `kubectl apply --validate=strict`) and parsed with Hera's model of its kind; then
the controller's own rules are checked (workflows/rules.py): a WorkflowTemplate once, in full, and
each CronWorkflow that refers to it lightly (its name, schedules, time zone, the parameters it sets,
and no field Argo's `templateReferencing: Strict` forbids), so a file of 1,000 projects stays fast.
ConfigMaps are checked for what Argo reads from them (semaphore limits).
docs/offline-checks.md says what this proves and what only a cluster can.

Exit status: 0 when no document has an error (warnings are printed), 1 on any error, 2 when a file
cannot be read as YAML or on usage errors.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import pydantic
import yaml
from hera.workflows.models import CronWorkflow as CronWorkflowModel
from hera.workflows.models import WorkflowTemplate as WorkflowTemplateModel

from workflows import crd
from workflows.checks import (
    ManifestFileError,
    UnresolvedTemplate,
    load_manifest,
    name_problem,
    parse_documents,
    resolve_cron,
    schedule_problem,
    timezone_problem,
    workflow_templates,
)
from workflows.findings import Finding, Report, where
from workflows.rules import Context, check_labels, check_workflow_spec

__all__ = [
    "Finding",
    "ManifestFileError",
    "lint_documents",
    "lint_text",
    "load_manifest",
    "main",
]

API_VERSION = "argoproj.io/v1alpha1"
CONCURRENCY_POLICIES = {"Allow", "Forbid", "Replace"}
MODELS: dict[str, type[pydantic.BaseModel]] = {
    "CronWorkflow": CronWorkflowModel,
    "WorkflowTemplate": WorkflowTemplateModel,
}
# workflow/util/merge.go v4.1.2 l.21-36 (allowedUserOverrideFields, as JSON names): what a workflow that
# refers to a template may set under `templateReferencing: Strict`; anything else fails the run there.
STRICT_OVERRIDES = frozenset(
    {
        "arguments",
        "entrypoint",
        "shutdown",
        "suspend",
        "activeDeadlineSeconds",
        "priority",
        "ttlStrategy",
        "podGC",
        "volumeClaimGC",
        "archiveLogs",
        "workflowMetadata",
        "workflowTemplateRef",
        "metrics",
        "artifactGC",
    }
)
# A CronWorkflow with only these in its workflowSpec runs its template unchanged but for parameter
# values: the template's full check covers it, and the CronWorkflow is checked lightly.
_THIN = frozenset({"workflowTemplateRef", "arguments"})
MAX_OBJECT_NAME = 63  # validate.go v4.1.2 l.161, l.395 (maxCharsInObjectName): Workflow(Template) names
_CONFIGMAP_KEY = re.compile(r"^[-._a-zA-Z0-9]+$")  # apimachinery IsConfigMapKey
_CONFIGMAP_FIELDS = {"apiVersion", "kind", "metadata", "data", "binaryData", "immutable"}
_ONE_MIB = 1024 * 1024


# --- structure: Hera's models and the CRD schemas ---------------------------------------------------


def model_problems(document: dict[str, Any]) -> list[tuple[str, str, str]]:
    """(field, message, pydantic error type) for each way Hera's model of the document's kind refuses it.

    Unknown fields are refused (`extra="forbid"`), and only the manifest's camelCase names are
    accepted, so a misspelled or snake_case field is an error here, as in `kubectl --validate=strict`.
    """
    model = MODELS[document["kind"]]
    try:
        model.model_validate(document, extra="forbid", by_alias=True, by_name=False)
    except TypeError:  # pydantic older than 2.11: no per-call `extra`; compare a round trip instead
        return _round_trip_problems(document)
    except pydantic.ValidationError as exc:
        return [(crd.field_path(error["loc"]), error["msg"], error["type"]) for error in exc.errors()]
    return []


def _round_trip_problems(document: dict[str, Any]) -> list[tuple[str, str, str]]:
    try:
        model = MODELS[document["kind"]].model_validate(document)
    except pydantic.ValidationError as exc:
        return [(crd.field_path(error["loc"]), error["msg"], error["type"]) for error in exc.errors()]
    kept = model.model_dump(by_alias=True, exclude_unset=True, mode="json")
    return [
        (field, "Extra inputs are not permitted", "extra_forbidden") for field in _dropped(document, kept, "")
    ]


def _dropped(given: Any, kept: Any, path: str) -> Iterator[str]:
    if isinstance(given, dict) and isinstance(kept, dict):
        for key, value in given.items():
            if key not in kept:
                yield f"{path}.{key}" if path else str(key)
            else:
                yield from _dropped(value, kept[key], f"{path}.{key}" if path else str(key))
    elif isinstance(given, list) and isinstance(kept, list):
        for index, (value, kept_value) in enumerate(zip(given, kept, strict=False)):
            yield from _dropped(value, kept_value, f"{path}[{index}]")


def _check_structure(
    report: Report, document: dict[str, Any], versions: tuple[str, ...]
) -> tuple[bool, set[str]]:
    """Schema (per release) and model findings: (shape good enough for the rules, fields reported).

    A type error stops the rules (they would read a list as a mapping); a pattern or an unknown
    field does not, and the rules then skip the fields the schema already named.
    """
    by_problem: dict[tuple[str, str, str], list[str]] = {}
    for version in versions:
        for problem in crd.problems(document, version):
            by_problem.setdefault(problem, []).append(version)
    covered: set[str] = set()
    shape_ok = True
    for (field, message, keyword), releases in by_problem.items():
        report.error(where(field), f"{message} (Argo {' and '.join(releases)} CRD schema, strict)")
        if message.startswith("unknown field(s) "):
            covered |= {f"{field}.{name}" for name in message.removeprefix("unknown field(s) ").split(", ")}
        else:
            covered.add(field)
            shape_ok = shape_ok and keyword not in {"type", "anyOf", "oneOf"}
    for field, message, kind in model_problems(document):
        if kind == "extra_forbidden":
            continue  # unknown fields are the schema's to name, per release (Hera's models follow Argo 4)
        if not any(field == seen or field.startswith((f"{seen}.", f"{seen}[")) for seen in covered):
            report.error(where(field), f"{message} (Hera's {document['kind']} model)")
            covered.add(field)
        shape_ok = False
    return shape_ok, covered


def _field_of(finding: Finding) -> str:
    return finding.where.rpartition("field ")[2]


# --- the documents ---------------------------------------------------------------------------------


def _name(document: Any) -> str:
    return ((document.get("metadata") or {}).get("name") if isinstance(document, dict) else None) or "?"


def lint_documents(
    documents: list[Any], source: str = "manifest", argo_versions: Iterable[str] = crd.VERSIONS
) -> list[Finding]:
    """Every finding in the documents of one manifest (errors and warnings; see `Finding.is_error`).

    `argo_versions`: the releases whose CRD schemas the documents must meet ("3.7", "v4.1.2", ...;
    default every bundled one); the controller's rules are the same for all of them.
    """
    versions = tuple(crd.release(version) for version in argo_versions)
    templates = workflow_templates(documents)
    configmaps = {_name(doc): doc for doc in documents if _is_kind(doc, "ConfigMap")}
    context = Context(configmaps=configmaps)
    seen: dict[tuple[str, str], int] = {}
    broken: set[str] = set()  # WorkflowTemplates too malformed to merge into their CronWorkflows
    reports: dict[int, Report] = {}
    # WorkflowTemplates first, so a CronWorkflow knows whether its template can be merged; reported in order.
    order = sorted(enumerate(documents, start=1), key=lambda item: not _is_kind(item[1], "WorkflowTemplate"))
    for index, document in order:
        report = reports[index] = Report(f"{source}: document {index} ({_name(document)})")
        if not isinstance(document, dict):
            report.error("document", f"is a {type(document).__name__}, not a mapping")
            continue
        kind = str(document.get("kind"))
        first = seen.setdefault((kind, _name(document)), index)
        if first != index:  # kubectl apply would keep only the last of the two
            report.error(where("metadata.name"), f"a {kind} of this name is already document {first}")
        if kind == "ConfigMap":
            _check_configmap(report, document)
        elif kind in MODELS:
            if document.get("apiVersion") != API_VERSION:
                report.error(where("apiVersion"), f"{document.get('apiVersion')!r}: expected {API_VERSION}")
            shape_ok, covered = _check_structure(report, document, versions)
            if not shape_ok and kind == "WorkflowTemplate":
                broken.add(_name(document))
            if shape_ok:
                schema_findings = len(report.findings)
                if kind == "WorkflowTemplate":
                    _check_workflow_template(report, document, context)
                else:
                    _check_cron_workflow(report, document, templates, context, broken)
                rules = report.findings[schema_findings:]  # the schema has said it already for these fields
                report.findings[schema_findings:] = [f for f in rules if _field_of(f) not in covered]
        elif document.get("kind") and document.get(
            "apiVersion"
        ):  # kubectl takes it; the lint cannot judge it
            report.warning(where("kind"), f"{kind!r} is not checked (only Argo's kinds and ConfigMaps)")
        else:
            report.error(where("kind"), "not a Kubernetes object (no kind or apiVersion)")
    return [finding for index in sorted(reports) for finding in reports[index].findings]


def _is_kind(document: Any, kind: str) -> bool:
    return isinstance(document, dict) and document.get("kind") == kind


def _check_workflow_template(report: Report, document: dict[str, Any], context: Context) -> None:
    metadata = document.get("metadata") or {}
    name = metadata.get("name") or ""
    if problem := name_problem(name, "WorkflowTemplate", MAX_OBJECT_NAME):
        report.error(where("metadata.name"), f"{name!r} {problem}")
    check_labels(report, metadata.get("labels"), "metadata.labels")
    template_context = Context(
        template_validation=True, configmaps=context.configmaps, metrics=context.metrics
    )
    check_workflow_spec(report, document.get("spec") or {}, "spec", template_context)


def _check_cron_workflow(
    report: Report,
    document: dict[str, Any],
    templates: dict[str, dict[str, Any]],
    context: Context,
    broken: set[str],
) -> None:
    _check_cron(report, document)
    workflow_spec = (document.get("spec") or {}).get("workflowSpec") or {}
    if not workflow_spec.get("workflowTemplateRef"):
        check_workflow_spec(report, workflow_spec, "spec.workflowSpec", context)
        return
    base = "spec.workflowSpec"
    if workflow_spec.get("templates"):  # validate.go v4.1.2 (WorkflowTemplateRefFields)
        report.error(where(f"{base}.templates"), "templates cannot be set beside workflowTemplateRef")
    for key in sorted(set(workflow_spec) - STRICT_OVERRIDES):
        why = " (and it replaces the template's whole list: the lists have no merge key)" * (
            key == "synchronization"
        )
        report.error(
            where(f"{base}.{key}"),
            f"{key} may not be overridden beside workflowTemplateRef: Argo's templateReferencing: Strict "
            f"refuses the run{why}; set it in the WorkflowTemplate",
        )
    if workflow_spec["workflowTemplateRef"].get("name") in broken:
        return  # its template's document has the errors; merging a malformed spec would only add noise
    try:
        resolved = resolve_cron(document, templates)
    except UnresolvedTemplate as exc:
        report.error(where(f"{base}.workflowTemplateRef.name"), str(exc))
        return
    template = resolved.template or {}
    namespaces = {(d.get("metadata") or {}).get("namespace") for d in (document, template)}
    if len(namespaces - {None}) > 1:
        report.error(
            where("metadata.namespace"), f"the WorkflowTemplate is in another namespace ({namespaces})"
        )
    known = {
        p.get("name") for p in ((template.get("spec") or {}).get("arguments") or {}).get("parameters") or []
    }
    for index, param in enumerate((workflow_spec.get("arguments") or {}).get("parameters") or []):
        if param.get("name") not in known:
            report.error(
                where(f"{base}.arguments.parameters[{index}].name"),
                f"{param.get('name')!r} is not a parameter of WorkflowTemplate {_name(template)!r}",
            )
    if set(workflow_spec) <= _THIN:  # the template's own check covers the rest
        for index, param in enumerate((resolved.spec.get("arguments") or {}).get("parameters") or []):
            if all(param.get(key) is None for key in ("value", "valueFrom")):  # validate.go l.1016
                report.error(
                    where(f"{base}.arguments.parameters"),
                    f"parameter {param.get('name')!r} has no value in the CronWorkflow or its template "
                    f"(merged argument {index})",
                )
        return
    check_workflow_spec(
        report, resolved.spec, f"{base} (merged with WorkflowTemplate {_name(template)!r})", context
    )


def _check_cron(report: Report, document: dict[str, Any]) -> None:
    """validate.go v4.1.2 l.440-470 (CronWorkflow), v3.7.18 alike."""
    metadata = document.get("metadata") or {}
    name = metadata.get("name") or ""
    if problem := name_problem(name):
        report.error(where("metadata.name"), f"{name!r} {problem}")
    check_labels(report, metadata.get("labels"), "metadata.labels")
    spec = document.get("spec") or {}
    schedules = list(spec.get("schedules") or [])
    if spec.get("schedule"):  # v3.7: not both; v4.1 has no singular schedule (the schema says so)
        if schedules:
            report.error(where("spec.schedule"), "set together with spec.schedules; use spec.schedules only")
        schedules.append(spec["schedule"])
    if not schedules:
        report.error(where("spec.schedules"), "no schedule: a CronWorkflow needs at least one")
    for index, schedule in enumerate(schedules):
        if problem := schedule_problem(str(schedule)):
            report.error(where(f"spec.schedules[{index}]"), f"{schedule!r} {problem}")
    timezone = spec.get("timezone")
    if timezone and (problem := timezone_problem(timezone)):
        report.error(where("spec.timezone"), f"{timezone!r} {problem}")
    policy = spec.get("concurrencyPolicy")
    if policy and policy not in CONCURRENCY_POLICIES:
        report.error(
            where("spec.concurrencyPolicy"),
            f"{policy!r} is not one of {', '.join(sorted(CONCURRENCY_POLICIES))}",
        )
    for key in ("startingDeadlineSeconds", "successfulJobsHistoryLimit", "failedJobsHistoryLimit"):
        value = spec.get(key)
        if isinstance(value, int) and value < 0:
            report.error(where(f"spec.{key}"), f"{value} must not be negative")
    check_labels(report, (spec.get("workflowMetadata") or {}).get("labels"), "spec.workflowMetadata.labels")


def _check_configmap(report: Report, document: dict[str, Any]) -> None:
    """What the API server refuses in a ConfigMap (apimachinery), including its 1 MiB object bound."""
    if document.get("apiVersion") != "v1":
        report.error(where("apiVersion"), f"{document.get('apiVersion')!r}: a ConfigMap is v1")
    for key in sorted(set(document) - _CONFIGMAP_FIELDS):
        report.error(where(key), "unknown field of a ConfigMap")
    metadata = document.get("metadata") or {}
    name = str(metadata.get("name") or "")
    if not re.fullmatch(r"[a-z0-9]([-a-z0-9.]*[a-z0-9])?", name) or len(name) > 253:
        report.error(where("metadata.name"), f"{name!r} is not a valid ConfigMap name (DNS-1123 subdomain)")
    check_labels(report, metadata.get("labels"), "metadata.labels")
    data = document.get("data") or {}
    if not isinstance(data, dict):
        report.error(where("data"), "must be a mapping of keys to strings")
        return
    for key, value in data.items():
        if not _CONFIGMAP_KEY.match(str(key)) or len(str(key)) > 253:
            report.error(where(f"data[{key}]"), f"{key!r} is not a valid ConfigMap key")
        if not isinstance(value, str):
            report.error(
                where(f"data[{key}]"),
                f"{value!r} is a {type(value).__name__}; quote it: ConfigMap data are strings",
            )
    if len(json.dumps(document)) > _ONE_MIB:  # the API server's object limit
        report.error(where("data"), "the ConfigMap is larger than 1 MiB")


# --- files and the command --------------------------------------------------------------------------


def lint_text(
    text: str, source: str, argo_versions: Iterable[str] = crd.VERSIONS
) -> tuple[int, list[Finding]]:
    """(number of documents, findings) for the YAML in `text` (`argo_versions`: see `lint_documents`)."""
    try:
        documents = parse_documents(text)
    except yaml.YAMLError as exc:
        return 0, [Finding(source, "YAML", str(exc).replace("\n", " "))]
    if not documents:
        return 0, [Finding(source, "file", "no YAML documents")]
    return len(documents), lint_documents(documents, source, argo_versions)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m workflows lint", description=__doc__.split("\n\n")[0])
    parser.add_argument("files", nargs="+", metavar="FILE", help="manifest(s) to check")
    parser.add_argument(
        "--argo-version",
        action="append",
        metavar="RELEASE",
        help=f"check the CRD schema of this Argo release only (repeatable; one of {', '.join(crd.VERSIONS)}, "
        "or 3.7, 4.1; default: all)",
    )
    args = parser.parse_args(argv)
    try:
        versions = tuple(crd.release(v) for v in args.argo_version or crd.VERSIONS)
    except ValueError as exc:
        parser.error(str(exc))
    errors, unreadable = 0, False
    for file in args.files:
        try:
            documents = load_manifest(Path(file))
        except ManifestFileError as exc:
            print(exc, file=sys.stderr)
            unreadable = True
            continue
        try:
            findings = lint_documents(documents, file, versions)
        except crd.SchemaUnavailable as exc:
            print(f"lint: {exc}", file=sys.stderr)
            return 2
        for finding in findings:
            print(finding)
        file_errors = sum(finding.is_error for finding in findings)
        if not file_errors:
            warnings = f", {len(findings)} warning(s)" if findings else ""
            print(f"{file}: {len(documents)} document(s), no errors{warnings}")
        errors += file_errors
    if errors:
        print(f"lint: {errors} error(s)", file=sys.stderr)
    return 2 if unreadable else 1 if errors else 0

"""`python -m workflows lint FILE...`: check manifests offline, as a cluster with Argo 3.7 or 4.1 would.

Each Argo document is validated strictly against the CRD schema of every supported release
(workflows/crds/), then against the controller's own rules (workflows/rules.py): a WorkflowTemplate
once, in full, and each CronWorkflow that refers to it lightly, so a file of 1,000 projects stays fast.
docs/offline-checks.md says what this proves, what only a cluster can, and the exit status.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import re
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from workflows import checks, crd
from workflows.checks import ManifestFileError, load_manifest  # submit.py reads manifests through lint
from workflows.findings import Finding, Report
from workflows.rules import Context, check_labels, check_workflow_spec

API_VERSION = "argoproj.io/v1alpha1"
CONCURRENCY_POLICIES = {"Allow", "Forbid", "Replace"}
# workflow/util/merge.go v4.1.2 l.21-36 (allowedUserOverrideFields, as JSON names): what a workflow that
# refers to a template may set under `templateReferencing: Strict`; anything else fails the run there.
STRICT_OVERRIDES = frozenset(
    {"arguments", "entrypoint", "shutdown", "suspend", "activeDeadlineSeconds", "priority", "ttlStrategy"}
    | {"podGC", "volumeClaimGC", "archiveLogs", "workflowMetadata", "workflowTemplateRef", "metrics"}
    | {"artifactGC"}
)
# A CronWorkflow with only these in its workflowSpec runs its template unchanged but for parameter
# values: the template's full check covers it, and the CronWorkflow is checked lightly.
_THIN = frozenset({"workflowTemplateRef", "arguments"})
MAX_OBJECT_NAME = 63  # validate.go v4.1.2 l.161, l.395 (maxCharsInObjectName): Workflow(Template) names
_CONFIGMAP_KEY = re.compile(r"^[-._a-zA-Z0-9]+$")  # apimachinery IsConfigMapKey
_CONFIGMAP_FIELDS = {"apiVersion", "kind", "metadata", "data", "binaryData", "immutable"}
# A schema error of these kinds leaves a shape the rules cannot read (a list where a mapping belongs).
_SHAPE_BREAKING = {"type", "anyOf", "oneOf", "required"}


def _check_schema(report: Report, document: dict[str, Any], versions: tuple[str, ...]) -> set[str] | None:
    """Schema findings, one per problem naming the releases that refuse it; the fields they name (the
    rules skip them), or None when the shape is too broken for them (a pattern or unknown field is not)."""
    by_problem: dict[tuple[str, str, str], list[str]] = {}
    for version in versions:
        for problem in crd.problems(document, version):
            by_problem.setdefault(problem, []).append(version)
    covered: set[str] = set()
    shape_ok = True
    for (field, message, keyword), releases in by_problem.items():
        report.error(field, f"{message} (Argo {' and '.join(releases)} CRD schema, strict)")
        if message.startswith("unknown field(s) "):
            covered |= {f"{field}.{name}" for name in message.removeprefix("unknown field(s) ").split(", ")}
        else:
            covered.add(field)
            shape_ok = shape_ok and keyword not in _SHAPE_BREAKING
    return covered if shape_ok else None


def name_of(document: Any) -> str:
    """A document's metadata.name, or ? (submit names objects the same way)."""
    return ((document.get("metadata") or {}).get("name") if isinstance(document, dict) else None) or "?"


def _is_kind(document: Any, kind: str) -> bool:
    return isinstance(document, dict) and document.get("kind") == kind


def lint_documents(
    documents: list[Any], source: str = "manifest", argo_versions: Iterable[str] = crd.VERSIONS
) -> list[Finding]:
    """Every finding (errors and warnings) in the documents of one manifest: the CRD schemas of
    `argo_versions` ("3.7", "v4.1.2", ...; default every bundled one), then the controller's rules."""
    versions = tuple(crd.release(version) for version in argo_versions)
    templates = checks.workflow_templates(documents)
    context = Context(configmaps={name_of(doc): doc for doc in documents if _is_kind(doc, "ConfigMap")})
    alone = dataclasses.replace(context, template_validation=True)  # a WorkflowTemplate: the same metrics
    seen: dict[tuple[str, str], int] = {}
    broken: set[tuple[str, str]] = set()  # (kind, name) of documents the schema found malformed
    reports: dict[int, Report] = {}
    # WorkflowTemplates first, so a CronWorkflow knows whether its template can be merged; reported in order.
    order = sorted(enumerate(documents, start=1), key=lambda item: not _is_kind(item[1], "WorkflowTemplate"))
    for index, document in order:
        report = reports[index] = Report(f"{source}: document {index} ({name_of(document)})")
        if not isinstance(document, dict):
            message = f"is a {type(document).__name__}, not a mapping"
            report.findings.append(Finding(report.label, "document", message))
            continue
        kind = str(document.get("kind"))
        first = seen.setdefault((kind, name_of(document)), index)
        if first != index:  # kubectl apply would keep only the last of the two
            report.error("metadata.name", f"a {kind} of this name is already document {first}")
        if kind == "ConfigMap":
            _check_configmap(report, document)
        elif kind in crd.KINDS:
            if document.get("apiVersion") != API_VERSION:
                report.error("apiVersion", f"{document.get('apiVersion')!r}: expected {API_VERSION}")
            covered = _check_schema(report, document, versions)
            if covered is None:  # too malformed for the rules, or to merge into a CronWorkflow
                broken.add((kind, name_of(document)))
                continue
            start = len(report.findings)
            if kind == "WorkflowTemplate":
                _check_metadata(report, document.get("metadata") or {}, kind, MAX_OBJECT_NAME)
                check_workflow_spec(report, document.get("spec") or {}, "spec", alone)
            else:
                _check_cron_workflow(report, document, templates, context, broken)
            rules = report.findings[start:]  # the schema has said it already for these fields
            report.findings[start:] = [f for f in rules if f.where.rpartition("field ")[2] not in covered]
        elif document.get("kind") and document.get("apiVersion"):  # kubectl takes it; the lint cannot judge
            report.warning("kind", f"{kind!r} is not checked (only Argo's kinds and ConfigMaps)")
        else:
            report.error("kind", "not a Kubernetes object (no kind or apiVersion)")
    return [finding for index in sorted(reports) for finding in reports[index].findings]


def _check_metadata(report: Report, metadata: dict[str, Any], kind: str, max_length: int) -> None:
    # The CRD schemas leave `metadata` open; the API server reads these fields as strings.
    values = {key: metadata[key] for key in ("name", "namespace") if key in metadata}
    for key in ("labels", "annotations"):
        values |= {f"{key}.{name}": value for name, value in (metadata.get(key) or {}).items()}
    for field, value in values.items():
        if not isinstance(value, str):
            message = f"{value!r} is a {type(value).__name__}; quote it: metadata values are strings"
            report.error(f"metadata.{field}", message)
    name = str(metadata.get("name") or "")
    if problem := checks.name_problem(name, kind, max_length):
        report.error("metadata.name", f"{name!r} {problem}")
    check_labels(report, metadata.get("labels"), "metadata.labels")


def _check_cron_workflow(
    report: Report, document: dict[str, Any], templates: dict[str, Any], context: Context, broken: set[Any]
) -> None:
    # validate.go v4.1.2 l.440-470 (CronWorkflow), v3.7.18 alike
    _check_metadata(report, document.get("metadata") or {}, "CronWorkflow", 52)
    spec = document.get("spec") or {}
    schedules = list(spec.get("schedules") or [])
    if spec.get("schedule"):  # v3.7: not both; v4.1 has no singular schedule (the schema says so)
        if schedules:
            report.error("spec.schedule", "set together with spec.schedules; use spec.schedules only")
        schedules.append(spec["schedule"])
    if not schedules:
        report.error("spec.schedules", "no schedule: a CronWorkflow needs at least one")
    for index, schedule in enumerate(schedules):
        if problem := checks.schedule_problem(str(schedule)):
            report.error(f"spec.schedules[{index}]", f"{schedule!r} {problem}")
    timezone = spec.get("timezone")
    if timezone and (problem := checks.timezone_problem(timezone)):
        report.error("spec.timezone", f"{timezone!r} {problem}")
    policy = spec.get("concurrencyPolicy")
    if policy and policy not in CONCURRENCY_POLICIES:
        choices = ", ".join(sorted(CONCURRENCY_POLICIES))
        report.error("spec.concurrencyPolicy", f"{policy!r} is not one of {choices}")
    for key in ("startingDeadlineSeconds", "successfulJobsHistoryLimit", "failedJobsHistoryLimit"):
        value = spec.get(key)
        if isinstance(value, int) and value < 0:
            report.error(f"spec.{key}", f"{value} must not be negative")
    check_labels(report, (spec.get("workflowMetadata") or {}).get("labels"), "spec.workflowMetadata.labels")
    base = "spec.workflowSpec"
    workflow_spec = spec.get("workflowSpec") or {}
    if not workflow_spec.get("workflowTemplateRef"):
        check_workflow_spec(report, workflow_spec, base, context)
        return
    if workflow_spec.get("templates"):  # validate.go v4.1.2 (WorkflowTemplateRefFields)
        report.error(f"{base}.templates", "templates cannot be set beside workflowTemplateRef")
    for key in sorted(set(workflow_spec) - STRICT_OVERRIDES):
        why = " (and it replaces the template's whole list: the lists have no merge key)"
        message = f"{key} may not be overridden beside workflowTemplateRef: Argo's templateReferencing: "
        message += f"Strict refuses the run{why * (key == 'synchronization')}; set it in the WorkflowTemplate"
        report.error(f"{base}.{key}", message)
    if ("WorkflowTemplate", workflow_spec["workflowTemplateRef"].get("name")) in broken:
        return  # its template's document has the errors; merging a malformed spec would only add noise
    try:
        resolved = checks.resolve_cron(document, templates)
    except checks.UnresolvedTemplate as exc:
        report.error(f"{base}.workflowTemplateRef.name", str(exc))
        return
    template = resolved.template or {}
    namespaces = {(d.get("metadata") or {}).get("namespace") for d in (document, template)}
    if len(namespaces - {None}) > 1:
        report.error("metadata.namespace", f"the WorkflowTemplate is in another namespace ({namespaces})")
    known = {p.get("name") for p in checks.parameters(template.get("spec") or {})}
    for index, param in enumerate(checks.parameters(workflow_spec)):
        if param.get("name") not in known:
            message = f"{param.get('name')!r} is not a parameter of WorkflowTemplate {name_of(template)!r}"
            report.error(f"{base}.arguments.parameters[{index}].name", message)
    if not set(workflow_spec) <= _THIN:
        merged_base = f"{base} (merged with WorkflowTemplate {name_of(template)!r})"
        check_workflow_spec(report, resolved.spec, merged_base, context)
        return
    # the template's own check covers the rest
    for index, param in enumerate(checks.parameters(resolved.spec)):
        if all(param.get(key) is None for key in ("value", "valueFrom")):  # validate.go l.1016
            message = f"parameter {param.get('name')!r} has no value in the CronWorkflow or its template"
            report.error(f"{base}.arguments.parameters", f"{message} (merged argument {index})")


def _check_configmap(report: Report, document: dict[str, Any]) -> None:
    """What the API server refuses in a ConfigMap (apimachinery), including its 1 MiB object bound."""
    if document.get("apiVersion") != "v1":
        report.error("apiVersion", f"{document.get('apiVersion')!r}: a ConfigMap is v1")
    for key in sorted(set(document) - _CONFIGMAP_FIELDS):
        report.error(key, "unknown field of a ConfigMap")
    _check_metadata(report, document.get("metadata") or {}, "ConfigMap", 253)  # a DNS-1123 subdomain
    data = document.get("data") or {}
    if not isinstance(data, dict):
        report.error("data", "must be a mapping of keys to strings")
        return
    for key, value in data.items():
        if not _CONFIGMAP_KEY.match(str(key)) or len(str(key)) > 253:
            report.error(f"data[{key}]", f"{key!r} is not a valid ConfigMap key")
        if not isinstance(value, str):
            message = f"{value!r} is a {type(value).__name__}; quote it: ConfigMap data are strings"
            report.error(f"data[{key}]", message)
    if len(json.dumps(document)) > 1024 * 1024:  # the API server's object limit
        report.error("data", "the ConfigMap is larger than 1 MiB")


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m workflows lint", description=__doc__.split("\n\n")[0])
    parser.add_argument("files", nargs="+", metavar="FILE", help="manifest(s) to check")
    releases = f"one of {', '.join(crd.VERSIONS)}, or 3.7, 4.1; default: all"
    help_text = f"check the CRD schema of this Argo release only (repeatable; {releases})"
    parser.add_argument("--argo-version", action="append", metavar="RELEASE", help=help_text)
    args = parser.parse_args(argv)
    try:
        versions = tuple(crd.release(v) for v in args.argo_version or crd.VERSIONS)
    except ValueError as exc:
        parser.error(str(exc))
    errors, unreadable = 0, False
    for file in args.files:
        try:
            documents = load_manifest(Path(file))
            findings = lint_documents(documents, file, versions)
        except ManifestFileError as exc:
            print(exc, file=sys.stderr)
            unreadable = True
            continue
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

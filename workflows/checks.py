"""What the config loader, the lint and the local runner share about Argo manifests, said once. The
`*_problem` checks return None for a good value, else a sentence the caller prefixes with its place."""

from __future__ import annotations

import copy
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

# Template types, in Argo's order (pkg/apis/workflow/v1alpha1/workflow_types.go, TemplateType).
TEMPLATE_TYPES = (
    "container", "script", "dag", "steps", "resource", "suspend", "containerSet", "data", "http", "plugin"
)
# A `{{ ... }}` tag (fasttemplate with "{{" and "}}", as Argo's util/template); group 1 is the
# trimmed inside. An inside starting with "=" is an expression tag.
VARIABLE_TAG = re.compile(r"\{\{\s*([^{}]*?)\s*\}\}")

_DNS1123_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")

# Argo parses schedules with robfig/cron's standard parser: five fields, or a descriptor.
_DESCRIPTORS = {"@yearly", "@annually", "@monthly", "@weekly", "@daily", "@midnight", "@hourly"}
_GO_DURATION = re.compile(r"^(?:\d+(?:\.\d+)?(?:ns|us|µs|ms|s|m|h))+$")
_MONTHS = ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"]
_DAYS = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"]
# (field name, lowest, highest, names) in robfig's order; robfig's day-of-week stops at 6 (no 7).
_FIELDS: tuple[tuple[str, int, int, dict[str, int]], ...] = (
    ("minute", 0, 59, {}),
    ("hour", 0, 23, {}),
    ("day of month", 1, 31, {}),
    ("month", 1, 12, {m: i for i, m in enumerate(_MONTHS, start=1)}),
    ("day of week", 0, 6, {d: i for i, d in enumerate(_DAYS)}),
)


def name_problem(name: str, kind: str = "CronWorkflow", max_length: int = 52) -> str | None:
    if not name:
        return "is empty"
    # The default, 52: the cron controller names each run `<cronworkflow>-<unix seconds>` (11 more
    # characters), and that name must stay a valid 63-character label value.
    if len(name) > max_length:
        return f"is {len(name)} characters; a {kind} name may have at most {max_length}"
    if not _DNS1123_SUBDOMAIN.match(name):
        return (
            "is not a valid DNS-1123 name (lowercase letters, digits, '-' and '.', "
            "starting and ending with a letter or digit)"
        )
    return None


def timezone_problem(timezone: str) -> str | None:
    import zoneinfo  # here, as croniter below: the runner imports this module and checks neither

    try:
        zoneinfo.ZoneInfo(timezone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return "is not a known IANA time zone (e.g. UTC, Europe/Berlin)"
    return None


def schedule_problem(schedule: str) -> str | None:
    text = schedule.strip()
    if not text:
        return "is empty"
    if text.startswith(("CRON_TZ=", "TZ=")):
        return "must not carry a time zone prefix; set the CronWorkflow's timezone instead"
    if text.startswith("@every"):
        duration = text[len("@every") :].strip()
        if not _GO_DURATION.match(duration) or not re.search(r"[1-9]", duration):
            return f"'@every' needs a positive duration such as 1h30m, got {duration!r}"
        return None
    if text.startswith("@"):
        if text not in _DESCRIPTORS:
            return f"unknown descriptor; use one of {', '.join(sorted(_DESCRIPTORS))} or '@every <duration>'"
        return None
    fields = text.split()
    if len(fields) != 5:
        return f"has {len(fields)} fields; Argo expects 5 (minute hour day-of-month month day-of-week)"
    for value, (label, low, high, names) in zip(fields, _FIELDS, strict=True):
        if problem := _field_problem(value, low, high, names):
            return f"{label} field {value!r}: {problem}"
    from croniter import croniter  # here: the runner imports this module and never checks a schedule

    if not croniter.is_valid(text):  # a second opinion on what the field rules let through
        return "is not a valid cron expression"
    return None


def _field_problem(field: str, low: int, high: int, names: dict[str, int]) -> str | None:
    for part in field.split(","):
        base, _, step = part.partition("/")
        if step and (not step.isdigit() or int(step) == 0):
            return f"step {step!r} must be a positive number"
        if base in {"*", "?"}:
            continue
        bounds = base.split("-")
        if len(bounds) > 2 or not all(bounds):
            return f"{part!r} is not a number, a range or '*'"
        numbers = []
        for bound in bounds:
            number = names.get(bound.upper()) if not bound.isdigit() else int(bound)
            if number is None:
                return f"{bound!r} is not a number{' or a name' if names else ''}"
            if not low <= number <= high:
                return f"{number} is outside {low}-{high}"
            numbers.append(number)
        if len(numbers) == 2 and numbers[0] > numbers[1]:
            return f"range {base!r} runs backwards"
    return None


# --- workflowTemplateRef: how Argo merges a CronWorkflow's spec with its WorkflowTemplate ----------

# The lists Argo's types merge by key in a strategic merge patch (`patchMergeKey` in
# pkg/apis/workflow/v1alpha1/workflow_types.go v4.1.2, and k8s.io/api core/v1 for Container); every
# other list is replaced whole (so `synchronization.mutexes`/`semaphores` are replaced, not merged).
MERGE_KEYS = dict.fromkeys(
    ("templates", "parameters", "artifacts", "tasks", "volumes", "imagePullSecrets", "initContainers"), "name"
)
MERGE_KEYS |= {"sidecars": "name", "env": "name", "tolerations": "key", "hostAliases": "ip"}
MERGE_KEYS |= {"volumeMounts": "mountPath", "volumeDevices": "devicePath", "ports": "containerPort"}


def _absent(value: Any) -> bool:
    # Argo merges JSON from Go's json.Marshal, which drops nil and empty `omitempty` fields: a null
    # or empty value in the patch never overrides (nor deletes) what the base has.
    return value is None or value == "" or value == [] or value == {}


def strategic_merge(base: Any, patch: Any, field: str | None = None) -> Any:
    """`patch` over `base` as Kubernetes' strategic merge: maps merge, keyed lists by key (new items last)."""
    if isinstance(base, dict) and isinstance(patch, dict):
        merged = dict(base)
        for key, value in patch.items():
            if not _absent(value):
                merged[key] = strategic_merge(base[key], value, key) if key in base else copy.deepcopy(value)
        return merged
    key = MERGE_KEYS.get(field or "")
    lists = isinstance(base, list) and isinstance(patch, list)
    if key and lists and all(isinstance(item, dict) and key in item for item in base + patch):
        merged_list = copy.deepcopy(base)
        index = {item[key]: position for position, item in enumerate(merged_list)}
        for item in patch:
            if item[key] in index:
                merged_list[index[item[key]]] = strategic_merge(merged_list[index[item[key]]], item)
            else:
                merged_list.append(copy.deepcopy(item))
        return merged_list
    return copy.deepcopy(patch)


def parameters(spec: dict[str, Any]) -> list[dict[str, Any]]:
    """The `arguments.parameters` of a workflow spec (or a task), [] when there are none."""
    return (spec.get("arguments") or {}).get("parameters") or []


def with_template_defaults(template: dict[str, Any], defaults: dict[str, Any] | None) -> dict[str, Any]:
    """`template` with the workflow's `templateDefaults` under its own fields (operator.go v4.1.2
    mergedTemplateDefaultsInto): the defaults of another template type are dropped (a `container` default
    never turns a dag into a container)."""
    if not defaults:
        return template
    kind = next((kind for kind in TEMPLATE_TYPES if template.get(kind) is not None), None)
    applicable = {key: value for key, value in defaults.items() if key not in TEMPLATE_TYPES or key == kind}
    return strategic_merge(applicable, template)


def _has_value(parameter: dict[str, Any]) -> bool:
    # Parameter.HasValue(): value, default or valueFrom is set (an empty string counts, null does not).
    return any(parameter.get(key) is not None for key in ("value", "default", "valueFrom"))


def _valued_parameters(spec: dict[str, Any]) -> dict[str, dict[str, Any]]:
    # merge.go parametersToMapByName: only the parameters that have a value.
    return {p.get("name"): p for p in parameters(spec) if _has_value(p)}


def merged_workflow_spec(workflow_spec: dict[str, Any], template_spec: dict[str, Any]) -> dict[str, Any]:
    """The spec Argo runs for a `workflowSpec` that refers to a template with `template_spec` (workflow/util/
    merge.go v4.1.2 and v3.7.18, JoinWorkflowSpec/MergeTo): a merged parameter with a value is the workflow's
    whole if it has one, else the template's (never mixed); `suspend` is the workflow's own."""
    merged = strategic_merge(template_spec, workflow_spec)
    merged.pop("suspend", None)
    if "suspend" in workflow_spec:
        merged["suspend"] = workflow_spec["suspend"]
    own, theirs = _valued_parameters(workflow_spec), _valued_parameters(template_spec)
    merged_parameters = parameters(merged)
    for index, parameter in enumerate(merged_parameters):
        if _has_value(parameter):
            chosen = own.get(parameter.get("name")) or theirs.get(parameter.get("name"))
            if chosen is not None:
                merged_parameters[index] = copy.deepcopy(chosen)
    return merged


class UnresolvedTemplate(ValueError):
    """A workflow refers to a WorkflowTemplate the documents do not hold."""


@dataclass(frozen=True)
class ResolvedCron:
    template: dict[str, Any] | None  # the WorkflowTemplate it refers to; None for an inline spec
    spec: dict[str, Any]  # the workflow spec Argo runs: merged, templateDefaults applied to each template


def workflow_templates(documents: Iterable[Any]) -> dict[str, dict[str, Any]]:
    """WorkflowTemplate documents by name."""
    return {
        (doc.get("metadata") or {}).get("name", ""): doc
        for doc in documents
        if isinstance(doc, dict) and doc.get("kind") == "WorkflowTemplate"
    }


def resolve_cron(document: dict[str, Any], templates: dict[str, dict[str, Any]]) -> ResolvedCron:
    """The spec Argo runs for a CronWorkflow (or a Workflow, a WorkflowTemplate): its `workflowTemplateRef`
    resolved among `templates` (a ClusterWorkflowTemplate cannot be) and merged, the `templateDefaults`
    applied to each template; UnresolvedTemplate when the template is missing."""
    spec = document.get("spec") or {}
    spec = (spec.get("workflowSpec") or {}) if document.get("kind") == "CronWorkflow" else spec
    template, ref = None, spec.get("workflowTemplateRef")
    if ref:
        name = ref.get("name") or ""
        if ref.get("clusterScope"):
            raise UnresolvedTemplate(
                f"ClusterWorkflowTemplate {name!r} lives in the cluster, not in these documents"
            )
        template = templates.get(name)
        if template is None:
            known = ", ".join(sorted(templates)) or "none"
            message = f"WorkflowTemplate {name!r} is not in these documents (WorkflowTemplates: {known})"
            raise UnresolvedTemplate(message)
        spec = merged_workflow_spec(spec, template.get("spec") or {})
    return ResolvedCron(template, with_defaults_applied(spec))


def with_defaults_applied(spec: dict[str, Any]) -> dict[str, Any]:
    """A copy of `spec` whose templates carry its `templateDefaults` (see `with_template_defaults`)."""
    defaults = spec.get("templateDefaults")
    templates = [with_template_defaults(t, defaults) for t in spec.get("templates") or []]
    return {**spec, "templates": templates} if defaults else spec


# --- reading a manifest file (the lint's and the runner's) ---------------------------------------


class ManifestFileError(ValueError):
    """A file that cannot be linted at all: one line naming the path and what is wrong."""


def load_manifest(path: Path) -> list[Any]:
    """The YAML documents of `path`; ManifestFileError if it is unreadable, not UTF-8 or not YAML."""
    try:
        data = path.read_bytes()
    except IsADirectoryError:
        raise ManifestFileError(f"{path}: is a directory, not a manifest file") from None
    except FileNotFoundError:
        raise ManifestFileError(f"{path}: no such file") from None
    except OSError as exc:
        raise ManifestFileError(f"{path}: cannot read: {exc.strerror or exc}") from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ManifestFileError(
            f"{path}: not UTF-8 text (byte 0x{data[exc.start]:02x} at offset {exc.start}); save it as UTF-8"
        ) from None
    try:
        documents = parse_documents(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        at = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise ManifestFileError(f"{path}: not valid YAML{at}: {problem}") from None
    if not documents:
        raise ManifestFileError(f"{path}: no YAML documents")
    if not any(isinstance(doc, dict) for doc in documents):
        raise ManifestFileError(f"{path}: not a manifest (no document is a mapping with a kind)")
    return documents


def parse_documents(text: str) -> list[Any]:
    """The YAML documents of `text` but empty ones; libyaml's parser when PyYAML has it (the same safe
    constructors, ~8x faster: a fleet file is large, and every local run parses its manifest)."""
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    return [doc for doc in yaml.load_all(text, Loader=loader) if doc is not None]

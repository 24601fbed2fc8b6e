"""How Argo's controller combines specs: a workflowTemplateRef with its WorkflowTemplate, and
`templateDefaults` with each template. Both are Kubernetes strategic merges over Argo's Go types.
(Same names and signatures as the lint's shared helpers in workflows/checks.py, which replace these.)

- `merged_workflow_spec`: util/merge.go JoinWorkflowSpec (v3.7.18, v4.1.2): the referencing spec (a
  CronWorkflow's workflowSpec, or the Workflow `argo submit --from` creates) is merged onto the
  template's spec and wins; then each argument parameter with a value is the referencing spec's
  whole parameter if it gives one a value, else the template's.
- `with_template_defaults`: operator.go mergedTemplateDefaultsInto: the type-specific part of
  `templateDefaults` (container, script, dag, ...) applies only to templates of that type; the rest
  applies to every template; the template's own fields win.

The controller's `workflowDefaults` (its ConfigMap) are not known locally and not applied.
"""

from __future__ import annotations

import copy
from typing import Any

# The list fields of Argo's and Kubernetes' types that carry `patchMergeKey` (workflow_types.go,
# core/v1 types.go): merged item by item on that key. Every other list is replaced whole: notably
# `synchronization.mutexes`/`semaphores`, `command`, `args`, `metrics.prometheus`.
MERGE_KEYS = {
    "templates": "name",
    "parameters": "name",
    "artifacts": "name",
    "volumes": "name",
    "tasks": "name",
    "env": "name",
    "volumeMounts": "mountPath",
    "ports": "containerPort",
    "tolerations": "key",
    "hostAliases": "ip",
    "imagePullSecrets": "name",
    "initContainers": "name",
    "sidecars": "name",
}
TEMPLATE_TYPES = (
    "container",
    "script",
    "dag",
    "steps",
    "resource",
    "suspend",
    "data",
    "http",
    "plugin",
    "containerSet",
)


def _absent(value: Any) -> bool:
    # Go's json.Marshal drops nil and empty `omitempty` fields, so they never override anything.
    return value is None or value == "" or value == [] or value == {}


def strategic_merge(base: Any, patch: Any, field: str = "") -> Any:
    """`patch` merged onto `base`: maps key by key, MERGE_KEYS lists item by item (base order, new
    items appended, as apimachinery's mergeSliceWithoutSpecialElements), anything else replaced."""
    if isinstance(base, dict) and isinstance(patch, dict):
        merged = dict(base)
        for key, value in patch.items():
            if not _absent(value):
                merged[key] = strategic_merge(base[key], value, key) if key in base else copy.deepcopy(value)
        return merged
    key = MERGE_KEYS.get(field)
    if key and isinstance(base, list) and isinstance(patch, list):
        merged_list = list(base)
        for item in patch:
            index = next((i for i, old in enumerate(merged_list) if old.get(key) == item.get(key)), None)
            if index is None:
                merged_list.append(copy.deepcopy(item))
            else:
                merged_list[index] = strategic_merge(merged_list[index], item)
        return merged_list
    return copy.deepcopy(patch)


def _has_value(parameter: dict[str, Any]) -> bool:
    # Parameter.HasValue(): value, default or valueFrom is set (an empty string counts, null does not).
    return any(parameter.get(key) is not None for key in ("value", "default", "valueFrom"))


def _valued_parameters(spec: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {p["name"]: p for p in (spec.get("arguments") or {}).get("parameters") or [] if _has_value(p)}


def merged_workflow_spec(workflow_spec: dict[str, Any], template_spec: dict[str, Any]) -> dict[str, Any]:
    """The spec Argo runs for a workflow whose `workflow_spec` references a template with `template_spec`."""
    merged = strategic_merge(template_spec, workflow_spec)
    if "suspend" in workflow_spec:
        merged["suspend"] = workflow_spec["suspend"]
    own, template = _valued_parameters(workflow_spec), _valued_parameters(template_spec)
    parameters = (merged.get("arguments") or {}).get("parameters") or []
    for index, parameter in enumerate(parameters):
        if _has_value(parameter):
            chosen = own.get(parameter["name"]) or template.get(parameter["name"])
            if chosen is not None:
                parameters[index] = copy.deepcopy(chosen)
    return merged


def with_template_defaults(template: dict[str, Any], defaults: dict[str, Any] | None) -> dict[str, Any]:
    """`template` with the `templateDefaults` that apply to its type merged under it."""
    if not defaults:
        return template
    kind = next((k for k in TEMPLATE_TYPES if template.get(k) is not None), None)
    applicable = {k: v for k, v in defaults.items() if k not in TEMPLATE_TYPES or k == kind}
    return strategic_merge(applicable, template)

"""The controller's rules for one workflow spec, as lint checks (the lint's second half, after the schema).

`check_workflow_spec` walks a workflow spec (a WorkflowTemplate's, a CronWorkflow's inline one, or
a merged one) and reports what a real Argo controller would refuse or get wrong beyond the CRD schema.
Each rule's comment names where Argo holds it (argoproj/argo-workflows, release tag, file);
V = workflow/validate/validate.go, O = workflow/controller/operator.go. docs/offline-checks.md lists them.
"""

from __future__ import annotations

import functools
import graphlib
import re
from dataclasses import dataclass, field
from typing import Any

from workflows.checks import TEMPLATE_TYPES, VARIABLE_TAG, parameters, with_defaults_applied
from workflows.findings import Report
from workflows.runner import expressions
from workflows.runner.retry import RETRIED_PHASES, Retry
from workflows.variables import Scope, check_variables, io_names

# V v4.1.2 (validateTemplateHolder): the accepted retry policies, the ones the local runner decides.
RETRY_POLICIES = frozenset(RETRIED_PHASES)
# workflow/controller/dag.go v4.1.2 (TaskResults): what a `depends` term may name (the runner runs all but 2).
TASK_RESULTS = frozenset({*expressions.TASK_RESULTS, "AnySucceeded", "AllFailed"})
# V v4.1.2 l.1717 (isValidWorkflowFieldName): template, task and step names.
FIELD_NAME = re.compile(r"^[a-zA-Z0-9][-a-zA-Z0-9]*$")
MAX_FIELD_NAME = 128
# V v4.1.2 (paramOrArtifactNameRegex, isValidParamOrArtifactName): parameter and artifact names.
PARAM_NAME = re.compile(r"^[-a-zA-Z0-9_]+$")
# O v4.1.2 l.2951 (v3.7.18 l.2686), checked when the node runs (O l.2263): a failing name makes it Error.
DISPLAY_NAME = re.compile(r"^[a-zA-Z0-9][a-zA-Z0-9-.]{0,61}[a-zA-Z0-9]$")
DISPLAY_NAME_ANNOTATION = "workflows.argoproj.io/display-name"
# workflow/metrics/util.go v4.1.2 (IsValidMetricName: Prometheus' legacy name rule without ':').
METRIC_NAME = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]*$")
# util/telemetry/metrics_list.go v4.1.2: the controller's own metrics. A custom metric with one of
# these names meets an existing instrument (workflow/metrics/metrics_custom.go, matchExistingMetric)
# with another help text, and is never emitted.
_BUILTIN_METRICS = """
    client_rate_limiter_latency cronworkflows_concurrencypolicy_triggered cronworkflows_triggered_total
    deprecated_feature error_count gauge is_leader k8s_request_duration k8s_request_total locks_held
    locks_pending locks_taken_total log_messages operation_duration_seconds pod_missing pod_pending_count
    pod_restarts_total pods_gauge pods_total_count queue_adds_count queue_depth_gauge queue_duration
    queue_latency queue_longest_running queue_retries queue_unfinished_work resource_rate_limiter_latency
    total_count version workers_busy_count workflow_condition workflowtemplate_runtime
    workflowtemplate_triggered_total
"""
BUILTIN_METRICS = frozenset(_BUILTIN_METRICS.split())
# Kubernetes apimachinery (IsDNS1123Label): volume names; pod names are DNS-1123 subdomains.
DNS1123_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
# workflow/controller/workflowpod.go v4.1.2 l.39-74 and workflow/common/common.go l.262: volumes
# the controller adds to every pod; a user volume of the same name makes the pod invalid.
RESERVED_VOLUMES = frozenset({"var-run-argo", "tmp-dir-argo", "input-artifacts", "argoexec-bin"})
# apimachinery validation (IsValidLabelValue): <= 63 characters of this form.
LABEL_VALUE = re.compile(r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$")
# dag.go v4.1.2 l.1021: `depends` is evaluated by expr after '-' -> '_'. expr's lexer makes these
# words operators (expr-lang/expr parser/lexer/state.go, identifier) and its parser these literals,
# so a task named like one cannot be referred to.
EXPR_KEYWORDS = frozenset({"not", "in", "or", "and", "matches", "contains", "startsWith", "endsWith", "let"})
EXPR_KEYWORDS |= {"if", "else", "nil", "true", "false"}
_STATUS_TAG = re.compile(r"\{\{\s*(workflow\.status|status|(?:tasks|steps)\.[^.{}]+\.status)\s*\}\}")
_ARTIFACT_LOCATIONS = ("s3", "gcs", "azure", "oss", "hdfs", "http", "git", "artifactory", "raw", "plugin")
# What supplies a template input the task does not pass (an optional artifact needs nothing).
_INPUT_SOURCES = {"parameters": ("value", "default", "valueFrom"), "artifacts": _ARTIFACT_LOCATIONS}
# V v4.1.2 l.513-535 (validateTemplate): what a template with a retryStrategy may name besides.
_RETRY_VARIABLES = frozenset({"retries", *expressions.RETRY_NAMES})
# O v4.1.2 l.4265-4345: the scope a template's metrics are evaluated in, after the node ran.
_METRIC_VARIABLES = frozenset({"status", "duration", "exitCode", "outputs.result"})
_METRIC_VARIABLES |= {"resourcesDuration.cpu", "resourcesDuration.memory"}


@dataclass
class Context:
    """What the checks of one spec need from around it."""

    template_validation: bool = False  # a WorkflowTemplate alone: its parameters may lack values (V l.204)
    configmaps: dict[str, dict[str, Any]] = field(default_factory=dict)  # ConfigMaps of the file by name
    metrics: dict[str, tuple[str, str, str]] = field(default_factory=dict)  # name -> (help, type, where)


def check_workflow_spec(report: Report, spec: dict[str, Any], base: str, context: Context) -> None:
    _SpecCheck(report, spec, context).run(base)


def _check_names(
    report: Report, items: list[dict[str, Any]], path: str, what: str, template: str | None = None
) -> dict[str, dict[str, Any]]:
    """V v4.1.2 l.1350-1396, 1381, 1691 (validateWorkflowFieldNames): valid and unique; the items by name."""
    by_name: dict[str, dict[str, Any]] = {}
    for index, item in enumerate(items):
        name = item.get("name") or ""
        here = f"{path}[{index}].name"
        if what in {"parameter", "artifact"}:
            if not PARAM_NAME.match(name):
                report.error(here, f"{what} name {name!r} must match {PARAM_NAME.pattern}", template)
        elif what == "volume":
            if not DNS1123_LABEL.match(name) or len(name) > 63:
                report.error(here, f"volume name {name!r} is not a DNS-1123 label", template)
            elif name in RESERVED_VOLUMES:
                report.error(here, f"volume name {name!r} is reserved for Argo's own volumes", template)
        elif not name:
            report.error(here, f"{what} without a name", template)
        elif len(name) > MAX_FIELD_NAME:
            report.error(here, f"{what} name {name!r} is longer than {MAX_FIELD_NAME}", template)
        elif not FIELD_NAME.match(name) and "{{" not in name:
            report.error(here, f"{what} name {name!r} must match {FIELD_NAME.pattern}", template)
        if name in by_name:
            report.error(here, f"duplicate {what} name {name!r}", template)
        by_name[name] = item
    return by_name


def _check_io_names(report: Report, io: dict[str, Any] | None, path: str, template: str | None) -> None:
    for kind in ("parameters", "artifacts"):
        _check_names(report, (io or {}).get(kind) or [], f"{path}.{kind}", kind[:-1], template)


def check_labels(report: Report, labels: Any, path: str) -> None:
    """apimachinery (IsValidLabelValue): values of at most 63 characters, alphanumeric at both ends."""
    for key, value in (labels or {}).items():
        text = "" if value is None else str(value)
        if "{{" not in text and (len(text) > 63 or not LABEL_VALUE.match(text)):
            message = f"label value {text!r} is not a valid label value (<= 63, {LABEL_VALUE.pattern})"
            report.error(f"{path}[{key}]", message)


class _SpecCheck:
    """The checks of one workflow spec, sharing what they read from it."""

    def __init__(self, report: Report, spec: dict[str, Any], context: Context) -> None:
        self.report, self.spec, self.context = report, spec, context
        # workflow parameter -> its literal value (None when it has none or it holds a tag)
        values = {param.get("name", ""): param.get("value") for param in parameters(spec)}
        self.values = {name: None if v is None or "{{" in str(v) else str(v) for name, v in values.items()}
        self.params = frozenset(self.values)
        self.templates = with_defaults_applied(spec).get("templates") or []
        self.by_name: dict[str, dict[str, Any]] = {}

    def run(self, base: str) -> None:
        report, spec = self.report, self.spec
        self.by_name = _check_names(report, self.templates, f"{base}.templates", "template")
        entrypoint = spec.get("entrypoint")
        if not entrypoint and not spec.get("workflowTemplateRef") and not self.context.template_validation:
            report.error(f"{base}.entrypoint", "no entrypoint")  # V l.259
        elif entrypoint and entrypoint not in self.by_name and "{{" not in entrypoint:
            report.error(f"{base}.entrypoint", f"{entrypoint!r} is not a template of this workflow")
        _check_io_names(report, spec.get("arguments"), f"{base}.arguments", None)
        for index, param in enumerate(parameters(spec)):
            here = f"{base}.arguments.parameters[{index}]"
            # V v4.1.2 l.1016-1047 (validateArgumentsValues): a workflow needs every value; a WorkflowTemplate
            # validated alone may leave them to the submitter (allowEmptyValues, V l.204).
            has_value = any(param.get(key) is not None for key in ("value", "valueFrom"))
            if not has_value and not self.context.template_validation:
                message = f"workflow parameter {param.get('name')!r} has no value (argo submit would need -p)"
                report.error(here, message)
            enum, value = param.get("enum"), param.get("value")
            if enum is not None and value is not None and str(value) not in map(str, enum):
                report.error(here, f"value {value!r} is not one of its enum {enum}")
        global_scope = Scope(self.params, {}, {}, extra=frozenset({"status", "duration"}))
        rest = {k: v for k, v in spec.items() if k not in {"templates", "metrics", "templateDefaults"}}
        check_variables(report, rest, base, global_scope)
        # O v4.1.2 l.333 (prepareDefaultMetricScope): workflow metrics see workflow.duration in real time.
        self._check_metrics(spec.get("metrics"), f"{base}.metrics", global_scope, None)
        self._check_synchronization(spec.get("synchronization"), f"{base}.synchronization", None)
        volumes = set(_check_names(report, spec.get("volumes") or [], f"{base}.volumes", "volume"))
        labels = (spec.get("workflowMetadata") or {}).get("labels")
        check_labels(report, labels, f"{base}.workflowMetadata.labels")
        for index, template in enumerate(self.templates):
            self._check_template(template, f"{base}.templates[{index}]", volumes)

    # --- templates ---------------------------------------------------------------------------------

    def _check_template(self, template: dict[str, Any], path: str, volumes: set[str]) -> None:
        report, name = self.report, template.get("name") or "?"
        error = functools.partial(report.error, template=name)
        kinds = [kind for kind in TEMPLATE_TYPES if template.get(kind) is not None]
        if len(kinds) != 1:  # V l.721 (validateTemplateType)
            has = ", ".join(kinds) or "none"
            error(path, f"a template needs exactly one of {', '.join(TEMPLATE_TYPES)}; has {has}")
        kind = kinds[0] if kinds else None
        for key in ("activeDeadlineSeconds", "timeout") if kind in {"dag", "steps"} else ():
            if template.get(key):  # V l.848 (validateNonLeaf), 4.1's CRD CEL rule
                error(f"{path}.{key}", f"not allowed on a {kind} template (Argo 4.1 refuses it)")
        if kind in {"container", "script", "containerSet"} and name != name.lower():
            # workflow/util/pod_name.go v4.1.2 (GeneratePodName): the pod is <workflow>-<template>-<hash>,
            # and a pod name must be a lowercase DNS-1123 subdomain.
            error(f"{path}.name", "a pod's template name must be lowercase (it is part of the pod name)")
        _check_display_name(report, template, path, name)
        _check_io_names(report, template.get("inputs"), f"{path}.inputs", name)
        _check_io_names(report, template.get("outputs"), f"{path}.outputs", name)
        _check_retry(report, template, path, name)
        self._check_synchronization(template.get("synchronization"), f"{path}.synchronization", name)
        _check_key_only_outputs(report, template, path, name)
        own = _check_names(report, template.get("volumes") or [], f"{path}.volumes", "volume", name)
        own_volumes = volumes | set(own)
        for container_kind in ("container", "script"):
            for index, mount in enumerate((template.get(container_kind) or {}).get("volumeMounts") or []):
                # Kubernetes pod validation: a mount names a volume of the pod (the workflow's or template's).
                if mount.get("name") not in own_volumes:
                    message = f"no volume {mount.get('name')!r} in spec.volumes or the template's volumes"
                    error(f"{path}.{container_kind}.volumeMounts[{index}].name", message)

        inputs, outputs = io_names(template.get("inputs")), io_names(template.get("outputs"))
        retry = _RETRY_VARIABLES if template.get("retryStrategy") else frozenset()
        # V v4.1.2 l.513-535 (validateTemplate): pod.name; retries and lastRetry.* with a retryStrategy.
        extra = frozenset({"pod.name", "node.name", "inputs.parameters"}) | retry
        scope = Scope(self.params, inputs, outputs, extra=extra)
        body = {k: v for k, v in template.items() if k not in {"dag", "metrics", "retryStrategy", "name"}}
        check_variables(report, body, path, scope, template=name)
        metric_extra = _METRIC_VARIABLES | (retry & {"retries"})
        metric_scope = Scope(self.params, inputs, outputs, outputs_as_path=False, extra=metric_extra)
        self._check_metrics(template.get("metrics"), f"{path}.metrics", metric_scope, name)
        if kind == "dag":
            self._check_dag(template, path)

    def _check_synchronization(self, sync: dict[str, Any] | None, path: str, template: str | None) -> None:
        for singular in ("mutex", "semaphore"):  # v4.1.2 dropped them (4.1's CRD has only the lists)
            if (sync or {}).get(singular) is not None:
                message = f"use {singular}es/{singular}s: Argo 4 dropped {singular}"
                self.report.error(f"{path}.{singular}", message, template)
        seen: list[Any] = []
        for kind in ("mutexes", "semaphores"):
            for index, item in enumerate((sync or {}).get(kind) or []):
                here = f"{path}.{kind}[{index}]"
                if item in seen:  # workflow/sync/syncitems.go v4.1.2 l.26 (checkDuplicates)
                    self.report.error(here, "duplicate synchronization item", template)
                seen.append(item)
                if kind == "mutexes" and not str(item.get("name") or "").strip():  # sync/lock_name.go l.138
                    self.report.error(here, "a mutex needs a non-empty name", template)
                if kind == "semaphores" and item.get("configMapKeyRef") is not None:  # else a database one
                    self._check_semaphore(item["configMapKeyRef"], here, template)

    def _check_semaphore(self, ref: dict[str, Any], here: str, template: str | None) -> None:
        """controller.go v4.1.2 l.477-492 (getSyncLimit): the ConfigMap's key holds the limit, an integer."""
        name, key = ref.get("name") or "", ref.get("key") or ""
        configmap = self.context.configmaps.get(name)
        if configmap is None:
            message = f"ConfigMap {name!r} (key {key!r}) is not in this file: it must exist in the cluster"
            self.report.warning(here, message, template)
            return
        error = functools.partial(self.report.error, here, template=template)
        value = (configmap.get("data") or {}).get(key)
        if value is None:
            error(f"ConfigMap {name!r} has no key {key!r} (Argo: Sync configuration key not found)")
        elif not re.fullmatch(r"[+-]?\d+", str(value)) or int(value) < 1:
            error(f"ConfigMap {name!r} key {key!r} is {value!r}; the limit must be an integer >= 1")

    # --- metrics and `when` --------------------------------------------------------------------------

    def _check_metrics(self, metrics: Any, path: str, scope: Scope, template: str | None) -> None:
        """V v4.1.2 l.611-626; workflow/metrics/util.go l.18-49; metrics_custom.go l.140-256; O l.4265-4345"""
        error = functools.partial(self.report.error, template=template)
        for index, metric in enumerate((metrics or {}).get("prometheus") or []):
            here = f"{path}.prometheus[{index}]"
            name, help_text = metric.get("name") or "", metric.get("help") or ""
            if not METRIC_NAME.match(name):
                error(f"{here}.name", f"metric name {name!r} must match {METRIC_NAME.pattern}")
            elif name in BUILTIN_METRICS:
                error(f"{here}.name", f"metric name {name!r} is one of the controller's own metrics")
            if not help_text:
                error(f"{here}.help", "a metric needs a help text")
            for label_index, label in enumerate(metric.get("labels") or []):
                if not METRIC_NAME.match(label.get("key") or ""):
                    message = f"label key {label.get('key')!r} must match {METRIC_NAME.pattern}"
                    error(f"{here}.labels[{label_index}].key", message)
            kinds = [kind for kind in ("gauge", "counter", "histogram") if metric.get(kind) is not None]
            if len(kinds) != 1:
                has = ", ".join(kinds) or "none"
                error(here, f"a metric needs exactly one of gauge, counter, histogram; has {has}")
            else:
                _check_metric_value(self.report, metric, kinds[0], here, template)
                seen = self.context.metrics.setdefault(name, (help_text, kinds[0], here))
                if seen[:2] != (help_text, kinds[0]):  # metrics_custom.go: one help and type per name
                    message = f"metric {name!r} is also defined at {seen[2]} with another help text or type; "
                    error(f"{here}.name", message + "the controller keeps the first and refuses this one")
            if metric.get("when"):
                self._check_when(metric["when"], f"{here}.when", template)
            check_variables(self.report, metric, here, scope, template=template)

    def _check_when(self, when: str, path: str, template: str | None, task: str | None = None) -> None:
        """steps.go v4.1.2 l.384-416 (shouldExecute): govaluate after substitution, giving a bool."""
        # O v4.1.2 l.4303, steps.go l.691: a node or workflow ends Succeeded, Failed or Error.
        if re.search(_STATUS_TAG.pattern + r"\s*==\s*['\"]?Failed\b", when) and "Error" not in when:
            message = f"{when!r} never counts Error (a run or step also ends in Error); use '!= Succeeded'"
            self.report.error(path, message, template, task)

        def sample(match: re.Match[str]) -> str:
            variable = match.group(1)
            parameter = self.values.get(variable.removeprefix("workflow.parameters."))
            if variable.startswith("workflow.parameters.") and parameter is not None:
                return parameter
            if _STATUS_TAG.fullmatch(match.group(0)):
                return "Succeeded"
            return "true" if variable.startswith("=") else "0"

        substituted = VARIABLE_TAG.sub(sample, when)
        try:
            expressions.evaluate_when(substituted)
        except expressions.ExpressionError as exc:
            message = f"{when!r} is not a govaluate boolean after substitution ({substituted!r}: {exc}); "
            self.report.error(path, message + "quote values with '-', spaces or ':'", template, task)

    # --- DAG ---------------------------------------------------------------------------------------

    def _check_dag(self, template: dict[str, Any], path: str) -> None:
        report, template_name = self.report, template.get("name") or "?"
        tasks = (template.get("dag") or {}).get("tasks") or []
        if not tasks:  # V l.1439
            report.error(f"{path}.dag.tasks", "a DAG needs at least one task", template_name)
        by_name = _check_names(report, tasks, f"{path}.dag.tasks", "task", template_name)
        names = set(by_name)
        using_depends = any(task.get("depends") for task in tasks)
        upstream: dict[str, set[str]] = {}
        for index, task in enumerate(tasks):
            here, name = f"{path}.dag.tasks[{index}]", task.get("name") or ""
            if name.replace("-", "_") in EXPR_KEYWORDS:  # dag.go v4.1.2 l.1021
                message = f"{name!r} is an expr keyword once '-' becomes '_': depends cannot name it"
                report.error(f"{here}.name", message, template_name, name)
            upstream[name] = self._dag_edges(task, names, here, template_name)
            # V l.1469: once a task of the DAG uses depends (or this one dependencies), no name starts 0-9
            if (using_depends or task.get("dependencies")) and re.match(r"[0-9]", name):
                message = "a task name that starts with a digit cannot be used with depends or dependencies"
                report.error(f"{here}.name", message, template_name, name)
        graph = {n: upstream[n] & names for n in names}
        try:  # V l.1625 (verifyNoCycles)
            order = list(graphlib.TopologicalSorter(graph).static_order())
        except graphlib.CycleError as exc:
            cycle = " -> ".join(reversed(exc.args[1]))
            report.error(f"{path}.dag.tasks", f"dependency cycle: {cycle}", template_name)
            return  # ancestors are undefined in a cycle; reference checks would only repeat it
        ancestors: dict[str, set[str]] = {}
        for name in order:  # each task after the tasks it depends on
            ancestors[name] = set().union(*(ancestors[dep] | {dep} for dep in graph[name]))

        dag_inputs = io_names(template.get("inputs"))
        for index, task in enumerate(tasks):
            here, task_name = f"{path}.dag.tasks[{index}]", task.get("name") or "?"
            target = self.by_name.get(task.get("template") or "")
            if task.get("templateRef") or task.get("inline"):
                target = task.get("inline")  # a templateRef's template lives elsewhere: not checked offline
            elif target is None:
                message = f"{task.get('template')!r} is not a template of this workflow"
                report.error(f"{here}.template", message, template_name, task_name)
            if target is not None:
                _check_task_arguments(report, task, target, here, template_name)
            # V l.1577-1607 (validateDAGTaskArgumentDependency): tasks.T.* only for T among the ancestors.
            visible = {}
            for ancestor in ancestors.get(task_name, set()):
                ref = self.by_name.get(by_name[ancestor].get("template") or "")
                visible[ancestor] = io_names(ref.get("outputs")) if ref is not None else None
            extra = {"tasks.name"} | ({"item"} if task.get("withItems") or task.get("withParam") else set())
            scope = Scope(self.params, dag_inputs, {}, tasks=visible, extra=frozenset(extra))
            checked = {k: v for k, v in task.items() if k not in {"name", "template", "depends"}}
            check_variables(report, checked, here, scope, template=template_name, task=task_name)
            if task.get("when"):
                self._check_when(task["when"], f"{here}.when", template_name, task_name)

    def _dag_edges(self, task: dict[str, Any], names: set[str], here: str, template: str) -> set[str]:
        """The tasks `task` waits for, from `dependencies` and `depends`; unknown ones reported."""
        error = functools.partial(self.report.error, template=template, task=task.get("name") or "?")
        if task.get("depends") and task.get("dependencies"):  # V l.1473
            error(here, "use either depends or dependencies, not both")
        if task.get("depends") and task.get("continueOn"):  # V l.1477
            error(here, "continueOn cannot be used with depends")
        upstream: set[str] = set()
        for index, dep in enumerate(task.get("dependencies") or []):
            if dep not in names:
                error(f"{here}.dependencies[{index}]", f"unknown task {dep!r}")
            upstream.add(dep)
        for operand in filter(None, re.split(r"&&|\|\||[()!\s]+", task.get("depends") or "")):
            dep, dot, result = operand.rpartition(".")
            if not dot:
                dep = operand
            elif result not in TASK_RESULTS:  # V l.1472-1510 (common.ValidateTaskResults)
                choices = ", ".join(sorted(TASK_RESULTS))
                error(f"{here}.depends", f"{operand!r}: {result!r} is not a task result ({choices})")
                continue
            if dep not in names:
                error(f"{here}.depends", f"{operand!r}: unknown task {dep!r}")
            upstream.add(dep)
        return upstream


def _check_display_name(report: Report, template: dict[str, Any], path: str, name: str) -> None:
    """O v4.1.2 l.2263-2268 (v3.7.18 l.2071): the node ends in Error when its display name fails the regex."""
    display = (template.get("annotations") or {}).get(DISPLAY_NAME_ANNOTATION)
    # a tagged name is only known at run time
    if display is not None and "{{" not in str(display) and not DISPLAY_NAME.match(str(display)):
        message = f"{display!r}: displayName must match the regex {DISPLAY_NAME.pattern} "
        message += "(the controller marks the node Error; put prose in the workflow's description)"
        report.error(f"{path}.annotations[{DISPLAY_NAME_ANNOTATION}]", message, name)


def _check_retry(report: Report, template: dict[str, Any], path: str, name: str) -> None:
    retry = template.get("retryStrategy")
    if not retry:
        return
    here = f"{path}.retryStrategy"
    if retry.get("retryPolicy") and retry["retryPolicy"] not in RETRY_POLICIES:  # V l.690
        message = f"{retry['retryPolicy']!r} is not one of {', '.join(sorted(RETRY_POLICIES))}"
        report.error(f"{here}.retryPolicy", message, name)
    if expression := retry.get("expression"):
        # O v4.1.2 l.1193-1203: compiled with lastRetry.* only after a failure; an error marks the node Error.
        try:
            expressions.parse_retry_expression(expression)
        except expressions.ExpressionError as exc:
            report.error(f"{here}.expression", f"does not compile: {exc}", name)
    # O v3.7.18 l.1031-1089: `maxDuration` counts from the first attempt's start, `cap` bounds each wait.
    backoff = retry.get("backoff") or {}
    seconds: dict[str, float] = {}
    for key in ("duration", "cap", "maxDuration"):
        if backoff.get(key) is not None and "{{" not in str(backoff[key]):
            try:
                seconds[key] = expressions.parse_duration(backoff[key])
            except expressions.ExpressionError as exc:
                report.error(f"{here}.backoff.{key}", str(exc), name)
    if backoff and not backoff.get("duration"):  # l.1039: checked at the first retry, which then errors
        report.error(f"{here}.backoff.duration", "a backoff needs a duration (the base wait)", name)
    factor_text, limit = str(backoff.get("factor", 1)), retry.get("limit")
    if not factor_text.isdigit():  # l.1048: read as an int32 (intstr.Int32)
        report.error(f"{here}.backoff.factor", f"{factor_text!r} must be a whole number", name)
    if "maxDuration" not in seconds or not str(limit or "").isdigit() or not factor_text.isdigit():
        return
    factor, cap = int(factor_text), seconds.get("cap")  # l.1053: a factor of 0 means no growth
    policy = Retry(int(limit), duration=seconds.get("duration"), factor=factor, cap=cap)
    waits = [policy.wait(number) for number in range(1, int(limit) + 1)]  # as the local runner waits
    deadline = template.get("activeDeadlineSeconds")
    attempt = float(deadline) if str(deadline or "").isdigit() else 0.0
    # every attempt but the last may run to its deadline, then wait
    needed = sum(waits) + attempt * int(limit)
    if seconds["maxDuration"] < needed:
        message = f"{backoff['maxDuration']!r} ({seconds['maxDuration']:g}s from the first attempt's start) "
        message += f"cannot hold the {limit} retries promised: waits {'+'.join(f'{w:g}' for w in waits)}s"
        message += f" after attempts of up to {attempt:g}s (activeDeadlineSeconds)" if attempt else ""
        message += f" need {needed:g}s; raise it, or bound each wait with backoff.cap instead"
        report.error(f"{here}.backoff.maxDuration", message, name)


def _check_key_only_outputs(report: Report, template: dict[str, Any], path: str, name: str) -> None:
    """workflowpod.go v4.1.2 l.1149-1176, executor.go l.686: a key-only output is a tgz by default."""
    for index, artifact in enumerate((template.get("outputs") or {}).get("artifacts") or []):
        s3 = artifact.get("s3")
        if isinstance(s3, dict) and set(s3) == {"key"} and not artifact.get("archive"):
            message = f"key-only artifact {artifact.get('name')!r} is stored as a tgz at {s3['key']!r}; "
            message += "set archive: {none: {}} to store the file as is"
            report.warning(f"{path}.outputs.artifacts[{index}]", message, name)


def _check_metric_value(
    report: Report, metric: dict[str, Any], kind: str, here: str, template: str | None
) -> None:
    value = str((metric.get(kind) or {}).get("value") or "")
    at = f"{here}.{kind}.value"
    if not value:
        report.error(at, f"missing {kind}.value", template)
    elif kind == "gauge" and metric["gauge"].get("realtime"):
        # O v4.1.2 l.4312-4325: a real-time value is one variable of the real-time scope.
        allowed = {"workflow.duration"} | ({"duration"} if template is not None else set())
        match = VARIABLE_TAG.fullmatch(value.strip())
        if match is None or match.group(1) not in allowed:
            exactly = " or ".join("{{" + a + "}}" for a in sorted(allowed))
            report.error(at, f"a real-time gauge value must be exactly {exactly}", template)
    elif "{{" not in value:  # metrics_custom.go l.222-250: strconv.ParseFloat after substitution
        try:
            float(value)
        except ValueError:
            report.error(at, f"{value!r} is not a number", template)


def _check_task_arguments(
    report: Report, task: dict[str, Any], target: dict[str, Any], here: str, template: str
) -> None:
    """V l.1559 (validateArguments on the task), l.1053: every input without a default is supplied."""
    target_name = target.get("name")
    error = functools.partial(report.error, template=template, task=task.get("name") or "?")
    arguments = task.get("arguments") or {}
    _check_io_names(report, arguments, f"{here}.arguments", template)
    given = io_names(arguments)
    declared = target.get("inputs") or {}
    for kind, sources in _INPUT_SOURCES.items():
        for item in declared.get(kind) or []:
            has_source = any(key in item for key in sources) or (kind == "artifacts" and item.get("optional"))
            if item.get("name") not in given[kind] and not has_source:
                input_name = f"{kind[:-1]} {item.get('name')!r}"
                message = f"input {input_name} of template {target_name!r} is not supplied"
                error(f"{here}.arguments.{kind}", message)
    declared_names = io_names(declared)
    for kind in ("parameters", "artifacts"):
        for index, item in enumerate(arguments.get(kind) or []):
            if item.get("name") not in declared_names[kind]:
                message = f"template {target_name!r} has no input {kind[:-1]} {item.get('name')!r}"
                error(f"{here}.arguments.{kind}[{index}]", message)
            source = item.get("from") if kind == "artifacts" else None
            # workflow/controller/operator.go (resolveDependencyReferences): `from` is one {{...}} reference.
            if source is not None and not VARIABLE_TAG.fullmatch(str(source).strip()):
                message = f"{source!r} must be one reference like {{{{tasks.X.outputs.artifacts.Y}}}}"
                error(f"{here}.arguments.artifacts[{index}].from", message)

"""`python -m workflows lint FILE...`: check CronWorkflow manifests offline, like `argo lint --offline`.

Each document is parsed with Hera's models with unknown fields refused, then checked the way Argo's
validation checks a CronWorkflow: name, schedules, time zone, concurrency policy, entrypoint,
template and task references, DAG dependencies (resolvable, no cycle), and every `{{...}}` variable
(`tasks.X.outputs...`, `inputs...`, `outputs...`, `workflow.parameters...`) against what exists
where it is used. A few rules Argo 4.1's CRD states in CEL (which the schema check in crd.py cannot
run) are checked here too. Expression tags (`{{=...}}`) are not evaluated.

Exit status: 0 when every document is clean, 1 on any finding, 2 on usage errors.
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pydantic
import yaml
from hera.workflows.models import CronWorkflow as CronWorkflowModel

from workflows.checks import name_problem, schedule_problem, timezone_problem

API_VERSION = "argoproj.io/v1alpha1"
CONCURRENCY_POLICIES = {"Allow", "Forbid", "Replace"}
RETRY_POLICIES = {"Always", "OnFailure", "OnError", "OnTransientError"}
TEMPLATE_TYPES = (
    "container",
    "script",
    "dag",
    "steps",
    "resource",
    "suspend",
    "containerSet",
    "data",
    "http",
    "plugin",
)
TASK_RESULTS = {
    "Succeeded",
    "Failed",
    "Errored",
    "Skipped",
    "Omitted",
    "Daemoned",
    "AnySucceeded",
    "AllFailed",
}
METRIC_NAME = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]*$")

_TAG = re.compile(r"\{\{\s*([^{}]*?)\s*\}\}")
_WORKFLOW_GLOBALS = re.compile(
    r"^workflow\.(name|namespace|uid|serviceAccountName|mainEntrypoint|priority|duration|scheduledTime|status"
    r"|failures|creationTimestamp(\.[A-Za-z0-9]+)?|parameters(\.[^.]+)?|annotations(\.json|\.[^.]+)"
    r"|labels(\.json|\.[^.]+)|outputs\.(parameters|artifacts)\.[^.]+)$"
)


@dataclass(frozen=True)
class Finding:
    document: str
    where: str
    message: str

    def __str__(self) -> str:
        return f"{self.document}: {self.where}: {self.message}"


class _Doc:
    """Collects findings for one document; `where` strings name template, task and field."""

    def __init__(self, label: str) -> None:
        self.label = label
        self.findings: list[Finding] = []

    def add(self, where: str, message: str) -> None:
        self.findings.append(Finding(self.label, where, message))


def _where(field: str, template: str | None = None, task: str | None = None) -> str:
    parts = []
    if template is not None:
        parts.append(f"template {template!r}")
    if task is not None:
        parts.append(f"task {task!r}")
    parts.append(f"field {field}")
    return ", ".join(parts)


# --- parsing with Hera's models -------------------------------------------------------------------


def model_problems(document: dict[str, Any]) -> list[tuple[str, str, str]]:
    """(field, message, pydantic error type) for each way Hera's CronWorkflow model refuses the document.

    Unknown fields are refused (`extra="forbid"`), and only the manifest's camelCase names are
    accepted, so a misspelled or snake_case field is an error here, as in `kubectl --validate=strict`.
    """
    try:
        CronWorkflowModel.model_validate(document, extra="forbid", by_alias=True, by_name=False)
    except TypeError:  # pydantic older than 2.11: no per-call `extra`; compare a round trip instead
        return _round_trip_problems(document)
    except pydantic.ValidationError as exc:
        return [(_loc(error["loc"]), error["msg"], error["type"]) for error in exc.errors()]
    return []


def _round_trip_problems(document: dict[str, Any]) -> list[tuple[str, str, str]]:
    try:
        model = CronWorkflowModel.model_validate(document)
    except pydantic.ValidationError as exc:
        return [(_loc(error["loc"]), error["msg"], error["type"]) for error in exc.errors()]
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


def _loc(parts: tuple[Any, ...]) -> str:
    text = ""
    for part in parts:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "(document)"


# --- the checks ----------------------------------------------------------------------------------


def lint_document(document: Any, label: str) -> list[Finding]:
    doc = _Doc(label)
    if not isinstance(document, dict):
        doc.add("document", f"is a {type(document).__name__}, not a mapping")
        return doc.findings
    if document.get("kind") != "CronWorkflow":
        doc.add("field kind", f"{document.get('kind')!r}: only CronWorkflow documents are linted")
        return doc.findings
    if document.get("apiVersion") != API_VERSION:
        doc.add("field apiVersion", f"{document.get('apiVersion')!r}: expected {API_VERSION}")
    problems = model_problems(document)
    for field, message, _ in problems:
        doc.add(_where(field), f"{message} (Hera's CronWorkflow model)")
    if any(kind != "extra_forbidden" for *_, kind in problems):
        return doc.findings  # the structure itself is wrong: the checks below would only add noise
    _check_cron(doc, document)
    spec = document.get("spec") or {}
    workflow_spec = spec.get("workflowSpec") or {}
    _check_workflow_spec(doc, workflow_spec)
    return doc.findings


def _check_cron(doc: _Doc, document: dict[str, Any]) -> None:
    name = (document.get("metadata") or {}).get("name") or ""
    if problem := name_problem(name):
        doc.add(_where("metadata.name"), f"{name!r} {problem}")
    spec = document.get("spec") or {}
    schedules = spec.get("schedules") or []
    if spec.get("schedule"):
        if schedules:
            doc.add(_where("spec.schedule"), "set together with spec.schedules; use spec.schedules only")
        schedules = [spec["schedule"]]
    if not schedules:
        doc.add(_where("spec.schedules"), "no schedule: a CronWorkflow needs at least one")
    for index, schedule in enumerate(schedules):
        if problem := schedule_problem(schedule):
            doc.add(_where(f"spec.schedules[{index}]"), f"{schedule!r} {problem}")
    timezone = spec.get("timezone")
    if timezone and (problem := timezone_problem(timezone)):
        doc.add(_where("spec.timezone"), f"{timezone!r} {problem}")
    policy = spec.get("concurrencyPolicy")
    if policy and policy not in CONCURRENCY_POLICIES:
        doc.add(
            _where("spec.concurrencyPolicy"),
            f"{policy!r} is not one of {', '.join(sorted(CONCURRENCY_POLICIES))}",
        )
    for field in ("startingDeadlineSeconds", "successfulJobsHistoryLimit", "failedJobsHistoryLimit"):
        value = spec.get(field)
        if isinstance(value, int) and value < 0:
            doc.add(_where(f"spec.{field}"), f"{value} must not be negative")
    _check_variables(
        doc, {k: v for k, v in spec.items() if k != "workflowSpec"}, "spec", _Scope.global_only(spec)
    )


@dataclass
class _Scope:
    """What `{{...}}` may name at one place of the manifest."""

    workflow_parameters: frozenset[str]
    inputs: dict[str, frozenset[str]]  # "parameters"/"artifacts" -> names
    outputs: dict[str, frozenset[str]]
    tasks: dict[str, dict[str, frozenset[str]] | None] | None = (
        None  # upstream task -> its template's outputs
    )
    extra: frozenset[str] = frozenset()  # plain names allowed here (status, retries, pod.name, ...)
    outputs_as_path: bool = (
        True  # in a container: outputs.parameters.X.path; in metrics: outputs.parameters.X
    )

    @staticmethod
    def global_only(spec: dict[str, Any]) -> _Scope:
        return _Scope(_workflow_parameters(spec.get("workflowSpec") or {}), {}, {})


def _workflow_parameters(workflow_spec: dict[str, Any]) -> frozenset[str]:
    params = ((workflow_spec.get("arguments") or {}).get("parameters")) or []
    return frozenset(p.get("name", "") for p in params)


def _io_names(io: dict[str, Any] | None) -> dict[str, frozenset[str]]:
    io = io or {}
    return {
        kind: frozenset(item.get("name", "") for item in io.get(kind) or [])
        for kind in ("parameters", "artifacts")
    }


def _check_workflow_spec(doc: _Doc, spec: dict[str, Any]) -> None:
    base = "spec.workflowSpec"
    templates: dict[str, dict[str, Any]] = {}
    for index, template in enumerate(spec.get("templates") or []):
        name = template.get("name") or ""
        if not name:
            doc.add(_where(f"{base}.templates[{index}].name"), "template without a name")
        elif name in templates:
            doc.add(_where(f"{base}.templates[{index}].name", name), "duplicate template name")
        templates[name] = template
    entrypoint = spec.get("entrypoint")
    if not entrypoint and not spec.get("workflowTemplateRef"):
        doc.add(_where(f"{base}.entrypoint"), "no entrypoint")
    elif entrypoint and entrypoint not in templates and "{{" not in entrypoint:
        doc.add(_where(f"{base}.entrypoint"), f"{entrypoint!r} is not a template of this workflow")
    for index, param in enumerate((spec.get("arguments") or {}).get("parameters") or []):
        if "value" not in param and "valueFrom" not in param:
            doc.add(
                _where(f"{base}.arguments.parameters[{index}]"),
                f"workflow parameter {param.get('name')!r} has no value (argo submit would need -p)",
            )

    params = _workflow_parameters(spec)
    global_scope = _Scope(params, {}, {}, extra=frozenset({"status", "duration"}))
    rest = {k: v for k, v in spec.items() if k not in {"templates", "metrics"}}
    _check_variables(doc, rest, base, global_scope)
    _check_metrics(
        doc,
        (spec.get("metrics") or {}).get("prometheus") or [],
        f"{base}.metrics.prometheus",
        global_scope,
        template=None,
    )

    for index, template in enumerate(spec.get("templates") or []):
        _check_template(doc, template, templates, params, f"{base}.templates[{index}]")


def _check_template(
    doc: _Doc,
    template: dict[str, Any],
    templates: dict[str, dict[str, Any]],
    params: frozenset[str],
    path: str,
) -> None:
    name = template.get("name") or "?"
    kinds = [kind for kind in TEMPLATE_TYPES if template.get(kind) is not None]
    if len(kinds) != 1:
        doc.add(
            _where(path, name),
            f"a template needs exactly one of {', '.join(TEMPLATE_TYPES)}; has {', '.join(kinds) or 'none'}",
        )
    if kinds and kinds[0] in {"dag", "steps"}:
        for field in ("activeDeadlineSeconds", "timeout"):
            if template.get(field):
                doc.add(
                    _where(f"{path}.{field}", name),
                    f"not allowed on a {kinds[0]} template (Argo 4.1 refuses it)",
                )
    retry = template.get("retryStrategy") or {}
    if retry.get("retryPolicy") and retry["retryPolicy"] not in RETRY_POLICIES:
        doc.add(
            _where(f"{path}.retryStrategy.retryPolicy", name),
            f"{retry['retryPolicy']!r} is not one of {', '.join(sorted(RETRY_POLICIES))}",
        )

    inputs, outputs = _io_names(template.get("inputs")), _io_names(template.get("outputs"))
    scope = _Scope(
        params, inputs, outputs, extra=frozenset({"pod.name", "node.name", "retries", "inputs.parameters"})
    )
    body = {k: v for k, v in template.items() if k not in {"dag", "metrics", "retryStrategy", "name"}}
    _check_variables(doc, body, path, scope, template=name)
    metric_scope = _Scope(
        params,
        inputs,
        outputs,
        outputs_as_path=False,
        extra=frozenset(
            {
                "status",
                "duration",
                "exitCode",
                "outputs.result",
                "resourcesDuration.cpu",
                "resourcesDuration.memory",
            }
        ),
    )
    _check_metrics(
        doc,
        (template.get("metrics") or {}).get("prometheus") or [],
        f"{path}.metrics.prometheus",
        metric_scope,
        template=name,
    )
    if template.get("dag") is not None:
        _check_dag(doc, template, templates, params, path)


def _check_metrics(
    doc: _Doc, metrics: list[dict[str, Any]], path: str, scope: _Scope, template: str | None
) -> None:
    for index, metric in enumerate(metrics):
        here = f"{path}[{index}]"
        name = metric.get("name") or ""
        if not METRIC_NAME.match(name):
            doc.add(
                _where(f"{here}.name", template), f"metric name {name!r} must match {METRIC_NAME.pattern}"
            )
        if not metric.get("help"):
            doc.add(_where(f"{here}.help", template), "a metric needs a help text")
        for label_index, label in enumerate(metric.get("labels") or []):
            if not METRIC_NAME.match(label.get("key") or ""):
                doc.add(
                    _where(f"{here}.labels[{label_index}].key", template),
                    f"label key {label.get('key')!r} must match {METRIC_NAME.pattern}",
                )
        kinds = [kind for kind in ("gauge", "counter", "histogram") if metric.get(kind) is not None]
        if len(kinds) != 1:
            doc.add(
                _where(here, template),
                f"a metric needs exactly one of gauge, counter, histogram; has {', '.join(kinds) or 'none'}",
            )
        gauge = metric.get("gauge") or {}
        if gauge.get("realtime") and "resourcesDuration." in (gauge.get("value") or ""):
            doc.add(
                _where(f"{here}.gauge.value", template),
                "resourcesDuration metrics cannot be real-time gauges",
            )
        _check_variables(doc, metric, here, scope, template=template)


def _dag_edges(doc: _Doc, task: dict[str, Any], names: set[str], here: str, template: str) -> set[str]:
    """The tasks `task` waits for, from `dependencies` and the `depends` expression; unknown ones reported."""
    upstream: set[str] = set()
    task_name = task.get("name") or "?"
    if task.get("depends") and task.get("dependencies"):
        doc.add(_where(here, template, task_name), "use either depends or dependencies, not both")
    if task.get("depends") and task.get("continueOn"):
        doc.add(_where(here, template, task_name), "continueOn cannot be used with depends")
    for index, dep in enumerate(task.get("dependencies") or []):
        if dep not in names:
            doc.add(_where(f"{here}.dependencies[{index}]", template, task_name), f"unknown task {dep!r}")
        upstream.add(dep)
    expression = task.get("depends") or ""
    for operand in re.split(r"&&|\|\||[()!\s]+", expression):
        if not operand:
            continue
        dep, dot, result = operand.rpartition(".")
        if not dot:
            dep, result = operand, ""
        elif result not in TASK_RESULTS:
            doc.add(
                _where(f"{here}.depends", template, task_name),
                f"{operand!r}: {result!r} is not a task result ({', '.join(sorted(TASK_RESULTS))})",
            )
            continue
        if dep not in names:
            doc.add(_where(f"{here}.depends", template, task_name), f"{operand!r}: unknown task {dep!r}")
        upstream.add(dep)
    return upstream


def _check_dag(
    doc: _Doc,
    template: dict[str, Any],
    templates: dict[str, dict[str, Any]],
    params: frozenset[str],
    path: str,
) -> None:
    template_name = template.get("name") or "?"
    tasks = (template.get("dag") or {}).get("tasks") or []
    by_name: dict[str, dict[str, Any]] = {}
    for index, task in enumerate(tasks):
        name = task.get("name") or ""
        if name in by_name:
            doc.add(_where(f"{path}.dag.tasks[{index}].name", template_name, name), "duplicate task name")
        by_name[name] = task
    names = set(by_name)
    upstream = {}
    for index, task in enumerate(tasks):
        here = f"{path}.dag.tasks[{index}]"
        upstream[task.get("name") or ""] = _dag_edges(doc, task, names, here, template_name)
        if (task.get("depends") or task.get("dependencies")) and re.match(r"^[0-9]", task.get("name") or ""):
            doc.add(
                _where(f"{here}.name", template_name, task.get("name")),
                "a task name that starts with a digit cannot be used with depends",
            )
    if cycle := _find_cycle(upstream):
        doc.add(_where(f"{path}.dag.tasks", template_name), f"dependency cycle: {' -> '.join(cycle)}")
        return  # ancestors are undefined in a cycle; reference checks would only repeat it

    dag_inputs = _io_names(template.get("inputs"))
    for index, task in enumerate(tasks):
        here, task_name = f"{path}.dag.tasks[{index}]", task.get("name") or "?"
        target_name = task.get("template")
        target = templates.get(target_name or "")
        if task.get("templateRef") or task.get("inline"):
            target = task.get("inline")  # a templateRef's template lives elsewhere: not checked offline
        elif target is None:
            doc.add(
                _where(f"{here}.template", template_name, task_name),
                f"{target_name!r} is not a template of this workflow",
            )
        if target is not None:
            _check_arguments(doc, task, target, here, template_name)
        visible = {  # None: the ancestor's template is not here (unknown or a templateRef), outputs unknown
            ancestor: _io_names(templates[ref].get("outputs"))
            if (ref := by_name[ancestor].get("template")) in templates
            else None
            for ancestor in _ancestors(task_name, upstream)
            if ancestor in by_name
        }
        scope = _Scope(
            params,
            dag_inputs,
            {},
            tasks=visible,
            extra=frozenset({"tasks.name"})
            | (frozenset({"item"}) if task.get("withItems") or task.get("withParam") else frozenset()),
        )
        _check_variables(
            doc,
            {k: v for k, v in task.items() if k not in {"name", "template", "depends"}},
            here,
            scope,
            template=template_name,
            task=task_name,
        )


def _check_arguments(
    doc: _Doc, task: dict[str, Any], target: dict[str, Any], here: str, template: str
) -> None:
    task_name = task.get("name") or "?"
    arguments = task.get("arguments") or {}
    given = _io_names(arguments)
    declared = target.get("inputs") or {}
    for param in declared.get("parameters") or []:
        supplied = param.get("name") in given["parameters"]
        if not supplied and "value" not in param and "default" not in param and "valueFrom" not in param:
            doc.add(
                _where(f"{here}.arguments.parameters", template, task_name),
                f"input parameter {param.get('name')!r} of template {target.get('name')!r} is not supplied",
            )
    for artifact in declared.get("artifacts") or []:
        has_source = artifact.get("optional") or any(
            key not in {"name", "path", "mode", "optional", "archive", "subPath", "recurseMode"}
            for key in artifact
        )
        if artifact.get("name") not in given["artifacts"] and not has_source:
            doc.add(
                _where(f"{here}.arguments.artifacts", template, task_name),
                f"input artifact {artifact.get('name')!r} of template {target.get('name')!r} is not supplied",
            )
    declared_names = _io_names(declared)
    for kind in ("parameters", "artifacts"):
        for index, item in enumerate(arguments.get(kind) or []):
            if item.get("name") not in declared_names[kind]:
                doc.add(
                    _where(f"{here}.arguments.{kind}[{index}]", template, task_name),
                    f"template {target.get('name')!r} has no input {kind[:-1]} {item.get('name')!r}",
                )
    for index, artifact in enumerate(arguments.get("artifacts") or []):
        source = artifact.get("from")
        if source is not None and not _TAG.fullmatch(source.strip()):
            doc.add(
                _where(f"{here}.arguments.artifacts[{index}].from", template, task_name),
                f"{source!r} must be one reference like {{{{tasks.X.outputs.artifacts.Y}}}}",
            )


def _ancestors(task: str, upstream: dict[str, set[str]]) -> set[str]:
    seen: set[str] = set()
    stack = list(upstream.get(task, ()))
    while stack:
        current = stack.pop()
        if current not in seen:
            seen.add(current)
            stack.extend(upstream.get(current, ()))
    return seen


def _find_cycle(upstream: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for dep in sorted(upstream.get(node, ())):
            if state.get(dep) == 1:
                return [*path[path.index(dep) :], dep]
            if dep in upstream and state.get(dep) is None and (found := visit(dep)):
                return found
        path.pop()
        state[node] = 2
        return None

    for node in sorted(upstream):
        if state.get(node) is None and (found := visit(node)):
            return found
    return None


# --- `{{...}}` variables ---------------------------------------------------------------------------


def _strings(value: Any, path: str) -> Iterator[tuple[str, str]]:
    if isinstance(value, str):
        yield path, value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _strings(item, f"{path}.{key}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            label = item.get("name") if isinstance(item, dict) and isinstance(item.get("name"), str) else None
            if label is not None and "{{" in label:
                label = None
            yield from _strings(item, f"{path}[{label if label is not None else index}]")


def _check_variables(
    doc: _Doc, value: Any, path: str, scope: _Scope, template: str | None = None, task: str | None = None
) -> None:
    for field, text in _strings(value, path):
        for match in _TAG.finditer(text):
            variable = match.group(1)
            if variable.startswith("="):
                continue  # an expression tag: evaluated by Argo at run time, not checked here
            if problem := _resolve(variable, scope):
                doc.add(_where(field, template, task), f"{match.group(0)!r}: {problem}")


def _resolve(variable: str, scope: _Scope) -> str | None:
    """None when `variable` names something that exists in `scope`, else why not."""
    if variable in scope.extra:
        return None
    if variable.startswith("workflow."):
        if not _WORKFLOW_GLOBALS.match(variable):
            return "unknown workflow variable"
        if variable.startswith("workflow.parameters.") and variable != "workflow.parameters.json":
            name = variable[len("workflow.parameters.") :]
            if name not in scope.workflow_parameters:
                return f"no workflow parameter {name!r} in spec.workflowSpec.arguments.parameters"
        return None
    parts = variable.split(".")
    if parts[0] in {"inputs", "outputs"} and len(parts) >= 3:
        io = scope.inputs if parts[0] == "inputs" else scope.outputs
        kind, name, rest = parts[1], parts[2], parts[3:]
        if kind not in {"parameters", "artifacts"}:
            return f"unknown {parts[0]} kind {kind!r}"
        if name not in io.get(kind, frozenset()):
            return f"this template declares no {parts[0][:-1]} {kind[:-1]} {name!r}"
        if kind == "artifacts" or (parts[0] == "outputs" and scope.outputs_as_path):
            return None if rest == ["path"] else f"expected {'.'.join(parts[:3])}.path"
        return None if not rest or rest == ["path"] else "unknown field after the parameter name"
    if parts[0] == "tasks" and scope.tasks is not None and len(parts) >= 3:
        return _resolve_task(parts, scope.tasks)
    return "unknown variable here"


def _resolve_task(parts: list[str], tasks: dict[str, dict[str, frozenset[str]] | None]) -> str | None:
    task = parts[1]
    if task not in tasks:
        return f"task {task!r} is not upstream of this task (add it to depends) or does not exist"
    rest = parts[2:]
    if rest in (
        ["status"],
        ["exitCode"],
        ["id"],
        ["ip"],
        ["startedAt"],
        ["finishedAt"],
        ["hostNodeName"],
        ["outputs", "result"],
        ["outputs", "parameters"],
    ):
        return None
    if len(rest) == 3 and rest[0] == "outputs" and rest[1] in {"parameters", "artifacts"}:
        outputs = tasks[task]
        if outputs is None or rest[2] in outputs.get(rest[1], frozenset()):
            return None
        return f"task {task!r} has no output {rest[1][:-1]} {rest[2]!r}"
    return f"unknown field {'.'.join(rest)!r} of task {task!r}"


# --- files and the command --------------------------------------------------------------------------


def lint_text(text: str, source: str) -> tuple[int, list[Finding]]:
    """(number of documents, findings) for the YAML in `text`."""
    try:
        documents = [doc for doc in yaml.safe_load_all(text) if doc is not None]
    except yaml.YAMLError as exc:
        return 0, [Finding(source, "YAML", str(exc).replace("\n", " "))]
    if not documents:
        return 0, [Finding(source, "file", "no YAML documents")]
    findings: list[Finding] = []
    for index, document in enumerate(documents, start=1):
        name = ((document.get("metadata") or {}).get("name") if isinstance(document, dict) else None) or "?"
        findings += lint_document(document, f"{source}: document {index} ({name})")
    return len(documents), findings


def lint_documents(documents: list[Any], source: str = "manifest") -> list[Finding]:
    findings: list[Finding] = []
    for index, document in enumerate(documents, start=1):
        name = ((document.get("metadata") or {}).get("name") if isinstance(document, dict) else None) or "?"
        findings += lint_document(document, f"{source}: document {index} ({name})")
    return findings


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m workflows lint", description=__doc__.split("\n\n")[0])
    parser.add_argument("files", nargs="+", metavar="FILE", help="manifest(s) to check")
    args = parser.parse_args(argv)
    total = 0
    for file in args.files:
        try:
            text = Path(file).read_text(encoding="utf-8")
        except OSError as exc:
            print(f"{file}: cannot read: {exc.strerror}")
            total += 1
            continue
        count, findings = lint_text(text, file)
        for finding in findings:
            print(finding)
        if not findings:
            print(f"{file}: {count} CronWorkflow document(s), no findings")
        total += len(findings)
    if total:
        print(f"lint: {total} finding(s)", file=sys.stderr)
    return 1 if total else 0

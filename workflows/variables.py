"""`{{...}}` variables: what each place of a workflow spec may name, and whether a tag resolves there.

workflow/validate/validate.go (v4.1.2 l.797-846, resolveAllVariables; l.1577-1607 for `tasks.T.*`):
every tag must resolve in the `Scope` where it is used; `check_variables` reports each that does not.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from workflows.checks import VARIABLE_TAG
from workflows.findings import Report

_WORKFLOW_GLOBALS = re.compile(
    r"^workflow\.(name|namespace|uid|serviceAccountName|mainEntrypoint|priority|duration|scheduledTime|status"
    r"|failures|creationTimestamp(\.[A-Za-z0-9]+)?|parameters(\.[^.]+)?|annotations(\.json|\.[^.]+)"
    r"|labels(\.json|\.[^.]+)|outputs\.(parameters|artifacts)\.[^.]+)$"
)


_IO = ("parameters", "artifacts")


@dataclass
class Scope:
    """What `{{...}}` may name at one place of the manifest."""

    workflow_parameters: frozenset[str]
    inputs: dict[str, frozenset[str]]  # "parameters"/"artifacts" -> names
    outputs: dict[str, frozenset[str]]
    tasks: dict[str, dict[str, frozenset[str]] | None] | None = None  # upstream task -> its outputs
    extra: frozenset[str] = frozenset()  # plain names allowed here (status, retries, pod.name, ...)
    outputs_as_path: bool = True  # in a container: outputs.parameters.X.path; in metrics: .X


def io_names(io: dict[str, Any] | None) -> dict[str, frozenset[str]]:
    """The parameter and artifact names of `inputs`, `outputs` or `arguments`."""
    return {kind: frozenset(item.get("name", "") for item in (io or {}).get(kind) or []) for kind in _IO}


def strings(value: Any, path: str) -> Iterator[tuple[str, str]]:
    if isinstance(value, str):
        yield path, value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from strings(item, f"{path}.{key}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            name = item.get("name") if isinstance(item, dict) else None  # a list item is named by its name
            label = name if isinstance(name, str) and "{{" not in name else index
            yield from strings(item, f"{path}[{label}]")


def check_variables(
    report: Report, value: Any, path: str, scope: Scope, template: str | None = None, task: str | None = None
) -> None:
    """V v4.1.2 l.797-846 (resolveAllVariables): every tag of a known prefix resolves where it is used."""
    for field_path, text in strings(value, path):
        for match in VARIABLE_TAG.finditer(text) if "{{" in text else ():
            # an expression tag (`{{=...}}`) is evaluated by Argo at run time, not checked here
            if not match.group(1).startswith("=") and (problem := resolve(match.group(1), scope)):
                report.error(field_path, f"{match.group(0)!r}: {problem}", template, task)


def resolve(variable: str, scope: Scope) -> str | None:
    """None when `variable` names something that exists in `scope`, else why not."""
    if variable in scope.extra:
        return None
    if variable.startswith("workflow."):
        if not _WORKFLOW_GLOBALS.match(variable):
            return "unknown workflow variable"
        name = variable.removeprefix("workflow.parameters.")
        if name not in {variable, "json"} and name not in scope.workflow_parameters:
            return f"no workflow parameter {name!r} in the workflow's arguments.parameters"
        return None
    parts = variable.split(".")
    if parts[0] in {"inputs", "outputs"} and len(parts) >= 3:
        io = scope.inputs if parts[0] == "inputs" else scope.outputs
        kind, name, rest = parts[1], parts[2], parts[3:]
        if kind not in _IO:
            return f"unknown {parts[0]} kind {kind!r}"
        if name not in io.get(kind, frozenset()):
            return f"this template declares no {parts[0][:-1]} {kind[:-1]} {name!r}"
        if kind == "artifacts" or (parts[0] == "outputs" and scope.outputs_as_path):
            return None if rest == ["path"] else f"expected {'.'.join(parts[:3])}.path"
        return None if not rest or rest == ["path"] else "unknown field after the parameter name"
    if parts[0] == "tasks" and scope.tasks is not None and len(parts) >= 3:
        return _resolve_task(parts, scope.tasks)
    return "unknown variable here"


_TASK_FIELDS = {"status", "exitCode", "id", "ip", "startedAt", "finishedAt", "hostNodeName"}
_TASK_FIELDS |= {"outputs.result", "outputs.parameters"}


def _resolve_task(parts: list[str], tasks: dict[str, dict[str, frozenset[str]] | None]) -> str | None:
    task = parts[1]
    if task not in tasks:
        return f"task {task!r} is not upstream of this task (add it to depends) or does not exist"
    rest = parts[2:]
    if ".".join(rest) in _TASK_FIELDS:
        return None
    if len(rest) == 3 and rest[0] == "outputs" and rest[1] in _IO:
        outputs = tasks[task]
        if outputs is None or rest[2] in outputs.get(rest[1], frozenset()):
            return None
        return f"task {task!r} has no output {rest[1][:-1]} {rest[2]!r}"
    return f"unknown field {'.'.join(rest)!r} of task {task!r}"

"""Contract checks of the DSM services' answers (docs: dsm-services.md).

Each check takes the decoded JSON and `source` (who answered, e.g. "sprint-service GET http://..."),
returns the answer when it has the documented shape, and raises `http.ServiceError` (exit 3) naming
the first wrong field otherwise. Extra fields are accepted: a service adding a field must not break
the job. A shape is a dict (an object with these fields, checked in order), a one-item list (an
array of such items) or a leaf: a function of the value that says what it must be, or None if it is.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from steps.http import ServiceError, excerpt

_PERCENT = re.compile(r"[0-9]{1,3}%")
Leaf = Callable[[Any], str | None]


def _leaf(expected: str, test: Callable[[Any], bool]) -> Leaf:
    """A leaf: None when `test(value)` holds, else what the value must be."""
    return lambda value: None if test(value) else expected


def _count(high: int | None = None) -> Leaf:
    # `type(...) is int`: a bool is an int in Python but not in JSON, and true is not a count.
    bounds = "at least 0" if high is None else f"between 0 and {high}"
    return _leaf(f"an integer {bounds}", lambda v: type(v) is int and v >= 0 and (high is None or v <= high))


_STRING = _leaf("a string", lambda v: isinstance(v, str))
_NULLABLE_STRING = _leaf("a string or null", lambda v: v is None or isinstance(v, str))
_PERCENTAGE = _leaf(
    "a percentage string like '20%'", lambda v: isinstance(v, str) and _PERCENT.fullmatch(v) is not None
)
_NONEMPTY = _leaf("a non-empty string", lambda v: isinstance(v, str) and v != "")


class _Wrong(Exception):
    """A field that does not fit its shape: args (where, what it must be or None if missing, value)."""


def _walk(value: Any, shape: Any, where: str) -> None:
    top = where == "the answer"
    if isinstance(shape, dict):
        if not isinstance(value, dict):
            raise _Wrong(where, "a JSON object", value)
        for key, field in shape.items():
            inner = key if top else f"{where}.{key}"
            if key not in value:
                raise _Wrong(inner, None, None)
            _walk(value[key], field, inner)
    elif isinstance(shape, list):
        if not isinstance(value, list):
            raise _Wrong(where, "a JSON array", value)
        for index, item in enumerate(value):
            _walk(item, shape[0], f"{'' if top else where}[{index}]")
    elif (expected := shape(value)) is not None:
        raise _Wrong(where, expected, value)


def _check(answer: Any, source: str, what: str, shape: Any) -> Any:
    try:
        _walk(answer, shape, "the answer")
    except _Wrong as wrong:
        where, expected, value = wrong.args
        problem = "is missing" if expected is None else f"must be {expected}, got {excerpt(repr(value), 80)}"
        raise ServiceError(f"{source}: the {what} has the wrong shape: {where} {problem}") from None
    return answer


SIMULATION = {
    "message": _STRING,
    "tasks_updated_count": _count(),
    "updates": [{"task_id": _STRING, "progress_made": _PERCENTAGE, "new_status": _PERCENTAGE}],
}
TASK = {"task_id": _STRING, "title": _STRING, "status": _STRING, "sprint_id": _STRING,
        "progress_percentage": _count(100), "assigned_to": _NULLABLE_STRING}
TASK_SUMMARY = {"total_tasks": _count(), "completed_tasks": _count(), "pending_tasks": _count()}
MEMBER = {"id": _STRING, "name": _STRING, "gender": _STRING, "state": _STRING, "age": _count()}


def simulation(answer: Any, source: str) -> dict[str, Any]:
    """POST /scrums/{sprint}/run: {message, tasks_updated_count, updates: [...]}."""
    return _check(answer, source, "simulation answer", SIMULATION)


def health(answer: Any, source: str) -> dict[str, Any]:
    """GET /health: {"status": "ok"}."""
    return _check(answer, source, "health answer", {"status": _leaf("'ok'", lambda v: v == "ok")})


def active_sprint(answer: Any, source: str) -> str:
    """GET /sprints/active/{project}: {"sprint_id": str}; returns the sprint ID."""
    return _check(answer, source, "active sprint answer", {"sprint_id": _STRING})["sprint_id"]


def tasks(answer: Any, source: str) -> list[dict[str, Any]]:
    """GET /sprints/{sprint}/tasks: a list of task objects."""
    return _check(answer, source, "task list", [TASK])


def task_summary(answer: Any, source: str) -> dict[str, Any]:
    """GET /sprints/{sprint}/task-summary: {total_tasks, completed_tasks, pending_tasks} (counts)."""
    return _check(answer, source, "task summary", TASK_SUMMARY)


def team(answer: Any, source: str, project_id: str) -> dict[str, Any]:
    """GET /projects/{project}/team-members: {project_id (the one asked for), team_members: [...]}."""
    requested = _leaf(f"the requested project {project_id!r}", lambda v: v == project_id)
    return _check(answer, source, "team answer", {"project_id": requested, "team_members": [MEMBER]})


def stored_note(answer: Any, source: str) -> str:
    """POST /v1/notes/daily_scrum_report (201): {message, note_id}; returns the note ID."""
    return _check(answer, source, "chronicle answer", {"note_id": _NONEMPTY})["note_id"]


def reported_notes(answer: Any, source: str) -> dict[str, Any]:
    """GET /v1/notes/daily_scrum_report (200): one merged object with a `reports` object."""
    return _check(answer, source, "chronicle answer", {"reports": {}})

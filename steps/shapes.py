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
from typing import Any, NamedTuple

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


class Shape(NamedTuple):
    """The check of one answer: `shape(answer, source)` is the answer (or its `field`), or ServiceError."""

    what: str
    shape: Any
    field: str | None = None

    def __call__(self, answer: Any, source: str) -> Any:
        try:
            _walk(answer, self.shape, "the answer")
        except _Wrong as wrong:
            where, expected, value = wrong.args
            problem = f"must be {expected}, got {excerpt(repr(value), 80)}" if expected else "is missing"
            raise ServiceError(f"{source}: the {self.what} has the wrong shape: {where} {problem}") from None
        return answer if self.field is None else answer[self.field]


_TASK = {"task_id": _STRING, "title": _STRING, "status": _STRING, "sprint_id": _STRING,
         "progress_percentage": _count(100), "assigned_to": _NULLABLE_STRING}
_MEMBER = {"id": _STRING, "name": _STRING, "gender": _STRING, "state": _STRING, "age": _count()}
_UPDATE = {"task_id": _STRING, "progress_made": _PERCENTAGE, "new_status": _PERCENTAGE}
_COUNTS = {"total_tasks": _count(), "completed_tasks": _count(), "pending_tasks": _count()}

# The documented answers, by the call that gets them:
simulation = Shape(  # POST /scrums/{sprint}/run
    "simulation answer", {"message": _STRING, "tasks_updated_count": _count(), "updates": [_UPDATE]}
)
health = Shape("health answer", {"status": _leaf("'ok'", lambda v: v == "ok")})  # GET /health
# GET /sprints/active/{project}: gives the sprint ID
active_sprint = Shape("active sprint answer", {"sprint_id": _STRING}, field="sprint_id")
tasks = Shape("task list", [_TASK])  # GET /sprints/{sprint}/tasks
task_summary = Shape("task summary", _COUNTS)  # GET /sprints/{sprint}/task-summary
# POST /v1/notes/daily_scrum_report (201): gives the note ID
stored_note = Shape("chronicle answer", {"note_id": _NONEMPTY}, field="note_id")
# GET /v1/notes/daily_scrum_report (200): one merged object with a `reports` object
reported_notes = Shape("chronicle answer", {"reports": {}})


def team(project_id: str) -> Shape:
    """GET /projects/{project}/team-members: {project_id (the one asked for), team_members: [...]}."""
    requested = _leaf(f"the requested project {project_id!r}", lambda v: v == project_id)
    return Shape("team answer", {"project_id": requested, "team_members": [_MEMBER]})

"""Contract checks of the DSM services' answers (docs: dsm-services.md).

Each check takes the decoded JSON and `source` (who answered, for the message, e.g.
"sprint-service GET http://.../sprints/S/tasks"), returns the answer unchanged when it has the
documented shape, and raises `http.ServiceError` (exit 3) naming the first wrong field otherwise.
Extra fields are accepted: a service adding a field must not break the job.
"""

from __future__ import annotations

import re
from typing import Any

from steps.http import ServiceError, excerpt

_PERCENT = re.compile(r"[0-9]{1,3}%")


class _Shape:
    """Collects the path of the field being checked so a message can name it (updates[3].task_id)."""

    def __init__(self, source: str, what: str) -> None:
        self.source = source
        self.what = what

    def fail(self, where: str, expected: str, value: Any) -> ServiceError:
        shown = excerpt(repr(value), 80)
        return ServiceError(
            f"{self.source}: the {self.what} has the wrong shape: {where} must be {expected}, got {shown}"
        )

    def obj(self, value: Any, where: str) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise self.fail(where, "a JSON object", value)
        return value

    def array(self, value: Any, where: str) -> list[Any]:
        if not isinstance(value, list):
            raise self.fail(where, "a JSON array", value)
        return value

    def field(self, parent: dict[str, Any], key: str, where: str) -> Any:
        if key not in parent:
            raise ServiceError(f"{self.source}: the {self.what} has the wrong shape: {where} is missing")
        return parent[key]

    def string(self, parent: dict[str, Any], key: str, where: str, *, nullable: bool = False) -> str | None:
        value = self.field(parent, key, where)
        if value is None and nullable:
            return None
        if not isinstance(value, str):
            raise self.fail(where, "a string" + (" or null" if nullable else ""), value)
        return value

    def integer(
        self, parent: dict[str, Any], key: str, where: str, low: int = 0, high: int | None = None
    ) -> int:
        value = self.field(parent, key, where)
        # bool is an int in Python but not in JSON: true is not a count.
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.fail(where, "an integer", value)
        if value < low or (high is not None and value > high):
            bounds = f"between {low} and {high}" if high is not None else f"at least {low}"
            raise self.fail(where, f"an integer {bounds}", value)
        return value

    def percent(self, parent: dict[str, Any], key: str, where: str) -> str:
        value = self.string(parent, key, where)
        if value is None or not _PERCENT.fullmatch(value):
            raise self.fail(where, "a percentage string like '20%'", value)
        return value


def simulation(answer: Any, source: str) -> dict[str, Any]:
    """POST /scrums/{sprint}/run: {message, tasks_updated_count, updates: [{task_id, progress_made,
    new_status}]}."""
    shape = _Shape(source, "simulation answer")
    top = shape.obj(answer, "the answer")
    shape.string(top, "message", "message")
    shape.integer(top, "tasks_updated_count", "tasks_updated_count")
    for index, update in enumerate(shape.array(shape.field(top, "updates", "updates"), "updates")):
        where = f"updates[{index}]"
        item = shape.obj(update, where)
        shape.string(item, "task_id", f"{where}.task_id")
        shape.percent(item, "progress_made", f"{where}.progress_made")
        shape.percent(item, "new_status", f"{where}.new_status")
    return top


def health(answer: Any, source: str) -> dict[str, Any]:
    """GET /health: {"status": "ok"}."""
    shape = _Shape(source, "health answer")
    top = shape.obj(answer, "the answer")
    status = shape.string(top, "status", "status")
    if status != "ok":
        raise shape.fail("status", "'ok'", status)
    return top


def active_sprint(answer: Any, source: str) -> str:
    """GET /sprints/active/{project}: {"sprint_id": str}; returns the sprint ID."""
    shape = _Shape(source, "active sprint answer")
    sprint_id = shape.string(shape.obj(answer, "the answer"), "sprint_id", "sprint_id")
    assert sprint_id is not None
    return sprint_id


def tasks(answer: Any, source: str) -> list[dict[str, Any]]:
    """GET /sprints/{sprint}/tasks: a list of task objects."""
    shape = _Shape(source, "task list")
    items = shape.array(answer, "the answer")
    for index, task in enumerate(items):
        where = f"[{index}]"
        item = shape.obj(task, where)
        shape.string(item, "task_id", f"{where}.task_id")
        shape.string(item, "title", f"{where}.title")
        shape.string(item, "status", f"{where}.status")
        shape.string(item, "sprint_id", f"{where}.sprint_id")
        shape.integer(item, "progress_percentage", f"{where}.progress_percentage", 0, 100)
        shape.string(item, "assigned_to", f"{where}.assigned_to", nullable=True)
    return items


def task_summary(answer: Any, source: str) -> dict[str, Any]:
    """GET /sprints/{sprint}/task-summary: {total_tasks, completed_tasks, pending_tasks} (counts)."""
    shape = _Shape(source, "task summary")
    top = shape.obj(answer, "the answer")
    for key in ("total_tasks", "completed_tasks", "pending_tasks"):
        shape.integer(top, key, key)
    return top


def team(answer: Any, source: str, project_id: str) -> dict[str, Any]:
    """GET /projects/{project}/team-members: {project_id, team_members: [{id, name, gender, state, age}]}."""
    shape = _Shape(source, "team answer")
    top = shape.obj(answer, "the answer")
    answered_for = shape.string(top, "project_id", "project_id")
    if answered_for != project_id:
        raise shape.fail("project_id", f"the requested project {project_id!r}", answered_for)
    members = shape.array(shape.field(top, "team_members", "team_members"), "team_members")
    for index, member in enumerate(members):
        where = f"team_members[{index}]"
        item = shape.obj(member, where)
        for key in ("id", "name", "gender", "state"):
            shape.string(item, key, f"{where}.{key}")
        shape.integer(item, "age", f"{where}.age")
    return top


def stored_note(answer: Any, source: str) -> str:
    """POST /v1/notes/daily_scrum_report (201): {message, note_id}; returns the note ID."""
    shape = _Shape(source, "chronicle answer")
    top = shape.obj(answer, "the answer")
    note_id = shape.string(top, "note_id", "note_id")
    if not note_id:
        raise shape.fail("note_id", "a non-empty string", note_id)
    return note_id


def reported_notes(answer: Any, source: str) -> dict[str, Any]:
    """GET /v1/notes/daily_scrum_report (200): one merged object with a `reports` object."""
    shape = _Shape(source, "chronicle answer")
    top = shape.obj(answer, "the answer")
    shape.obj(shape.field(top, "reports", "reports"), "reports")
    return top

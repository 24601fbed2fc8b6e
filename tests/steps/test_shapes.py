"""steps.shapes: documented answers pass, each kind of wrong field is named."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from steps import shapes
from steps.http import ServiceError

SIMULATION = {
    "message": "Daily scrum simulation completed for sprint GEM-001-S01",
    "tasks_updated_count": 1,
    "updates": [{"task_id": "GEM-001-TASK001", "progress_made": "20%", "new_status": "100%"}],
}
TASK = {"task_id": "T1", "title": "t", "status": "in_progress", "sprint_id": "S", "progress_percentage": 40,
        "assigned_to": None}
TEAM = {"project_id": "GEM-001",
        "team_members": [{"id": "m1", "name": "A", "gender": "f", "state": "CA", "age": 30}]}


def test_documented_answers_pass() -> None:
    assert shapes.simulation(copy.deepcopy(SIMULATION), "src") == SIMULATION
    assert shapes.simulation({"message": "No tasks found for sprint.", "tasks_updated_count": 0,
                              "updates": []}, "src")["updates"] == []
    assert shapes.tasks([TASK, {**TASK, "assigned_to": "alice", "extra": 1}], "src")
    assert shapes.tasks([], "src") == []
    assert shapes.task_summary({"total_tasks": 10, "completed_tasks": 3, "pending_tasks": 7}, "src")
    assert shapes.team("GEM-001")(TEAM, "src") == TEAM
    assert shapes.active_sprint({"sprint_id": "GEM-001-S01"}, "src") == "GEM-001-S01"
    assert shapes.stored_note({"message": "ok", "note_id": "abc"}, "src") == "abc"
    assert shapes.reported_notes({"reports": {}}, "src")
    assert shapes.health({"status": "ok", "version": "1"}, "src") == {"status": "ok", "version": "1"}


@pytest.mark.parametrize("answer", [{"status": "degraded"}, {}, {"status": None}, ["ok"], "ok"])
def test_health_must_say_ok(answer: Any) -> None:
    with pytest.raises(ServiceError, match="src: the health answer has the wrong shape"):
        shapes.health(answer, "src")


def _with(base: Any, path: tuple[Any, ...], value: Any) -> Any:
    changed = copy.deepcopy(base)
    target = changed
    for key in path[:-1]:
        target = target[key]
    if value is KeyError:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    return changed


@pytest.mark.parametrize(
    ("answer", "named"),
    [
        ([], "the answer"),
        (_with(SIMULATION, ("message",), KeyError), "message is missing"),
        (_with(SIMULATION, ("tasks_updated_count",), "1"), "tasks_updated_count"),
        (_with(SIMULATION, ("tasks_updated_count",), True), "tasks_updated_count"),
        (_with(SIMULATION, ("updates",), {}), "updates"),
        (_with(SIMULATION, ("updates", 0, "progress_made"), 20), "updates[0].progress_made"),
        (_with(SIMULATION, ("updates", 0, "new_status"), "completed"), "updates[0].new_status"),
        (_with(SIMULATION, ("updates", 0, "task_id"), None), "updates[0].task_id"),
    ],
)
def test_simulation_wrong_shape(answer: Any, named: str) -> None:
    with pytest.raises(ServiceError, match="daily-scrum-service POST x") as caught:
        shapes.simulation(answer, "daily-scrum-service POST x")
    assert named in str(caught.value)


@pytest.mark.parametrize(
    ("answer", "named"),
    [
        ({"tasks": []}, "the answer"),
        ([TASK, "x"], "[1]"),
        ([_with(TASK, ("progress_percentage",), 101)], "[0].progress_percentage"),
        ([_with(TASK, ("progress_percentage",), "40")], "[0].progress_percentage"),
        ([_with(TASK, ("assigned_to",), 3)], "[0].assigned_to"),
        ([_with(TASK, ("status",), KeyError)], "[0].status is missing"),
    ],
)
def test_tasks_wrong_shape(answer: Any, named: str) -> None:
    with pytest.raises(ServiceError) as caught:
        shapes.tasks(answer, "src")
    assert named in str(caught.value)


def test_summary_team_and_notes_wrong_shape() -> None:
    with pytest.raises(ServiceError, match="pending_tasks"):
        shapes.task_summary({"total_tasks": 1, "completed_tasks": 1}, "src")
    with pytest.raises(ServiceError, match="completed_tasks"):
        shapes.task_summary({"total_tasks": 1, "completed_tasks": -1, "pending_tasks": 0}, "src")
    with pytest.raises(ServiceError, match="project_id"):
        shapes.team("OTHER")(TEAM, "src")
    with pytest.raises(ServiceError, match=r"team_members\[0\].age"):
        shapes.team("GEM-001")(_with(TEAM, ("team_members", 0, "age"), "30"), "src")
    with pytest.raises(ServiceError, match="note_id"):
        shapes.stored_note({"message": "ok", "note_id": ""}, "src")
    with pytest.raises(ServiceError, match="reports"):
        shapes.reported_notes({"detail": "x"}, "src")
    with pytest.raises(ServiceError, match="sprint_id"):
        shapes.active_sprint({"sprint": "x"}, "src")

"""steps.note: the chronicle note built from the four artifacts (pure, no service)."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from steps import note
from steps.note import ArtifactError

DATE = "2025-08-30"
RUN_AT = "2025-08-30T14:00:00.000001+00:00"


def task(task_id: str, status: str, progress: int, assignee: str | None, title: str = "") -> dict[str, Any]:
    return {
        "task_id": task_id,
        "title": title or f"Title of {task_id}",
        "status": status,
        "sprint_id": "S1",
        "progress_percentage": progress,
        "assigned_to": assignee,
    }


def update(task_id: str, made: int, new: int, at: str = RUN_AT) -> dict[str, Any]:
    return {"task_id": task_id, "progress_made": f"{made}%", "new_status": f"{new}%", "recorded_at": at}


TEAM = {
    "project_id": "P1",
    "team_members": [
        {"id": "bob", "name": "Bob <Builder>", "gender": "male", "state": "Texas", "age": 29},
        {"id": "alice", "name": "Alice", "gender": "female", "state": "Ohio", "age": 34},
        {"id": "idle", "name": "Idle", "gender": "female", "state": "Ohio", "age": 30},
    ],
}
TASKS = [
    task("T3", "in_progress", 60, "bob"),  # moved 40 -> 60
    task("T1", "completed", 100, "alice"),  # skipped by the simulation
    task("T2", "in_progress", 100, "alice"),  # moved 75 -> 100, status still in_progress
    task("T4", "assigned_to_sprint", 0, None),  # not moved, unassigned
    task("T5", "in_progress", 30, "zed"),  # moved, assignee not in the team
    task("T6", "in_progress", 100, "bob"),  # already at 100, the simulation added 0
]
SIMULATION = {
    "message": "Daily scrum simulation completed for sprint S1",
    "tasks_updated_count": 4,
    "recorded_at": RUN_AT,
    "updates": [
        update("T3", 20, 60, "2025-08-30T14:00:01+00:00"),
        update("T2", 25, 100, "2025-08-30T14:00:02+00:00"),
        update("T5", 5, 30, "2025-08-30T14:00:03+00:00"),
        update("T6", 0, 100, "2025-08-30T14:00:04+00:00"),
        update("GONE", 10, 10),  # an update for a task that is no longer in the sprint: ignored
    ],
}
SUMMARY = {"total_tasks": 6, "completed_tasks": 3, "pending_tasks": 3}


def build(**overrides: Any) -> note.ScrumDay:
    args: dict[str, Any] = {
        "simulation": SIMULATION,
        "tasks": TASKS,
        "summary": SUMMARY,
        "team": TEAM,
    }
    args.update(overrides)
    return note.build(
        copy.deepcopy(args["simulation"]),
        copy.deepcopy(args["tasks"]),
        copy.deepcopy(args["summary"]),
        copy.deepcopy(args["team"]),
        project_id="P1",
        sprint_id="S1",
        report_date=DATE,
    )


def tasks_by_id(built: note.ScrumDay) -> dict[str, dict[str, Any]]:
    return {t["id"]: t for entry in built.note["reports"][DATE] for t in entry["tasks"]}


def test_note_has_the_contract_fields_and_metrics() -> None:
    n = build().note
    assert list(n) == [
        "project_id", "sprint_id", "report_date", "summary", "summary_metrics", "reports",
        "orchestration_decision_details",
    ]
    assert (n["project_id"], n["sprint_id"], n["report_date"]) == ("P1", "S1", DATE)
    assert n["summary_metrics"] == {
        "total_team_members": 3, "total_tasks": 6, "completed_tasks": 3, "pending_tasks": 3,
    }
    assert list(n["reports"]) == [DATE]
    assert n["orchestration_decision_details"] == {
        "workflow": "run-dailyscrum",
        "tasks_updated": 4,
        "simulation_message": "Daily scrum simulation completed for sprint S1",
    }
    assert n["summary"] == (
        "Daily stand-up for sprint S1. 3 tasks progressed. 3 of 6 tasks completed, 3 pending."
    )


def test_one_entry_per_assignee_sorted_with_unassigned_last_and_every_task_present() -> None:
    entries = build().note["reports"][DATE]
    assert [e["assigned_to"] for e in entries] == ["alice", "bob", "zed", "unassigned"]
    assert [[t["id"] for t in e["tasks"]] for e in entries] == [["T1", "T2"], ["T3", "T6"], ["T5"], ["T4"]]
    for entry in entries:
        assert list(entry) == ["assigned_to", "tasks"]
        for t in entry["tasks"]:
            assert list(t) == ["id", "yesterday_work", "today_work", "impediments", "created_at"]
            assert all(isinstance(v, str) and v for v in t.values())


def test_work_is_written_from_the_real_progress() -> None:
    tasks = tasks_by_id(build())
    assert tasks["T3"]["yesterday_work"] == "Was at 40% (in progress)."
    assert tasks["T3"]["today_work"] == "Moved from 40% to 60% (+20 points)."
    assert tasks["T3"]["impediments"] == "None."
    # Reaching 100 is capped: the service reports the points drawn, so 75 is a lower bound.
    assert tasks["T2"]["yesterday_work"] == "Was at 75% or more (in progress)."
    assert tasks["T2"]["today_work"] == (
        "Completed: reached 100% (the simulation drew +25 points, capped at 100)."
    )
    assert tasks["T1"]["yesterday_work"] == "Was at 100% (completed)."
    assert tasks["T1"]["impediments"] == "None."
    assert tasks["T4"]["yesterday_work"] == "Was at 0% (assigned to sprint)."
    assert tasks["T4"]["today_work"] == "No progress recorded today."


def test_impediments() -> None:
    tasks = tasks_by_id(build())
    assert tasks["T2"]["impediments"] == "At 100% but status is still in_progress: close the task."
    assert tasks["T6"]["impediments"] == "At 100% but status is still in_progress: close the task."
    assert tasks["T5"]["impediments"] == "Assignee zed is not a member of the project team."
    assert tasks["T4"]["impediments"] == (
        "No progress today while the task is still open. No one is assigned to this task."
    )
    listed = build().impediments
    assert sorted(listed["id"]) == ["T2", "T4", "T5", "T6"]


def test_created_at_is_the_update_time_else_the_run_time_never_the_report_date() -> None:
    tasks = tasks_by_id(build())
    assert tasks["T3"]["created_at"] == "2025-08-30T14:00:01+00:00"
    assert tasks["T5"]["created_at"] == "2025-08-30T14:00:03+00:00"
    assert tasks["T1"]["created_at"] == RUN_AT  # completed: no update
    assert tasks["T4"]["created_at"] == RUN_AT
    assert all(t["created_at"] != DATE for t in tasks.values())


def test_missing_run_time_is_refused_when_a_task_needs_it() -> None:
    simulation = {k: v for k, v in SIMULATION.items() if k != "recorded_at"}
    with pytest.raises(ArtifactError, match="recorded_at"):
        build(simulation=simulation)
    # Every task has its own update: the run time is not needed.
    only_updated = [t for t in TASKS if t["task_id"] in {"T3", "T2", "T5", "T6"}]
    assert len(tasks_by_id(build(simulation=simulation, tasks=only_updated))) == 4


def test_defect_no_task_moved_while_tasks_are_open_is_loud() -> None:
    simulation = {**SIMULATION, "tasks_updated_count": 0, "updates": []}
    built = build(simulation=simulation)
    assert built.warning == "WARNING: the simulation moved no task although 5 tasks are open."
    assert built.note["summary"].startswith("WARNING: the simulation moved no task although 5 tasks are open")
    assert "0 tasks progressed" in built.note["summary"]
    tasks = tasks_by_id(built)
    assert tasks["T3"]["today_work"] == "No progress recorded today."
    assert tasks["T3"]["yesterday_work"] == "Was at 60% (in progress)."
    assert tasks["T3"]["impediments"] == "No progress today while the task is still open."
    assert all(t["created_at"] == RUN_AT for t in tasks.values())


def test_no_warning_when_every_task_is_completed() -> None:
    done = [task("T1", "completed", 100, "alice")]
    simulation = {**SIMULATION, "tasks_updated_count": 0, "updates": []}
    built = build(simulation=simulation, tasks=done)
    assert built.warning is None
    assert not built.note["summary"].startswith("WARNING")


def test_empty_sprint() -> None:
    simulation = {"message": "No tasks found for sprint.", "tasks_updated_count": 0, "updates": [],
                  "recorded_at": RUN_AT}
    built = build(simulation=simulation, tasks=[], summary={"total_tasks": 0, "completed_tasks": 0,
                                                             "pending_tasks": 0})
    assert built.note["reports"] == {DATE: []}
    assert built.note["summary"] == "No tasks in sprint S1."
    assert built.warning is None
    assert built.note["summary_metrics"]["total_team_members"] == 3
    assert note.fingerprint(built.note) == set()


def test_one_task_wording_is_singular() -> None:
    simulation = {**SIMULATION, "tasks_updated_count": 0, "updates": []}
    built = build(simulation=simulation, tasks=[task("T3", "in_progress", 60, "bob")])
    assert built.warning == "WARNING: the simulation moved no task although 1 task is open."


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"tasks": {"not": "a list"}}, "tasks: expected a JSON list"),
        ({"tasks": [{"task_id": "T1"}]}, "tasks: entries lack the field"),
        ({"tasks": [task("T1", "completed", 100, "a") | {"progress_percentage": "lots"}]}, "percentage"),
        ({"tasks": [task("T1", "completed", 100, "a") | {"status": 3}]}, "'status' must be a string"),
        ({"tasks": [task("T1", "completed", 100, "a") | {"progress_percentage": True}]}, "percentage"),
        ({"tasks": [task("T1", "completed", 101, "a")]}, "between 0 and 100"),
        ({"summary": {"total_tasks": "6"}}, "summary: 'total_tasks'"),
        ({"team": {"team_members": [{"id": 3}]}}, "team: 'id' must be a string"),
        ({"team": {"team_members": None}}, "team: expected a JSON list"),
        ({"simulation": {**SIMULATION, "updates": [{"task_id": "T3", "progress_made": "x%",
                                                     "new_status": "50%"}]}}, "progress_made"),
        ({"simulation": [1]}, "simulation: expected a JSON object"),
    ],
)
def test_malformed_artifacts_are_refused(overrides: dict[str, Any], message: str) -> None:
    with pytest.raises(ArtifactError, match=message):
        build(**overrides)


def test_optional_fields_may_be_missing() -> None:
    untitled = [{k: v for k, v in t.items() if k != "title"} for t in TASKS]
    simulation = {**SIMULATION, "updates": [{k: v for k, v in u.items() if k != "recorded_at"}
                                            for u in SIMULATION["updates"]]}
    built = build(tasks=untitled, simulation=simulation, team={"team_members": [{"id": "bob"}]})
    assert set(built.tasks["title"]) == {""}
    assert {t["created_at"] for t in tasks_by_id(built).values()} == {RUN_AT}
    assert built.team_names == {"bob": ""}


def test_fingerprint_recognises_this_runs_note_in_the_merged_answer() -> None:
    built = build().note
    merged = {
        "project_id": "P1",
        "sprint_id": "S1",
        "reports": {
            DATE: [
                {"employee_id": "x", "tasks": [{"id": "T3", "created_at": "2025-08-29T14:00:01+00:00"}]},
                # The chronicle may write the instant differently: Z instead of +00:00.
                {"employee_id": "bob", "tasks": [{"id": "T3", "created_at": "2025-08-30T14:00:01Z"}]},
            ]
        },
    }
    assert note.stored_by_this_run(merged, built)
    merged["reports"][DATE].pop()
    assert not note.stored_by_this_run(merged, built)  # another run's note for the day
    assert not note.stored_by_this_run({"reports": {}}, built)
    assert not note.stored_by_this_run({"reports": {DATE: "garbage"}}, built)


def test_scales_to_many_tasks_without_changing_the_wording() -> None:
    # The wording is computed once per distinct fact combination: check it is spread back right.
    many = [task(f"T{i:05d}", "in_progress", 10 + i % 80, f"m{i % 7}") for i in range(3000)]
    updates = [update(f"T{i:05d}", i % 10, 10 + i % 80) for i in range(3000)]
    team = {"project_id": "P1", "team_members": [{"id": f"m{i}", "name": f"M{i}"} for i in range(7)]}
    built = build(tasks=many, simulation={**SIMULATION, "updates": updates}, team=team)
    tasks = tasks_by_id(built)
    for i in (0, 1, 17, 2999):
        made, now = i % 10, 10 + i % 80
        expected = (
            f"Moved from {now - made}% to {now}% (+{made} points)." if made else "No progress recorded today."
        )
        assert tasks[f"T{i:05d}"]["today_work"] == expected
        assert tasks[f"T{i:05d}"]["yesterday_work"] == f"Was at {now - made}% (in progress)."
    assert [e["assigned_to"] for e in built.note["reports"][DATE]] == [f"m{i}" for i in range(7)]

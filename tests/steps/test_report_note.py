"""steps.note: the chronicle note built from the artifacts (pure, no service)."""

from __future__ import annotations

from typing import Any

import msgspec
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


TEAM = {
    "project_id": "P1",
    "team_members": [
        {"id": "bob", "name": "Bob <Builder>", "gender": "male", "state": "Texas", "age": 29},
        {"id": "alice", "name": "Alice", "gender": "female", "state": "Ohio", "age": 34},
        {"id": "idle", "name": "Idle", "gender": "female", "state": "Ohio", "age": 30},
    ],
}
SNAPSHOT = [  # the tasks right before the simulation
    task("T1", "completed", 100, "alice"),
    task("T2", "in_progress", 100, "alice"),  # already at 100 before the run, not closed
    task("T3", "in_progress", 40, "bob"),
    task("T4", "assigned_to_sprint", 0, None),
    task("T5", "in_progress", 25, "zed"),  # zed is not in the team
    task("T6", "in_progress", 85, "bob"),
]
TASKS = [  # the tasks after it
    task("T3", "in_progress", 60, "bob"),  # +20
    task("T1", "completed", 100, "alice"),  # closed: skipped
    task("T2", "in_progress", 100, "alice"),  # the service "drew +22" but it could not move
    task("T4", "assigned_to_sprint", 0, None),  # not moved
    task("T5", "in_progress", 30, "zed"),  # +5
    task("T6", "in_progress", 100, "bob"),  # +15, reaches 100
    task("T7", "assigned_to_sprint", 0, "alice"),  # added while the run went on
]
SIMULATION = {  # what the service said: never used to compute a change
    "message": "Daily scrum simulation completed for sprint S1",
    "tasks_updated_count": 5,
    "recorded_at": RUN_AT,
    "updates": [
        {"task_id": t, "progress_made": f"{m}%", "new_status": f"{n}%", "recorded_at": RUN_AT}
        for t, m, n in (("T2", 22, 100), ("T3", 20, 60), ("T4", 0, 0), ("T5", 5, 30), ("T6", 30, 100))
    ],
}
SUMMARY = {"total_tasks": 7, "completed_tasks": 3, "pending_tasks": 4}


def build(**overrides: Any) -> note.ScrumDay:
    args = {"snapshot": SNAPSHOT, "simulation": SIMULATION, "tasks": TASKS, "summary": SUMMARY, "team": TEAM}
    args.update(overrides)
    day = note.build(
        *(note.convert(k, args[k]) for k in ("snapshot", "simulation", "tasks", "summary", "team")),
        project_id="P1",
        sprint_id="S1",
        report_date=DATE,
    )
    return day._replace(note=msgspec.to_builtins(day.note))  # the note as JSON decodes it


def tasks_by_id(built: note.ScrumDay) -> dict[str, dict[str, Any]]:
    return {t["id"]: t for entry in built.note["reports"][DATE] for t in entry["tasks"]}


def test_note_fields_and_one_definition_of_done_that_adds_up() -> None:
    built = build()
    n = built.note
    assert list(n) == [
        "project_id", "sprint_id", "report_date", "summary", "summary_metrics", "reports",
        "orchestration_decision_details",
    ]
    assert n["summary_metrics"] == {
        "total_team_members": 3, "total_tasks": 7, "completed_tasks": 3, "pending_tasks": 4,
    }
    assert built.totals == note.Totals(
        tasks=7, done=3, open=4, unclosed=2, moved=3, points=40.0, remaining=310.0
    )
    assert int(built.tasks["stalled"].sum()) == 1
    assert int((built.tasks["unassigned"] & ~built.tasks["done"]).sum()) == 1
    assert n["summary"] == (
        "Daily stand-up for sprint S1: 3 of 7 tasks moved today (+40 points). Done (at 100%): 3, "
        "not done: 4. Remaining work: 310 points. At 100% but not closed: 2."
    )
    assert n["orchestration_decision_details"]["done_definition"] == note.DONE_DEFINITION
    assert built.mismatch is None and built.warning is None


def test_exact_changes_from_the_snapshot_never_from_the_simulations_answer() -> None:
    tasks = tasks_by_id(build())
    assert tasks["T3"]["yesterday_work"] == "Was at 40% (in progress)."
    assert tasks["T3"]["today_work"] == "Moved from 40% to 60% (+20 points)."
    assert tasks["T6"]["today_work"] == "Moved from 85% to 100% (+15 points): done."  # the service said +30
    # At 100 % before the run: the service's "+22 -> 100%" is not progress.
    assert tasks["T2"]["yesterday_work"] == "Was at 100% (in progress)."
    assert tasks["T2"]["today_work"] == "Not moved by today's simulation: still at 100%."
    assert tasks["T1"]["today_work"] == "Closed; not moved by the simulation (at 100%)."
    assert tasks["T4"]["yesterday_work"] == "Was at 0% (not started)."
    assert tasks["T4"]["today_work"] == "Not moved by today's simulation: still at 0%."
    assert tasks["T7"]["yesterday_work"] == "Not in the sprint before today's simulation."
    assert tasks["T7"]["today_work"] == "Added to the sprint today, at 0%."
    assert all(t["created_at"] == RUN_AT for t in tasks.values())
    frame = build().tasks.set_index("id")
    assert (frame.loc["T2", "made"], frame.loc["T3", "made"]) == (0, 20)
    assert frame.loc["T2", "status"] == "in progress" and frame.loc["T1", "status"] == "closed"


def test_entries_per_assignee_unassigned_last_and_impediments() -> None:
    built = build()
    entries = built.note["reports"][DATE]
    assert [e["assigned_to"] for e in entries] == ["alice", "bob", "zed", "unassigned"]
    ids = [[t["id"] for t in e["tasks"]] for e in entries]
    assert ids == [["T1", "T2", "T7"], ["T3", "T6"], ["T5"], ["T4"]]
    tasks = tasks_by_id(built)
    assert tasks["T2"]["impediments"] == "At 100% but not closed: close the task."
    assert tasks["T4"]["impediments"] == (
        "No progress today while the task is not done. No one is assigned to this task."
    )
    assert tasks["T5"]["impediments"] == "Assignee zed is not a member of the project team."
    assert tasks["T3"]["impediments"] == tasks["T7"]["impediments"] == "None."
    members = built.members.set_index("assignee")
    assert members.loc["alice"].tolist() == ["Alice", 3, 2, 1, 100.0, 0, 0.0]
    assert members["tasks"].sum() == 7 and (members["done"] + members["open"] == members["tasks"]).all()


def test_tasks_are_ordered_as_python_sorts_their_ids() -> None:
    ids = ["b", "a\x00", "a", "\u00e9", "B", "a\x00b", "Z9", "10", "9"]  # a NUL, non-ASCII, digits
    shuffled = [task(i, "in_progress", 10, "bob") for i in ids]
    entries = build(snapshot=shuffled, tasks=shuffled[::-1]).note["reports"][DATE]
    assert [t["id"] for t in entries[0]["tasks"]] == sorted(ids)


def test_a_task_listed_twice_counts_once_by_its_last_entry() -> None:
    twice = [task("T1", "in_progress", 10, "bob"), task("T1", "in_progress", 30, "bob")]
    after = [task("T1", "in_progress", 50, "bob"), task("T1", "in_progress", 70, "bob")]
    # The snapshot lists T1 twice too, or once among other tasks (each task found by its id).
    for snapshot in (twice, [task("T0", "in_progress", 0, "bob"), twice[1]]):
        built = build(snapshot=snapshot, tasks=after)
        tasks = tasks_by_id(built)
        assert list(tasks) == ["T1"] and built.totals.tasks == 1
        assert tasks["T1"]["today_work"] == "Moved from 30% to 70% (+40 points)."


def test_defect_no_task_moved_while_tasks_are_open_is_loud() -> None:
    built = build(tasks=SNAPSHOT, simulation={**SIMULATION, "tasks_updated_count": 0, "updates": []})
    assert built.warning == "WARNING: the simulation moved no task although 4 tasks are open."
    assert built.note["summary"].startswith(f"{built.warning} Daily stand-up for sprint S1: 0 of 6 tasks")
    one = [task("T3", "in_progress", 60, "bob")]
    assert build(snapshot=one, tasks=one).warning == (
        "WARNING: the simulation moved no task although 1 task is open."
    )
    closed = [task("T1", "completed", 100, "alice")]
    assert build(snapshot=closed, tasks=closed).warning is None


def test_a_summary_read_apart_from_the_tasks_is_flagged_not_mixed_in() -> None:
    built = build(summary={"total_tasks": 7, "completed_tasks": 2, "pending_tasks": 5})
    assert built.note["summary_metrics"]["completed_tasks"] == 3
    assert built.mismatch and "2 of 7" in built.mismatch and "3 of 7" in built.mismatch


def test_empty_sprint() -> None:
    simulation = {"message": "No tasks found for sprint.", "tasks_updated_count": 0, "updates": [],
                  "recorded_at": RUN_AT}  # fmt: skip
    empty = {"total_tasks": 0, "completed_tasks": 0}
    built = build(snapshot=[], simulation=simulation, tasks=[], summary=empty)
    assert built.note["reports"] == {DATE: []}
    assert built.note["summary"] == "No tasks in sprint S1."
    assert built.warning is None and built.totals.tasks == 0 and built.members.empty


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"tasks": {"not": "a list"}}, "tasks: Expected `array`, got `object`"),
        ({"tasks": [{"task_id": "T1"}]}, r"tasks: Object missing required field `status` - at `\$\[0\]`"),
        ({"tasks": [task("T1", "completed", 100, "a") | {"progress_percentage": "lots"}]}, "got `str`"),
        ({"tasks": [task("T1", "completed", 100, "a") | {"status": 3}]}, r"got `int` - at `\$\[0\]\.status`"),
        ({"tasks": [task("T1", "completed", 100, "a") | {"progress_percentage": True}]}, "got `bool`"),
        ({"tasks": [task("T1", "completed", 101, "a")]}, "Expected `int` <= 100"),
        ({"tasks": [task("T1", "completed", 50.5, "a")]}, "Expected `int`, got `float`"),
        ({"snapshot": {"T1": 3}}, "snapshot: Expected `array`"),
        ({"snapshot": [task("T1", "completed", -1, "a")]}, r"snapshot: Expected `int` >= 0 - at `\$\[0\]"),
        ({"summary": {"total_tasks": "6"}}, r"summary: Expected `int`, got `str` - at `\$\.total_tasks`"),
        ({"team": {"team_members": [{"id": 3}]}}, r"team: Expected `str`, got `int` - at `\$\.team_members"),
        ({"team": {"team_members": None}}, "team: Expected `array`, got `null`"),
        ({"simulation": [1]}, "simulation: Expected `object`, got `array`"),
        ({"simulation": {**SIMULATION, "recorded_at": ""}}, "recorded_at"),
    ],
)
def test_malformed_artifacts_are_refused(overrides: dict[str, Any], message: str) -> None:
    with pytest.raises(ArtifactError, match=message):
        build(**overrides)


def test_scales_to_many_tasks_without_changing_the_wording() -> None:
    # The wording is computed once per distinct fact combination: check it is spread back right.
    before = [task(f"T{i:05d}", "in_progress", i % 80, f"m{i % 7}") for i in range(3000)]
    after = [task(f"T{i:05d}", "in_progress", i % 80 + i % 10, f"m{i % 7}") for i in range(3000)]
    team = {"project_id": "P1", "team_members": [{"id": f"m{i}", "name": f"M{i}"} for i in range(7)]}
    built = build(snapshot=before, tasks=after, team=team)
    tasks = tasks_by_id(built)
    for i in (0, 1, 17, 2999):
        was, now = i % 80, i % 80 + i % 10
        expected = f"Moved from {was}% to {now}% (+{now - was} points)." if now > was else (
            f"Not moved by today's simulation: still at {now}%."
        )
        assert tasks[f"T{i:05d}"]["today_work"] == expected
        assert tasks[f"T{i:05d}"]["yesterday_work"] == f"Was at {was}% (in progress)."
    assert [e["assigned_to"] for e in built.note["reports"][DATE]] == [f"m{i}" for i in range(7)]

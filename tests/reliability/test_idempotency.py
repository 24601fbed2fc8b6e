"""One report per sprint and day, through the runner and the golden manifest.

A second run for the same (project, sprint, day) finds the note in the chronicle in `prepare`,
simulates nothing and stores nothing, and still succeeds, saying "already reported". `force=true`
reports again: a second simulation and a second note. A chronicle that cannot tell is "unknown":
the run fails before the simulation: rows `chronicle-get-500` and `chronicle-get-timeout` of
test_fault_matrix.py (with the message that says so and what to do).
"""

from __future__ import annotations

from pathlib import Path

from tests.reliability.harness import (
    DAY,
    SPRINT,
    chronicle_posts,
    notes_read_back,
    run_workflow,
    simulations,
    stored_notes,
    task_entries,
)
from workflows.standin.client import StandIn

AFTER_PREPARE = ("simulate", "fetch-tasks", "fetch-summary", "fetch-team", "report")


def test_second_run_of_the_day_stores_nothing_and_says_already_reported(
    stack: StandIn, tmp_path: Path
) -> None:
    # The scheduled case: report_date empty, the day is the run's creation day.
    first = run_workflow(stack, tmp_path / "first")
    second = run_workflow(stack, tmp_path / "second")
    day = first.outputs("prepare")["report_date"]
    assert second.outputs("prepare")["report_date"] == day, "the two runs straddled midnight UTC"
    assert first.code == 0, first
    assert first.outputs("report")["already_reported"] == "false" and first.outputs("report")["note_id"]

    assert second.code == 0 and second.phase == "Succeeded", second
    prepare = second.outputs("prepare")
    assert (prepare["proceed"], prepare["already_reported"]) == ("false", "true")
    assert prepare["reason"] == f"already reported: sprint {SPRINT} on {day}"
    assert "already reported" in second.log("prepare")
    assert "already_reported=true" in second.out and "reason=already reported" in second.out
    assert second.phases() == {
        "prepare": "Succeeded",
        "simulate": "Skipped",
        **dict.fromkeys(AFTER_PREPARE[1:], "Omitted"),
    }

    assert simulations(stack) == 1
    assert len(chronicle_posts(stack)) == 1 and stored_notes(stack) == 1
    entries = task_entries(stack, day)
    assert len(entries) == 10 and set(entries.values()) == {1}  # one day entry set, nothing twice


def test_force_simulates_and_stores_a_second_time(stack: StandIn, tmp_path: Path) -> None:
    first = run_workflow(stack, tmp_path / "first", f"report_date={DAY}")
    forced = run_workflow(stack, tmp_path / "forced", f"report_date={DAY}", "force=true")
    assert first.code == 0, first
    assert forced.code == 0, forced
    assert forced.outputs("prepare")["proceed"] == "true"
    assert "force=true" in forced.outputs("prepare")["reason"]
    assert forced.outputs("report")["already_reported"] == "false" and forced.outputs("report")["note_id"]
    assert forced.outputs("report")["note_id"] != first.outputs("report")["note_id"]
    assert simulations(stack) == 2
    assert stored_notes(stack) == 2
    assert notes_read_back(stack) == 2  # every task of the day shows up twice

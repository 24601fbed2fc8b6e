"""One simulation per sprint and day, through the runner and the golden manifest.

The deployed chronicle answers its GET with 500 as soon as a note for the day is stored, so a second
run for a reported day cannot learn "already reported" from it: prepare reads the 500 as "unknown",
simulates nothing, and fails saying that the day is most likely reported and what to do.
`force=true` reports again: a second simulation and a second note. A run whose report was refused
leaves a simulated but unreported day: a fresh run for that day reuses the recorded simulation
(simulate's snapshot and answer, kept per project, sprint and day) instead of simulating again.
"""

from __future__ import annotations

from pathlib import Path

from tests.reliability.harness import (
    DAY,
    NOTES,
    SPRINT,
    chronicle_posts,
    notes_of_day,
    run_workflow,
    simulations,
    stored_notes,
    task_entries,
)
from workflows.standin.client import StandIn

AFTER_PREPARE = ("simulate", "fetch-tasks", "fetch-summary", "fetch-team", "report")


def test_second_run_of_a_reported_day_simulates_nothing_and_says_why(stack: StandIn, tmp_path: Path) -> None:
    # The scheduled case: report_date empty, the day is the run's creation day.
    first = run_workflow(stack, tmp_path / "first")
    second = run_workflow(stack, tmp_path / "second")
    day = first.outputs("prepare")["report_date"]
    assert first.code == 0, first
    assert first.outputs("report")["note_id"]

    assert second.code == 1 and second.phase == "Failed", second
    assert second.exit_codes("prepare") == [3, 3, 3, 3]  # unknown: retried, never simulated
    assert {second.phases()[name] for name in AFTER_PREPARE} == {"Omitted"}
    log = second.log("prepare")
    assert f"could not tell whether sprint {SPRINT} on {day} is already reported" in log, second
    assert "most likely reported already" in log and "force=true" in log

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
    assert forced.outputs("report")["note_id"]
    assert forced.outputs("report")["note_id"] != first.outputs("report")["note_id"]
    assert simulations(stack) == 2
    assert stored_notes(stack) == 2
    assert notes_of_day(stack) == 2 and set(task_entries(stack).values()) == {2}


def test_a_fresh_run_after_a_refused_report_reuses_the_days_simulation(
    stack: StandIn, tmp_path: Path
) -> None:
    stack.fault("chronicle", "status", 100, status=422, method="POST", path=NOTES)
    refused = run_workflow(stack, tmp_path / "refused", f"report_date={DAY}")
    assert refused.phase == "Failed" and refused.phases()["report"] == "Failed", refused
    assert simulations(stack) == 1 and stored_notes(stack) == 0
    stack.clear_faults()

    fresh = run_workflow(stack, tmp_path / "fresh", f"report_date={DAY}")  # not --retry: a new run
    assert fresh.code == 0 and fresh.phase == "Succeeded", fresh
    assert simulations(stack) == 1, "the day was simulated a second time"
    assert stored_notes(stack) == 1 and notes_of_day(stack) == 1
    # The run says that it reused the day's simulation.
    assert fresh.outputs("simulate")["reused"] == "true"
    assert f"Reusing the simulation recorded for sprint {SPRINT} on {DAY}" in fresh.log("simulate")

"""The golden manifest through the runner, the real step programs, and the stand-in services over HTTP."""

from __future__ import annotations

import io
import json
from datetime import datetime
from pathlib import Path
from typing import Any

from workflows.runner.cli import run
from workflows.standin.client import StandIn

SPRINT, PROJECT = "GEM-001-S01", "GEM-001"
FETCHES = ("fetch-tasks", "fetch-summary", "fetch-team")


def run_daily_scrum(stack: StandIn, run_dir: Path, *args: str) -> tuple[int, dict[str, Any], str]:
    environ = {**stack.env(), "DSM_RUNNER_MAX_BACKOFF_SECONDS": "0.1"}
    out = io.StringIO()
    code = run(
        [*args, "--run-dir", str(run_dir)] if "--retry" not in args else list(args), environ=environ, out=out
    )
    status = json.loads((run_dir / "status.json").read_text())
    return code, status, out.getvalue()


def phases(status: dict[str, Any]) -> dict[str, str]:
    return {name: task["phase"] for name, task in status["tasks"].items()}


def moment(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def stored_notes(stack: StandIn, report_date: str) -> list[dict[str, Any]]:
    """The day's stored notes, through the stand-in's admin view: the chronicle's own GET answers
    500 once a note with reports is stored (its deployed defect)."""
    return stack.notes(sprint_id=SPRINT, project_id=PROJECT, daily_scrum_date=report_date)


def test_daily_scrum_runs_end_to_end_and_the_report_reads_back(stack: StandIn, tmp_path: Path) -> None:
    code, status, out = run_daily_scrum(stack, tmp_path / "run")
    assert code == 0, out
    assert set(phases(status).values()) == {"Succeeded"}, phases(status)
    prepare = status["tasks"]["prepare"]["outputs"]["parameters"]
    assert (prepare["sprint_id"], prepare["proceed"]) == (SPRINT, "true")
    # The run's day, from workflow.creationTimestamp in the schedule's zone (UTC at 14:00 is still that day).
    assert prepare["report_date"] == status["created_at"][:10]

    [note] = stored_notes(stack, prepare["report_date"])
    assert (note["project_id"], note["sprint_id"]) == (PROJECT, SPRINT)
    assert prepare["report_date"] in note["reports"]
    assert note["summary_metrics"]["total_tasks"] == 10

    # Progress changed exactly once: one simulation, one progress write per updated task, one note stored.
    assert len(stack.requests("daily-scrum", method="POST")) == 1
    updated = int(status["tasks"]["simulate"]["outputs"]["parameters"]["tasks_updated"])
    progress_writes = stack.requests("sprint", method="POST", path_prefix="/tasks/")
    assert len(progress_writes) == updated == len({r["path"] for r in progress_writes})
    assert len(stack.requests("chronicle", method="POST")) == 1

    # The artifacts are local files in the run directory.
    report_json = tmp_path / "run" / status["tasks"]["report"]["outputs"]["artifacts"]["report"]
    assert json.loads(report_json.read_text())["project_id"] == PROJECT
    assert f"run directory: {tmp_path / 'run'}" in out


def test_the_three_fetches_run_in_parallel(stack: StandIn, tmp_path: Path) -> None:
    delay = 1.2
    paths = {
        "tasks": ("sprint", f"/sprints/{SPRINT}/tasks"),
        "summary": ("sprint", f"/sprints/{SPRINT}/task-summary"),
        "team": ("project", f"/projects/{PROJECT}/team-members"),
    }
    # Every read of the three paths is slow (also the ones other steps make before the fetches).
    for service, path in paths.values():
        stack.fault(service, "delay", count=100, seconds=delay, method="GET", path=path)
    code, status, out = run_daily_scrum(stack, tmp_path / "run")
    assert code == 0, out
    fetches = [status["tasks"][name] for name in FETCHES]
    assert all(task["duration_seconds"] >= delay for task in fetches)
    # The services' own log: each fetch's read arrived before the others' were answered, so the
    # three were held at once (one after the other, they would arrive a delay apart or more).
    arrivals = [
        max(moment(r["at"]) for r in stack.requests(service, method="GET") if r["path"] == path)
        for service, path in paths.values()
    ]
    assert (max(arrivals) - min(arrivals)).total_seconds() < delay


def test_a_failing_simulation_stops_the_run_before_any_fetch_or_report(
    stack: StandIn, tmp_path: Path
) -> None:
    stack.fault("daily-scrum", "status", count=10, status=500, method="POST")
    code, status, out = run_daily_scrum(stack, tmp_path / "run")
    assert code == 1
    assert phases(status) == {
        "prepare": "Succeeded",
        "simulate": "Failed",
        **{name: "Omitted" for name in FETCHES},
        "report": "Omitted",
    }
    assert (
        len(status["tasks"]["simulate"]["attempts"]) == 1
    )  # exit 3 is not retried: the service acted or not
    # Only prepare's preflight read the summary and the team: no fetch ran.
    assert len(stack.requests("sprint", method="GET", path_prefix=f"/sprints/{SPRINT}/task-summary")) == 1
    assert len(stack.requests("project", method="GET", path_prefix="/projects/")) == 1
    assert not stack.requests("chronicle", method="POST")
    # The step's own words, not only "exit code 3": in status.json, the summary and the verdict.
    message = status["tasks"]["simulate"]["message"]
    assert message.startswith("exit code 3: service error: ") and "500" in message, message
    assert f"simulate failed ({message})" in status["message"]
    assert "exit code 3: service error: " in out.split("TASK", 1)[1]


def test_retry_after_the_chronicle_recovers_reruns_only_the_report(stack: StandIn, tmp_path: Path) -> None:
    stack.fault("chronicle", "status", count=50, status=503, method="POST")
    code, status, out = run_daily_scrum(stack, tmp_path / "run")
    assert code == 1, out
    assert phases(status)["report"] == "Failed"
    # The POST reached the chronicle: not retried (a second POST could store a second note).
    assert len(status["tasks"]["report"]["attempts"]) == 1
    assert all(phase == "Succeeded" for name, phase in phases(status).items() if name != "report")

    stack.clear_faults("chronicle")
    code, status, out = run_daily_scrum(stack, tmp_path / "run", "--retry", str(tmp_path / "run"))
    assert code == 0, out
    assert set(phases(status).values()) == {"Succeeded"}
    assert len(status["tasks"]["report"]["attempts"]) == 2
    assert len(status["tasks"]["simulate"]["attempts"]) == 1
    assert len(stack.requests("daily-scrum", method="POST")) == 1  # the simulation ran once
    stored = [r for r in stack.requests("chronicle", method="POST") if r["status"] == 201]
    assert len(stored) == 1
    report_date = status["tasks"]["prepare"]["outputs"]["parameters"]["report_date"]
    assert len(stored_notes(stack, report_date)) == 1


def test_a_scheduled_run_reports_the_day_of_its_creation_in_the_schedules_zone(
    stack: StandIn, tmp_path: Path
) -> None:
    """RUN_CREATED_AT end to end: a run created at 23:30 UTC on a Tokyo schedule reports the next day
    (Tokyo's), whatever the machine's clock says; and no step logs a traceback of its own."""
    code, status, out = run_daily_scrum(
        stack, tmp_path / "run", "--created-at", "2026-11-30T23:30:00Z", "-p", "timezone=Asia/Tokyo"
    )
    assert code == 0, out
    assert status["created_at"] == "2026-11-30T23:30:00Z"
    assert status["tasks"]["prepare"]["outputs"]["parameters"]["report_date"] == "2026-12-01"
    [note] = stored_notes(stack, "2026-12-01")
    assert note["report_date"] == "2026-12-01"
    logs = [path.read_text(encoding="utf-8") for path in (tmp_path / "run").rglob("*.log")]
    assert logs and not any("Traceback" in log or "Logging error" in log for log in logs)

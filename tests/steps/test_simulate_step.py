"""simulate as a subprocess against the stand-in: one POST, never repeated once it may have been sent."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
import requests

from steps import contract
from tests.steps.runner import BAD_IDS, run

SPRINT = "GEM-001-S01"
RUN_PATH = f"/scrums/{SPRINT}/run"
DAY = {"REPORT_DATE": "2025-08-30", "FORCE": "false"}


def _progress(stack: Any, sprint: str = SPRINT) -> dict[str, int]:
    url = f"{stack.env()['SPRINT_SERVICE_URL']}/sprints/{sprint}/tasks"
    return {task["task_id"]: task["progress_percentage"] for task in requests.get(url, timeout=10).json()}


def _posts(stack: Any) -> int:
    return len(stack.requests("daily-scrum", method="POST", path_prefix="/scrums/"))


def test_happy_path(stack: Any, tmp_path: Path) -> None:
    before = _progress(stack)
    started = dt.datetime.now(dt.UTC)
    ran = run(contract.SIMULATE, stack.env(), tmp_path, {"SPRINT_ID": SPRINT, **DAY}, in_subprocess=True)
    assert ran.code == 0, ran
    simulation = ran.artifact("simulation")
    count = simulation["tasks_updated_count"]
    assert count > 0
    assert ran.params() == {"tasks_updated": str(count), "reused": "false"}
    assert len(simulation["updates"]) == count
    recorded_at = dt.datetime.fromisoformat(simulation["recorded_at"])
    assert recorded_at.utcoffset() == dt.timedelta(0)
    assert started <= recorded_at <= dt.datetime.now(dt.UTC)
    assert "." in simulation["recorded_at"]  # microseconds
    after = _progress(stack)
    for update in simulation["updates"]:
        assert update["recorded_at"] == simulation["recorded_at"]
        assert after[update["task_id"]] == int(update["new_status"].rstrip("%"))
        assert after[update["task_id"]] != before[update["task_id"]] or before[update["task_id"]] == 100
    assert _posts(stack) == 1
    # The snapshot is the sprint's tasks as they were right before the POST.
    assert {t["task_id"]: t["progress_percentage"] for t in ran.artifact("snapshot")} == before
    assert "Starting daily scrum simulation for sprint GEM-001-S01" in ran.stderr
    assert f"Simulation completed: {count} tasks updated" in ran.stderr


def test_no_update_is_a_warning_not_a_failure(stack: Any, tmp_path: Path) -> None:
    ran = run(contract.SIMULATE, stack.env(), tmp_path, {"SPRINT_ID": "GEM-001-S02", **DAY})
    assert ran.code == 0, ran
    assert ran.param("tasks_updated") == "0"
    assert ran.artifact("simulation")["updates"] == []
    assert " WARNING No task was updated for sprint GEM-001-S02" in ran.stderr


def test_service_down_is_not_sent_and_nothing_ran(stack: Any, tmp_path: Path) -> None:
    before = _progress(stack)
    stack.down("daily-scrum")
    ran = run(contract.SIMULATE, stack.env(), tmp_path, {"SPRINT_ID": SPRINT, **DAY})
    assert ran.code == contract.EXIT_NOT_SENT, ran
    assert "request was not sent" in ran.stderr
    assert ran.written() == []
    stack.up("daily-scrum")
    assert _posts(stack) == 0
    assert _progress(stack) == before


def test_no_snapshot_no_simulation_and_safe_to_retry(stack: Any, tmp_path: Path) -> None:
    stack.fault("sprint", "status", status=500, count=5, path=f"/sprints/{SPRINT}/tasks")
    ran = run(contract.SIMULATE, stack.env(), tmp_path, {"SPRINT_ID": SPRINT, **DAY})
    assert ran.code == contract.EXIT_NOT_SENT, ran
    assert "the tasks before the simulation could not be read, nothing was simulated" in ran.stderr
    assert ran.written() == [] and _posts(stack) == 0


def test_stall_past_the_read_timeout_is_a_service_error_and_not_retried(stack: Any, tmp_path: Path) -> None:
    stack.fault("daily-scrum", "delay", seconds=2.5, path=RUN_PATH)
    ran = run(contract.SIMULATE, stack.env(), tmp_path, {"SPRINT_ID": SPRINT, **DAY})
    assert ran.code == contract.EXIT_SERVICE_ERROR, ran
    assert "no answer within 1 s" in ran.stderr
    assert "The simulation may have run anyway" in ran.stderr
    assert ran.written() == []
    assert _posts(stack) == 1


@pytest.mark.parametrize(
    ("fault", "in_log"),
    [
        ({"kind": "status", "status": 500}, "HTTP 500"),
        ({"kind": "status", "status": 503}, "HTTP 503"),  # a GET would be retried; a POST is not
        ({"kind": "status", "status": 502}, "HTTP 502"),
        ({"kind": "malformed"}, "not JSON"),
        ({"kind": "drop"}, "connection broke"),
        ({"kind": "wrong_shape"}, "wrong shape"),
    ],
    ids=lambda fault: f"{fault['kind']}-{fault.get('status', '')}" if isinstance(fault, dict) else None,
)
def test_faults_after_sending_are_never_retried(
    stack: Any, tmp_path: Path, fault: dict[str, Any], in_log: str
) -> None:
    stack.fault("daily-scrum", count=5, path=RUN_PATH, **fault)
    ran = run(contract.SIMULATE, stack.env(), tmp_path, {"SPRINT_ID": SPRINT, **DAY})
    assert ran.code == contract.EXIT_SERVICE_ERROR, ran
    assert in_log in ran.stderr
    assert f"daily-scrum-service POST {stack.env()['DAILY_SCRUM_SERVICE_URL']}{RUN_PATH}" in ran.stderr
    assert "may have run anyway" in ran.stderr
    assert ran.written() == []
    assert _posts(stack) == 1


@pytest.mark.parametrize("bad", BAD_IDS)
def test_bad_sprint_ids_are_refused_before_any_request(stack: Any, tmp_path: Path, bad: str) -> None:
    ran = run(contract.SIMULATE, stack.env(), tmp_path, {"SPRINT_ID": bad, **DAY})
    assert ran.code == contract.EXIT_INVALID_INPUT, ran
    assert f"SPRINT_ID must be 1 to 64 ASCII letters, digits, '-' or '_'; got {bad!r}" in ran.stderr
    assert stack.requests("daily-scrum") == []


def test_bad_url_is_refused(stack: Any, tmp_path: Path) -> None:
    ran = run(contract.SIMULATE, stack.env(), tmp_path,
              {"SPRINT_ID": SPRINT, **DAY, "DAILY_SCRUM_SERVICE_URL": "daily-scrum-service"})
    assert ran.code == contract.EXIT_INVALID_INPUT, ran
    assert "DAILY_SCRUM_SERVICE_URL must be an http(s) URL" in ran.stderr
    assert stack.requests("daily-scrum") == []


def test_a_recorded_day_is_reused_and_nothing_is_sent(stack: Any, tmp_path: Path) -> None:
    """Work avoidance: the day's recorded snapshot and answer come back as optional inputs on any
    later run of that day (also a fresh submit); the step hands them on and never POSTs again."""
    first = run(contract.SIMULATE, stack.env(), tmp_path / "first", {"SPRINT_ID": SPRINT, **DAY})
    assert first.code == 0, first
    recorded = {name: first.out / contract.ARTIFACT_FILES[name] for name in contract.SIMULATE.carried}
    before = _progress(stack)
    again = run(contract.SIMULATE, stack.env(), tmp_path / "again", {"SPRINT_ID": SPRINT, **DAY}, recorded)
    assert again.code == 0, again
    assert _posts(stack) == 1 and _progress(stack) == before
    assert again.artifact("simulation") == first.artifact("simulation")
    assert again.artifact("snapshot") == first.artifact("snapshot")
    assert again.params() == {"tasks_updated": first.param("tasks_updated"), "reused": "true"}
    assert "Reusing the simulation recorded for sprint GEM-001-S01 on 2025-08-30" in again.stderr

    forced = run(
        contract.SIMULATE, stack.env(), tmp_path / "forced", {"SPRINT_ID": SPRINT, **DAY, "FORCE": "true"},
        recorded,
    )
    assert forced.code == 0 and _posts(stack) == 2, forced
    assert "FORCE=true" in forced.stderr and forced.param("reused") == "false"


def test_a_malformed_record_is_refused_before_any_request(stack: Any, tmp_path: Path) -> None:
    bad = tmp_path / "simulation.json"
    bad.write_text('{"message": 1}', encoding="utf-8")
    snapshot = tmp_path / "snapshot.json"
    snapshot.write_text("[]", encoding="utf-8")
    ran = run(
        contract.SIMULATE, stack.env(), tmp_path, {"SPRINT_ID": SPRINT, **DAY},
        {"simulation": bad, "snapshot": snapshot},
    )
    assert ran.code != 0 and _posts(stack) == 0, ran

"""prepare as a subprocess against the stand-in: inputs, preflight, active sprint, report date,
the chronicle check (with its deployed read defect)."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Any

import pytest
import requests

from steps import contract
from tests.steps.runner import BAD_IDS, Ran, run

PROJECT = "GEM-001"
SPRINT = "GEM-001-S01"
CREATED = "2026-11-30T14:00:00Z"
NOTES = "/v1/notes/daily_scrum_report"
ENV = {"PROJECT_ID": PROJECT, "SPRINT_ID": SPRINT, "RUN_CREATED_AT": CREATED}
ARGO_CACHE_KEY = re.compile(r"[a-zA-Z0-9][-a-zA-Z0-9]*")  # workflow/controller/cache/cache.go


def _prepare(stack: Any, tmp_path: Path, in_subprocess: bool = False, **env: str) -> Ran:
    return run(contract.PREPARE, stack.env(), tmp_path, {**ENV, **env}, in_subprocess=in_subprocess)


def _store_note(
    stack: Any, day: str, project: str = PROJECT, sprint: str = SPRINT, *, empty: bool = False
) -> None:
    note = {
        "project_id": project,
        "sprint_id": sprint,
        "report_date": day,
        "summary": "Daily stand-up",
        "summary_metrics": {"total_team_members": 5, "total_tasks": 10, "completed_tasks": 3,
                            "pending_tasks": 7},
        "reports": {day: [{"assigned_to": "alice", "tasks": [
            {"id": "GEM-001-TASK003", "yesterday_work": "a", "today_work": "b", "impediments": "none",
             "created_at": f"{day}T14:00:03.120000+00:00"}]}]},
    }
    if empty:  # the only kind of note the deployed chronicle can read back
        note["reports"] = {}
    answer = requests.post(stack.env()["CHRONICLE_SERVICE_URL"] + NOTES, json=note, timeout=10)
    assert answer.status_code == 201, answer.text


def _chronicle_gets(stack: Any) -> list[Any]:
    return stack.requests("chronicle", method="GET", path_prefix=NOTES)


def test_not_reported_yet_proceeds(stack: Any, tmp_path: Path) -> None:
    ran = _prepare(stack, tmp_path, in_subprocess=True)  # as its container runs it
    assert ran.code == 0, ran
    assert ran.params() == {
        "sprint_id": SPRINT,
        "report_date": "2026-11-30",
        "proceed": "true",
        "already_reported": "false",
        "reason": "sprint GEM-001-S01 on 2026-11-30 is not reported yet",
    }
    assert len(_chronicle_gets(stack)) == 1
    # The preflight: every service's health, the sprint's summary, the project's team; no lookup.
    for service in ("daily-scrum", "sprint", "project", "chronicle"):
        assert [r["path"] for r in stack.requests(service, path_prefix="/health")] == ["/health"], service
    assert [r["path"] for r in stack.requests("sprint", path_prefix="/sprints/")] == [
        f"/sprints/{SPRINT}/task-summary"
    ]
    assert [r["path"] for r in stack.requests("project")][1:] == [f"/projects/{PROJECT}/team-members"]
    assert stack.requests("daily-scrum", method="POST") == []


def test_the_chronicle_is_asked_for_this_project_sprint_and_day(stack: Any, tmp_path: Path) -> None:
    _store_note(stack, "2026-11-29")  # yesterday's report does not count
    _store_note(stack, "2026-11-30", sprint="GEM-001-S02")  # nor another sprint's
    ran = _prepare(stack, tmp_path)
    assert ran.code == 0, ran
    assert ran.param("proceed") == "true"
    assert _chronicle_gets(stack)[0]["query"] == {
        "project_id": PROJECT, "sprint_id": SPRINT, "daily_scrum_date": "2026-11-30"
    }


def test_a_reported_day_reads_as_500_and_stops_the_run_as_unknown(stack: Any, tmp_path: Path) -> None:
    """The deployed chronicle answers 500 once the day is stored: never "not reported"."""
    _store_note(stack, "2026-11-30")
    ran = _prepare(stack, tmp_path)
    assert ran.code == contract.EXIT_SERVICE_ERROR, ran
    reason = ran.param("reason")
    assert reason.startswith(f"unknown: could not tell whether sprint {SPRINT} on 2026-11-30 is already")
    assert "HTTP 500" in reason and "most likely reported already" in reason
    assert "Nothing was simulated" in reason and "force=true" in reason
    assert (ran.param("proceed"), ran.param("already_reported")) == ("false", "false")
    assert reason in ran.stderr  # the log says the same


def test_a_readable_stored_note_stops_quietly(stack: Any, tmp_path: Path) -> None:
    _store_note(stack, "2026-11-30", empty=True)  # stored with "reports": {}: the chronicle answers 200
    ran = _prepare(stack, tmp_path)
    assert ran.code == 0, ran
    assert ran.params() == {
        "sprint_id": SPRINT,
        "report_date": "2026-11-30",
        "proceed": "false",
        "already_reported": "true",
        "reason": "already reported: sprint GEM-001-S01 on 2026-11-30",
    }
    assert "already reported: sprint GEM-001-S01 on 2026-11-30" in ran.stderr


@pytest.mark.parametrize("force", ["true", "TRUE", "True"])
def test_force_skips_the_chronicle(stack: Any, tmp_path: Path, force: str) -> None:
    _store_note(stack, "2026-11-30")
    ran = _prepare(stack, tmp_path, FORCE=force)
    assert ran.code == 0, ran
    assert ran.param("proceed") == "true"
    assert ran.param("already_reported") == "false"
    assert _chronicle_gets(stack) == []


@pytest.mark.parametrize(
    ("created", "zone", "day"),
    [
        ("2026-11-30T14:00:00Z", "", "2026-11-30"),
        ("2026-11-30T23:30:00Z", "Asia/Tokyo", "2026-12-01"),
        ("2026-12-01T03:00:00Z", "America/Los_Angeles", "2026-11-30"),
        ("2026-12-01T00:30:00+02:00", "UTC", "2026-11-30"),
        ("2026-11-30T14:00:00.123456Z", "Europe/Paris", "2026-11-30"),
    ],
)
def test_report_date_is_the_run_day_in_the_schedule_zone(
    stack: Any, tmp_path: Path, created: str, zone: str, day: str
) -> None:
    ran = _prepare(stack, tmp_path, RUN_CREATED_AT=created, SCHEDULE_TIMEZONE=zone)
    assert ran.code == 0, ran
    assert ran.param("report_date") == day


def test_report_date_given_wins(stack: Any, tmp_path: Path) -> None:
    ran = _prepare(stack, tmp_path, REPORT_DATE="2026-11-27")
    assert ran.code == 0, ran
    assert ran.param("report_date") == "2026-11-27"


def test_no_creation_time_means_today(stack: Any, tmp_path: Path) -> None:
    before = dt.datetime.now(dt.UTC).date()
    ran = _prepare(stack, tmp_path, RUN_CREATED_AT="")
    after = dt.datetime.now(dt.UTC).date()
    assert ran.code == 0, ran
    assert ran.param("report_date") in {before.isoformat(), after.isoformat()}


@pytest.mark.parametrize(("project", "sprint"), [("GEM-001", "GEM-001-S01"), ("GEM-002", "GEM-002-S01")])
def test_empty_sprint_means_the_active_sprint(stack: Any, tmp_path: Path, project: str, sprint: str) -> None:
    ran = _prepare(stack, tmp_path, PROJECT_ID=project, SPRINT_ID="")
    assert ran.code == 0, ran
    assert ran.param("sprint_id") == sprint
    assert ran.param("proceed") == "true"
    assert len(stack.requests("sprint", method="GET", path_prefix=f"/sprints/active/{project}")) == 1
    assert len(stack.requests("sprint", method="GET", path_prefix=f"/sprints/{sprint}/task-summary")) == 1


def test_no_active_sprint_stops_quietly(stack: Any, tmp_path: Path) -> None:
    ran = _prepare(stack, tmp_path, PROJECT_ID="GEM-003", SPRINT_ID="")
    assert ran.code == 0, ran
    assert ran.params() == {
        "sprint_id": "",
        "report_date": "2026-11-30",
        "proceed": "false",
        "already_reported": "false",
        "reason": "no active sprint for project GEM-003",
    }
    assert _chronicle_gets(stack) == []


def test_an_unusable_active_sprint_id_is_the_services_fault(stack: Any, tmp_path: Path) -> None:
    stack.fault("sprint", "answer", status=200, body={"sprint_id": "../x"}, path="/sprints/active/")
    ran = _prepare(stack, tmp_path, SPRINT_ID="")
    assert ran.code == contract.EXIT_SERVICE_ERROR, ran  # not 2: the input was fine
    assert "sprint-service answered an unusable active sprint" in ran.stderr and "'../x'" in ran.stderr
    assert _chronicle_gets(stack) == []
    assert not any("%2F" in r["path"] or ".." in r["path"] for r in stack.requests("sprint"))


# --- preflight: every problem in one pass, the most specific exit code -----------------------------
def _errors(ran: Ran) -> list[str]:
    return [line for line in ran.stderr.splitlines() if " ERROR " in line]


def test_an_unknown_sprint_is_not_found_before_anything_else(stack: Any, tmp_path: Path) -> None:
    ran = _prepare(stack, tmp_path, SPRINT_ID="gem-001-s01")  # well-formed, but no such sprint
    assert ran.code == contract.EXIT_NOT_FOUND, ran
    assert "sprint gem-001-s01 does not exist according to the sprint-service" in ran.stderr
    assert ran.param("proceed") == "false"
    assert ran.param("reason").startswith("preflight failed, nothing was simulated: sprint gem-001-s01 does")
    assert _chronicle_gets(stack) == []
    assert len(stack.requests("sprint", path_prefix="/sprints/gem-001-s01/")) == 1  # never retried


def test_an_unknown_project_answers_an_empty_team_and_is_not_found(stack: Any, tmp_path: Path) -> None:
    ran = _prepare(stack, tmp_path, PROJECT_ID="GEM-404")
    assert ran.code == contract.EXIT_NOT_FOUND, ran
    assert "project GEM-404 is unknown to the project-service" in ran.stderr
    assert _chronicle_gets(stack) == []


@pytest.mark.parametrize("service", ["daily-scrum", "sprint", "project", "chronicle"])
def test_a_service_down_stops_the_run_naming_it(stack: Any, tmp_path: Path, service: str) -> None:
    stack.down(service)
    ran = _prepare(stack, tmp_path)
    assert ran.code == contract.EXIT_NOT_SENT, ran
    [error, *_] = _errors(ran)
    assert f"{service}-service GET http" in error and "/health: could not connect" in error
    assert ran.param("proceed") == "false"
    assert _chronicle_gets(stack) == []


def test_unhealthy_answers_are_service_errors(stack: Any, tmp_path: Path) -> None:
    stack.fault("daily-scrum", "answer", status=200, body={"status": "degraded"}, path="/health")
    ran = _prepare(stack, tmp_path)
    assert ran.code == contract.EXIT_SERVICE_ERROR, ran
    assert "status must be 'ok', got 'degraded'" in ran.stderr


def test_every_problem_is_one_error_line_and_not_found_wins(stack: Any, tmp_path: Path) -> None:
    stack.down("chronicle")
    stack.down("daily-scrum")
    stack.fault("project", "status", status=500, path="/projects/")
    ran = _prepare(stack, tmp_path, SPRINT_ID="GEM-001-S99")
    assert ran.code == contract.EXIT_NOT_FOUND, ran  # retrying cannot make the sprint exist
    errors = _errors(ran)
    assert len(errors) == 6, ran  # four problems, the summary, the step's "failed after" line
    assert "daily-scrum-service GET" in errors[0] and "chronicle-service GET" in errors[1]
    assert "sprint GEM-001-S99 does not exist" in errors[2]
    assert "project-service GET" in errors[3] and "HTTP 500" in errors[3]
    assert "preflight found 4 problems" in errors[4]
    reason = ran.param("reason")  # all four in the output the Argo UI shows
    for text in ("daily-scrum-service GET", "chronicle-service GET", "S99 does not exist", "HTTP 500"):
        assert text in reason, reason
    assert stack.requests("daily-scrum", method="POST") == []


def test_services_are_retried_briefly_in_the_step(stack: Any, tmp_path: Path) -> None:
    stack.fault("sprint", "status", status=503, path="/health")
    ran = _prepare(stack, tmp_path)
    assert ran.code == 0, ran
    assert len(stack.requests("sprint", path_prefix="/health")) == 2


@pytest.mark.parametrize(
    "fault",
    [{"kind": "status", "status": 500}, {"kind": "delay", "seconds": 2.5}, {"kind": "malformed"},
     {"kind": "drop"}, {"kind": "wrong_shape"}],
    ids=lambda fault: fault["kind"],
)
def test_chronicle_that_cannot_tell_stops_the_run(stack: Any, tmp_path: Path, fault: dict[str, Any]) -> None:
    stack.fault("chronicle", path=NOTES, **fault)
    ran = _prepare(stack, tmp_path)
    assert ran.code == contract.EXIT_SERVICE_ERROR, ran
    assert "could not tell whether sprint GEM-001-S01 on 2026-11-30 is already reported" in ran.stderr
    assert "Nothing was simulated" in ran.stderr and "force=true" in ran.stderr
    assert ran.param("proceed") == "false" and ran.param("reason").startswith("unknown: ")


def test_chronicle_gateway_error_is_retried(stack: Any, tmp_path: Path) -> None:
    stack.fault("chronicle", "status", status=503, path=NOTES)
    ran = _prepare(stack, tmp_path)
    assert ran.code == 0, ran
    assert ran.param("proceed") == "true"
    assert len(_chronicle_gets(stack)) == 2


@pytest.mark.parametrize(
    ("fault", "code"),
    [({"kind": "status", "status": 500}, contract.EXIT_SERVICE_ERROR),
     ({"kind": "wrong_shape"}, contract.EXIT_SERVICE_ERROR),
     ({"kind": "malformed"}, contract.EXIT_SERVICE_ERROR)],
    ids=lambda value: value["kind"] if isinstance(value, dict) else None,
)
def test_active_sprint_lookup_failures(stack: Any, tmp_path: Path, fault: dict[str, Any], code: int) -> None:
    stack.fault("sprint", path="/sprints/active/", **fault)
    ran = _prepare(stack, tmp_path, SPRINT_ID="")
    assert ran.code == code, ran
    assert "sprint-service GET" in ran.stderr
    assert _chronicle_gets(stack) == []


BAD_INPUTS = (
    [("PROJECT_ID", bad) for bad in BAD_IDS]
    + [("SPRINT_ID", bad) for bad in BAD_IDS if bad]  # empty SPRINT_ID means "the active sprint"
    + [("REPORT_DATE", bad) for bad in ["2026-02-30", "30/11/2026", "today", "2026-11-30 "]]
    + [("FORCE", bad) for bad in ["yes", "1"]]
    + [("SCHEDULE_TIMEZONE", bad) for bad in ["Mars/Base", "../../etc/passwd"]]
    + [("RUN_CREATED_AT", bad) for bad in ["2026-11-30T14:00:00", "now"]]
    + [("SPRINT_SERVICE_URL", bad) for bad in ["", "sprint", "ftp://sprint"]]
    + [("CHRONICLE_SERVICE_URL", bad) for bad in ["", "http://", "http://host:port"]]
    + [("DAILY_SCRUM_SERVICE_URL", "ftp://x"), ("PROJECT_SERVICE_URL", "x")]
)


@pytest.mark.parametrize(("name", "value"), BAD_INPUTS)
def test_bad_inputs_are_refused_before_any_request(stack: Any, tmp_path: Path, name: str, value: str) -> None:
    ran = _prepare(stack, tmp_path, **{name: value})
    assert ran.code == contract.EXIT_INVALID_INPUT, ran
    assert name in ran.stderr and repr(value) in ran.stderr
    assert ran.written() == []
    assert all(stack.requests(service) == [] for service in ("daily-scrum", "sprint", "project", "chronicle"))

"""`python -m workflows report`, run as a subprocess against the stand-in chronicle-service."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import requests

from workflows.standin.client import StandIn

REPO_ROOT = Path(__file__).resolve().parents[2]
NOTES = "/v1/notes/daily_scrum_report"
DAY = "2026-11-27"


def note(day: str, sprint_id: str = "GEM-001-S01", project_id: str = "GEM-001") -> dict[str, Any]:
    """A note in the shape the report step stores (dsm-services.md)."""
    return {
        "project_id": project_id,
        "sprint_id": sprint_id,
        "report_date": day,
        "summary": f"Daily stand-up for sprint {sprint_id}. 2 tasks progressed.",
        "summary_metrics": {
            "total_team_members": 5,
            "total_tasks": 10,
            "completed_tasks": 3,
            "pending_tasks": 7,
        },
        "reports": {
            day: [
                {
                    "assigned_to": "alice",
                    "tasks": [
                        {
                            "id": "GEM-001-TASK001",
                            "yesterday_work": "Login form at 20%.",
                            "today_work": "Take the login form from 20% to 45%.",
                            "impediments": "None",
                            "created_at": f"{day}T14:00:03.120000+00:00",
                        }
                    ],
                },
                {
                    "assigned_to": "bob",
                    "tasks": [
                        {
                            "id": "GEM-001-TASK002",
                            "yesterday_work": "Nothing moved.",
                            "today_work": "Review the payment API.",
                            "impediments": "Waiting for the sandbox keys",
                            "created_at": f"{day}T14:00:04+00:00",
                        }
                    ],
                },
            ]
        },
    }


def store(stack: StandIn, body: dict[str, Any]) -> None:
    answer = requests.post(stack.url("chronicle") + NOTES, json=body, timeout=10)
    assert answer.status_code == 201, answer.text


def report(
    stack: StandIn | None, *args: str, env: dict[str, str] | None = None, cwd: Path = REPO_ROOT
) -> subprocess.CompletedProcess[str]:
    base = stack.env() if stack is not None else dict(os.environ)
    for name in ("SPRINT_ID", "PROJECT_ID"):  # the defaults under test must not come from this shell
        base.pop(name, None)
    base.update({"HTTP_RETRIES": "0", "HTTP_READ_TIMEOUT": "5", "COLUMNS": "160", **(env or {})})
    return subprocess.run(
        [sys.executable, "-m", "workflows", "report", *args],
        cwd=cwd, env=base, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip


def local_run(root: Path, name: str, body: dict[str, Any], age: float = 0) -> Path:
    """A run directory as the local runner leaves it: status.json naming the report's note."""
    run_dir = root / "runs" / name
    (run_dir / "report").mkdir(parents=True)
    (run_dir / "report" / "report.json").write_text(json.dumps(body), encoding="utf-8")
    status = {
        "tasks": {
            "report": {"phase": "Succeeded", "outputs": {"artifacts": {"report": "report/report.json"}}}
        }
    }
    (run_dir / "status.json").write_text(json.dumps(status), encoding="utf-8")
    os.utime(run_dir / "status.json", (1e9 + age, 1e9 + age))
    return run_dir


def test_shows_the_report_as_a_table(tmp_path: Path) -> None:
    local_run(tmp_path, "run-a", note(DAY))
    result = report(None, env={"CHRONICLE_SERVICE_URL": ""}, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == f"Daily scrum report: project GEM-001, sprint GEM-001-S01, {DAY}"
    assert "Daily stand-up for sprint GEM-001-S01. 2 tasks progressed." in lines
    assert "team members: 5  tasks: 10  done (at 100%): 3  not done: 7" in lines
    header = next(line for line in lines if line.startswith("DATE"))
    assert header.split() == ["DATE", "ASSIGNEE", "TASK", "TODAY", "IMPEDIMENTS"]
    alice = next(line for line in lines if "alice" in line)
    assert alice.split()[:3] == [DAY, "alice", "GEM-001-TASK001"]
    assert "Take the login form from 20% to 45%." in alice
    assert "Waiting for the sandbox keys" in next(line for line in lines if "bob" in line)


def test_a_stored_day_reads_as_the_deployed_chronicles_500(stack: StandIn) -> None:
    """The chronicle answers 500 for every day with a stored note: unknown, never "no report", and
    the message says where the day's page is instead."""
    store(stack, note(DAY))
    result = report(stack, "--sprint-id", "GEM-001-S01", "--project-id", "GEM-001", "--date", DAY)
    assert result.returncode == 3, result.stderr
    assert "answers 500 for every day with a stored note" in result.stderr and "report-html" in result.stderr
    queries = stack.requests("chronicle", method="GET", path_prefix=NOTES)
    assert [q["query"] for q in queries] == [
        {"sprint_id": "GEM-001-S01", "daily_scrum_date": DAY, "project_id": "GEM-001"}
    ]


def test_json_prints_what_the_chronicle_can_read_back(stack: StandIn) -> None:
    """A note stored with empty reports is what the deployed chronicle still reads back."""
    store(stack, {**note(DAY), "reports": {}})
    result = report(stack, "--date", DAY, "--json")
    assert result.returncode == 0, result.stderr
    query = {"sprint_id": "GEM-001-S01", "daily_scrum_date": DAY}
    assert (
        json.loads(result.stdout)
        == requests.get(stack.url("chronicle") + NOTES, params=query, timeout=10).json()
    )


def test_defaults_ask_for_today_of_the_sprint_in_the_environment(stack: StandIn) -> None:
    """What `make report` runs with a chronicle: no options, SPRINT_ID from the environment, today in UTC."""
    today = dt.datetime.now(dt.UTC).date().isoformat()
    result = report(stack, env={"SPRINT_ID": "GEM-001-S02"})
    assert result.returncode == 1
    assert f"no report for sprint GEM-001-S02 on {today}" in result.stderr


def test_a_day_without_report_says_so_and_exits_1(stack: StandIn) -> None:
    store(stack, note(DAY))
    result = report(stack, "--date", "2026-11-28")
    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr.strip() == "no report for sprint GEM-001-S01 on 2026-11-28"


def test_a_5xx_is_unknown_not_absent(stack: StandIn) -> None:
    store(stack, note(DAY))
    stack.fault("chronicle", "status", status=500, path=NOTES, method="GET")
    result = report(stack, "--date", DAY)
    assert result.returncode == 3
    assert "the chronicle could not answer (status 500): unknown, not absent" in result.stderr
    assert "no report" not in result.stderr


@pytest.mark.parametrize("kind", ["malformed", "wrong_shape"])
def test_a_garbled_answer_is_unknown_too(stack: StandIn, kind: str) -> None:
    store(stack, note(DAY))
    stack.fault("chronicle", kind, path=NOTES, method="GET")
    result = report(stack, "--date", DAY)
    assert result.returncode == 3, result.stderr
    assert "unknown, not absent" in result.stderr


def test_an_unreachable_chronicle_exits_75(stack: StandIn) -> None:
    stack.down("chronicle")
    result = report(stack, "--date", DAY)
    assert result.returncode == 75
    assert "could not be reached" in result.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--sprint-id", "../GEM-001-S01"], "--sprint-id must be"),
        (["--project-id", "GEM 001"], "--project-id must be"),
        (["--date", "2026-02-30"], "--date is not a real date"),
        (["--date", "27/11/2026"], "--date must be a date written YYYY-MM-DD"),
        (["--chronicle-url", "ftp://chronicle"], "--chronicle-url must be an http(s) URL"),
    ],
)
def test_invalid_input_is_refused_before_any_request(stack: StandIn, args: list[str], message: str) -> None:
    result = report(stack, *args)
    assert result.returncode == 2
    assert message in result.stderr
    assert stack.requests("chronicle") == []


def test_no_chronicle_url_and_no_local_run_says_what_it_needs(tmp_path: Path) -> None:
    result = report(None, "--date", DAY, env={"CHRONICLE_SERVICE_URL": ""}, cwd=tmp_path)
    assert result.returncode == 2
    assert "set CHRONICLE_SERVICE_URL or pass --chronicle-url" in result.stderr
    assert "no local run under runs/ either (make run)" in result.stderr


def test_without_a_chronicle_url_the_newest_local_run_is_shown(tmp_path: Path) -> None:
    """`make report` after `make run`: the stand-ins are gone, the run's report.json is not."""
    for age, (name, day) in enumerate((("run-a", "2026-11-26"), ("run-b", DAY))):
        local_run(tmp_path, name, note(day), age)  # run-b is the newer
    result = report(None, env={"CHRONICLE_SERVICE_URL": ""}, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[0] == f"Daily scrum report: project GEM-001, sprint GEM-001-S01, {DAY}"
    assert "the note of the local run runs/run-b" in result.stderr
    assert "the chronicle was not asked" in result.stderr
    older = report(None, "--run-dir", "runs/run-a", "--json", cwd=tmp_path)
    assert older.returncode == 0, older.stderr
    assert json.loads(older.stdout) == note("2026-11-26")
    assert report(None, "--run-dir", str(tmp_path), cwd=tmp_path).returncode == 2


def test_the_same_day_reported_twice_is_pointed_out(tmp_path: Path) -> None:
    twice = note(DAY)
    twice["reports"][DAY] += twice["reports"][DAY]  # what a merged answer of two notes holds
    local_run(tmp_path, "run-a", twice)
    result = report(None, env={"CHRONICLE_SERVICE_URL": ""}, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "2 task entries repeated" in result.stdout

"""The stand-in services against docs/dsm-services.md, over real HTTP (fixture `stack`)."""

from __future__ import annotations

import datetime as dt
import os
import re
import signal
import subprocess
import sys
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
import requests

from workflows.standin import SERVICES, seed
from workflows.standin.client import REPO_ROOT, StandIn, StandInError

TIMEOUT = 10.0
SPRINT = "GEM-001-S01"


def call(method: str, url: str, **kw: Any) -> requests.Response:
    with requests.Session() as session:
        session.trust_env = False  # 127.0.0.1 never through a proxy
        return session.request(method, url, timeout=kw.pop("timeout", TIMEOUT), **kw)


def tasks_of(stack: StandIn, sprint_id: str = SPRINT) -> dict[str, dict[str, Any]]:
    answer = call("GET", f"{stack.url('sprint')}/sprints/{sprint_id}/tasks")
    assert answer.status_code == 200
    return {task["task_id"]: task for task in answer.json()}


def note(day: str = "2025-08-30", **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "project_id": "GEM-001",
        "sprint_id": SPRINT,
        "report_date": day,
        "summary": f"Daily stand-up for sprint {SPRINT}.",
        "summary_metrics": {
            "total_team_members": 5,
            "total_tasks": 10,
            "completed_tasks": 2,
            "pending_tasks": 8,
        },
        "reports": {
            day: [
                {
                    "assigned_to": "alice",
                    "tasks": [
                        {
                            "id": "GEM-001-TASK006",
                            "yesterday_work": "layout",
                            "today_work": "widgets",
                            "impediments": "None.",
                            "created_at": f"{day}T14:00:03.120000+00:00",
                        }
                    ],
                }
            ]
        },
        "orchestration_decision_details": {"source": "test"},
    }
    body.update(overrides)
    return body


def post_note(stack: StandIn, body: Any) -> requests.Response:
    return call("POST", f"{stack.url('chronicle')}/v1/notes/daily_scrum_report", json=body)


def get_notes(stack: StandIn, **params: str) -> requests.Response:
    return call("GET", f"{stack.url('chronicle')}/v1/notes/daily_scrum_report", params=params)


def run_simulation(stack: StandIn, sprint_id: str = SPRINT) -> requests.Response:
    return call("POST", f"{stack.url('daily-scrum')}/scrums/{sprint_id}/run")


def error_locs(answer: requests.Response) -> list[list[Any]]:
    """The `loc` of every error of a FastAPI 422 answer, after checking the answer's shape."""
    assert answer.status_code == 422, answer.text
    detail = answer.json()["detail"]
    assert isinstance(detail, list) and detail
    for item in detail:
        assert set(item) >= {"loc", "msg", "type"}
        assert isinstance(item["msg"], str) and isinstance(item["type"], str)
    return [item["loc"] for item in detail]


# --- the command -----------------------------------------------------------------------------------
def start_command(*args: str, env: dict[str, str] | None = None) -> tuple[subprocess.Popen[str], list[str]]:
    process = subprocess.Popen(
        [sys.executable, "-m", "workflows.standin", *args],
        cwd=REPO_ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env=env,
    )
    assert process.stdout is not None
    lines = [process.stdout.readline().rstrip("\n") for _ in range(5)]
    return process, lines


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_command_prints_the_four_urls_then_ready_and_exits_0_on_signal(tmp_path: Path, signum: int) -> None:
    env = {**os.environ, "TMPDIR": str(tmp_path)}  # the default database must go away at exit
    process, lines = start_command(env=env)
    try:
        names = [
            "DAILY_SCRUM_SERVICE_URL",
            "SPRINT_SERVICE_URL",
            "PROJECT_SERVICE_URL",
            "CHRONICLE_SERVICE_URL",
        ]
        assert [line.partition("=")[0] for line in lines[:4]] == names
        assert lines[4] == "READY"
        urls = [line.partition("=")[2] for line in lines[:4]]
        assert all(re.fullmatch(r"http://127\.0\.0\.1:\d+", url) for url in urls)
        assert len(set(urls)) == 4
        for url in urls:
            assert call("GET", f"{url}/health").json() == {"status": "ok"}
        assert any(tmp_path.iterdir())  # the temporary database exists while serving
    finally:
        process.send_signal(signum)
        code = process.wait(10)
    assert code == 0
    assert list(tmp_path.iterdir()) == []


def test_a_database_given_with_db_keeps_its_notes_across_restarts(tmp_path: Path) -> None:
    db = tmp_path / "stand-in.sqlite"
    with StandIn.start(db) as first:
        assert post_note(first, note()).status_code == 201
    with StandIn.start(db) as second:
        assert len(second.notes(project_id="GEM-001")) == 1
        assert len(tasks_of(second)) == 10
    assert db.exists()


def test_start_fails_clearly_when_the_command_cannot_start(tmp_path: Path) -> None:
    with pytest.raises(StandInError, match="before READY"):
        StandIn.start(tmp_path / "no-such-dir" / "db.sqlite", timeout=20)


# --- every service -----------------------------------------------------------------------------------
@pytest.mark.parametrize("service", list(SERVICES))
def test_health_and_fastapi_404_405(stack: StandIn, service: str) -> None:
    assert call("GET", f"{stack.url(service)}/health").json() == {"status": "ok"}
    missing = call("GET", f"{stack.url(service)}/no/such/route")
    assert (missing.status_code, missing.json()) == (404, {"detail": "Not Found"})
    wrong_method = call("DELETE", f"{stack.url(service)}/health")
    assert (wrong_method.status_code, wrong_method.json()) == (405, {"detail": "Method Not Allowed"})


def test_client_urls_env_and_url(stack: StandIn) -> None:
    assert set(stack.urls) == set(SERVICES.values())
    env = stack.env()
    for service, name in SERVICES.items():
        assert env[name] == stack.url(service) == stack.urls[name]
    assert env.get("PATH") == os.environ.get("PATH")
    with pytest.raises(ValueError, match="unknown service"):
        stack.url("backlog")


# --- sprint-service ----------------------------------------------------------------------------------
def test_sprint_tasks_are_the_seed(stack: StandIn) -> None:
    tasks = tasks_of(stack)
    assert list(tasks) == [f"GEM-001-TASK{i:03d}" for i in range(1, 11)]
    for task in tasks.values():
        assert set(task) == {"task_id", "title", "status", "sprint_id", "progress_percentage", "assigned_to"}
        assert task["sprint_id"] == SPRINT
        assert task["status"] in {"assigned_to_sprint", "in_progress", "completed"}
        assert 0 <= task["progress_percentage"] <= 100
    assert tasks["GEM-001-TASK001"]["status"] == "completed"
    assert tasks["GEM-001-TASK001"]["progress_percentage"] == 100
    assert tasks["GEM-001-TASK002"]["status"] == "in_progress"
    assert tasks["GEM-001-TASK002"]["progress_percentage"] == 100
    assert [t["task_id"] for t in tasks.values() if t["assigned_to"] is None] == ["GEM-001-TASK009"]
    assert {t["assigned_to"] for t in tasks.values()} - {None} == {"alice", "bob", "carol", "dave", "erin"}
    assert any(t["progress_percentage"] == 0 for t in tasks.values())
    assert len(tasks_of(stack, "GEM-002-S01")) == 4


def test_tasks_of_an_unknown_sprint_are_an_empty_list(stack: StandIn) -> None:
    assert tasks_of(stack, "GEM-404-S01") == {}
    assert tasks_of(stack, "GEM-001-S02") == {}


def test_task_summary_counts_progress_100_as_completed(stack: StandIn) -> None:
    base = stack.url("sprint")
    answer = call("GET", f"{base}/sprints/{SPRINT}/task-summary")
    # TASK001 (completed) and TASK002 (in_progress at 100) both count as completed
    assert answer.json() == {"total_tasks": 10, "completed_tasks": 2, "pending_tasks": 8}
    empty = call("GET", f"{base}/sprints/GEM-001-S02/task-summary")
    assert empty.json() == {"total_tasks": 0, "completed_tasks": 0, "pending_tasks": 0}
    unknown = call("GET", f"{base}/sprints/GEM-404-S01/task-summary")
    assert unknown.status_code == 404
    assert isinstance(unknown.json()["detail"], str)


@pytest.mark.parametrize(
    ("project_id", "status", "sprint_id"),
    [
        ("GEM-001", 200, SPRINT),
        ("GEM-002", 200, "GEM-002-S01"),
        ("GEM-003", 404, None),
        ("GEM-404", 404, None),
    ],
)
def test_active_sprint(stack: StandIn, project_id: str, status: int, sprint_id: str | None) -> None:
    answer = call("GET", f"{stack.url('sprint')}/sprints/active/{project_id}")
    assert answer.status_code == status
    assert answer.json() == ({"sprint_id": sprint_id} if sprint_id else {"detail": answer.json()["detail"]})


def test_one_sprint_with_its_tasks_or_404(stack: StandIn) -> None:
    answer = call("GET", f"{stack.url('sprint')}/sprints/{SPRINT}").json()
    assert answer["sprint"] == dict(
        zip(
            ("sprint_id", "project_id", "sprint_name", "start_date", "end_date", "duration_weeks", "status"),
            seed.SPRINTS[0],
            strict=True,
        )
    )
    assert [t["task_id"] for t in answer["tasks"]] == list(tasks_of(stack))
    unknown = call("GET", f"{stack.url('sprint')}/sprints/GEM-404-S01")
    assert (unknown.status_code, unknown.json()) == (404, {"detail": "Sprint GEM-404-S01 not found."})


def test_sprints_by_project(stack: StandIn) -> None:
    answer = call("GET", f"{stack.url('sprint')}/sprints/by-project/GEM-001").json()
    assert [s["sprint_id"] for s in answer] == [SPRINT, "GEM-001-S02"]
    fields = {"sprint_id", "project_id", "sprint_name", "start_date", "end_date", "duration_weeks", "status"}
    assert all(set(s) == fields for s in answer)
    assert answer[0]["status"] == seed.SPRINT_ACTIVE != answer[1]["status"]
    assert call("GET", f"{stack.url('sprint')}/sprints/by-project/GEM-404").json() == []


def test_progress_update_keeps_the_status_unless_given(stack: StandIn) -> None:
    base = stack.url("sprint")
    answer = call("POST", f"{base}/tasks/GEM-001-TASK004/progress", json={"progress_percentage": 100})
    assert answer.status_code == 200 and "message" in answer.json()
    task = tasks_of(stack)["GEM-001-TASK004"]
    assert (task["progress_percentage"], task["status"]) == (100, "assigned_to_sprint")
    call(
        "POST",
        f"{base}/tasks/GEM-001-TASK004/progress",
        json={"progress_percentage": 50, "status": "in_progress"},
    )
    task = tasks_of(stack)["GEM-001-TASK004"]
    assert (task["progress_percentage"], task["status"]) == (50, "in_progress")
    unknown = call("POST", f"{base}/tasks/GEM-404-TASK001/progress", json={"progress_percentage": 5})
    assert unknown.status_code == 404


@pytest.mark.parametrize(
    ("body", "loc"),
    [
        ({}, ["body", "progress_percentage"]),
        ({"progress_percentage": "lots"}, ["body", "progress_percentage"]),
        ({"progress_percentage": 101}, ["body", "progress_percentage"]),
        ({"progress_percentage": 5, "status": 7}, ["body", "status"]),
        ([], ["body"]),
    ],
)
def test_progress_update_refuses_bad_bodies_with_422(stack: StandIn, body: Any, loc: list[Any]) -> None:
    answer = call("POST", f"{stack.url('sprint')}/tasks/GEM-001-TASK004/progress", json=body)
    assert error_locs(answer) == [loc]
    assert tasks_of(stack)["GEM-001-TASK004"]["progress_percentage"] == 0


def test_progress_update_refuses_invalid_json_and_no_body(stack: StandIn) -> None:
    url = f"{stack.url('sprint')}/tasks/GEM-001-TASK004/progress"
    assert (
        error_locs(call("POST", url, data=b"{not json", headers={"Content-Type": "application/json"}))[0][0]
        == "body"
    )
    assert error_locs(call("POST", url)) == [["body"]]
    not_utf8 = call("POST", url, data=b"\xff{", headers={"Content-Type": "application/json"})
    assert (not_utf8.status_code, not_utf8.json()) == (400, {"detail": "There was an error parsing the body"})


# --- project-service ---------------------------------------------------------------------------------
def test_team_members(stack: StandIn) -> None:
    answer = call("GET", f"{stack.url('project')}/projects/GEM-001/team-members").json()
    assert answer["project_id"] == "GEM-001"
    assert [m["id"] for m in answer["team_members"]] == ["alice", "bob", "carol", "dave", "erin"]
    for member in answer["team_members"]:
        assert set(member) == {"id", "name", "gender", "state", "age"}
        assert isinstance(member["age"], int)
    assert (
        len(call("GET", f"{stack.url('project')}/projects/GEM-002/team-members").json()["team_members"]) == 3
    )
    assert (
        len(call("GET", f"{stack.url('project')}/projects/GEM-003/team-members").json()["team_members"]) == 2
    )
    unknown = call("GET", f"{stack.url('project')}/projects/GEM-404/team-members")
    assert (unknown.status_code, unknown.json()) == (200, {"project_id": "GEM-404", "team_members": []})


def test_project_and_its_500_for_an_unknown_project(stack: StandIn) -> None:
    known = call("GET", f"{stack.url('project')}/projects/GEM-001")
    assert known.json() == dict(zip(("id", "name", "description", "status"), seed.PROJECTS[0], strict=True))
    unknown = call("GET", f"{stack.url('project')}/projects/GEM-404")  # not 404, as in production
    assert (unknown.status_code, unknown.json()) == (500, {"detail": "Database operation failed."})


# --- daily-scrum-service -----------------------------------------------------------------------------
def check_simulation(
    before: dict[str, dict[str, Any]], after: dict[str, dict[str, Any]], answer: Any
) -> None:
    """Every non-completed task moved by the reported 5-35 points (capped), nothing else changed."""
    expected_ids = [t for t, task in before.items() if task["status"] != "completed"]
    assert [u["task_id"] for u in answer["updates"]] == expected_ids
    assert answer["tasks_updated_count"] == len(expected_ids)
    for update in answer["updates"]:
        old, new = before[update["task_id"]], after[update["task_id"]]
        made = int(update["progress_made"].removesuffix("%"))
        assert 5 <= made <= 35
        assert update["new_status"] == f"{new['progress_percentage']}%"
        assert new["progress_percentage"] == min(100, old["progress_percentage"] + made)
        assert new["status"] == old["status"]  # a progress update leaves the status as it was
    for task_id in before.keys() - set(expected_ids):
        assert after[task_id] == before[task_id]


def test_simulation_moves_progress_through_the_sprint_service(stack: StandIn) -> None:
    before = tasks_of(stack)
    stack.clear_requests("sprint")
    answer = run_simulation(stack)
    assert answer.status_code == 200
    body = answer.json()
    assert body["message"] == f"Daily scrum simulation completed for sprint {SPRINT}"
    # TASK001 is completed (skipped); TASK002 is in_progress at 100 (not skipped, stays at 100)
    assert "GEM-001-TASK002" in [u["task_id"] for u in body["updates"]]
    check_simulation(before, tasks_of(stack), body)
    calls = [(r["method"], r["path"], r["status"]) for r in stack.requests("sprint")]
    assert calls[0] == ("GET", f"/sprints/{SPRINT}/tasks", 200)
    assert calls[1:-1] == [("POST", f"/tasks/{u['task_id']}/progress", 200) for u in body["updates"]]
    assert stack.requests("daily-scrum") == [
        {**stack.requests("daily-scrum")[0], "method": "POST", "path": f"/scrums/{SPRINT}/run", "status": 200}
    ]


def test_simulation_is_not_idempotent(stack: StandIn) -> None:
    first = run_simulation(stack).json()
    middle = tasks_of(stack)
    second = run_simulation(stack).json()
    check_simulation(middle, tasks_of(stack), second)
    assert second["tasks_updated_count"] == first["tasks_updated_count"] == 9
    assert len(stack.requests("sprint", method="POST", path_prefix="/tasks/")) == 18
    moved = [u for u in second["updates"] if middle[u["task_id"]]["progress_percentage"] < 100]
    assert moved and all(tasks_of(stack)[u["task_id"]]["progress_percentage"] > 0 for u in moved)


@pytest.mark.parametrize("sprint_id", ["GEM-001-S02", "GEM-404-S01"])
def test_simulation_of_a_sprint_without_tasks(stack: StandIn, sprint_id: str) -> None:
    answer = run_simulation(stack, sprint_id)
    assert (answer.status_code, answer.json()) == (
        200,
        {"message": "No tasks found for sprint.", "tasks_updated_count": 0, "updates": []},
    )


def test_simulation_answers_500_when_the_sprint_service_is_down(stack: StandIn) -> None:
    stack.down("sprint")
    answer = run_simulation(stack)
    assert answer.status_code == 500
    assert "detail" in answer.json()


@pytest.mark.parametrize("kind", ["status", "malformed", "drop", "wrong_shape"])
def test_simulation_answers_500_when_reading_the_tasks_fails(stack: StandIn, kind: str) -> None:
    before = tasks_of(stack)
    stack.fault("sprint", kind, path="/sprints/")
    assert run_simulation(stack).status_code == 500
    assert tasks_of(stack) == before


def test_failed_task_writes_are_swallowed_like_the_deployed_defect(stack: StandIn) -> None:
    before = tasks_of(stack)
    stack.fault("sprint", "status", count=9, method="POST", path="/tasks/")
    answer = run_simulation(stack)
    assert (answer.status_code, answer.json()["tasks_updated_count"], answer.json()["updates"]) == (
        200,
        0,
        [],
    )
    assert tasks_of(stack) == before


# --- chronicle-service -------------------------------------------------------------------------------
def test_every_post_stores_a_new_note(stack: StandIn) -> None:
    first, second = post_note(stack, note()), post_note(stack, note())
    for answer in (first, second):
        assert answer.status_code == 201
        assert answer.json()["message"] == "Daily scrum report recorded successfully"
        uuid.UUID(answer.json()["note_id"], version=4)
    assert first.json()["note_id"] != second.json()["note_id"]
    stored = stack.notes(project_id="GEM-001", sprint_id=SPRINT, daily_scrum_date="2025-08-30")
    assert [n["note_id"] for n in stored] == [first.json()["note_id"], second.json()["note_id"]]
    task = stored[0]["reports"]["2025-08-30"][0]["tasks"][0]
    assert task["created_at"] == "2025-08-30T14:00:03.120000Z"  # pydantic's datetime serialization


@pytest.mark.parametrize(
    ("body", "locs"),
    [
        ({k: v for k, v in note().items() if k != "reports"}, [["body", "reports"]]),
        ({k: v for k, v in note().items() if k != "project_id"}, [["body", "project_id"]]),
        (  # the old flat shape
            {
                "project_id": "GEM-001",
                "sprint_id": SPRINT,
                "report_date": "2025-08-30",
                "employee_id": "alice",
                "yesterday_work": "x",
                "today_work": "y",
                "impediments": "z",
            },
            [["body", "reports"]],
        ),
        (note(project_id=1), [["body", "project_id"]]),
        (note(sprint_id=["GEM-001-S01"]), [["body", "sprint_id"]]),
        (note(report_date="30/08/2025"), [["body", "report_date"]]),
        (note(summary=3), [["body", "summary"]]),
        (note(summary_metrics={"total_team_members": "five"}), None),
        (note(reports=["2025-08-30"]), [["body", "reports"]]),
        (note(reports={"2025-08-30": {"assigned_to": "alice"}}), [["body", "reports", "2025-08-30"]]),
        (
            note(reports={"2025-08-30": [{"assigned_to": "alice"}]}),
            [["body", "reports", "2025-08-30", 0, "tasks"]],
        ),
        (
            note(reports={"2025-08-30": [{"assigned_to": 7, "tasks": []}]}),
            [["body", "reports", "2025-08-30", 0, "assigned_to"]],
        ),
        (
            note(reports={"2025-08-30": [{"assigned_to": "alice", "tasks": [{"id": "T1"}]}]}),
            [["body", "reports", "2025-08-30", 0, "tasks", 0, "created_at"]],
        ),
        (
            note(reports={"2025-08-30": [{"tasks": [{"id": "T1", "today_work": 5, "created_at": "soon"}]}]}),
            [
                ["body", "reports", "2025-08-30", 0, "tasks", 0, "today_work"],
                ["body", "reports", "2025-08-30", 0, "tasks", 0, "created_at"],
            ],
        ),
        (note(orchestration_decision_details="yes"), [["body", "orchestration_decision_details"]]),
        ([note()], [["body"]]),
    ],
)
def test_note_validation_answers_fastapi_422(stack: StandIn, body: Any, locs: list[list[Any]] | None) -> None:
    found = error_locs(post_note(stack, body))
    if locs is None:  # summary_metrics: a bad int and three missing fields, all reported at once
        assert sorted(map(str, found)) == sorted(
            str(["body", "summary_metrics", name])
            for name in ("total_team_members", "total_tasks", "completed_tasks", "pending_tasks")
        )
    else:
        assert found == locs
    assert get_notes(stack).status_code == 404  # nothing stored


def test_note_accepts_employee_id_and_minimal_bodies(stack: StandIn) -> None:
    minimal = {
        "project_id": "GEM-002",
        "reports": {
            "2025-09-01": [{"employee_id": "frank", "tasks": [{"id": "T", "created_at": "2025-09-01"}]}]
        },
    }
    assert post_note(stack, minimal).status_code == 201
    [stored] = stack.notes(project_id="GEM-002")
    assert stored["reports"]["2025-09-01"][0]["employee_id"] == "frank"
    assert stored["sprint_id"] is None and stored["summary_metrics"] is None


INTERNAL_SERVER_ERROR = (500, "text/plain; charset=utf-8", "Internal Server Error")


def plain(answer: requests.Response) -> tuple[int, str, str]:
    return answer.status_code, answer.headers["Content-Type"], answer.text


def test_get_of_a_stored_day_is_500_its_deployed_defect(stack: StandIn) -> None:
    day = {"project_id": "GEM-001", "sprint_id": SPRINT, "daily_scrum_date": "2025-08-30"}
    assert get_notes(stack, **day).status_code == 404
    post_note(stack, note())
    assert plain(get_notes(stack, **day)) == INTERNAL_SERVER_ERROR
    assert plain(get_notes(stack, sprint_id=SPRINT)) == INTERNAL_SERVER_ERROR  # sprint-wide: too
    assert plain(get_notes(stack)) == INTERNAL_SERVER_ERROR
    assert get_notes(stack, **{**day, "daily_scrum_date": "2025-08-31"}).status_code == 404  # no match


def test_get_reads_back_only_notes_stored_with_empty_reports(stack: StandIn) -> None:
    post_note(stack, note(reports={}))
    post_note(stack, note(summary=None, summary_metrics=None, reports={}))
    merged = get_notes(stack, sprint_id=SPRINT, daily_scrum_date="2025-08-30")
    assert merged.status_code == 200
    assert merged.json() == {  # the most recent note's scalars
        "project_id": "GEM-001",
        "sprint_id": SPRINT,
        "created_at": stack.notes()[-1]["created_at"],
        "summary": "No Holiday or PTO reported for this daily stand-up",
        "summary_metrics": None,
        "reports": {},
    }
    post_note(stack, note())  # one note with a report among them: the whole GET fails
    assert plain(get_notes(stack, sprint_id=SPRINT)) == INTERNAL_SERVER_ERROR


def test_filters_are_anded_and_match_a_date_by_key_or_report_date(stack: StandIn) -> None:
    post_note(stack, note())  # report_date 2025-08-30, reports key 2025-08-30
    post_note(stack, note(report_date="2025-09-02"))  # key 2025-08-30, report_date 2025-09-02
    post_note(stack, note("2025-09-01", project_id="GEM-002", sprint_id="GEM-002-S01"))
    assert len(stack.notes()) == 3
    assert len(stack.notes(daily_scrum_date="2025-08-30")) == 2
    assert len(stack.notes(daily_scrum_date="2025-09-02")) == 1
    assert [n["sprint_id"] for n in stack.notes(project_id="GEM-002")] == ["GEM-002-S01"]
    one_day = {"project_id": "GEM-002", "sprint_id": "GEM-002-S01", "daily_scrum_date": "2025-09-01"}
    assert get_notes(stack, **one_day).status_code == 500
    for params in (
        {"project_id": "GEM-002", "sprint_id": SPRINT},
        {"project_id": "GEM-001", "daily_scrum_date": "2025-09-01"},
        {"sprint_id": "GEM-404-S01"},
        {"daily_scrum_date": "2025-08-29"},
    ):
        assert stack.notes(**params) == [], params
        answer = get_notes(stack, **params)
        assert (answer.status_code, answer.json()) == (
            404,
            {"detail": "No daily scrum reports found for the given criteria."},
        ), params


def test_get_with_a_bad_date_is_422(stack: StandIn) -> None:
    assert error_locs(get_notes(stack, daily_scrum_date="yesterday")) == [["query", "daily_scrum_date"]]
    admin = call("GET", f"{stack.url('sprint')}/_stand-in/notes", params={"daily_scrum_date": "x"})
    assert error_locs(admin) == [["query", "daily_scrum_date"]]


FLEET = 50  # projects of a fleet run, all at once


def test_a_fleet_of_concurrent_writers_all_succeed(stack: StandIn) -> None:
    """50 runs at once: each simulates (progress writes through the sprint-service), fetches and
    stores its note, every writer on the one SQLite file; none may fail or wait for a SYN retry."""

    def one_run(i: int) -> list[int]:
        simulated = run_simulation(stack, "GEM-002-S01" if i % 2 else SPRINT)
        summary = call("GET", f"{stack.url('sprint')}/sprints/{SPRINT}/task-summary")
        stored = post_note(stack, note(project_id=f"FLEET-{i:03d}"))
        return [simulated.status_code, summary.status_code, stored.status_code]

    started = time.monotonic()
    with ThreadPoolExecutor(FLEET) as pool:
        answers = list(pool.map(one_run, range(FLEET)))
    assert answers == [[200, 200, 201]] * FLEET
    assert len(stack.notes()) == FLEET
    writes = stack.requests("sprint", method="POST")
    assert writes and {w["status"] for w in writes} == {200}  # no write lost to a locked database
    assert time.monotonic() - started < 30


def test_concurrent_posts_are_all_stored(stack: StandIn) -> None:
    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(lambda i: post_note(stack, note(summary=f"n{i}")), range(24)))
    assert [a.status_code for a in answers] == [201] * 24
    assert len(stack.notes()) == 24


# --- fault injection ---------------------------------------------------------------------------------
def test_status_fault_hits_the_next_n_matching_requests(stack: StandIn) -> None:
    base = stack.url("sprint")
    stack.fault("sprint", "status", count=2, status=503, path="/sprints/", method="GET")
    assert call("GET", f"{base}/health").status_code == 200  # path filter
    assert call(
        "POST", f"{base}/tasks/GEM-001-TASK004/progress", json={"progress_percentage": 1}
    ).ok  # method
    first = call("GET", f"{base}/sprints/{SPRINT}/tasks")
    assert (first.status_code, first.json()) == (503, {"detail": "Injected fault: status 503"})
    assert call("GET", f"{base}/sprints/{SPRINT}/task-summary").status_code == 503
    assert call("GET", f"{base}/sprints/{SPRINT}/tasks").status_code == 200
    assert [r["status"] for r in stack.requests("sprint")] == [200, 200, 503, 503, 200]


def test_a_fault_can_let_the_first_matching_requests_through(stack: StandIn) -> None:
    team = f"{stack.url('project')}/projects/GEM-001/team-members"
    stack.fault("project", "status", count=2, status=502, skip=1, path="/projects/")
    assert [call("GET", team).status_code for _ in range(4)] == [200, 502, 502, 200]


def test_a_status_fault_can_carry_retry_after(stack: StandIn) -> None:
    stack.fault("sprint", "status", status=503, retry_after=120)
    answer = call("GET", f"{stack.url('sprint')}/sprints/{SPRINT}/tasks")
    assert (answer.status_code, answer.headers["Retry-After"]) == (503, "120")
    assert "Retry-After" not in call("GET", f"{stack.url('sprint')}/health").headers


def test_answer_fault_answers_the_given_status_and_json(stack: StandIn) -> None:
    stack.fault("sprint", "answer", status=200, body={"sprint_id": "../x"}, path="/sprints/active/")
    answer = call("GET", f"{stack.url('sprint')}/sprints/active/GEM-001")
    assert (answer.status_code, answer.json()) == (200, {"sprint_id": "../x"})
    assert call("GET", f"{stack.url('sprint')}/sprints/active/GEM-001").json() == {"sprint_id": SPRINT}


def test_status_fault_defaults_to_one_500(stack: StandIn) -> None:
    fault = stack.fault("project", "status")
    assert (fault["status"], fault["remaining"]) == (500, 1)
    assert stack.faults("project") == [fault]
    assert call("GET", f"{stack.url('project')}/projects/GEM-001/team-members").status_code == 500
    assert stack.faults("project") == []
    assert call("GET", f"{stack.url('project')}/projects/GEM-001/team-members").status_code == 200


def test_delay_fault_sleeps_then_answers_normally(stack: StandIn) -> None:
    stack.fault("project", "delay", seconds=0.6)
    started = time.monotonic()
    answer = call("GET", f"{stack.url('project')}/projects/GEM-001/team-members")
    assert time.monotonic() - started >= 0.6
    assert answer.status_code == 200 and len(answer.json()["team_members"]) == 5
    stack.fault("project", "delay", seconds=2)
    with pytest.raises(requests.Timeout):
        call("GET", f"{stack.url('project')}/health", timeout=0.3)


def test_delay_fault_acts_at_once_and_answers_late(stack: StandIn) -> None:
    """A lost answer's note is stored before the client gives up, not later (in the next test's reset)."""
    stack.fault("chronicle", "delay", seconds=1.5, method="POST")
    with pytest.raises(requests.Timeout):
        call("POST", f"{stack.url('chronicle')}/v1/notes/daily_scrum_report", json=note(), timeout=0.5)
    assert len(stack.notes()) == 1


def test_malformed_fault_answers_200_with_invalid_json(stack: StandIn) -> None:
    stack.fault("chronicle", "malformed")
    answer = post_note(stack, note())
    assert answer.status_code == 200
    assert answer.headers["Content-Type"] == "application/json"
    with pytest.raises(requests.JSONDecodeError):
        answer.json()
    assert get_notes(stack).status_code == 404  # the faulted request was not served


def test_drop_fault_closes_the_connection_without_an_answer(stack: StandIn) -> None:
    stack.fault("daily-scrum", "drop")
    with pytest.raises(requests.ConnectionError):
        run_simulation(stack)
    assert stack.requests("daily-scrum")[0]["status"] is None
    assert stack.requests("sprint") == []  # nothing was simulated
    assert run_simulation(stack).status_code == 200


def test_wrong_shape_fault_answers_valid_json_of_the_wrong_shape(stack: StandIn) -> None:
    stack.fault("sprint", "wrong_shape")
    answer = call("GET", f"{stack.url('sprint')}/sprints/{SPRINT}/tasks")
    assert (answer.status_code, answer.json()) == (200, {"unexpected": True})


def test_admin_routes_are_neither_logged_nor_faulted(stack: StandIn) -> None:
    base = stack.url("chronicle")
    stack.fault("chronicle", "status", count=5)
    assert call("GET", f"{base}/_stand-in/faults").json()[0]["remaining"] == 5
    assert call("GET", f"{base}/_stand-in/requests").json() == []
    assert call("DELETE", f"{base}/_stand-in/faults").status_code == 200
    assert call("GET", f"{base}/health").status_code == 200
    assert [r["path"] for r in call("GET", f"{base}/_stand-in/requests").json()] == ["/health"]


def test_admin_short_forms_and_validation(stack: StandIn) -> None:
    base = stack.url("project")
    created = call(
        "POST", f"{base}/_stand-in/faults", json={"kind": "status", "status": 418, "path": "/health"}
    )
    assert created.status_code == 201 and created.json()["service"] == "project"
    assert call("GET", f"{base}/health").status_code == 418
    assert error_locs(call("POST", f"{base}/_stand-in/faults", json={"kind": "explode"})) == [
        ["body", "kind"]
    ]
    assert error_locs(call("POST", f"{base}/_stand-in/faults", json={"kind": "delay", "second": 1})) == [
        ["body", "second"]
    ]
    assert error_locs(call("POST", f"{base}/_stand-in/faults", json={"kind": "drop", "count": 0})) == [
        ["body", "count"]
    ]
    assert call("POST", f"{base}/_stand-in/services/backlog/faults", json={"kind": "drop"}).status_code == 404
    with pytest.raises(StandInError, match="422"):
        stack.fault("project", "status", status=99)


def test_clear_faults_of_one_or_all_services(stack: StandIn) -> None:
    for service in SERVICES:
        stack.fault(service, "status", count=3)
    stack.clear_faults("sprint")
    assert stack.faults("sprint") == [] and stack.faults("project") != []
    stack.clear_faults()
    assert all(stack.faults(service) == [] for service in SERVICES)
    assert all(call("GET", f"{stack.url(s)}/health").ok for s in SERVICES)


def test_request_log_filters(stack: StandIn) -> None:
    base = stack.url("chronicle")
    post_note(stack, note())
    get_notes(stack, project_id="GEM-001")
    call("GET", f"{base}/health")
    log = stack.requests("chronicle")
    assert [(r["method"], r["path"]) for r in log] == [
        ("POST", "/v1/notes/daily_scrum_report"),
        ("GET", "/v1/notes/daily_scrum_report"),
        ("GET", "/health"),
    ]
    assert log[1]["query"] == {"project_id": "GEM-001"} and log[1]["status"] == 500  # the read defect
    assert all(set(r) == {"method", "path", "query", "status", "at"} for r in log)
    assert len(stack.requests("chronicle", method="get")) == 2
    assert len(stack.requests("chronicle", path_prefix="/v1/")) == 2
    assert stack.requests("chronicle", method="POST", path_prefix="/health") == []


# --- down / up / reset -------------------------------------------------------------------------------
def test_down_refuses_connections_and_up_reopens_the_same_port(stack: StandIn) -> None:
    url = stack.url("project")
    with requests.Session() as session:  # a kept-alive connection must not survive down()
        session.trust_env = False
        assert session.get(f"{url}/health", timeout=TIMEOUT).ok
        stack.down("project")
        assert stack.states()["project"] == {"url": url, "up": False}
        with pytest.raises(requests.ConnectionError):
            session.get(f"{url}/health", timeout=TIMEOUT)
    with pytest.raises(requests.ConnectionError, match=r"(?i)refused"):
        call("GET", f"{url}/health")
    stack.fault("project", "status", status=502)  # queued through another service while down
    stack.up("project")
    assert stack.url("project") == url
    assert call("GET", f"{url}/health").status_code == 502
    assert call("GET", f"{url}/health").status_code == 200


def test_a_service_can_be_taken_down_and_up_twice(stack: StandIn) -> None:
    for _ in range(2):
        stack.stop_service("chronicle")
        with pytest.raises(requests.ConnectionError):
            get_notes(stack)
        stack.start_service("chronicle")
        assert get_notes(stack).status_code == 404


def test_admin_down_through_the_service_itself_answers_then_closes(stack: StandIn) -> None:
    url = stack.url("sprint")
    answer = call("POST", f"{url}/_stand-in/services/sprint/down")
    assert answer.json() == {"service": "sprint", "up": False, "url": url}
    deadline = time.monotonic() + 5
    while True:  # the socket closes right after the answer
        try:
            call("GET", f"{url}/health", timeout=1)
        except requests.ConnectionError:
            break
        assert time.monotonic() < deadline, "still listening after down"
        time.sleep(0.02)
    assert call("POST", f"{stack.url('project')}/_stand-in/services/sprint/up").json()["up"] is True
    assert call("GET", f"{url}/health").ok


def test_the_last_service_up_stays_up(stack: StandIn) -> None:
    for service in ["daily-scrum", "sprint", "project"]:
        stack.down(service)
    with pytest.raises(StandInError, match="last service"):
        stack.down("chronicle")
    stack.up("sprint")
    assert stack.states()["sprint"]["up"]


def test_reset_restores_the_seed_and_clears_everything(stack: StandIn) -> None:
    seeded = tasks_of(stack)
    run_simulation(stack)
    post_note(stack, note())
    stack.fault("project", "status", count=10)
    stack.down("chronicle")
    stack.down("daily-scrum")
    stack.reset()
    assert tasks_of(stack) == seeded
    assert all(state["up"] for state in stack.states().values())
    assert get_notes(stack).status_code == 404
    assert all(stack.faults(service) == [] for service in SERVICES)
    assert call("GET", f"{stack.url('project')}/health").ok
    assert [r["path"] for r in stack.requests("sprint")] == [f"/sprints/{SPRINT}/tasks"]
    assert stack.requests("daily-scrum") == []


def test_reset_keeps_the_fleet_it_was_started_with() -> None:
    with StandIn.start(fleet=2) as fleet:
        last = seed.fleet_project_id(2)
        sprint = f"{last}-S01"
        run_simulation(fleet, sprint)
        for _ in range(2):  # as started, then after a reset: the seed, the fleet, nothing more
            fleet.reset()
            assert call("GET", f"{fleet.url('project')}/projects/{last}").status_code == 200
            assert call("GET", f"{fleet.url('sprint')}/sprints/active/{last}").json() == {"sprint_id": sprint}
            assert [t["progress_percentage"] for t in tasks_of(fleet, sprint).values()] == [100, 40, 0, 0]
            assert call("GET", f"{fleet.url('project')}/projects/FLEET-0003").status_code == 500
            assert len(tasks_of(fleet)) == 10



def test_sprints_to_today_moves_every_sprint_to_this_week_and_reset_keeps_it() -> None:
    """make run's stand-in: the active sprints run from Monday of this week to Friday of the next
    (whole weeks, so the other sprints keep their places around them)."""
    today = dt.datetime.now(dt.UTC).date()
    monday = today - dt.timedelta(days=today.weekday())
    active = (monday.isoformat(), (monday + dt.timedelta(days=11)).isoformat())
    with StandIn.start(fleet=1, sprints_to_today=True) as moved:
        for _ in range(2):  # as started, then after a reset
            for project in ("GEM-001", seed.fleet_project_id(1)):
                current = {s["status"]: s for s in sprints_of(moved, project)}[seed.SPRINT_ACTIVE]
                assert (current["start_date"], current["end_date"]) == active
            planned = sprints_of(moved, "GEM-001")[1]  # the next one, two weeks on
            assert planned["start_date"] == (monday + dt.timedelta(days=14)).isoformat()
            moved.reset()


def sprints_of(stand_in: StandIn, project: str) -> list[dict[str, Any]]:
    return call("GET", f"{stand_in.url('sprint')}/sprints/by-project/{project}").json()

"""fetch-tasks, fetch-summary, fetch-team as subprocesses against the stand-in services."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import requests

from steps import contract
from tests.steps.runner import BAD_IDS, run

SPRINT = "GEM-001-S01"
PROJECT = "GEM-001"

# step -> (service in the stand-in, path the step GETs, env it needs)
CASES: dict[str, tuple[contract.StepSpec, str, str, dict[str, str]]] = {
    "tasks": (contract.FETCH_TASKS, "sprint", f"/sprints/{SPRINT}/tasks", {"SPRINT_ID": SPRINT}),
    "summary": (contract.FETCH_SUMMARY, "sprint", f"/sprints/{SPRINT}/task-summary", {"SPRINT_ID": SPRINT}),
    "team": (contract.FETCH_TEAM, "project", f"/projects/{PROJECT}/team-members", {"PROJECT_ID": PROJECT}),
}
URL_ENV = {"sprint": "SPRINT_SERVICE_URL", "project": "PROJECT_SERVICE_URL"}


def _direct(stack: Any, service: str, path: str) -> Any:
    answer = requests.get(stack.env()[URL_ENV[service]] + path, timeout=10)
    answer.raise_for_status()
    return answer.json()


def _gets(stack: Any, service: str, path: str) -> int:
    return len(stack.requests(service, method="GET", path_prefix=path))


@pytest.mark.parametrize("artifact", CASES)
def test_happy_path_writes_the_answer_as_is(stack: Any, tmp_path: Path, artifact: str) -> None:
    spec, service, path, env = CASES[artifact]
    ran = run(spec, stack.env(), tmp_path, env, in_subprocess=True)  # as its container runs it
    assert ran.code == 0, ran
    assert ran.artifact(artifact) == _direct(stack, service, path)
    assert ran.written() == sorted([contract.ARTIFACT_FILES[artifact], *spec.output_parameters])
    assert " INFO  " in ran.stderr and ran.stdout == ""


def test_happy_path_params(stack: Any, tmp_path: Path) -> None:
    tasks = run(contract.FETCH_TASKS, stack.env(), tmp_path / "t", {"SPRINT_ID": SPRINT})
    assert tasks.params() == {"task_count": "10"}
    assert "Fetching tasks for sprint GEM-001-S01..." in tasks.stderr
    summary = run(contract.FETCH_SUMMARY, stack.env(), tmp_path / "s", {"SPRINT_ID": SPRINT})
    expected = summary.artifact("summary")
    assert summary.params() == {key: str(value) for key, value in expected.items()}
    assert int(summary.param("total_tasks")) == 10
    team = run(contract.FETCH_TEAM, stack.env(), tmp_path / "m", {"PROJECT_ID": PROJECT})
    assert team.params() == {"team_size": "5"}


def test_sprint_without_tasks_succeeds_with_an_empty_list(stack: Any, tmp_path: Path) -> None:
    ran = run(contract.FETCH_TASKS, stack.env(), tmp_path, {"SPRINT_ID": "GEM-001-S02"})
    assert ran.code == 0, ran
    assert ran.artifact("tasks") == []
    assert ran.param("task_count") == "0"
    assert " WARNING Sprint GEM-001-S02 has no tasks" in ran.stderr


def test_unknown_sprint_summary_is_not_found(stack: Any, tmp_path: Path) -> None:
    ran = run(contract.FETCH_SUMMARY, stack.env(), tmp_path, {"SPRINT_ID": "NOPE-S99"})
    assert ran.code == contract.EXIT_NOT_FOUND, ran
    assert "sprint NOPE-S99 does not exist" in ran.stderr
    assert ran.written() == []  # nothing half-done for the next step to read


def test_unknown_project_gives_an_empty_team(stack: Any, tmp_path: Path) -> None:
    ran = run(contract.FETCH_TEAM, stack.env(), tmp_path, {"PROJECT_ID": "NOPE-001"})
    assert ran.code == 0, ran
    assert ran.artifact("team")["team_members"] == []
    assert ran.param("team_size") == "0"
    assert " WARNING " in ran.stderr


@pytest.mark.parametrize("artifact", CASES)
@pytest.mark.parametrize(
    ("fault", "expected_code", "in_log"),
    [
        ({"kind": "status", "status": 500}, contract.EXIT_SERVICE_ERROR, "HTTP 500"),
        ({"kind": "delay", "seconds": 2.5}, contract.EXIT_SERVICE_ERROR, "no answer within 1 s"),
        ({"kind": "malformed"}, contract.EXIT_SERVICE_ERROR, "not JSON"),
        ({"kind": "drop"}, contract.EXIT_SERVICE_ERROR, "connection broke"),
        ({"kind": "wrong_shape"}, contract.EXIT_SERVICE_ERROR, "wrong shape"),
    ],
    ids=lambda value: value.get("kind") if isinstance(value, dict) else None,
)
def test_faults(
    stack: Any, tmp_path: Path, artifact: str, fault: dict[str, Any], expected_code: int, in_log: str
) -> None:
    spec, service, path, env = CASES[artifact]
    stack.fault(service, count=1, path=path, **fault)
    ran = run(spec, stack.env(), tmp_path, env)
    assert ran.code == expected_code, ran
    assert in_log in ran.stderr
    assert f"GET {stack.env()[URL_ENV[service]]}{path}" in ran.stderr  # the message names the call
    assert ran.written() == []
    assert _gets(stack, service, path) == 1  # these are not retried in-process


@pytest.mark.parametrize("status", [502, 503, 504])
def test_gateway_errors_are_retried(stack: Any, tmp_path: Path, status: int) -> None:
    spec, service, path, env = CASES["tasks"]
    stack.fault(service, "status", count=2, status=status, path=path)
    ran = run(spec, stack.env(), tmp_path, env)
    assert ran.code == 0, ran
    assert _gets(stack, service, path) == 3


def test_gateway_errors_retries_are_bounded(stack: Any, tmp_path: Path) -> None:
    spec, service, path, env = CASES["summary"]
    stack.fault(service, "status", count=10, status=503, path=path)
    ran = run(spec, stack.env(), tmp_path, env)
    assert ran.code == contract.EXIT_SERVICE_ERROR, ran
    assert "HTTP 503" in ran.stderr
    assert _gets(stack, service, path) == 4  # the first try and 3 retries


@pytest.mark.parametrize("artifact", CASES)
def test_service_down_is_not_sent(stack: Any, tmp_path: Path, artifact: str) -> None:
    spec, service, _path, env = CASES[artifact]
    stack.down(service)
    ran = run(spec, stack.env(), tmp_path, env)
    assert ran.code == contract.EXIT_NOT_SENT, ran
    assert "request was not sent" in ran.stderr
    assert ran.written() == []


@pytest.mark.parametrize("artifact", CASES)
@pytest.mark.parametrize("bad", BAD_IDS)
def test_bad_ids_are_refused_before_any_request(stack: Any, tmp_path: Path, artifact: str, bad: str) -> None:
    spec, service, _path, env = CASES[artifact]
    name = next(iter(env))
    ran = run(spec, stack.env(), tmp_path, {name: bad})
    assert ran.code == contract.EXIT_INVALID_INPUT, ran
    assert f"{name} must be" in ran.stderr and repr(bad) in ran.stderr
    assert stack.requests(service) == []


@pytest.mark.parametrize("url", ["", "sprint-service", "ftp://x", "http://"])
def test_bad_url_is_refused(stack: Any, tmp_path: Path, url: str) -> None:
    ran = run(contract.FETCH_TASKS, stack.env(), tmp_path, {"SPRINT_ID": SPRINT, "SPRINT_SERVICE_URL": url})
    assert ran.code == contract.EXIT_INVALID_INPUT, ran
    assert "SPRINT_SERVICE_URL" in ran.stderr

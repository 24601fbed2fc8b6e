"""Bad input through the runner and the golden manifest: refused before any request to any service.

`prepare` validates every workflow parameter (IDs, date, flag, all four service URLs) before its
first request and exits 2, which no retryStrategy retries; the runner refuses an unknown `-p` name
before anything runs. Each test asserts that not one service was asked anything and that the
message names the value.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.reliability.harness import DAY, SERVICES, all_requests, run_workflow, simulations
from workflows.standin.client import StandIn

URL_PARAMS = ("daily_scrum_service_url", "sprint_service_url", "project_service_url", "chronicle_service_url")
BAD_URLS = ("ftp://x", "localhost:80", "file:///etc/passwd")

BAD = [
    pytest.param("project_id", "", id="project_id-empty"),
    pytest.param("project_id", "../x", id="project_id-dotdot"),
    pytest.param("project_id", "a/b", id="project_id-slash"),
    pytest.param("sprint_id", "../x", id="sprint_id-dotdot"),
    pytest.param("sprint_id", "a/b", id="sprint_id-slash"),
    pytest.param("project_id", "P" * 65, id="project_id-65-chars"),
    pytest.param("sprint_id", "S" * 65, id="sprint_id-65-chars"),
    pytest.param("sprint_id", "GEM-00\u00e9", id="sprint_id-non-ascii"),
    pytest.param("project_id", "GEM-00\u00e9", id="project_id-non-ascii"),
    pytest.param("report_date", "2026-02-30", id="report_date-2026-02-30"),
    pytest.param("report_date", "tomorrow", id="report_date-tomorrow"),
    pytest.param("force", "yes", id="force-yes"),
    # Every URL parameter, the three bad URLs in turn (prepare validates all four).
    *[
        pytest.param(param, url, id=f"{param}-{url.split(':')[0]}")
        for param, url in zip(URL_PARAMS, [*BAD_URLS, BAD_URLS[0]], strict=True)
    ],
]


@pytest.mark.parametrize(("param", "value"), BAD)
def test_bad_value_is_refused_before_any_request(
    stack: StandIn, tmp_path: Path, param: str, value: str
) -> None:
    params = [f"{param}={value}"] if param == "report_date" else [f"{param}={value}", f"report_date={DAY}"]
    run = run_workflow(stack, tmp_path / "run", *params)
    assert run.code == 1, run
    assert run.phase == "Failed"
    assert run.phases()["prepare"] == "Failed"
    assert run.exit_codes("prepare") == [2], run  # invalid input: never retried
    assert {run.phases()[name] for name in run.phases() if name != "prepare"} == {"Omitted"}
    assert all_requests(stack) == dict.fromkeys(SERVICES, 0)
    assert simulations(stack) == 0
    assert f"got {value!r}" in run.log("prepare"), run  # the message names the value


def test_empty_sprint_id_means_the_active_sprint(stack: StandIn, tmp_path: Path) -> None:
    run = run_workflow(stack, tmp_path / "run", "sprint_id=", f"report_date={DAY}")
    assert run.code == 0, run
    assert run.outputs("prepare")["sprint_id"] == "GEM-001-S01"
    assert [r["path"] for r in stack.requests("sprint", method="GET", path_prefix="/sprints/active/")] == [
        "/sprints/active/GEM-001"
    ]
    assert simulations(stack) == 1
    assert stack.requests("daily-scrum", method="POST")[0]["path"] == "/scrums/GEM-001-S01/run"


def test_unknown_parameter_is_refused_by_the_runner_by_name(stack: StandIn, tmp_path: Path) -> None:
    run = run_workflow(stack, tmp_path / "run", "colour=blue")
    assert run.code == 2
    assert "unknown parameter(s) colour" in run.err
    assert not (tmp_path / "run" / "status.json").exists()  # nothing ran
    assert all_requests(stack) == dict.fromkeys(SERVICES, 0)

"""`python -m steps.report` as a subprocess against the stand-in chronicle.

The input artifacts are made by the real earlier steps (simulate, fetch-tasks, fetch-summary,
fetch-team) against the stand-in, once per module; each test starts from a reset stand-in.
"""

from __future__ import annotations

import datetime as dt
import json
import time
from pathlib import Path
from typing import Any

import pytest
import requests

from steps import contract
from tests.steps.runner import Ran, run
from workflows.standin.client import StandIn

PROJECT = "GEM-001"
SPRINT = "GEM-001-S01"
EMPTY_SPRINT = "GEM-001-S02"  # planned, no tasks
DATE = "2025-08-30"
NOTES = "/v1/notes/daily_scrum_report"


def make_artifacts(
    stack: StandIn, workdir: Path, sprint: str, fault: dict[str, Any] | None = None
) -> dict[str, Path]:
    """Run the four steps before `report` and return the paths of their artifacts."""
    stack.reset()
    env = {"PROJECT_ID": PROJECT, "SPRINT_ID": sprint}
    if fault:
        stack.fault(**fault)
    paths: dict[str, Path] = {}
    for spec, artifact in (
        (contract.SIMULATE, "simulation"),
        (contract.FETCH_TASKS, "tasks"),
        (contract.FETCH_SUMMARY, "summary"),
        (contract.FETCH_TEAM, "team"),
    ):
        ran = run(spec, stack.env(), workdir / spec.name, env)
        assert ran.code == 0, ran
        paths[artifact] = ran.out / contract.ARTIFACT_FILES[artifact]
    stack.reset()
    return paths


@pytest.fixture(scope="module")
def inputs(stand_in_process: StandIn, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return make_artifacts(stand_in_process, tmp_path_factory.mktemp("artifacts"), SPRINT)


def report(stack: StandIn, workdir: Path, inputs: dict[str, Path], **env: str) -> Ran:
    full = {"PROJECT_ID": PROJECT, "SPRINT_ID": SPRINT, "REPORT_DATE": DATE, "FORCE": "false", **env}
    return run(contract.REPORT, stack.env(), workdir, full, inputs=inputs)


def read_back(stack: StandIn, sprint: str = SPRINT) -> requests.Response:
    query = {"project_id": PROJECT, "sprint_id": sprint, "daily_scrum_date": DATE}
    return requests.get(stack.url("chronicle") + NOTES, params=query, timeout=10)


def posts(stack: StandIn) -> int:
    return len(stack.requests("chronicle", method="POST", path_prefix=NOTES))


def instant(value: str) -> dt.datetime:
    return dt.datetime.fromisoformat(value)


def load(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def other_run(inputs: dict[str, Path], workdir: Path) -> dict[str, Path]:
    """The same day simulated by another run: the same artifacts with another recorded_at."""
    simulation = load(inputs["simulation"])
    later = "2025-08-30T15:30:00.000000+00:00"
    simulation["recorded_at"] = later
    for update in simulation["updates"]:
        update["recorded_at"] = later
    workdir.mkdir(parents=True)
    (workdir / "simulation.json").write_text(json.dumps(simulation), encoding="utf-8")
    return {**inputs, "simulation": workdir / "simulation.json"}


def test_stores_the_note_and_it_reads_back_field_by_field(
    stack: StandIn, tmp_path: Path, inputs: dict[str, Path]
) -> None:
    progress = tmp_path / "progress"
    ran = report(stack, tmp_path, inputs, ARGO_PROGRESS_FILE=str(progress))
    assert ran.code == 0, ran
    note_id = ran.param("note_id")
    assert len(note_id) == 36 and ran.param("already_reported") == "false"
    assert posts(stack) == 1
    assert ran.written() == sorted(["report.json", "report.html", "note_id", "already_reported"])
    note = ran.artifact("report")

    # What the step wrote is what the chronicle stored.
    stored = read_back(stack)
    assert stored.status_code == 200, stored.text
    stored_note = stored.json()
    for field in ("project_id", "sprint_id", "summary", "summary_metrics"):
        assert stored_note[field] == note[field], field
    assert list(stored_note["reports"]) == [DATE]
    ours, theirs = note["reports"][DATE], stored_note["reports"][DATE]
    assert [e["assigned_to"] for e in ours] == [e["employee_id"] for e in theirs]
    for mine, back in zip(ours, theirs, strict=True):
        assert len(mine["tasks"]) == len(back["tasks"])
        for task, stored_task in zip(mine["tasks"], back["tasks"], strict=True):
            for field in ("id", "yesterday_work", "today_work", "impediments"):
                assert stored_task[field] == task[field]
            assert instant(stored_task["created_at"]) == instant(task["created_at"])

    # The note agrees with the artifacts it was built from.
    tasks, summary, team = load(inputs["tasks"]), load(inputs["summary"]), load(inputs["team"])
    simulation = load(inputs["simulation"])
    assert (note["project_id"], note["sprint_id"], note["report_date"]) == (PROJECT, SPRINT, DATE)
    assert note["summary_metrics"] == {"total_team_members": len(team["team_members"]), **summary}
    by_id = {t["id"]: (e["assigned_to"], t) for e in ours for t in e["tasks"]}
    assert sorted(by_id) == sorted(t["task_id"] for t in tasks)
    for t in tasks:
        assert by_id[t["task_id"]][0] == (t["assigned_to"] or "unassigned")
    updates = {u["task_id"]: u for u in simulation["updates"]}
    for task_id, (_, task) in by_id.items():
        if task_id in updates:
            assert task["created_at"] == updates[task_id]["recorded_at"]
        else:
            assert task["created_at"] == simulation["recorded_at"]
    assert note["orchestration_decision_details"] == {
        "workflow": "run-dailyscrum",
        "tasks_updated": simulation["tasks_updated_count"],
        "simulation_message": simulation["message"],
    }
    assert note["summary"].startswith(f"Daily stand-up for sprint {SPRINT}. ")

    page = (ran.out / "report.html").read_text(encoding="utf-8")
    assert f"Stored in the chronicle as note {note_id}." in page and "<script" not in page
    sections = len(ours)
    assert progress.read_text() == f"{sections}/{sections}\n"
    assert f"Stored the daily scrum note: note_id {note_id}" in ran.stderr


def test_a_retried_step_does_not_store_twice(stack: StandIn, tmp_path: Path, inputs: dict[str, Path]) -> None:
    first = report(stack, tmp_path / "1", inputs)
    assert first.code == 0, first
    again = report(stack, tmp_path / "2", inputs)
    assert again.code == 0, again
    assert posts(stack) == 1
    assert again.param("note_id") == "" and again.param("already_reported") == "true"
    assert "already stored by this run" in again.stderr
    assert again.artifact("report") == first.artifact("report")  # the note it would have stored
    assert "this run already stored this note" in (again.out / "report.html").read_text()


def test_a_lost_answer_then_a_retry_stores_exactly_one_note(
    stack: StandIn, tmp_path: Path, inputs: dict[str, Path]
) -> None:
    # The chronicle stores the note but answers after the client's 1 s read timeout.
    stack.fault("chronicle", "delay", seconds=2.0, method="POST", path=NOTES)
    lost = report(stack, tmp_path / "1", inputs)
    assert lost.code == contract.EXIT_SERVICE_ERROR, lost
    assert "no answer within" in lost.stderr
    # The workflow retries after a 5 s backoff; here: as soon as the chronicle has answered the lost POST.
    deadline = time.monotonic() + 10
    while not any(r["status"] == 201 for r in stack.requests("chronicle", method="POST")):
        assert time.monotonic() < deadline, "the delayed POST never completed"
        time.sleep(0.1)
    retry = report(stack, tmp_path / "2", inputs)  # what the workflow's retryPolicy does
    assert retry.code == 0, retry
    assert retry.param("already_reported") == "true"
    assert posts(stack) == 1
    stored = read_back(stack).json()["reports"][DATE]
    assert sum(len(e["tasks"]) for e in stored) == len(load(inputs["tasks"]))


def test_another_runs_note_is_not_stored_again_unless_forced(
    stack: StandIn, tmp_path: Path, inputs: dict[str, Path]
) -> None:
    assert report(stack, tmp_path / "first", inputs).code == 0
    second = other_run(inputs, tmp_path / "other")
    skipped = report(stack, tmp_path / "skip", second)
    assert skipped.code == 0, skipped
    assert skipped.param("already_reported") == "true" and skipped.param("note_id") == ""
    assert posts(stack) == 1
    assert " WARNING Not posting: " in skipped.stderr and "force=true" in skipped.stderr

    forced = report(stack, tmp_path / "force", second, FORCE="true")
    assert forced.code == 0, forced
    assert forced.param("already_reported") == "false" and len(forced.param("note_id")) == 36
    assert posts(stack) == 2
    merged = read_back(stack).json()["reports"][DATE]
    assert sum(len(e["tasks"]) for e in merged) == 2 * len(load(inputs["tasks"]))


@pytest.mark.parametrize(
    "fault",
    [
        {"kind": "status", "status": 500},
        {"kind": "malformed"},
        {"kind": "wrong_shape"},
        {"kind": "delay", "seconds": 2.0},
    ],
    ids=["500", "malformed", "wrong_shape", "timeout"],
)
def test_unknown_chronicle_state_fails_retryable_and_never_posts(
    stack: StandIn, tmp_path: Path, inputs: dict[str, Path], fault: dict[str, Any]
) -> None:
    stack.fault("chronicle", method="GET", path=NOTES, **fault)
    ran = report(stack, tmp_path, inputs)
    assert ran.code == contract.EXIT_SERVICE_ERROR, ran
    assert f"the chronicle could not tell whether sprint {SPRINT} on {DATE} is already reported" in ran.stderr
    assert posts(stack) == 0
    assert "note_id" not in ran.written() and "already_reported" not in ran.written()


def test_chronicle_down_is_not_sent(stack: StandIn, tmp_path: Path, inputs: dict[str, Path]) -> None:
    stack.down("chronicle")
    ran = report(stack, tmp_path, inputs)
    assert ran.code == contract.EXIT_NOT_SENT, ran
    stack.up("chronicle")
    assert posts(stack) == 0


def test_chronicle_refusing_the_note_exits_3_with_its_message(
    stack: StandIn, tmp_path: Path, inputs: dict[str, Path]
) -> None:
    stack.fault("chronicle", "status", status=422, method="POST", path=NOTES)
    ran = report(stack, tmp_path, inputs)
    assert ran.code == contract.EXIT_SERVICE_ERROR, ran
    assert "the chronicle refused the note as invalid (HTTP 422)" in ran.stderr
    assert "Injected fault" in ran.stderr  # the chronicle's own detail is shown
    assert ran.artifact("report")["project_id"] == PROJECT  # kept for inspection
    assert read_back(stack).status_code == 404


def test_defect_no_update_is_reported_loudly_and_stored(stand_in_process: StandIn, tmp_path: Path) -> None:
    # Every progress write of the simulation fails and is swallowed: 200 with 0 updates.
    fault = {"service": "sprint", "kind": "status", "count": 50, "method": "POST", "path": "/tasks/"}
    inputs = make_artifacts(stand_in_process, tmp_path / "artifacts", SPRINT, fault)
    assert load(inputs["simulation"])["tasks_updated_count"] == 0
    ran = report(stand_in_process, tmp_path / "report", inputs)
    assert ran.code == 0, ran
    assert " WARNING WARNING: the simulation moved no task although 9 tasks are open." in ran.stderr
    note = ran.artifact("report")
    assert note["summary"].startswith("WARNING: the simulation moved no task although 9 tasks are open.")
    assert read_back(stand_in_process).json()["summary"] == note["summary"]
    page = (ran.out / "report.html").read_text(encoding="utf-8")
    assert '<div class="warning" role="alert">WARNING: the simulation moved no task' in page


def test_empty_sprint_is_stored_with_no_entries(stand_in_process: StandIn, tmp_path: Path) -> None:
    inputs = make_artifacts(stand_in_process, tmp_path / "artifacts", EMPTY_SPRINT)
    ran = report(stand_in_process, tmp_path / "report", inputs, SPRINT_ID=EMPTY_SPRINT)
    assert ran.code == 0, ran
    note = ran.artifact("report")
    assert note["reports"] == {DATE: []}
    assert note["summary"] == f"No tasks in sprint {EMPTY_SPRINT}."
    assert ran.param("already_reported") == "false" and ran.param("note_id")
    back = read_back(stand_in_process, EMPTY_SPRINT).json()
    assert back["summary"] == note["summary"] and back["reports"] == {DATE: []}


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"REPORT_DATE": ""}, "REPORT_DATE must be a date"),
        ({"SPRINT_ID": "../x"}, "SPRINT_ID must be"),
        ({"FORCE": "yes"}, "FORCE must be 'true' or 'false'"),
        ({"CHRONICLE_SERVICE_URL": "ftp://x"}, "CHRONICLE_SERVICE_URL must be an http(s) URL"),
    ],
)
def test_invalid_input_exits_2_before_any_request(
    stack: StandIn, tmp_path: Path, inputs: dict[str, Path], env: dict[str, str], message: str
) -> None:
    ran = report(stack, tmp_path, inputs, **env)
    assert ran.code == contract.EXIT_INVALID_INPUT, ran
    assert message in ran.stderr
    assert stack.requests("chronicle") == []


def test_malformed_artifact_exits_2_before_any_request(
    stack: StandIn, tmp_path: Path, inputs: dict[str, Path]
) -> None:
    bad = tmp_path / "tasks.json"
    bad.write_text(json.dumps([{"task_id": "T1"}]), encoding="utf-8")
    ran = report(stack, tmp_path / "run", {**inputs, "tasks": bad})
    assert ran.code == contract.EXIT_INVALID_INPUT, ran
    assert "input artifact tasks: entries lack the field(s)" in ran.stderr
    assert stack.requests("chronicle") == []


def test_artifacts_orjson_refuses_are_read_as_json_reads_them(
    stack: StandIn, tmp_path: Path, inputs: dict[str, Path]
) -> None:
    """A service answer with a NaN or an integer beyond 64 bits in a field the report does not use
    is valid for Python's json (which the fetch steps checked it with); the report reads it too."""
    team = load(inputs["team"])
    text = json.dumps(team)
    odd = text.replace("{", '{"weight": NaN, "big": 123456789012345678901234567890, ', 1)
    assert json.loads(odd) and odd != text
    (tmp_path / "team.json").write_text(odd, encoding="utf-8")
    ran = report(stack, tmp_path / "run", {**inputs, "team": tmp_path / "team.json"})
    assert ran.code == 0, ran
    assert posts(stack) == 1
    assert read_back(stack).status_code == 200


def test_a_big_note_is_stored_and_written_compact(stack: StandIn, tmp_path: Path) -> None:
    """Beyond 1 MB report.json is the POST body's own compact bytes, the note the chronicle stored."""
    from steps import artifacts
    from tests.bench import data

    stack.reset()
    inputs = data.write(tmp_path / "in", data.sprint(6_000))
    ran = run(
        contract.REPORT,
        stack.env(),
        tmp_path / "run",
        {"PROJECT_ID": data.PROJECT, "SPRINT_ID": data.SPRINT, "REPORT_DATE": DATE, "FORCE": "false"},
        inputs=inputs,
    )
    assert ran.code == 0, ran
    text = (ran.out / contract.ARTIFACT_FILES["report"]).read_text(encoding="utf-8")
    assert len(text) > artifacts.INDENT_MAX_BYTES and text.count("\n") == 1
    note = json.loads(text)
    assert sum(len(entry["tasks"]) for entry in note["reports"][DATE]) == 6_000
    assert posts(stack) == 1
    query = {"project_id": data.PROJECT, "sprint_id": data.SPRINT, "daily_scrum_date": DATE}
    stored = requests.get(stack.url("chronicle") + NOTES, params=query, timeout=30)
    assert stored.status_code == 200

"""steps.report in-process (its body through steps.cli.execute) against the stand-in services over HTTP.

The input artifacts are made by the real earlier steps (simulate, fetch-tasks, fetch-summary,
fetch-team) as subprocesses against the stand-in, once per module; each test starts from a reset
stand-in. The report's body runs in this process: a subprocess would prove nothing more here
(tests/steps/test_cli.py covers the command line, the runner tests the container).
"""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest

from steps import cli, contract
from steps import report as report_step
from tests.steps.runner import FAST_HTTP, Ran, run
from workflows.standin.client import StandIn

PROJECT = "GEM-001"
SPRINT = "GEM-001-S01"
EMPTY_SPRINT = "GEM-001-S02"  # planned, no tasks
DATE = "2025-08-30"
NOTES = "/v1/notes/daily_scrum_report"
STEPS_BEFORE = (contract.SIMULATE, contract.FETCH_TASKS, contract.FETCH_SUMMARY, contract.FETCH_TEAM)


def make_artifacts(
    stack: StandIn, workdir: Path, sprint: str, fault: dict[str, Any] | None = None
) -> dict[str, Path]:
    """Run the four steps before `report` and return the paths of their artifacts."""
    stack.reset()
    env = {"PROJECT_ID": PROJECT, "SPRINT_ID": sprint, "REPORT_DATE": DATE, "FORCE": "false"}
    if fault:
        stack.fault(**fault)
    paths: dict[str, Path] = {}
    for spec in STEPS_BEFORE:
        ran = run(spec, stack.env(), workdir / spec.name, env)
        assert ran.code == 0, ran
        made = (*spec.output_artifacts, *spec.carried)
        paths.update({name: ran.out / contract.ARTIFACT_FILES[name] for name in made})
    stack.reset()
    return paths


@pytest.fixture(scope="module")
def inputs(stand_in_process: StandIn, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return make_artifacts(stand_in_process, tmp_path_factory.mktemp("artifacts"), SPRINT)


def report(
    stack: StandIn, workdir: Path, inputs: dict[str, Path], history: Path | None = None, **env: str
) -> Ran:
    """The report step's body as its container runs it, options by the contract's rule."""
    spec, out = contract.REPORT, workdir / "out"
    argv = [arg for name in spec.inputs for arg in (contract.option("in", name), str(inputs[name]))]
    if history is not None:
        argv += [contract.option("in", "history"), str(history)]
    for name in spec.output_artifacts + spec.carried:
        argv += [contract.option("out", name), str(out / contract.ARTIFACT_FILES[name])]
    for name in spec.output_parameters:
        argv += [contract.option("out", name), str(out / name)]
    environ = {
        **stack.urls, **FAST_HTTP, "PROJECT_ID": PROJECT, "SPRINT_ID": SPRINT, "REPORT_DATE": DATE,
        "WORKFLOW_NAME": "dailyscrum-x1", "WORKFLOW_NAMESPACE": "dsm", **env,
    }  # fmt: skip
    log = io.StringIO()
    code = cli.execute(spec, report_step.main, argv, environ, log)
    return Ran(code, "", log.getvalue(), out, spec)


def stored(stack: StandIn, sprint: str = SPRINT) -> list[dict[str, Any]]:
    """The notes stored for the day, through the stand-in's admin view: the chronicle's own GET
    answers 500 once a note with reports is stored (its deployed defect)."""
    return stack.notes(project_id=PROJECT, sprint_id=sprint, daily_scrum_date=DATE)


def posts(stack: StandIn) -> int:
    return len(stack.requests("chronicle", method="POST", path_prefix=NOTES))


def same_tasks(stored_reports: dict[str, Any], reports: dict[str, Any]) -> bool:
    """The chronicle kept every entry and task field the note sent (assignee as `employee_id`)."""
    fields = ("id", "yesterday_work", "today_work", "impediments")
    return {
        (day, e["employee_id"], *(t[f] for f in fields)) for day, es in stored_reports.items() for e in es
        for t in e["tasks"]
    } == {(day, e["assigned_to"], *(t[f] for f in fields)) for day, es in reports.items() for e in es
          for t in e["tasks"]}  # fmt: skip


def load(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def test_stores_the_note_exact_and_it_reads_back_field_by_field(
    stack: StandIn, tmp_path: Path, inputs: dict[str, Path]
) -> None:
    progress = tmp_path / "progress"
    ran = report(stack, tmp_path, inputs, ARGO_PROGRESS_FILE=str(progress))
    assert ran.code == 0, ran
    note_id = ran.param("note_id")
    assert len(note_id) == 36
    assert posts(stack) == 1
    expected = ["report.json", "report.html", "history.json", *contract.REPORT.output_parameters]
    assert ran.written() == sorted(expected)
    note = ran.artifact("report")

    # What the step wrote is what the chronicle stored.
    [stored_note] = stored(stack)
    assert stored_note["note_id"] == note_id
    for field in ("project_id", "sprint_id", "summary", "summary_metrics"):
        assert stored_note[field] == note[field], field
    assert same_tasks(stored_note["reports"], note["reports"])
    ours = note["reports"][DATE]

    # Every task, its change exact from the snapshot to the tasks after the simulation.
    before = {t["task_id"]: t["progress_percentage"] for t in load(inputs["snapshot"])}
    after = {t["task_id"]: t for t in load(inputs["tasks"])}
    by_id = {t["id"]: t for e in ours for t in e["tasks"]}
    assert sorted(by_id) == sorted(after)
    recorded_at = load(inputs["simulation"])["recorded_at"]
    for task_id, task in by_id.items():
        was, now = before[task_id], after[task_id]["progress_percentage"]
        assert task["yesterday_work"].startswith(f"Was at {was}% (")
        assert task["created_at"] == recorded_at
        if now > was:
            assert task["today_work"].startswith(f"Moved from {was}% to {now}% (+{now - was} points)")
        else:
            assert "not moved" in task["today_work"].lower()
    # GEM-001-TASK002 was at 100 % (in progress) before the run: not progress, whatever the service drew.
    assert by_id["GEM-001-TASK002"]["today_work"] == "Not moved by today's simulation: still at 100%."
    done = sum(t["progress_percentage"] == 100 for t in after.values())
    assert (ran.param("done_tasks"), ran.param("open_tasks")) == (str(done), str(len(after) - done))
    assert note["summary_metrics"]["completed_tasks"] + note["summary_metrics"]["pending_tasks"] == len(after)
    details = note["orchestration_decision_details"]
    assert (details["workflow"], details["namespace"]) == ("dailyscrum-x1", "dsm")
    assert details["sprint"] == {
        "start_date": "2025-08-25", "end_date": "2025-09-05", "days": 12, "days_gone": 6, "days_left": 6,
    }
    remaining = sum(100 - t["progress_percentage"] for t in after.values())
    assert details["burndown"] == [{"date": DATE, "remaining": remaining, "done": done, "tasks": len(after)}]
    history = ran.artifact("history")
    assert history == {"project_id": PROJECT, "sprint_id": SPRINT, "days": details["burndown"]}

    page = (ran.out / "report.html").read_text(encoding="utf-8")
    assert f"Stored in the chronicle as note {note_id}." in page and "<script" not in page
    assert page.count("<circle") == 1 and "Run: dsm/dailyscrum-x1" in page
    assert progress.read_text() == f"{len(ours)}/{len(ours)}\n"
    assert f"Stored the daily scrum note: note_id {note_id}" in ran.stderr


def test_two_days_make_two_points_without_reading_the_chronicle_back(
    stack: StandIn, tmp_path: Path, inputs: dict[str, Path]
) -> None:
    first = report(stack, tmp_path / "1", inputs)
    assert first.code == 0, first
    carried = first.out / "history.json"
    again = report(stack, tmp_path / "1b", inputs, history=carried)  # the same day re-run
    assert [d["date"] for d in again.artifact("history")["days"]] == [DATE]
    carried = again.out / "history.json"
    second = report(stack, tmp_path / "2", inputs, history=carried, REPORT_DATE="2025-08-31")
    assert second.code == 0, second
    days = second.artifact("history")["days"]
    assert [d["date"] for d in days] == [DATE, "2025-08-31"]
    page = (second.out / "report.html").read_text(encoding="utf-8")
    assert page.count("<svg") == 1 and page.count("<circle") == 2
    assert stack.requests("chronicle", method="GET", path_prefix=NOTES) == []  # history is carried


@pytest.mark.parametrize("kind", ["empty directory", "empty file", "not JSON", "wrong shape", "other sprint"])
def test_a_missing_or_unusable_history_starts_the_chart_today(
    stack: StandIn, tmp_path: Path, inputs: dict[str, Path], kind: str
) -> None:
    given = tmp_path / "history.json"
    if kind == "empty directory":
        given.mkdir()
    else:
        text = {"empty file": "", "not JSON": "{oops", "wrong shape": '{"days": [{"date": 3}]}',
                "other sprint": json.dumps({"sprint_id": "GEM-002-S01", "days": []})}[kind]  # fmt: skip
        given.write_text(text, encoding="utf-8")
    ran = report(stack, tmp_path / "run", inputs, history=given)
    assert ran.code == 0, ran
    assert [d["date"] for d in ran.artifact("history")["days"]] == [DATE]
    unusable = "The carried burndown history is unusable, the chart starts today" in ran.stderr
    assert unusable == (kind not in ("empty directory", "empty file"))
    assert posts(stack) == 1


def test_unknown_sprint_dates_still_store_the_note(
    stack: StandIn, tmp_path: Path, inputs: dict[str, Path]
) -> None:
    stack.fault("sprint", "status", status=500, count=5, path="/sprints/by-project/")
    ran = report(stack, tmp_path, inputs)
    assert ran.code == 0, ran
    assert "The sprint's dates are unknown, the burndown has no ideal line" in ran.stderr
    assert ran.artifact("report")["orchestration_decision_details"]["sprint"] is None
    assert "The sprint's dates are unknown" in (ran.out / "report.html").read_text(encoding="utf-8")
    assert posts(stack) == 1


def test_a_lost_answer_fails_without_a_second_post(
    stack: StandIn, tmp_path: Path, inputs: dict[str, Path]
) -> None:
    """The chronicle stores the note but answers after the client's 1 s read timeout: unknown, so the
    step fails (exit 3, not retried) rather than risk a second note."""
    stack.fault("chronicle", "delay", seconds=2.0, method="POST", path=NOTES)
    lost = report(stack, tmp_path, inputs)
    assert lost.code == contract.EXIT_SERVICE_ERROR, lost
    assert "no answer within" in lost.stderr and "may or may not be stored" in lost.stderr
    assert posts(stack) == 1
    assert lost.artifact("report")["project_id"] == PROJECT  # kept for inspection


def test_the_report_never_reads_the_chronicle(
    stack: StandIn, tmp_path: Path, inputs: dict[str, Path]
) -> None:
    """prepare alone decides whether the day is reported: the report only POSTs (its read-back
    fails in production once the day is stored)."""
    assert report(stack, tmp_path, inputs).code == 0
    assert stack.requests("chronicle", method="GET", path_prefix=NOTES) == []


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
    assert stored(stack) == []


def test_defect_no_update_is_reported_loudly_and_stored(stand_in_process: StandIn, tmp_path: Path) -> None:
    # Every progress write of the simulation fails and is swallowed: 200 with 0 updates.
    fault = {"service": "sprint", "kind": "status", "count": 50, "method": "POST", "path": "/tasks/"}
    inputs = make_artifacts(stand_in_process, tmp_path / "artifacts", SPRINT, fault)
    assert load(inputs["simulation"])["tasks_updated_count"] == 0
    ran = report(stand_in_process, tmp_path / "report", inputs)
    assert ran.code == 0, ran
    assert " WARNING the simulation moved no task although 8 tasks are open." in ran.stderr
    note = ran.artifact("report")
    assert note["summary"].startswith("WARNING: the simulation moved no task although 8 tasks are open.")
    assert [n["summary"] for n in stored(stand_in_process)] == [note["summary"]]
    page = (ran.out / "report.html").read_text(encoding="utf-8")
    assert '<div class="warning" role="alert">WARNING: the simulation moved no task' in page
    assert page.count("the simulation moved no task") == 1  # in its box, not again in the summary


def test_empty_sprint_is_stored_with_no_entries(stand_in_process: StandIn, tmp_path: Path) -> None:
    inputs = make_artifacts(stand_in_process, tmp_path / "artifacts", EMPTY_SPRINT)
    ran = report(stand_in_process, tmp_path / "report", inputs, SPRINT_ID=EMPTY_SPRINT)
    assert ran.code == 0, ran
    note = ran.artifact("report")
    assert note["reports"] == {DATE: []}
    assert note["summary"] == f"No tasks in sprint {EMPTY_SPRINT}."
    [back] = stored(stand_in_process, EMPTY_SPRINT)
    assert back["note_id"] == ran.param("note_id") and back["reports"] == {DATE: []}


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"REPORT_DATE": ""}, "REPORT_DATE must be a date"),
        ({"SPRINT_ID": "../x"}, "SPRINT_ID must be"),
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
    assert "input artifact tasks: Object missing required field `status` - at `$[0]`" in ran.stderr
    assert stack.requests("chronicle") == []


def test_artifacts_msgspec_refuses_are_read_as_json_reads_them(
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
    assert len(stored(stack)) == 1


def test_a_big_note_is_stored_and_written_compact(stack: StandIn, tmp_path: Path) -> None:
    """Beyond 1 MB report.json is the POST body's own compact bytes, the note the chronicle stored."""
    from steps import artifacts
    from tests.bench import data

    stack.reset()
    sprint = data.sprint(6_000)
    inputs = data.write(tmp_path / "in", sprint)
    ran = report(stack, tmp_path / "run", inputs, PROJECT_ID=data.PROJECT, SPRINT_ID=data.SPRINT)
    assert ran.code == 0, ran
    text = (ran.out / contract.ARTIFACT_FILES["report"]).read_text(encoding="utf-8")
    assert len(text) > artifacts.INDENT_MAX_BYTES and text.count("\n") == 1
    note = json.loads(text)
    assert sum(len(entry["tasks"]) for entry in note["reports"][DATE]) == 6_000
    assert posts(stack) == 1
    [back] = stack.notes(project_id=data.PROJECT, sprint_id=data.SPRINT, daily_scrum_date=DATE)
    assert same_tasks(back["reports"], note["reports"])

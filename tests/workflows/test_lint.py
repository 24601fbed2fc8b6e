"""The offline lint: clean on the golden file; each kind of mistake caught, with a message naming it."""

from __future__ import annotations

import copy
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from tests.workflows.manifests import dag_tasks, golden_documents, templates
from workflows import lint, render
from workflows.render import GOLDEN, REPO_ROOT


def findings_after(change: Callable[[dict], None]) -> list[str]:
    [document] = golden_documents()
    document = copy.deepcopy(document)
    change(document)
    return [str(f) for f in lint.lint_documents([document], "m.yaml")]


@pytest.mark.parametrize("golden", list(render.GOLDEN_ARGO_VERSIONS), ids=lambda path: path.name)
def test_golden_manifests_are_clean(golden: Path) -> None:
    assert lint.lint_documents(golden_documents(golden)) == []


def test_broken_from_names_template_task_and_field() -> None:
    def change(doc: dict) -> None:
        dag_tasks(doc)["report"]["arguments"]["artifacts"][1]["from"] = (
            "{{tasks.fetch-tasks.outputs.artifacts.task}}"
        )

    [finding] = findings_after(change)
    assert "document 1 (run-dailyscrum)" in finding
    assert "template 'dailyscrum', task 'report'" in finding
    assert "arguments.artifacts[tasks].from" in finding
    assert "task 'fetch-tasks' has no output artifact 'task'" in finding


def test_from_a_task_that_is_not_upstream() -> None:
    def change(doc: dict) -> None:
        dag_tasks(doc)["report"]["depends"] = "fetch-tasks.Succeeded && fetch-summary.Succeeded"

    [finding] = findings_after(change)
    assert "'fetch-team' is not upstream" in finding and "task 'report'" in finding


def test_cycle() -> None:
    [finding] = findings_after(
        lambda doc: dag_tasks(doc)["prepare"].__setitem__("depends", "report.Succeeded")
    )
    assert "dependency cycle" in finding
    assert "prepare -> report" in finding


def test_unknown_dependency_and_template() -> None:
    def change(doc: dict) -> None:
        dag_tasks(doc)["fetch-team"]["depends"] = "simulte.Succeeded"
        dag_tasks(doc)["fetch-tasks"]["template"] = "fetch-task"

    findings = findings_after(change)
    assert any("task 'fetch-team'" in f and "unknown task 'simulte'" in f for f in findings)
    assert any("task 'fetch-tasks'" in f and "'fetch-task' is not a template" in f for f in findings)


@pytest.mark.parametrize(
    ("schedule", "problem"),
    [
        ("0 14 * * 1-7", "day of week field '1-7': 7 is outside 0-6"),
        ("0 14 * *", "has 4 fields"),
        ("0 24 * * *", "hour field '24'"),
        ("*/0 * * * *", "step '0'"),
        ("@fortnightly", "unknown descriptor"),
        ("CRON_TZ=Europe/Berlin 0 14 * * 1-5", "time zone prefix"),
    ],
)
def test_bad_cron(schedule: str, problem: str) -> None:
    [finding] = findings_after(lambda doc: doc["spec"].__setitem__("schedules", [schedule]))
    assert "field spec.schedules[0]" in finding and problem in finding


@pytest.mark.parametrize(
    "schedule", ["0 14 * * MON-FRI", "*/15 8-18 * JAN,FEB 1-5", "@daily", "@every 1h30m"]
)
def test_good_cron(schedule: str) -> None:
    assert findings_after(lambda doc: doc["spec"].__setitem__("schedules", [schedule])) == []


def test_unknown_time_zone() -> None:
    [finding] = findings_after(lambda doc: doc["spec"].__setitem__("timezone", "Europe/Atlantis"))
    assert "field spec.timezone" in finding and "'Europe/Atlantis' is not a known IANA time zone" in finding


def test_misspelled_field() -> None:
    def change(doc: dict) -> None:
        templates(doc)["report"]["container"]["volumeMount"] = templates(doc)["report"]["container"].pop(
            "volumeMounts"
        )

    [finding] = findings_after(change)
    assert "spec.workflowSpec.templates[5].container.volumeMount" in finding
    assert "Extra inputs are not permitted" in finding


def test_snake_case_field_is_refused_too() -> None:
    [finding] = findings_after(lambda doc: doc["spec"].__setitem__("starting_deadline_seconds", 60))
    assert "spec.starting_deadline_seconds" in finding


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (lambda doc: doc["metadata"].__setitem__("name", "run-dailyscrum-" + "x" * 40), "at most 52"),
        (lambda doc: doc["metadata"].__setitem__("name", "Run_DailyScrum"), "DNS-1123"),
        (
            lambda doc: doc["spec"].__setitem__("concurrencyPolicy", "Queue"),
            "not one of Allow, Forbid, Replace",
        ),
        (
            lambda doc: doc["spec"]["workflowSpec"].__setitem__("entrypoint", "main"),
            "'main' is not a template",
        ),
        (
            lambda doc: templates(doc)["simulate"]["container"]["env"][0].__setitem__(
                "value", "{{inputs.parameters.sprint}}"
            ),
            "template 'simulate'",
        ),
        (
            lambda doc: templates(doc)["prepare"]["container"]["env"][0].__setitem__(
                "value", "{{workflow.parameters.project}}"
            ),
            "no workflow parameter 'project'",
        ),
        (
            lambda doc: templates(doc)["fetch-summary"]["metrics"]["prometheus"][1]["gauge"].__setitem__(
                "value", "{{outputs.parameters.done_tasks}}"
            ),
            "declares no output parameter 'done_tasks'",
        ),
        (
            lambda doc: dag_tasks(doc)["simulate"].__setitem__(
                "when", "{{tasks.prepare.outputs.parameters.go}}"
            ),
            "task 'prepare' has no output parameter 'go'",
        ),
        (lambda doc: dag_tasks(doc)["simulate"].pop("arguments"), "input parameter 'sprint_id'"),
        (
            lambda doc: templates(doc)["dailyscrum"].__setitem__("activeDeadlineSeconds", 5),
            "not allowed on a dag",
        ),
        (
            lambda doc: templates(doc)["report"]["metrics"]["prometheus"][0].__setitem__("name", "bad-name"),
            "metric",
        ),
    ],
)
def test_other_findings(change: Callable[[dict], None], expected: str) -> None:
    findings = findings_after(change)
    assert findings and any(expected in f for f in findings), findings


def test_cli_exit_codes_and_multiple_documents(tmp_path: Path) -> None:
    [document] = golden_documents()
    second = copy.deepcopy(document)
    second["metadata"]["name"] = "run-dailyscrum-gem-002"
    second["spec"]["timezone"] = "Nowhere/Else"
    good, bad = tmp_path / "good.yaml", tmp_path / "bad.yaml"
    good.write_text(GOLDEN.read_text())
    bad.write_text(yaml.safe_dump_all([document, second], sort_keys=False))

    ok = subprocess.run(
        [sys.executable, "-m", "workflows", "lint", str(good)],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert "no findings" in ok.stdout

    assert lint.main([str(good), str(bad)]) == 1
    count, findings = lint.lint_text(bad.read_text(), "bad.yaml")
    assert count == 2
    assert [str(f) for f in findings] == [
        "bad.yaml: document 2 (run-dailyscrum-gem-002): field spec.timezone: "
        "'Nowhere/Else' is not a known IANA time zone (e.g. UTC, Europe/Berlin)"
    ]


def test_unreadable_and_non_yaml_files(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text("kind: [unclosed\n")
    assert lint.main([str(broken), str(tmp_path / "missing.yaml")]) == 1
    out = capsys.readouterr().out
    assert "broken.yaml: YAML:" in out and "missing.yaml: cannot read" in out


def test_round_trip_fallback_finds_unknown_fields_too() -> None:
    """The path taken with a pydantic too old for `model_validate(extra=...)`."""
    [document] = golden_documents()
    document = copy.deepcopy(document)
    templates(document)["prepare"]["container"]["imagePullPolcy"] = "Always"
    document["spec"]["concurrency_policy"] = "Forbid"
    fields = sorted(
        field for field, _, kind in lint._round_trip_problems(document) if kind == "extra_forbidden"
    )
    assert fields == ["spec.concurrency_policy", "spec.workflowSpec.templates[0].container.imagePullPolcy"]

"""The fleet layout through real runs: CronWorkflows that reference one WorkflowTemplate (merged as
Argo merges them), the template run directly as `argo submit --from workflowtemplate/...` runs it,
one CronWorkflow chosen among a thousand, and `--retry` of such a run."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.runner.builder import (
    STEPKIT,
    config_map,
    cron_ref,
    out_param,
    semaphore,
    workflow_template,
    write,
)
from tests.runner.test_run import ENV
from workflows.runner.cli import run


def fleet(tmp_path: Path, projects: int = 2) -> Path:
    """Steps that share their mount and env through templateDefaults; the echo writes what it got."""
    echo = {
        "name": "echo",
        "container": {
            "image": "example/echo:test",
            "command": STEPKIT,
            "args": [
                *("--counter", str(tmp_path / "calls"), "--fail-times", "{{workflow.parameters.fail}}"),
                *("--env", "WHO={{outputs.parameters.who.path}}"),
            ],
        },
        "outputs": {"parameters": [out_param("who")]},
    }
    template = workflow_template(
        [{"name": "echo", "template": "echo"}],
        [echo],
        {"project_id": None, "sprint_id": "S1", "fail": "0"},
        name="dailyscrum",
        templateDefaults={
            "container": {
                "volumeMounts": [{"name": "work", "mountPath": "/work"}],
                "env": [
                    {
                        "name": "WHO",
                        "value": "{{workflow.parameters.project_id}}/{{workflow.parameters.sprint_id}}",
                    }
                ],
            }
        },
        synchronization={
            "mutexes": [{"name": "dailyscrum-{{workflow.parameters.project_id}}"}],
            **semaphore(),
        },
    )
    crons = [cron_ref(f"run-p{i:04d}", "dailyscrum", {"project_id": f"P{i:04d}"}) for i in range(projects)]
    crons[0]["spec"]["workflowSpec"]["arguments"]["parameters"].append({"name": "sprint_id", "value": "S9"})
    return write(tmp_path / "m.yaml", config_map("limits", {"runs": "5"}), template, *crons)


def execute(*argv: str) -> tuple[int, str]:
    out = io.StringIO()
    return run(list(argv), environ=ENV, out=out), out.getvalue()


def status(run_dir: Path) -> dict[str, Any]:
    return json.loads((run_dir / "status.json").read_text())


def test_each_cron_runs_the_template_with_its_own_parameters(tmp_path: Path) -> None:
    manifest = fleet(tmp_path)
    code, out = execute(str(manifest), "--run-dir", str(tmp_path / "runs"))
    assert code == 0, out
    first, second = status(tmp_path / "runs" / "run-p0000"), status(tmp_path / "runs" / "run-p0001")
    assert first["tasks"]["echo"]["outputs"]["parameters"] == {"who": "P0000/S9"}  # the cron's value wins
    assert second["tasks"]["echo"]["outputs"]["parameters"] == {"who": "P0001/S1"}  # the template's default
    assert first["workflow_name"].startswith("run-p0000-") and first["kind"] == "CronWorkflow"
    kept = list(yaml.safe_load_all((tmp_path / "runs" / "run-p0000" / "manifest.yaml").read_text()))
    assert [d["kind"] for d in kept] == ["ConfigMap", "WorkflowTemplate", "CronWorkflow"]


def test_a_run_of_every_document_keeps_the_file_as_written(tmp_path: Path) -> None:
    manifest = fleet(tmp_path, projects=1)
    text = "# kept, comments and all\n" + manifest.read_text()
    manifest.write_text(text)
    code, out = execute(str(manifest), "--run-dir", str(tmp_path / "run"))
    assert code == 0, out
    assert (tmp_path / "run" / "manifest.yaml").read_text() == text


def test_the_template_runs_directly_like_argo_submit_from_workflowtemplate(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    manifest = fleet(tmp_path)
    run_dir = tmp_path / "adhoc"
    code, out = execute(
        str(manifest), "--workflow", "wftmpl/dailyscrum", "-p", "project_id=P42", "--run-dir", str(run_dir)
    )
    assert code == 0, out
    done = status(run_dir)
    assert (done["kind"], done["tasks"]["echo"]["outputs"]["parameters"]) == (
        "WorkflowTemplate",
        {"who": "P42/S1"},
    )
    assert (
        done["workflow_name"].startswith("dailyscrum-")
        and len(done["workflow_name"]) == len("dailyscrum-") + 5
    )
    assert execute(str(manifest), "--workflow", "workflowtemplate/dailyscrum")[0] == 2
    assert "parameter 'project_id' has no default; give it with -p project_id=..." in capsys.readouterr().err


def test_one_cron_among_a_thousand_and_its_retry(tmp_path: Path) -> None:
    manifest = fleet(tmp_path, projects=1000)
    run_dir = tmp_path / "runs" / "one"
    (tmp_path / "runs").mkdir()
    code, out = execute(str(manifest), "--workflow", "run-p0999", "-p", "fail=1", "--run-dir", str(run_dir))
    assert code == 1, out
    assert [p.name for p in (tmp_path / "runs").iterdir() if (p / "status.json").exists()] == ["one"]
    code, out = execute("--retry", str(run_dir))
    assert code == 0, out
    done = status(run_dir)
    assert done["tasks"]["echo"]["outputs"]["parameters"] == {"who": "P0999/S1"}
    assert [h["phase"] for h in done["history"]] == ["Failed", "Succeeded"]

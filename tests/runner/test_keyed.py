"""Key-only artifacts (`s3: {key: ...}` in the default artifact repository) through the runs root's
artifact directory: the key is used literally, an optional input that is missing gives the step no
file, an output is stored as the plain file, also when the step failed (Argo's wait container)."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

from tests.runner.builder import container, cron, write
from tests.runner.test_run import ENV
from workflows.runner.cli import run

KEY = "dailyscrum/history/{{workflow.parameters.project_id}}/{{inputs.parameters.sprint_id}}.json"


def history() -> dict[str, Any]:
    report = container(
        "report",
        [
            *("--copy", "{{inputs.artifacts.history.path}}={{outputs.artifacts.history.path}}"),
            *("--append", "{{outputs.artifacts.history.path}}=|{{workflow.parameters.day}}"),
            *("--exit", "{{workflow.parameters.code}}"),
        ],
        inputs={
            "parameters": [{"name": "sprint_id"}],
            "artifacts": [
                {"name": "history", "path": "/work/in/history.json", "optional": True, "s3": {"key": KEY}}
            ],
        },
        outputs={
            "artifacts": [
                {
                    "name": "history",
                    "path": "/work/out/history.json",
                    "s3": {"key": KEY},
                    "archive": {"none": {}},
                }
            ]
        },
    )
    task = {
        "name": "report",
        "template": "report",
        "arguments": {"parameters": [{"name": "sprint_id", "value": "{{workflow.parameters.sprint_id}}"}]},
    }
    return cron(
        [task], [report], {"project_id": "GEM-001", "sprint_id": "GEM-001-S01", "day": "1", "code": "0"}
    )


def execute(tmp_path: Path, name: str, *params: str) -> dict[str, Any]:
    argv = [str(tmp_path / "m.yaml"), "--run-dir", str(tmp_path / "runs" / name)]
    for param in params:
        argv += ["-p", param]
    (tmp_path / "runs").mkdir(exist_ok=True)
    run(argv, environ=ENV, out=io.StringIO())
    return json.loads((tmp_path / "runs" / name / "status.json").read_text())["tasks"]["report"]


def test_the_history_is_carried_from_run_to_run_under_its_literal_key(tmp_path: Path) -> None:
    write(tmp_path / "m.yaml", history())
    stored = tmp_path / "runs" / "artifacts" / "dailyscrum" / "history" / "GEM-001" / "GEM-001-S01.json"

    first = execute(tmp_path, "day-1")
    assert first["phase"] == "Succeeded", first
    assert not (tmp_path / "runs" / "day-1" / "report" / "attempt-1" / "volumes" / "work" / "in").exists()
    assert stored.read_text() == "<missing>|1"  # the step got no file, then wrote the first point

    assert execute(tmp_path, "day-2", "day=2")["phase"] == "Succeeded"
    assert stored.read_text() == "<missing>|1|2"

    failed = execute(tmp_path, "day-3", "day=3", "code=3")
    assert failed["phase"] == "Failed"
    assert stored.read_text() == "<missing>|1|2|3"  # saved although the step failed, as in Argo

    execute(tmp_path, "other-sprint", "sprint_id=GEM-001-S02")
    assert stored.read_text() == "<missing>|1|2|3"
    assert stored.with_name("GEM-001-S02.json").read_text() == "<missing>|1"


def test_a_key_that_would_leave_the_repository_is_the_tasks_error(tmp_path: Path) -> None:
    write(tmp_path / "m.yaml", history())
    report = execute(tmp_path, "escape", "project_id=../../outside")
    assert report["phase"] == "Error", report
    assert "must be a relative path without '..'" in report["message"]
    assert not (tmp_path / "outside").exists()

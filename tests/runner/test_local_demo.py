"""`make run` (workflows.local_demo): its own stand-in services, the golden manifest, the report read back."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from workflows.local_demo import demo
from workflows.runner.cli import DEFAULT_MANIFEST


@pytest.mark.skipif(not DEFAULT_MANIFEST.exists(), reason="the golden manifest is not rendered yet")
def test_demo_runs_the_daily_scrum_and_prints_the_stored_report(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # runs/ lands here, not in the checkout
    out = io.StringIO()
    assert demo([], out=out) == 0, out.getvalue()
    text = out.getvalue()
    run_dirs = list((tmp_path / "runs").iterdir())
    assert len(run_dirs) == 1
    assert f"run directory: {run_dirs[0]}" in text
    status = json.loads((run_dirs[0] / "status.json").read_text())
    assert status["phase"] == "Succeeded"
    report_date = status["tasks"]["prepare"]["outputs"]["parameters"]["report_date"]
    assert f"daily_scrum_date={report_date}" in text and "-> 200" in text
    body = text.split("-> 200\n", 1)[1].split("\nstopping", 1)[0]
    assert json.loads(body)["project_id"] == "GEM-001"  # printed as the chronicle returned it
    assert text.rstrip().endswith("stopping the stand-in services")


def test_demo_refuses_an_unknown_workflow(capsys: pytest.CaptureFixture[str]) -> None:
    if not DEFAULT_MANIFEST.exists():
        pytest.skip("the golden manifest is not rendered yet")
    assert demo(["--workflow", "ghost"]) == 2
    assert "no workflow named 'ghost'" in capsys.readouterr().err

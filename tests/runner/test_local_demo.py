"""`make run` (workflows.local_demo): its own stand-in services, the golden manifest, a short summary last."""

from __future__ import annotations

import io
import json
import re
from pathlib import Path

import pytest

from workflows.local_demo import demo
from workflows.runner.cli import DEFAULT_MANIFEST
from workflows.standin import seed

SEEDED_TASKS = [task_id for task_id, sprint, *_ in seed.TASKS if sprint == "GEM-001-S01"]


@pytest.mark.skipif(not DEFAULT_MANIFEST.exists(), reason="the golden manifest is not rendered yet")
def test_demo_ends_with_a_short_summary_that_names_the_page(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Twice on one day, as a developer runs it: each make run starts seeded services, so it must not
    reuse the day an earlier make run recorded (it would report "moved nothing" on the fresh seed)."""
    monkeypatch.chdir(tmp_path)  # runs/ lands here, not in the checkout
    for _ in range(2):
        out = io.StringIO()
        assert demo([], out=out) == 0, out.getvalue()
    lines = out.getvalue().splitlines()
    assert len(lines) <= 80, out.getvalue()
    statuses = [json.loads(p.read_text()) for p in (tmp_path / "runs").glob("*/status.json")]
    assert len(statuses) == 2
    assert not (tmp_path / "runs" / "artifacts").exists()  # the checkout's repository is left alone
    status = max(statuses, key=lambda s: s["started_at"])  # the second make run
    run_dirs = [Path(status["run_dir"])]
    assert status["phase"] == "Succeeded"
    simulate = status["tasks"]["simulate"]["outputs"]["parameters"]
    assert simulate["reused"] == "false" and int(simulate["tasks_updated"]) > 0, simulate
    assert "WARNING: the simulation moved no task" not in out.getvalue()
    report = status["tasks"]["report"]["outputs"]
    tail = lines[lines.index("stopping the stand-in services") + 1 :]
    date = status["tasks"]["prepare"]["outputs"]["parameters"]["report_date"]
    assert f"Daily scrum GEM-001 / GEM-001-S01 / {date}" in tail
    note = json.loads((run_dirs[0] / report["artifacts"]["report"]).read_text())
    assert note["summary"] in tail  # the headline
    for task_id in SEEDED_TASKS:  # one line per task
        assert sum(line.lstrip().startswith(task_id) for line in tail) == 1, task_id
    assert f"note id: {report['parameters']['note_id']}" in tail
    page = Path(next(line for line in tail if line.startswith("page: ")).removeprefix("page: "))
    assert page.is_file() and page == (run_dirs[0] / report["artifacts"]["report-html"]).resolve()
    html = page.read_text(encoding="utf-8")
    assert all(task_id in html for task_id in SEEDED_TASKS) and html.count("<svg") == 1
    # The stand-in's sprint is under way (--sprints-to-today): days left and the ideal line.
    assert re.search(r"day \d+ of \d+, \d+ days? left", html), html[:3000]
    assert "stroke-dasharray" in html and "The sprint ended" not in html


def test_demo_refuses_an_unknown_workflow(capsys: pytest.CaptureFixture[str]) -> None:
    if not DEFAULT_MANIFEST.exists():
        pytest.skip("the golden manifest is not rendered yet")
    assert demo(["--workflow", "ghost"]) == 2
    assert "no workflow named 'ghost'" in capsys.readouterr().err


"""Two days of one sprint through the local runner: the burndown's history is carried by the runs
themselves (a key-only artifact in the runs root), never read back from the chronicle, whose GET
answers 500 once a note with reports is stored, as the deployed one does."""

from __future__ import annotations

import io
import json
import re
from pathlib import Path
from typing import Any

import pytest
import requests

from steps.contract import NOTES_PATH
from workflows.runner.cli import DEFAULT_MANIFEST, run
from workflows.standin.client import StandIn

pytestmark = pytest.mark.skipif(
    not DEFAULT_MANIFEST.exists(), reason="the golden manifest is not rendered yet"
)

PROJECT, SPRINT = "GEM-001", "GEM-001-S01"
DAYS = ("2025-08-28", "2025-08-29")
# Where the manifest's key-only artifact lives (outputs.artifacts.history.s3.key), under the runs root.
HISTORY_KEY = Path("artifacts", "dailyscrum", PROJECT, SPRINT, "history.json")


def run_day(stack: StandIn, run_dir: Path, report_date: str) -> tuple[int, dict[str, Any], str]:
    environ = {**stack.env(), "DSM_RUNNER_MAX_BACKOFF_SECONDS": "0.1"}
    out = io.StringIO()
    code = run(["-p", f"report_date={report_date}", "--run-dir", str(run_dir)], environ=environ, out=out)
    return code, json.loads((run_dir / "status.json").read_text(encoding="utf-8")), out.getvalue()


def test_the_second_day_draws_both_days_from_the_carried_history(stack: StandIn, tmp_path: Path) -> None:
    runs_root = tmp_path / "runs"
    runs_root.mkdir()
    statuses = []
    for day in DAYS:
        code, status, out = run_day(stack, runs_root / day, day)
        assert code == 0, out
        assert status["phase"] == "Succeeded", status["message"]
        assert status["tasks"]["prepare"]["outputs"]["parameters"]["report_date"] == day
        statuses.append(status)

    # Each run asked the chronicle only whether its own day was reported (404: not yet); asked
    # about the first day now, it answers 500, so the series cannot have come from it.
    reads = stack.requests("chronicle", method="GET", path_prefix=NOTES_PATH)
    assert [(r["query"]["daily_scrum_date"], r["status"]) for r in reads] == [(day, 404) for day in DAYS]
    query = {"project_id": PROJECT, "sprint_id": SPRINT, "daily_scrum_date": DAYS[0]}
    with requests.Session() as http:
        http.trust_env = False  # never through an HTTP(S)_PROXY of the machine
        assert http.get(stack.url("chronicle") + NOTES_PATH, params=query, timeout=10).status_code == 500

    second = runs_root / DAYS[1]
    report = statuses[1]["tasks"]["report"]["outputs"]["artifacts"]
    carried = json.loads((second / report["history"]).read_text(encoding="utf-8"))
    assert carried == json.loads((runs_root / HISTORY_KEY).read_text(encoding="utf-8"))
    assert (carried["project_id"], carried["sprint_id"]) == (PROJECT, SPRINT)
    assert [point["date"] for point in carried["days"]] == list(DAYS)
    first_day = json.loads(
        (runs_root / DAYS[0] / statuses[0]["tasks"]["report"]["outputs"]["artifacts"]["history"]).read_text(
            encoding="utf-8"
        )
    )
    assert carried["days"][0] == first_day["days"][0]  # the first day's point, carried unchanged

    page = next(second.rglob("report.html")).read_text(encoding="utf-8")
    assert page.count("<svg") == 1
    assert len(re.findall(r"<circle\b", page)) == len(DAYS)

    assert [note["report_date"] for note in stack.notes(project_id=PROJECT, sprint_id=SPRINT)] == list(DAYS)
    assert len(stack.requests("daily-scrum", method="POST")) == len(DAYS)  # one simulation a day

"""Benchmark 1: the report step on 10, 1,000 and 100,000 tasks over 50 assignees.

The real `python -m steps.report` runs as a fresh subprocess on generated artifacts (the shapes
and files the upstream steps write), timed from spawn to exit, with its own peak RSS:
- against the stand-in chronicle (reset before every run, so every run takes the normal path:
  read the day back, 404, POST the note): the whole step as a local run sees it;
- against an instant chronicle (tests/bench/instant.py: answers at once): the step's own time.
  The 2 s target applies here: the stand-in chronicle validates every task of the note in pure
  Python (as the real service's pydantic models do) and needs about a second for 100,000 tasks,
  which no change to the step can remove. That time is measured on its own too: the same note
  POSTed to the stand-in from this process.
The pure build (steps.note.build on the decoded artifacts) is timed in this process.

Targets at 100,000 tasks: the step's own wall time <= 2 s, peak RSS <= 500 MB (the runs against
the stand-in).
"""

from __future__ import annotations

import gc
import itertools
import shutil
import time
from pathlib import Path

import msgspec
import pytest
import requests

from steps import contract, note
from tests.bench import data, measure, results
from tests.bench.instant import instant_chronicle
from workflows.runner.executor import base_environment
from workflows.standin.client import StandIn

pytestmark = pytest.mark.bench

SIZES = {10: 5, 1_000: 5, 100_000: 3}  # tasks -> runs (fewer for the big one)
BIG = 100_000
TARGET_SECONDS, TARGET_MIB = 2.0, 500.0
REPORT_DATE = "2026-11-27"
NOTES = "/v1/notes/daily_scrum_report"


def _command(inputs: dict[str, Path], out: Path) -> list[str]:
    """The report step's command line, options from the contract (as the manifest builds it)."""
    spec = contract.REPORT
    argv = [measure.PYTHON, "-m", spec.module]
    for name in spec.inputs:
        argv += [contract.option("in", name), str(inputs[name])]
    for name in (*spec.output_artifacts, *spec.carried):  # no carried history in: a sprint's first day
        argv += [contract.option("out", name), str(out / contract.ARTIFACT_FILES[name])]
    for name in spec.output_parameters:
        argv += [contract.option("out", name), str(out / name)]
    return argv


def _env(chronicle_url: str, sprint_url: str) -> dict[str, str]:
    """The environment the local runner gives the step (minimal base + the template's env)."""
    return {
        **base_environment(),
        contract.ENV_PROJECT_ID: data.PROJECT,
        contract.ENV_SPRINT_ID: data.SPRINT,
        contract.ENV_REPORT_DATE: REPORT_DATE,
        contract.ENV_FORCE: "false",
        contract.ENV_CHRONICLE_SERVICE_URL: chronicle_url,
        contract.ENV_SPRINT_SERVICE_URL: sprint_url,  # the sprint's dates (unknown here: the page says so)
        contract.ENV_WORKFLOW_NAME: "run-dailyscrum-bench",
        contract.ENV_WORKFLOW_NAMESPACE: "dsm",
        contract.ENV_ARGO_UI_URL: "",
    }


@pytest.mark.parametrize("tasks", list(SIZES), ids=lambda n: f"{n}-tasks")
def test_report_step(tasks: int, stand_in_process: StandIn, tmp_path: Path) -> None:
    runs, big, stack = SIZES[tasks], tasks == BIG, stand_in_process
    inputs = data.write(tmp_path / "in", data.sprint(tasks, assignees=50))
    gc.collect()  # the generated sprint is gone: the in-process build below runs in a lean process
    runs_made = itertools.count()

    def run(chronicle_url: str) -> measure.Sample:
        """One run into an empty output directory, as every pod's container starts with."""
        out = tmp_path / f"out-{next(runs_made)}"
        sample = measure.run(_command(inputs, out), _env(chronicle_url, stack.url("sprint")))
        assert sample.code == 0, f"exit {sample.code}\n{sample.stderr[-3000:]}"
        assert (out / "note_id").read_text(encoding="utf-8") != "", "the note was not stored"
        shutil.rmtree(out)
        return sample

    def against_stand_in() -> measure.Sample:
        stack.reset()  # an empty chronicle: GET 404, then POST
        return run(stack.url("chronicle"))

    with instant_chronicle() as instant_url:
        # Alternated, so that a burst of load on the machine hits both kinds alike.
        pairs = [(against_stand_in(), run(instant_url)) for _ in range(runs)]
    real, own = [p[0] for p in pairs], [p[1] for p in pairs]

    label = f"report step, {tasks:,} tasks"
    results.record(
        f"report.{tasks}.wall_s",
        f"{label}: wall, instant chronicle",
        [s.seconds for s in own],
        "s",
        TARGET_SECONDS if big else None,
        "the step's own time",
    )
    results.record(
        f"report.{tasks}.wall_stand_in_s",
        f"{label}: wall, stand-in chronicle",
        [s.seconds for s in real],
        "s",
        None,
        "as a local run sees it",
    )
    results.record(
        f"report.{tasks}.peak_rss_mib",
        f"{label}: peak RSS",
        [s.max_rss_mb for s in real],
        "MiB",
        TARGET_MIB if big else None,
    )

    # The pure build, in this process, on the artifacts as the step decodes them; then the stand-in
    # chronicle's own time to take that note (what separates the two wall times above).
    loaded = {name: note.decode(name, path.read_bytes()) for name, path in inputs.items()}

    def build() -> note.ScrumDay:
        return note.build(
            loaded["snapshot"],
            loaded["simulation"],
            loaded["tasks"],
            loaded["summary"],
            loaded["team"],
            project_id=data.PROJECT,
            sprint_id=data.SPRINT,
            report_date=REPORT_DATE,
        )

    results.record(f"build.{tasks}.s", f"note.build, {tasks:,} tasks", measure.timed(runs, build), "s")
    body = msgspec.json.encode(build().note)
    posts = []
    with requests.Session() as session:
        session.trust_env = False  # 127.0.0.1 traffic never goes through a proxy
        for _ in range(runs):
            stack.reset()
            started = time.perf_counter()
            answer = session.post(
                stack.url("chronicle") + NOTES,
                data=body,
                headers={"Content-Type": "application/json"},
                timeout=120,
            )
            posts.append(time.perf_counter() - started)
            assert answer.status_code == 201, answer.text[:500]
    results.record(
        f"report.{tasks}.stand_in_post_s",
        f"{label}: stand-in chronicle's POST",
        posts,
        "s",
        None,
        f"{len(body) / 1e6:.1f} MB note",
    )

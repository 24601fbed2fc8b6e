"""Benchmark 1: the report step on 10, 1,000 and 100,000 tasks over 50 assignees.

The real `python -m steps.report` runs as a fresh subprocess on generated artifacts (the shapes the
upstream steps write) and stores its note in the stand-in chronicle (reset before every run, so
every run takes the normal path: read the day back, 404, POST). Each run is timed from spawn to
exit, with its own peak RSS. The same runs against an instant chronicle (tests/bench/instant.py)
give the step's own time; the difference is the stand-in chronicle validating and storing the note.
The pure build (steps.note.build on the loaded artifacts) is timed in this process.

Targets at 100,000 tasks: wall time <= 2 s, peak memory <= 500 MB.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from steps import contract, note
from tests.bench import data, measure, results
from tests.bench.instant import instant_chronicle
from tests.stack.client import StandIn
from workflows.runner.executor import base_environment

pytestmark = pytest.mark.bench

SIZES = {10: 5, 1_000: 5, 100_000: 3}  # tasks -> runs (fewer for the big one)
TARGET_SECONDS, TARGET_MIB = 2.0, 500.0
REPORT_DATE = "2026-11-27"


def _command(inputs: dict[str, Path], out: Path) -> list[str]:
    """The report step's command line, options from the contract (as the manifest builds it)."""
    spec = contract.REPORT
    argv = [measure.PYTHON, "-m", spec.module]
    for name in spec.inputs:
        argv += [contract.option("in", name), str(inputs[name])]
    for name in spec.output_artifacts:
        argv += [contract.option("out", name), str(out / contract.ARTIFACT_FILES[name])]
    for name in spec.output_parameters:
        argv += [contract.option("out", name), str(out / name)]
    return argv


def _env(chronicle_url: str) -> dict[str, str]:
    """The environment the local runner gives the step (minimal base + the template's env)."""
    return {
        **base_environment(),
        contract.ENV_PROJECT_ID: data.PROJECT,
        contract.ENV_SPRINT_ID: data.SPRINT,
        contract.ENV_REPORT_DATE: REPORT_DATE,
        contract.ENV_FORCE: "false",
        contract.ENV_CHRONICLE_SERVICE_URL: chronicle_url,
    }


@pytest.mark.parametrize("tasks", list(SIZES), ids=lambda n: f"{n}-tasks")
def test_report_step(tasks: int, stand_in_process: StandIn, tmp_path: Path) -> None:
    runs = SIZES[tasks]
    sprint = data.sprint(tasks, assignees=50)
    inputs = data.write(tmp_path / "in", sprint)
    command = _command(inputs, tmp_path / "out")
    stack = stand_in_process

    def stored() -> measure.Sample:
        stack.reset()  # an empty chronicle: GET 404, then POST
        sample = measure.run(command, _env(stack.url("chronicle")))
        if sample.code == 0:
            assert (tmp_path / "out" / "note_id").read_text(), "the note was not stored"
        return sample

    with instant_chronicle() as instant_url:
        # Alternate the two kinds so that the machine's noise hits both alike.
        pairs = [
            (
                measure.repeat(1, stored)[0],
                measure.repeat(1, lambda: measure.run(command, _env(instant_url)))[0],
            )
            for _ in range(runs)
        ]
    real, instant = [p[0] for p in pairs], [p[1] for p in pairs]
    big = tasks == 100_000
    label = f"report step, {tasks:,} tasks"
    figures = [
        results.record(
            f"report.{tasks}.wall_s",
            f"{label}: wall time",
            [s.seconds for s in real],
            "s",
            TARGET_SECONDS if big else None,
            "subprocess, stand-in chronicle",
        ),
        results.record(
            f"report.{tasks}.peak_rss_mib",
            f"{label}: peak RSS",
            [s.max_rss_mb for s in real],
            "MiB",
            TARGET_MIB if big else None,
        ),
        results.record(
            f"report.{tasks}.wall_instant_chronicle_s",
            f"{label}: wall, instant chronicle",
            [s.seconds for s in instant],
            "s",
            None,
            "the step's own time",
        ),
    ]
    # The pure build, in this process, on the artifacts as the step reads them.
    loaded = {name: json.loads(path.read_text(encoding="utf-8")) for name, path in inputs.items()}

    def build() -> None:
        note.build(
            loaded["simulation"],
            loaded["tasks"],
            loaded["summary"],
            loaded["team"],
            project_id=data.PROJECT,
            sprint_id=data.SPRINT,
            report_date=REPORT_DATE,
        )

    figures.append(
        results.record(f"build.{tasks}.s", f"note.build, {tasks:,} tasks", measure.timed(runs, build), "s")
    )
    missed = [f.describe() for f in figures if not f.passed]
    assert not missed, missed

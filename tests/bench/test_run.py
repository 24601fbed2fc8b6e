"""Benchmarks 3 and 4: the seeded sprint end to end through the local runner, and the fan-out.

3. `python -m workflows run` (the golden manifest, the real step programs as subprocesses, the
   stand-in services) is timed from spawn to exit. The runner's own overhead is that wall time
   minus the critical path of the step processes, from the run's status.json:
   prepare + simulate + max(fetch-tasks, fetch-summary, fetch-team) + report.
   Target: overhead <= 10 % of the wall time.
4. The same run with a 500 ms delay on each of the three fetches' requests (stand-in fault
   "delay"), alternated with undelayed runs. The fetches run side by side, so the run must grow
   by one delay, not three. Target: growth <= 700 ms.
   The same paths are read before the fan-out: prepare's preflight reads the summary and the team,
   simulate's snapshot and the daily-scrum stand-in's simulation read the task list. Each delay
   lets those reads through first (the fault's `skip`), so only the fetch steps are slowed down and
   the growth measures the fan-out alone.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.bench import measure, results
from workflows.runner.cli import DEFAULT_MANIFEST
from workflows.runner.executor import base_environment
from workflows.runner.rundir import ENV_ARTIFACT_DIR
from workflows.standin.client import StandIn

pytestmark = [
    pytest.mark.bench,
    pytest.mark.skipif(not DEFAULT_MANIFEST.exists(), reason="the golden manifest is not rendered yet"),
]

PAIRS = 5  # undelayed + delayed runs
DELAY = 0.5
TARGET_OVERHEAD_PERCENT, TARGET_GROWTH_S = 10.0, 0.7
SPRINT, PROJECT = "GEM-001-S01", "GEM-001"
FETCHES = ("fetch-tasks", "fetch-summary", "fetch-team")
CRITICAL_PATH = ("prepare", "simulate", FETCHES, "report")


def _run(stack: StandIn, run_dir: Path) -> tuple[measure.Sample, dict[str, Any]]:
    env = {**base_environment(), **stack.urls}  # the URLs reach the workflow parameters by name
    # Its own artifact repository, as the services are reset: no run reuses an earlier run's simulation.
    env[ENV_ARTIFACT_DIR] = str(run_dir.with_name(f"{run_dir.name}-artifacts"))
    sample = measure.run([measure.PYTHON, "-m", "workflows", "run", "--run-dir", str(run_dir)], env)
    status = json.loads((run_dir / "status.json").read_text(encoding="utf-8"))
    assert sample.code == 0, sample.stdout[-3000:]
    assert {t["phase"] for t in status["tasks"].values()} == {"Succeeded"}, status["tasks"]
    assert status["tasks"]["simulate"]["outputs"]["parameters"]["reused"] == "false"
    return sample, status


def _critical_path(status: dict[str, Any]) -> float:
    tasks = status["tasks"]
    return sum(
        max(tasks[name]["duration_seconds"] for name in part)
        if isinstance(part, tuple)
        else tasks[part]["duration_seconds"]
        for part in CRITICAL_PATH
    )


FAULT_COUNT = 100  # "count large enough": more than any retry could use


# service, path, reads before the fan-out (prepare's preflight; simulate's snapshot and the simulation's own)
FETCHED = (
    ("sprint", f"/sprints/{SPRINT}/tasks", 2),
    ("sprint", f"/sprints/{SPRINT}/task-summary", 1),
    ("project", f"/projects/{PROJECT}/team-members", 1),
)


def _delay_fetches(stack: StandIn) -> None:
    for service, path, before in FETCHED:
        stack.fault(service, "delay", count=FAULT_COUNT, skip=before, seconds=DELAY, method="GET", path=path)


def _each_fetch_was_delayed_once(stack: StandIn) -> None:
    """Every read before the fan-out went through, each fault delayed exactly one fetch."""
    pending = stack.faults("sprint") + stack.faults("project")
    assert [(f["skip"], f["remaining"]) for f in pending] == [(0, FAULT_COUNT - 1)] * 3, pending


def test_end_to_end_and_fan_out(stand_in_process: StandIn, tmp_path: Path) -> None:
    stack = stand_in_process
    plain: list[tuple[measure.Sample, dict[str, Any]]] = []
    delayed: list[tuple[measure.Sample, dict[str, Any]]] = []
    for n in range(PAIRS):
        stack.reset()  # the seed: nothing reported yet, so every run simulates and stores
        plain.append(_run(stack, tmp_path / f"plain-{n}"))
        stack.reset()
        _delay_fetches(stack)
        delayed.append(_run(stack, tmp_path / f"delayed-{n}"))
        _each_fetch_was_delayed_once(stack)
        fetches = {name: delayed[-1][1]["tasks"][name]["duration_seconds"] for name in FETCHES}
        assert all(seconds >= DELAY for seconds in fetches.values()), fetches

    walls = [s.seconds for s, _ in plain]
    overheads = [s.seconds - _critical_path(status) for s, status in plain]
    shares = [100 * o / w for o, w in zip(overheads, walls, strict=True)]
    growth = [d.seconds - p.seconds for (p, _), (d, _) in zip(plain, delayed, strict=True)]
    results.record("run.wall_s", "end to end (runner, 6 steps): wall time", walls, "s")
    results.record(
        "run.critical_path_s",
        "end to end: critical path of the steps",
        [_critical_path(status) for _, status in plain],
        "s",
        None,
        "from status.json",
    )
    results.record(
        "run.overhead_s", "end to end: runner overhead", overheads, "s", None, "wall - critical path"
    )
    figures = [
        results.record(
            "run.overhead_percent",
            "end to end: runner overhead share",
            shares,
            "%",
            TARGET_OVERHEAD_PERCENT,
            "of the wall time",
        ),
        results.record(
            "fanout.growth_s",
            f"fan-out: growth with {DELAY * 1000:.0f} ms on each fetch",
            growth,
            "s",
            TARGET_GROWTH_S,
            "delayed - undelayed run, pairwise",
        ),
    ]
    results.record(
        "fanout.growth_over_delay_x",
        "fan-out: growth / one delay",
        figures[1].value / DELAY,
        "x",
        None,
        "1x = fully parallel, 3x = serial",
    )

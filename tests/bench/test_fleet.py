"""Benchmark 6: a fleet.

1. 1,000 projects render (target <= 5 s, <= 5 MB) and lint (<= 10 s), each from a fresh process, as
   `make render` and `make lint` run them.
2. 50 projects run at once through the local runner against the stand-ins (seeded with the fleet
   FLEET-0001..0050), the fleet semaphore at 5 (`max_parallel_runs = 5`): 50 `python -m workflows
   run --workflow run-dailyscrum-fleet-00NN` processes started together in one runs root, so they
   share the semaphore's lock files. A run's running span is its first task's start to its last
   task's end (status.json); target: at most 5 spans overlap. Every project stores exactly one
   note and its sprint is simulated once. The fleet's wall time is recorded beside 50/5 x a single
   run's (GEM-002 in the same runs root, before the fleet: it also warms the lint's pass marker,
   which the fleet's runs then share instead of each linting the manifest).
"""

from __future__ import annotations

import json
import os
import resource
import signal
import statistics
import subprocess
import time
from collections import Counter
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from tests.bench import measure, results
from workflows.runner.executor import base_environment
from workflows.standin import seed
from workflows.standin.client import StandIn

pytestmark = pytest.mark.bench

PROJECTS = 1000
TARGET_RENDER_S, TARGET_RENDER_MB, TARGET_LINT_S = 5.0, 5.0, 10.0
FLEET, CAP = 50, 5
REPORT_DATE = "2025-08-28"  # inside the fleet sprints (seed.load)
SINGLE_DAYS = ("2025-08-26", "2025-08-27", "2025-08-28")  # GEM-002's reference runs; the first warms up
RUN_TIMEOUT = 120.0  # one run alone, seconds
FLEET_TIMEOUT = 900.0  # the 50 runs together (about 2 min measured on 2 cores)


def fleet_file(directory: Path, ids: Iterable[str], top: str = "") -> Path:
    """A projects.toml of projects with only an `id`, as a platform would start one."""
    path = directory / "projects.toml"
    path.write_text(top + "".join(f'[[projects]]\nid = "{i}"\n' for i in ids), encoding="utf-8")
    return path


def test_render_and_lint_a_thousand_projects(tmp_path: Path) -> None:
    config, manifest = fleet_file(tmp_path, (f"P{n:04d}" for n in range(PROJECTS))), tmp_path / "fleet.yaml"
    env = base_environment()
    render = [measure.PYTHON, "-m", "workflows", "render", "--config", str(config), "-o", str(manifest)]
    renders = measure.repeat(3, lambda: measure.run(render, env))
    assert all(s.code == 0 for s in renders), renders[-1].stderr[-2000:]
    lints = measure.repeat(
        3, lambda: measure.run([measure.PYTHON, "-m", "workflows", "lint", str(manifest)], env)
    )
    assert all(s.code == 0 for s in lints), lints[-1].stdout[-2000:]
    results.record(
        "fleet.render_s",
        f"fleet: render {PROJECTS} projects",
        [s.seconds for s in renders],
        "s",
        TARGET_RENDER_S,
    )
    results.record(
        "fleet.manifest_mb",
        f"fleet: manifest of {PROJECTS} projects",
        manifest.stat().st_size / 1e6,
        "MB",
        TARGET_RENDER_MB,
    )
    results.record(
        "fleet.lint_s", f"fleet: lint {PROJECTS} projects", [s.seconds for s in lints], "s", TARGET_LINT_S
    )


def _moment(text: str) -> float:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


def running_span(status: dict[str, Any]) -> tuple[float, float]:
    """From the run's first task start to its last task end (tasks that never started do not count)."""
    tasks = [t for t in status["tasks"].values() if t.get("started_at") and t.get("finished_at")]
    assert tasks, f"{status['workflow']}: no task ran"
    return min(_moment(t["started_at"]) for t in tasks), max(_moment(t["finished_at"]) for t in tasks)


def peak_overlap(spans: list[tuple[float, float]]) -> int:
    """The most spans open at one moment; a span ending when another starts does not overlap it."""
    events = sorted([(end, -1) for _, end in spans] + [(start, 1) for start, _ in spans])
    peak = current = 0
    for _, step in events:  # at equal times the end (-1) sorts first
        current += step
        peak = max(peak, current)
    return peak


def _stop(processes: list[subprocess.Popen[bytes]]) -> None:
    """SIGTERM each run still going (the runner then stops its steps), SIGKILL its group if it lingers."""
    alive = [p for p in processes if p.poll() is None]
    for process in alive:
        os.killpg(process.pid, signal.SIGTERM)
    for process in alive:
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def _children_cpu() -> float:
    """CPU seconds of every waited-for descendant so far (the runners and, through them, their steps)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _status(run_dir: Path) -> dict[str, Any]:
    return json.loads((run_dir / "status.json").read_text(encoding="utf-8"))


def test_fifty_projects_at_once_hold_the_cap(tmp_path: Path) -> None:
    ids = [seed.fleet_project_id(n) for n in range(1, FLEET + 1)]
    config = fleet_file(tmp_path, ids, top=f"max_parallel_runs = {CAP}\n")
    manifest, runs, logs = tmp_path / "fleet.yaml", tmp_path / "runs", tmp_path / "logs"
    runs.mkdir()
    logs.mkdir()
    env = base_environment()
    render = measure.run(
        [measure.PYTHON, "-m", "workflows", "render", "--config", str(config), "-o", str(manifest)], env
    )
    assert render.code == 0, render.stderr[-2000:]
    run = [measure.PYTHON, "-m", "workflows", "run", str(manifest)]

    with StandIn.start(fleet=FLEET) as stack:
        env = {**env, **stack.urls}  # the URLs reach the workflow parameters by name
        singles = []
        for day in SINGLE_DAYS:
            sample = measure.run(
                [*run, "--workflow", "wftmpl/dailyscrum", "-p", "project_id=GEM-002",
                 "-p", f"report_date={day}", "--run-dir", str(runs / f"single-{day}")],
                env, timeout=RUN_TIMEOUT,
            )  # fmt: skip
            assert sample.code == 0, sample.stdout[-3000:]
            singles.append(sample.seconds)
        single = statistics.median(singles[1:])  # the first one also linted the manifest

        names = {project: f"run-dailyscrum-{project.lower()}" for project in ids}
        processes: list[subprocess.Popen[bytes]] = []
        cpu_before = _children_cpu()
        started = time.perf_counter()
        try:
            for project, name in names.items():
                with (logs / f"{project}.log").open("wb") as log:
                    processes.append(subprocess.Popen(
                        [*run, "--workflow", name, "-p", f"report_date={REPORT_DATE}",
                         "--run-dir", str(runs / project)],
                        cwd=measure.REPO_ROOT, env=env, stdin=subprocess.DEVNULL, stdout=log,
                        stderr=subprocess.STDOUT, start_new_session=True,  # its own group: _stop()
                    ))  # fmt: skip
            deadline = started + FLEET_TIMEOUT
            codes = [p.wait(max(0.0, deadline - time.perf_counter())) for p in processes]
            wall, cpu = time.perf_counter() - started, _children_cpu() - cpu_before
        finally:
            _stop(processes)
        failed = [p for p, code in zip(ids, codes, strict=True) if code != 0]
        assert not failed, (logs / f"{failed[0]}.log").read_text(encoding="utf-8")[-3000:]

        statuses = [_status(runs / project) for project in ids]
        assert {s["phase"] for s in statuses} == {"Succeeded"}
        spans = [running_span(s) for s in statuses]
        peak = peak_overlap(spans)
        assert peak >= 2, f"the {FLEET} runs ran one at a time (peak {peak}): nothing measured the cap"
        notes = Counter(note["project_id"] for note in stack.notes() if note["project_id"] in names)
        simulations = Counter(r["path"] for r in stack.requests("daily-scrum", method="POST"))

    assert notes == dict.fromkeys(ids, 1), notes
    fleet_simulations = {path: n for path, n in simulations.items() if "/FLEET-" in path}
    assert fleet_simulations == {f"/scrums/{p}-S01/run": 1 for p in ids}, fleet_simulations
    results.record(
        "fleet.peak_runs", f"fleet: {FLEET} runs at once, cap {CAP}: peak running", peak, "runs", CAP,
        "from the run directories' task timestamps",
    )  # fmt: skip
    results.record("fleet.single_run_s", "fleet: a single run alone", singles[1:], "s", None, "GEM-002")
    results.record(
        "fleet.wall_s", f"fleet: {FLEET} runs, wall time", wall, "s", None,
        f"{FLEET}/{CAP} x a single run = {FLEET / CAP * single:.0f} s",
    )  # fmt: skip
    results.record(
        "fleet.run_span_s", "fleet: a run's running span within the fleet",
        [end - start for start, end in spans], "s", None, "first task start to last task end",
    )  # fmt: skip
    cores = os.cpu_count() or 1
    results.record(
        "fleet.cpu_s", f"fleet: CPU time of the {FLEET} runs", cpu, "s", None,
        f"/ {cores} cores = {cpu / cores:.0f} s, the wall time's floor",
    )  # fmt: skip
    results.record(
        "fleet.wall_over_serial_x", f"fleet: wall / ({FLEET}/{CAP} x a single run)",
        wall / (FLEET / CAP * single), "x", None, "1x: the cap alone sets the pace",
    )  # fmt: skip

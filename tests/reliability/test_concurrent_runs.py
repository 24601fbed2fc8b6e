"""Two runs of one project at once (the schedule and a manual `argo submit --from`, locally two
`python -m workflows run`): the per-project mutex makes the second wait; then the chronicle answers
its 500 for the stored day (its deployed read defect), which the second run reads as "unknown": it
simulates nothing and fails saying the day is most likely reported. One simulation, one note, even
when one run names the sprint and the other asks for the active one (why the mutex is per project,
not per sprint).
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from tests.reliability.harness import DAY, SPRINT, environment, simulations, stored_notes, task_entries
from workflows.render import REPO_ROOT
from workflows.runner.mutex import ENV_LOCK_DIR
from workflows.standin.client import StandIn

SLOW_SIMULATION = 3.0  # seconds: the first run holds the mutex while the second one starts


def _start(run_dir: Path, env: dict[str, str], *params: str) -> subprocess.Popen[str]:
    argv = [sys.executable, "-m", "workflows", "run", "--run-dir", str(run_dir)]
    for param in params:
        argv += ["-p", param]
    return subprocess.Popen(
        argv, cwd=REPO_ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )


def _wait_for(path: Path, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not path.exists():
        assert time.monotonic() < deadline, f"{path} never appeared"
        time.sleep(0.05)


def test_a_second_run_waits_for_the_first_and_then_simulates_nothing(
    stack: StandIn, tmp_path: Path
) -> None:
    stack.fault("daily-scrum", "delay", seconds=SLOW_SIMULATION, path="/scrums/")
    env = {
        **os.environ,
        **environment(stack, {"HTTP_READ_TIMEOUT": str(SLOW_SIMULATION + 10)}),
        ENV_LOCK_DIR: str(tmp_path / "locks"),
    }
    scheduled = _start(tmp_path / "scheduled", env, "sprint_id=", f"report_date={DAY}")
    _wait_for(tmp_path / "scheduled" / "simulate")  # it holds the mutex and is simulating
    manual = _start(tmp_path / "manual", env, f"sprint_id={SPRINT}", f"report_date={DAY}")
    first_out, _ = scheduled.communicate(timeout=120)
    second_out, _ = manual.communicate(timeout=120)

    assert scheduled.returncode == 0, first_out
    assert manual.returncode == 1, second_out
    assert "waiting for mutex dailyscrum-GEM-001: another local run holds it" in second_out
    attempts = sorted((tmp_path / "manual" / "prepare").glob("attempt-*.log"))
    prepare_log = "".join(path.read_text() for path in attempts)
    assert "most likely reported already" in prepare_log, second_out
    assert simulations(stack) == 1
    assert stored_notes(stack) == 1
    assert set(task_entries(stack, DAY).values()) == {1}

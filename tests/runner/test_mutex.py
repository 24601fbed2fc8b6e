"""Mutexes and semaphores held as Argo's controller holds them: a run waits, says for what and for
whom; locks belong to a runs root, so two checkouts never block each other."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import time
from pathlib import Path

from tests.runner.builder import (
    config_map,
    container,
    cron_ref,
    semaphore,
    workflow_template,
    write,
)
from tests.runner.test_run import ENV
from workflows.runner import mutex
from workflows.runner.cli import REPO_ROOT, refuse_what_the_lint_refuses
from workflows.runner.manifest import load_documents
from workflows.runner.mutex import Semaphore

HOLD = """
import sys, time
from pathlib import Path
from workflows.runner import mutex
limit = int(sys.argv[3])
semaphores = [mutex.Semaphore("dsm", "limits", "runs", limit)] if limit else []
mutexes = [] if limit else ["dailyscrum-GEM-001"]
with mutex.held("dsm", mutexes, semaphores, Path(sys.argv[1]), sys.argv[4], sys.stdout):
    print("holding", flush=True)
    time.sleep(float(sys.argv[2]))
"""


def _holder(
    directory: Path, seconds: float, limit: int = 0, who: str = "pid 1, run directory /r"
) -> subprocess.Popen:
    process = subprocess.Popen(
        [sys.executable, "-c", HOLD, str(directory), str(seconds), str(limit), who],
        stdout=subprocess.PIPE,
        text=True,
        cwd=REPO_ROOT,
    )
    assert process.stdout is not None and process.stdout.readline().strip() == "holding"
    return process


def test_a_held_mutex_makes_the_next_run_wait_and_names_the_holder(tmp_path: Path) -> None:
    holder = _holder(tmp_path, 1.0, who="pid 4242, run directory /r/a")
    out = io.StringIO()
    started = time.monotonic()
    with mutex.held("dsm", ["dailyscrum-GEM-001"], [], tmp_path, "me", out):
        assert time.monotonic() - started > 0.5  # it ran only once the other let go
    holder.wait(timeout=10)
    assert out.getvalue().splitlines() == [
        "waiting for mutex dailyscrum-GEM-001: another local run holds it (pid 4242, run directory /r/a)",
        "acquired mutex dailyscrum-GEM-001",
    ]


def test_another_mutex_or_a_dead_holder_does_not_block(tmp_path: Path) -> None:
    holder = _holder(tmp_path, 30.0)
    out = io.StringIO()
    with mutex.held("dsm", ["dailyscrum-ACME-042"], [], tmp_path, "me", out):
        pass
    holder.kill()  # the kernel drops the lock of a process that died
    holder.wait(timeout=10)
    with mutex.held("dsm", ["dailyscrum-GEM-001"], [], tmp_path, "me", out):
        pass
    assert out.getvalue() == ""


def test_a_semaphore_lets_limit_runs_in_and_names_who_holds_it(tmp_path: Path) -> None:
    first = _holder(tmp_path, 1.5, limit=2, who="pid 1, run directory /runs/a")
    second = _holder(tmp_path, 1.5, limit=2, who="pid 2, run directory /runs/b")
    out = io.StringIO()
    started = time.monotonic()
    with mutex.held("dsm", [], [Semaphore("dsm", "limits", "runs", 2)], tmp_path, "me", out):
        assert time.monotonic() - started > 0.5  # the third waited for a slot
    for process in (first, second):
        process.wait(timeout=10)
    lines = out.getvalue().splitlines()
    assert lines[0].startswith("waiting for semaphore dsm/ConfigMap/limits/runs (limit 2): held by ")
    assert "pid 1, run directory /runs/a" in lines[0] and "pid 2, run directory /runs/b" in lines[0]
    assert lines[1] == "acquired semaphore dsm/ConfigMap/limits/runs"


def test_lock_names_never_become_paths(tmp_path: Path) -> None:
    assert mutex.lock_path(tmp_path, "../x/y z").parent == tmp_path
    assert mutex.lock_dir(tmp_path, {}) == tmp_path / "locks"
    assert mutex.lock_dir(tmp_path, {mutex.ENV_LOCK_DIR: "/shared"}) == Path("/shared")


def test_two_checkouts_do_not_block_each_other(tmp_path: Path) -> None:
    """Same project mutex and a fleet semaphore of 1, two runs roots (two checkouts): both run at
    once (their steps meet at a barrier); with DSM_RUNNER_LOCK_DIR shared, the second waits for the
    first, whose step ends only once the second said that it waits."""
    stamps, release, barrier = tmp_path / "stamps.jsonl", tmp_path / "release", tmp_path / "barrier"
    step = ["--barrier", f"{barrier}=2", "--wait-for", str(release), "--stamp", str(stamps)]
    manifest = write(  # one manifest for both halves: the lint runs once, not once per half
        tmp_path / "m.yaml",
        config_map("limits", {"runs": "1"}),
        workflow_template(
            [{"name": "t", "template": "step"}],
            [container("step", step)],
            name="dailyscrum",
            synchronization={"mutexes": [{"name": "dailyscrum-GEM-001"}], **semaphore()},
        ),
        cron_ref("run-dailyscrum", "dailyscrum"),
    )
    # Linted here, where the lint is likely imported already, and not in each of the runs (~1 s).
    refuse_what_the_lint_refuses(manifest, load_documents(manifest), io.StringIO())

    def both(env: dict[str, str], waiting: str = "") -> list[str]:
        procs, logs = [], []
        for checkout in ("one", "two"):
            (tmp_path / checkout).mkdir(exist_ok=True)
            logs.append(tmp_path / checkout / "out.txt")
            procs.append(
                subprocess.Popen(
                    [sys.executable, "-m", "workflows", "run", str(manifest)],
                    cwd=tmp_path / checkout,  # runs/ of each checkout
                    env={**ENV, "PYTHONPATH": str(REPO_ROOT), **env},
                    stdout=logs[-1].open("w"),
                )
            )
        deadline = time.monotonic() + 60
        while waiting and not any(waiting in log.read_text() for log in logs) and time.monotonic() < deadline:
            time.sleep(0.02)
        release.touch()  # the first run's step ends only now, once the second waits for it
        codes = [p.wait(timeout=60) for p in procs]
        outputs = [log.read_text() for log in logs]
        assert codes == [0, 0], outputs
        return outputs

    both({})  # each step waited at the barrier until the other one ran too
    assert len(list(barrier.iterdir())) == 2
    assert (tmp_path / "one" / "runs" / "locks").is_dir() and (tmp_path / "two" / "runs" / "locks").is_dir()

    release.unlink()
    stamps.unlink()  # the barrier stays full: in the second half it lets every step through
    waiting = "waiting for mutex dailyscrum-GEM-001: another local run holds it (pid "
    outputs = both({mutex.ENV_LOCK_DIR: str(tmp_path / "shared-locks")}, waiting)
    runs = sorted((json.loads(line) for line in stamps.read_text().splitlines()), key=lambda r: r["start"])
    assert runs[0]["end"] <= runs[1]["start"]  # one after the other
    waited = "".join(outputs)
    assert waiting in waited
    assert f"run directory {tmp_path}" in waited and os.sep + "runs" + os.sep in waited

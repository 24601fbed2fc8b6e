"""The runner holds workflow mutexes as the Argo controller does: a second holder waits."""

from __future__ import annotations

import io
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.runner.builder import container, cron
from workflows.runner import mutex
from workflows.runner.manifest import ManifestError, check_workflow

HOLD = """
import sys, time
from pathlib import Path
from workflows.runner import mutex
with mutex.held(["dailyscrum-GEM-001"], Path(sys.argv[1]), sys.stdout):
    print("holding", flush=True)
    time.sleep(float(sys.argv[2]))
"""


def _holder(directory: Path, seconds: float) -> subprocess.Popen[str]:
    process = subprocess.Popen(
        [sys.executable, "-c", HOLD, str(directory), str(seconds)], stdout=subprocess.PIPE, text=True
    )
    assert process.stdout is not None and process.stdout.readline().strip() == "holding"
    return process


def test_a_held_mutex_makes_the_next_holder_wait(tmp_path: Path) -> None:
    holder = _holder(tmp_path, 1.0)
    out = io.StringIO()
    started = time.monotonic()
    with mutex.held(["dailyscrum-GEM-001"], tmp_path, out):
        waited = time.monotonic() - started
        assert holder.poll() is not None or waited > 0.5  # it ran only once the other let go
    holder.wait(timeout=10)
    assert out.getvalue().splitlines() == [
        "waiting for mutex dailyscrum-GEM-001: another local run holds it",
        "acquired mutex dailyscrum-GEM-001",
    ]


def test_another_mutex_or_a_dead_holder_does_not_block(tmp_path: Path) -> None:
    holder = _holder(tmp_path, 30.0)
    out = io.StringIO()
    with mutex.held(["dailyscrum-ACME-042"], tmp_path, out):
        pass
    holder.kill()  # the kernel drops the lock of a process that died
    holder.wait(timeout=10)
    with mutex.held(["dailyscrum-GEM-001"], tmp_path, out):
        pass
    assert out.getvalue() == ""


def test_mutex_names_never_become_paths(tmp_path: Path) -> None:
    assert mutex.lock_path(tmp_path, "../x/y z").parent == tmp_path


def test_the_plan_keeps_workflow_mutexes_and_refuses_unknown_variables() -> None:
    def document(name: str) -> dict:
        return cron(
            [{"name": "a", "template": "a"}],
            [container("a", ["true"])],
            {"p": "1"},
            synchronization={"mutexes": [{"name": name}]},
        )

    assert check_workflow(document("m-{{workflow.parameters.p}}")).mutexes == ("m-{{workflow.parameters.p}}",)
    with pytest.raises(ManifestError, match="nope"):
        check_workflow(document("m-{{workflow.parameters.nope}}"))

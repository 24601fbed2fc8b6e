"""How the benchmarks measure: fresh subprocesses timed from spawn to exit, with their peak memory.

`run()` waits for the child with os.wait4, which returns the rusage of that one child: its
ru_maxrss is the peak resident set of exactly this process (not the maximum over every child
the test process ever had, as RUSAGE_CHILDREN would be).
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
PYTHON = sys.executable
# 127.0.0.1 traffic must never go through a proxy of the machine.
NO_PROXY = {"NO_PROXY": "127.0.0.1,localhost", "no_proxy": "127.0.0.1,localhost"}


@dataclass(frozen=True)
class Sample:
    """One run of a subprocess."""

    seconds: float  # wall time, spawn to exit
    max_rss_mb: float  # peak resident set size of the process (MiB)
    code: int
    stdout: str
    stderr: str


def run(
    argv: Sequence[str],
    env: Mapping[str, str] | None = None,
    cwd: Path = REPO_ROOT,
    timeout: float = 300.0,
) -> Sample:
    """Run `argv` to completion; wall time and the child's own peak RSS."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        started = time.perf_counter()
        process = subprocess.Popen(
            list(argv),
            cwd=cwd,
            env=None if env is None else dict(env),
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=err,
        )
        killer = threading.Timer(timeout, process.kill)  # a hung child must not hang the benchmark
        killer.start()
        try:
            _, status, usage = os.wait4(process.pid, 0)
        finally:
            killer.cancel()
        seconds = time.perf_counter() - started
        process.returncode = os.waitstatus_to_exitcode(status)  # reaped here, not by Popen
        out.seek(0)
        err.seek(0)
        return Sample(
            seconds=seconds,
            max_rss_mb=usage.ru_maxrss / 1024,  # KiB on Linux
            code=process.returncode,
            stdout=out.read().decode(errors="replace"),
            stderr=err.read().decode(errors="replace"),
        )


def repeat(times: int, once: Callable[[], Sample]) -> list[Sample]:
    """`once()` `times` times; a failed run stops the benchmark with its output."""
    samples = []
    for _ in range(times):
        sample = once()
        assert sample.code == 0, (
            f"exit {sample.code}\n--- stderr ---\n{sample.stderr[-4000:]}\n{sample.stdout[-2000:]}"
        )
        samples.append(sample)
    return samples


def timed(times: int, call: Callable[[], object]) -> list[float]:
    """Wall times of `call()` in this process."""
    seconds = []
    for _ in range(times):
        started = time.perf_counter()
        call()
        seconds.append(time.perf_counter() - started)
    return seconds


def median(values: Sequence[float]) -> float:
    return statistics.median(values)

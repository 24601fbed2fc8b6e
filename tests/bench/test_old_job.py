"""Benchmark 5: what the old CronJob paid at every run, as an anchor for the figures above.

The old job created a fresh environment and installed pandas and requests before doing anything.
Here: `python -m venv` + `pip install pandas requests` into a new directory, timed (pip's cache
and the machine's pip configuration are left as they are, as the old job's node had them).
The new job installs nothing at run time: the step images carry their dependencies.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from tests.bench import measure, results

pytestmark = pytest.mark.bench

RUNS = 3


def test_old_job_installs_pandas_at_every_run(tmp_path: Path) -> None:
    env = dict(os.environ)  # pip's own configuration (index, cache) as the machine has it

    def install(n: int) -> measure.Sample:
        venv = tmp_path / f"venv-{n}"
        created = measure.run([measure.PYTHON, "-m", "venv", str(venv)], env)
        assert created.code == 0, created.stderr
        installed = measure.run(
            [str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet", "pandas", "requests"],
            env,
            timeout=600,
        )
        assert installed.code == 0, installed.stderr[-3000:]
        shutil.rmtree(venv)  # ~190 MB each; pytest keeps the temporary directories of recent sessions
        return measure.Sample(created.seconds + installed.seconds, installed.max_rss_mb, 0, "", "")

    samples = [install(n) for n in range(RUNS)]
    results.record(
        "oldjob.install_s",
        "old job: venv + pip install pandas requests",
        [s.seconds for s in samples],
        "s",
        None,
        "paid at every run",
    )
    results.record(
        "oldjob.ours_s", "new job: install at run time", 0.0, "s", None, "dependencies are in the images"
    )

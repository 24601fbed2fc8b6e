"""Workflow-level `synchronization.mutexes`, held locally as the Argo controller holds them.

In the cluster a second run that needs a held mutex waits (Pending) until the first one ends. The
local runner does the same with one exclusive `flock` per mutex name, in a directory shared by every
local run of this user, so two `make run`s (or a run and a `--retry`) of one project never
simulate at the same time. The kernel drops the lock when the process ends, however it ends.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import re
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import TextIO

ENV_LOCK_DIR = "DSM_RUNNER_LOCK_DIR"
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]")


def lock_dir(environ: Mapping[str, str] | None = None) -> Path:
    environ = os.environ if environ is None else environ
    # $TMPDIR as tempfile.gettempdir() reads it, without importing tempfile (~5 ms of every run).
    default = Path(environ.get("TMPDIR") or "/tmp") / f"dsm-runner-locks-{os.getuid()}"
    return Path(environ.get(ENV_LOCK_DIR) or default)


def lock_path(directory: Path, name: str) -> Path:
    # Mutex names come from parameters: keep the file name to a safe alphabet, never a path.
    return directory / f"{_UNSAFE.sub('_', name)}.lock"


@contextlib.contextmanager
def held(names: Sequence[str], directory: Path, out: TextIO) -> Iterator[None]:
    """Hold every mutex in `names` (sorted, so two runs never wait on each other crosswise)."""
    directory.mkdir(parents=True, exist_ok=True)
    with contextlib.ExitStack() as stack:
        for name in sorted(set(names)):
            handle = stack.enter_context(lock_path(directory, name).open("a"))
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                print(f"waiting for mutex {name}: another local run holds it", file=out, flush=True)
                fcntl.flock(handle, fcntl.LOCK_EX)
                print(f"acquired mutex {name}", file=out, flush=True)
        yield

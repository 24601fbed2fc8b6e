"""Workflow-level `synchronization` (mutexes and semaphores), held locally as Argo's controller holds it.

In the cluster a run that needs a held lock stays Pending until the holder ends. Locally:
- a mutex is one exclusive `flock` on `<lock dir>/mutex-<namespace>-<name>.lock`;
- a semaphore of limit N (Argo reads N from its ConfigMap key) is N slot files
  `<lock dir>/semaphore-<namespace>-<configmap>-<key>.<i>.lock`; a run holds one slot.
The kernel drops a lock when its process ends, however it ends. A holder writes its pid and run
directory into the file it holds, so a waiting run can say who it waits for. Locks are taken in one
order (mutexes, then semaphores, each sorted), so two runs never wait on each other crosswise.

The lock directory belongs to the runs root (`runs/locks` of a checkout); DSM_RUNNER_LOCK_DIR names
another one, e.g. to make the runs of two checkouts exclude each other.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import re
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TextIO

ENV_LOCK_DIR = "DSM_RUNNER_LOCK_DIR"
POLL_SECONDS = 0.2  # a semaphore waiter tries every slot this often (flock cannot wait for one of N)
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]")


@dataclass(frozen=True)
class Semaphore:
    namespace: str
    config_map: str
    key: str
    limit: int

    @property
    def name(self) -> str:
        """Argo's lock name (sync/lock_name.go)."""
        return f"{self.namespace}/ConfigMap/{self.config_map}/{self.key}"


def lock_dir(root: Path, environ: Mapping[str, str] | None = None) -> Path:
    environ = os.environ if environ is None else environ
    return Path(environ.get(ENV_LOCK_DIR) or root / "locks")


def lock_path(directory: Path, name: str) -> Path:
    # Names come from parameters: keep the file name to a safe alphabet, never a path.
    return directory / f"{_UNSAFE.sub('_', name)}.lock"


def _holder(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8").strip() or "another local run"
    except OSError:
        return "another local run"


def _take(handle: IO[str], holder: str) -> None:
    """Say who holds the lock just taken (the file is truncated only once it is ours)."""
    handle.seek(0)
    handle.truncate()
    handle.write(holder)
    handle.flush()


def _try(handle: IO[str]) -> bool:
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return True
    except BlockingIOError:
        return False


def _mutex(
    stack: contextlib.ExitStack, directory: Path, namespace: str, name: str, holder: str, out: TextIO
) -> None:
    path = lock_path(directory, f"mutex-{namespace}-{name}")
    handle = stack.enter_context(path.open("a+", encoding="utf-8"))
    if not _try(handle):
        print(f"waiting for mutex {name}: another local run holds it ({_holder(path)})", file=out, flush=True)
        fcntl.flock(handle, fcntl.LOCK_EX)
        print(f"acquired mutex {name}", file=out, flush=True)
    _take(handle, holder)


def _semaphore(
    stack: contextlib.ExitStack, directory: Path, semaphore: Semaphore, holder: str, out: TextIO
) -> None:
    paths = [
        lock_path(directory, f"semaphore-{semaphore.name.replace('/', '-')}.{i}")
        for i in range(semaphore.limit)
    ]
    waited = False
    while True:
        for path in paths:
            handle = path.open("a+", encoding="utf-8")
            if _try(handle):
                stack.callback(handle.close)
                _take(handle, holder)
                if waited:
                    print(f"acquired semaphore {semaphore.name}", file=out, flush=True)
                return
            handle.close()
        if not waited:
            holders = "; ".join(_holder(path) for path in paths)
            print(
                f"waiting for semaphore {semaphore.name} (limit {semaphore.limit}): held by {holders}",
                file=out,
                flush=True,
            )
            waited = True
        time.sleep(POLL_SECONDS)


@contextlib.contextmanager
def held(
    namespace: str,
    mutexes: Sequence[str],
    semaphores: Sequence[Semaphore],
    directory: Path,
    holder: str,
    out: TextIO,
) -> Iterator[None]:
    """Hold every mutex and one slot of every semaphore while the block runs; `holder` says who we are."""
    if not mutexes and not semaphores:
        yield
        return
    directory.mkdir(parents=True, exist_ok=True)
    with contextlib.ExitStack() as stack:
        for name in sorted(set(mutexes)):
            _mutex(stack, directory, namespace, name, holder, out)
        for semaphore in sorted(set(semaphores), key=lambda s: s.name):
            _semaphore(stack, directory, semaphore, holder, out)
        yield

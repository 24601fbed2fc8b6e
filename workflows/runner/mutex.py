"""Workflow-level `synchronization`, held across local runs as the controller holds it (docs/local-runner.md,
"How a run behaves"): a mutex is one exclusive `flock`, a semaphore of limit N is N slot files of which a
run holds one. A holder writes who it is into its file, so a waiting run can say whom it waits for."""

from __future__ import annotations

import contextlib
import fcntl
import re
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

ENV_LOCK_DIR = "DSM_RUNNER_LOCK_DIR"
POLL_SECONDS = 0.2  # a waiter tries every slot this often (flock cannot wait for one of N)
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


def lock_dir(root: Path, environ: Mapping[str, str]) -> Path:
    return Path(environ.get(ENV_LOCK_DIR) or root / "locks")


def lock_path(directory: Path, name: str) -> Path:
    # Names come from parameters: keep the file name to a safe alphabet, never a path.
    return directory / f"{_UNSAFE.sub('_', name)}.lock"


def _holder(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8").strip() or "another local run"
    except OSError:
        return "another local run"


def _acquire(
    stack: contextlib.ExitStack, paths: list[Path], holder: str, out: TextIO, what: str, waiting: str
) -> None:
    """Hold one of `paths` (the lock `what`), waiting until one is free: `waiting` says for whom."""
    waited = False
    while True:
        for path in paths:
            handle = path.open("a+", encoding="utf-8")
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                handle.close()
                continue
            stack.callback(handle.close)
            handle.truncate(0)  # say who holds it (emptied only once it is ours; "a+" writes at the end)
            handle.write(holder)
            handle.flush()
            if waited:
                print(f"acquired {what}", file=out, flush=True)
            return
        if not waited:
            print(waiting.replace("{holders}", "; ".join(map(_holder, paths))), file=out, flush=True)
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
    if mutexes or semaphores:
        directory.mkdir(parents=True, exist_ok=True)
    with contextlib.ExitStack() as stack:
        for name in sorted(set(mutexes)):
            path = lock_path(directory, f"mutex-{namespace}-{name}")
            waiting = f"waiting for mutex {name}: another local run holds it ({{holders}})"
            _acquire(stack, [path], holder, out, f"mutex {name}", waiting)
        for semaphore in sorted(set(semaphores), key=lambda s: s.name):
            stem = f"semaphore-{semaphore.name.replace('/', '-')}"
            paths = [lock_path(directory, f"{stem}.{i}") for i in range(semaphore.limit)]
            waiting = f"waiting for semaphore {semaphore.name} (limit {semaphore.limit}): held by {{holders}}"
            _acquire(stack, paths, holder, out, f"semaphore {semaphore.name}", waiting)
        yield

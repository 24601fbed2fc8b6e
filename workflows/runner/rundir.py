"""One directory per run (manifest.yaml, status.json, per task its attempts, logs and outputs), and
the artifact store its runs root shares (`<root>/artifacts/<key>`, the key used literally): the
layout of docs/local-runner.md, "Where things are written"."""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import threading
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath
from typing import Any

import yaml

DEFAULT_ROOT = Path("runs")
# The key-only artifact repository instead of <runs root>/artifacts (make run: fresh, as its services are).
ENV_ARTIFACT_DIR = "DSM_RUNNER_ARTIFACT_DIR"
# libyaml when available (same output, ~4x faster than the pure-Python safe dumper).
_SAFE_DUMPER = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


def utc_now() -> datetime:
    return datetime.now(UTC)


def rfc3339(moment: datetime, precise: bool = False) -> str:
    """`2026-05-04T14:00:03Z` (seconds, as Argo writes creationTimestamp), or with milliseconds."""
    timespec = "milliseconds" if precise else "seconds"
    return moment.astimezone(UTC).isoformat(timespec=timespec).replace("+00:00", "Z")


def new_run_dir(workflow_name: str, started: datetime, root: Path = DEFAULT_ROOT) -> Path:
    """runs/<workflow>-<UTC timestamp>-<random>: unique even for two runs started in the same second."""
    safe = re.sub(r"[^A-Za-z0-9_.-]", "-", workflow_name)
    stamp = started.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
    while True:
        path = root / f"{safe}-{stamp}-{os.urandom(3).hex()}"  # not a secret: `secrets` costs ~10 ms
        with contextlib.suppress(FileExistsError):  # taken: draw again
            path.mkdir(parents=True)
            return path


class RunDir:
    """The files of one run. Thread-safe: tasks finish on worker threads."""

    def __init__(self, path: Path) -> None:
        self.path = path.resolve()  # steps run with cwd = repo root: every path they get is absolute
        self.status_path = self.path / "status.json"
        self.manifest_path = self.path / "manifest.yaml"
        self._lock = threading.Lock()

    def attempt(self, task: str, attempt: int) -> tuple[Path, Path]:
        """The attempt's directory (its volumes and container paths) and its log."""
        return self.path / task / f"attempt-{attempt}", self.path / task / f"attempt-{attempt}.log"

    def write_manifest(self, documents: list[dict[str, Any]], source: str | None = None) -> None:
        """The documents the run uses; `source`, a one-document manifest's text, as it is (no ~15 ms dump)."""
        if source is None:
            source = yaml.dump_all(documents, Dumper=_SAFE_DUMPER, sort_keys=False)
        self.manifest_path.write_text(source, encoding="utf-8")

    def write_status(self, status: dict[str, Any]) -> None:
        """Write to a temporary file and rename it, so a reader never sees half a file."""
        data = json.dumps(status, indent=2) + "\n"
        # One writer per run directory (this process, under the lock): a fixed temporary name will do.
        tmp = self.path / f".status.json.{os.getpid()}.tmp"
        with self._lock:
            tmp.write_text(data, encoding="utf-8")
            os.replace(tmp, self.status_path)


def copy(source: Path, target: Path) -> None:
    """A file or a directory to `target`, replacing what was there (via a temporary sibling)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    if source.is_dir():
        shutil.rmtree(tmp, ignore_errors=True)
        shutil.copytree(source, tmp)
        shutil.rmtree(target, ignore_errors=True)
    else:
        shutil.copy2(source, tmp)
    os.replace(tmp, target)


def artifact_path(store: Path, key: str) -> Path:
    """Where the key-only artifact `key` lives in the repository `store`; a key must stay inside it."""
    parts = PurePosixPath(key).parts
    if not key or key.startswith("/") or ".." in parts:
        raise ValueError(f"artifact key {key!r} must be a relative path without '..'")
    return store.joinpath(*parts)

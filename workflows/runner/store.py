"""What the runs of one runs root share on disk, standing in for the cluster's artifact repository.
It lives under the runs root (`runs/` of a checkout), never machine-wide:

    <root>/artifacts/<key>                 a key-only artifact (`s3: {key: ...}`), the key used literally
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path, PurePosixPath


class StoreError(ValueError):
    """A key the store cannot hold, or a file it cannot read or write."""


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


def artifact_path(root: Path, key: str) -> Path:
    """Where the key-only artifact `key` lives; a key must stay inside the store."""
    parts = PurePosixPath(key).parts
    if not key or key.startswith("/") or ".." in parts:
        raise StoreError(f"artifact key {key!r} must be a relative path without '..'")
    return root.joinpath("artifacts", *parts)

"""What the runs of one runs root share on disk, standing in for the cluster's artifact repository and
memoization ConfigMaps. Both live under the runs root (`runs/` of a checkout), never machine-wide:

    <root>/artifacts/<key>                 a key-only artifact (`s3: {key: ...}`), the key used literally
    <root>/cache/<configmap>/<key>/entry.json   a memoization entry, as Argo stores it in the ConfigMap
    <root>/cache/<configmap>/<key>/<node>/...   copies of that node's output artifacts

A memoization entry is written only for a Succeeded node (operator.go: `if newState.Succeeded()`
before `c.Save`); keys must match Argo's `^[a-zA-Z0-9][-a-zA-Z0-9]*$` (cache/cache.go) or the node
errors; an entry older than maxAge is a miss (GetOutputsWithMaxAge); a hit updates lastHitTimestamp.
"""

from __future__ import annotations

import json
import os
import re
import shutil
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path, PurePosixPath
from typing import Any

from workflows.runner.rundir import rfc3339, utc_now

CACHE_KEY = re.compile(r"^[a-zA-Z0-9][-a-zA-Z0-9]*$")
CACHE_LABEL = "workflows.argoproj.io/configmap-type"  # common.LabelKeyConfigMapType, value "Cache"


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


@dataclass(frozen=True)
class CacheHit:
    key: str
    created: str  # when the entry was saved (RFC 3339)
    parameters: dict[str, str]
    artifacts: dict[str, Path]  # output artifact name -> the cached copy


class MemoCache:
    def __init__(self, root: Path, config_map: str) -> None:
        self.dir = root / "cache" / config_map
        self.config_map = config_map

    def _entry_dir(self, key: str) -> Path:
        if not CACHE_KEY.match(key):
            raise StoreError(f"invalid cache key: {key}")  # Argo's words: the node errors
        return self.dir / key

    def load(self, key: str, max_age: float | None, now: datetime | None = None) -> CacheHit | None:
        """The entry for `key` unless it is missing or older than `max_age` seconds."""
        path = self._entry_dir(key) / "entry.json"
        try:
            entry = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return None
        except (OSError, ValueError) as exc:
            raise StoreError(f"malformed cache entry {path}: {exc}") from exc
        now = now or utc_now()
        created = datetime.fromisoformat(entry["creationTimestamp"].replace("Z", "+00:00"))
        if not entry.get("nodeID") or (max_age is not None and (now - created).total_seconds() > max_age):
            return None
        entry["lastHitTimestamp"] = rfc3339(now)
        _write_json(path, entry)
        outputs = entry.get("outputs") or {}
        return CacheHit(
            key=key,
            created=entry["creationTimestamp"],
            parameters={p["name"]: p["value"] for p in outputs.get("parameters") or ()},
            artifacts={a["name"]: path.parent / a["file"] for a in outputs.get("artifacts") or ()},
        )

    def save(self, key: str, node_id: str, parameters: dict[str, str], artifacts: dict[str, Path]) -> None:
        """Record a Succeeded node's outputs under `key`, replacing an older entry."""
        entry_dir = self._entry_dir(key)
        node_dir = re.sub(r"[^A-Za-z0-9._-]", "-", node_id)
        files = []
        for name, source in artifacts.items():
            target = entry_dir / node_dir / name / source.name
            copy(source, target)
            files.append({"name": name, "file": target.relative_to(entry_dir).as_posix()})
        now = rfc3339(utc_now())
        entry: dict[str, Any] = {
            "nodeID": node_id,
            "outputs": {
                "parameters": [{"name": k, "value": v} for k, v in parameters.items()],
                "artifacts": files,
            },
            "creationTimestamp": now,
            "lastHitTimestamp": now,
        }
        _write_json(entry_dir / "entry.json", entry)
        for old in entry_dir.iterdir():  # the copies of entries this one replaced
            if old.is_dir() and old.name != node_dir:
                shutil.rmtree(old, ignore_errors=True)


def _write_json(path: Path, data: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    os.replace(tmp, path)

"""Files the steps read and write: artifacts, output-parameter files and Argo's progress file.

Every write is atomic (a temporary file in the same directory, then a rename), so a step that is
killed or retried never leaves a half-written artifact or parameter for the next step to read.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from steps.validate import InvalidInput


def write_bytes(path: str | os.PathLike[str], data: bytes) -> Path:
    """Write `data` to `path` atomically, creating the parent directories."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        # No fsync: the file is read after the step exits, on the same machine (Argo's wait container,
        # the local runner), never after a crash of the machine, which ends the pod and its volume too.
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.chmod(tmp, 0o644)  # mkstemp makes 0600; the next container may run as another user
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return target


# Artifacts up to this size are indented for people reading them in the Argo UI; a bigger one
# (thousands of tasks) is written compact: json's C encoder does not indent, and the pure-Python
# one takes ~3x longer (0.5 s instead of 0.18 s for 100,000 tasks).
INDENT_MAX_BYTES = 1_000_000


def write_json(path: str | os.PathLike[str], data: Any) -> Path:
    """Write `data` as UTF-8 JSON with a final newline, atomically: indented when small, compact when big."""
    text = json.dumps(data, ensure_ascii=False)
    if len(text) <= INDENT_MAX_BYTES:
        text = json.dumps(data, indent=2, ensure_ascii=False)
    return write_bytes(path, (text + "\n").encode("utf-8"))


def read_json(
    path: str | os.PathLike[str], what: str, loads: Callable[[bytes], Any] = json.loads
) -> Any:
    """Read a JSON artifact; a missing, unreadable or malformed file is `InvalidInput` naming `what`.
    A faster `loads` of the file's bytes may be given; it must raise json.JSONDecodeError (or
    UnicodeDecodeError) on malformed JSON."""
    source = Path(path)
    try:
        data = source.read_bytes()
    except FileNotFoundError:
        raise InvalidInput(f"{what}: file {str(source)!r} does not exist") from None
    except OSError as exc:
        raise InvalidInput(f"{what}: cannot read {str(source)!r}: {exc}") from None
    try:
        return loads(data)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise InvalidInput(f"{what}: {str(source)!r} is not valid JSON: {exc}") from None

"""What a person watching a local run sees: one line per task event, and a summary table at the end."""

from __future__ import annotations

import threading
from collections.abc import Mapping
from datetime import datetime
from typing import Any, TextIO


def seconds(value: float) -> str:
    """1.234 -> "1.2 s", 5.0 -> "5 s", 75 -> "1 min 15 s"."""
    if value >= 60:
        minutes, rest = divmod(value, 60)
        return f"{int(minutes)} min {rest:.0f} s"
    return f"{value:.1f}".removesuffix(".0") + " s"


class Reporter:
    """Prints `HH:MM:SS  <task>  <event>` lines; worker threads call it, so it holds a lock."""

    def __init__(self, stream: TextIO, width: int) -> None:
        self.stream = stream
        self.width = width
        self._lock = threading.Lock()

    def line(self, task: str, event: str) -> None:
        with self._lock:
            print(f"{datetime.now():%H:%M:%S}  {task:<{self.width}}  {event}", file=self.stream, flush=True)


def _short(value: str, limit: int) -> str:
    value = " ".join(value.split())
    return value if len(value) <= limit else value[: limit - 1] + "…"


def summary_table(status: Mapping[str, Any]) -> str:
    """task | phase | attempts | duration | output parameters, one row per task in manifest order."""
    rows = [("TASK", "PHASE", "ATTEMPTS", "DURATION", "OUTPUTS")]
    for name, task in status["tasks"].items():
        params = task["outputs"]["parameters"]
        outputs = ", ".join(f"{key}={_short(str(value), 40)}" for key, value in params.items())
        if not outputs and task["message"]:
            outputs = _short(task["message"], 110)
        duration = "-" if task["duration_seconds"] is None else seconds(task["duration_seconds"])
        rows.append((name, task["phase"], str(len(task["attempts"])), duration, outputs))
    widths = [*(max(len(row[i]) for row in rows) for i in range(4)), 0]  # the outputs unpadded
    return "\n".join("  ".join(map(str.ljust, row, widths)).rstrip() for row in rows)

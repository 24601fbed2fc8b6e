"""The benchmark figures: each beside its target, PASS/MISS, printed as a table and saved as JSON.

A test records a figure (the median of its runs, every run kept) and then asserts it, so a missed
target fails `make bench` and is still in the table and in bench-results.json.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import platform
import statistics
import sys
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

RESULTS_FILE = Path(__file__).resolve().parents[2] / "bench-results.json"


@dataclass
class Figure:
    key: str  # stable id, e.g. "report.100000.wall_s"
    label: str  # what it is, for the table
    value: float  # the median of `runs` (or the one value)
    unit: str  # "s", "ms", "MiB", "%", "x"
    target: float | None = None  # upper bound (value <= target passes); None: informative only
    runs: list[float] = field(default_factory=list)
    note: str = ""

    @property
    def verdict(self) -> str:
        if self.target is None:
            return "-"
        return "PASS" if self.value <= self.target else "MISS"

    @property
    def passed(self) -> bool:
        return self.verdict != "MISS"

    def describe(self) -> str:
        value, target = _fmt(self.value, self.unit), _fmt(self.target, self.unit)
        return f"{self.label}: {value} (target <= {target}) {self.note}"

    def as_json(self) -> dict[str, Any]:
        return {**asdict(self), "verdict": self.verdict}


FIGURES: list[Figure] = []
# The table's order: the benchmarks in the order the README describes them.
SECTIONS = ("report.", "build.", "startup.", "run.", "fanout.", "fleet.", "oldjob.", "ratio.")


def record(
    key: str,
    label: str,
    runs: list[float] | float,
    unit: str,
    target: float | None = None,
    note: str = "",
) -> Figure:
    """Record the median of `runs` (a list, or one value) as a figure of this benchmark session."""
    values = runs if isinstance(runs, list) else [runs]
    figure = Figure(key, label, statistics.median(values), unit, target, list(values), note)
    FIGURES[:] = [f for f in FIGURES if f.key != key]  # a rerun in the same session replaces it
    FIGURES.append(figure)
    return figure


def ordered() -> list[Figure]:
    """The figures by section (stable within one), with the cross-benchmark ratios added."""
    _derive()

    def rank(figure: Figure) -> int:
        return next((i for i, p in enumerate(SECTIONS) if figure.key.startswith(p)), len(SECTIONS))

    return sorted(FIGURES, key=rank)


def _derive() -> None:
    """Ratios between benchmarks, when both were measured in this session."""
    by_key = {f.key: f for f in FIGURES}
    pairs = (
        (
            "ratio.report_100k_over_1k",
            "report step wall: 100,000 / 1,000 tasks",
            "report.100000.wall_s",
            "report.1000.wall_s",
        ),
        (
            "ratio.install_over_run",
            "old job's install / new job's whole run",
            "oldjob.install_s",
            "run.wall_s",
        ),
    )
    for key, label, top, bottom in pairs:
        if top in by_key and bottom in by_key and by_key[bottom].value > 0:
            record(key, label, by_key[top].value / by_key[bottom].value, "x")


def _fmt(value: float | None, unit: str) -> str:
    if value is None:
        return ""
    if unit == "s":
        return f"{value:.2f} s" if value < 100 else f"{value:.0f} s"
    if unit == "ms":
        return f"{value:.0f} ms"
    if unit == "MiB":
        return f"{value:.0f} MiB"
    if unit == "%":
        return f"{value:.1f} %"
    if unit == "x":
        return f"{value:.1f}x"
    return f"{value:g} {unit}"


def table() -> str:
    """The figures as a fixed-width text table."""
    rows = [("figure", "median", "target", "", "runs / note")]
    for f in ordered():
        runs = ", ".join(_fmt(r, f.unit).split(" ")[0] for r in f.runs) if len(f.runs) > 1 else ""
        detail = "; ".join(part for part in (f"n={len(f.runs)}: {runs}" if runs else "", f.note) if part)
        rows.append((f.label, _fmt(f.value, f.unit), _fmt(f.target, f.unit), f.verdict, detail))
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    lines = []
    for n, row in enumerate(rows):
        lines.append("  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row[:4])) + "  " + row[4])
        if n == 0:
            lines.append("-" * (sum(widths) + 8 + len("runs / note")))
    return "\n".join(lines)


def machine() -> dict[str, Any]:
    """What the figures were measured on (they mean little without it)."""
    cpu = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory_gib = 0.0
    with contextlib.suppress(ValueError, OSError):
        memory_gib = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return {
        "cpus": os.cpu_count(),
        "cpu": cpu,
        "memory_gib": round(memory_gib, 1),
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "load_average_at_end": [round(x, 2) for x in os.getloadavg()],
    }


def save(path: Path = RESULTS_FILE) -> Path:
    data = {
        "measured_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "machine": machine(),
        "figures": [f.as_json() for f in ordered()],
        "all_passed": all(f.passed for f in FIGURES),
    }
    path.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    return path

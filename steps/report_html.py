"""The human-readable daily scrum page (pure: builds a string, no I/O).

Argo's UI shows an HTML artifact in a sandboxed frame that allows no scripts and no external
resources, so the page is one self-contained document: inline CSS only, no <script>, no URL.
Progress bars are nested divs whose width is the percentage. Every text that comes from a
service is HTML-escaped.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache
from html import escape
from typing import Any

import numpy as np
import pandas as pd

from steps.note import UNASSIGNED, ScrumDay

MAX_LISTED_IMPEDIMENTS = 200  # the list on top stays readable; the tables show every task

_CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:1.5rem;color:#1f2933}
h1{font-size:1.5rem;margin:0 0 .5rem}h2{font-size:1.15rem;margin:1.5rem 0 .4rem}
.warning{background:#fde8e8;border:2px solid #c81e1e;color:#771d1d;padding:.8rem 1rem;
font-size:1.1rem;font-weight:700;margin:.8rem 0}
.outcome{color:#52606d}
table{border-collapse:collapse;margin:.3rem 0}
th,td{border:1px solid #cbd2d9;padding:.25rem .5rem;text-align:left;vertical-align:top;font-size:.9rem}
th{background:#f0f4f8}
.metrics td{font-weight:700;text-align:right}
.bar{display:flex;width:9rem;height:.8rem;background:#e4e7eb;border-radius:2px;overflow:hidden}
.was{background:#9aa5b1}.day{background:#31a354}
.num{font-size:.8rem;color:#52606d}
.imp{color:#b44d12}
"""


def _e(text: object) -> str:
    return escape(str(text), quote=True)


_e_repeated = lru_cache(maxsize=4096)(_e)  # for texts that repeat: statuses, impediments


@lru_cache(maxsize=4096)
def _p(value: float) -> str:
    return f"{round(value, 1):g}"


@lru_cache(maxsize=4096)  # few distinct values repeat over many tasks (the page may list 100,000)
def _bar(was: float, today: float) -> str:
    """A bar of 100%: the part done before today in grey, today's part in green."""
    return (
        f'<div class="bar"><div class="was" style="width:{_p(was)}%"></div>'
        f'<div class="day" style="width:{_p(today)}%"></div></div>'
    )


@lru_cache(maxsize=16384)  # a few thousand distinct tails repeat over the tasks of a big sprint
def _row_tail(was: float, made: float, now: float, capped: bool, status: str, impediments: str) -> str:
    """A task's row after its title: today's bar, the overall bar, the status and the impediments."""
    return (
        f'</td><td>{_bar(0, made)}<span class="num">+{_p(made)} points</span></td>'
        f'<td>{_bar(was, made)}<span class="num">{"&ge;" if capped else ""}{_p(was)}% &rarr; '
        f"{_p(now)}%</span></td><td>{_e_repeated(status)}</td><td>{_e_repeated(impediments)}</td></tr>"
    )


def _escape_all(texts: list[str]) -> list[str]:
    """Every text HTML-escaped, in one escape() over their join instead of one call per text."""
    joined = "\x00".join(texts)
    if joined.count("\x00") != len(texts) - 1:  # a text holds the separator itself: one by one
        return [_e(text) for text in texts]
    return escape(joined, quote=True).split("\x00")


def render(
    day: ScrumDay,
    *,
    outcome: str,
    on_section: Callable[[int, int], None] | None = None,
    tables: list[str] | None = None,
) -> str:
    """The whole page. `outcome` says what happened to the note (stored, skipped, why).

    `on_section(done, total)` is called after each assignee's section, to report progress.
    `tables` are the assignee sections drawn beforehand with `sections()` (the costly part for a
    big sprint, which the report step draws while the chronicle stores the note).
    """
    note = day.note
    project, sprint, date = note["project_id"], note["sprint_id"], note["report_date"]
    metrics = note["summary_metrics"]
    parts = [
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">',
        f"<title>Daily scrum {_e(project)} / {_e(sprint)} / {_e(date)}</title>",
        f"<style>{_CSS}</style></head><body>",
        f"<h1>Daily scrum: project {_e(project)}, sprint {_e(sprint)}, {_e(date)}</h1>",
    ]
    if day.warning:
        parts.append(f'<div class="warning" role="alert">{_e(day.warning)}</div>')
    parts += [
        f'<p class="summary">{_e(note["summary"])}</p>',
        f'<p class="outcome">{_e(outcome)}</p>',
        '<h2>Summary metrics</h2><table class="metrics">',
        *(
            f"<tr><th>{label}</th><td>{value}</td></tr>"
            for label, value in (
                ("Team members", metrics["total_team_members"]),
                ("Tasks", metrics["total_tasks"]),
                ("Completed", metrics["completed_tasks"]),
                ("Pending", metrics["pending_tasks"]),
                ("Progressed today", day.tasks_progressed),
                ("Open (not completed)", day.open_tasks),
            )
        ),
        "</table>",
    ]
    parts += _impediments(day)
    parts += sections(day, on_section) if tables is None else tables
    parts.append("</body></html>\n")
    return "".join(parts)


def _impediments(day: ScrumDay) -> list[str]:
    found = day.impediments
    parts = [f"<h2>Impediments today ({len(found)})</h2>"]
    if found.empty:
        return [*parts, "<p>None.</p>"]
    shown = found.head(MAX_LISTED_IMPEDIMENTS)
    parts.append("<ul>")
    parts += [
        f'<li><b>{_e(task)}</b> ({_e(who)}): <span class="imp">{_e(text)}</span></li>'
        for who, task, text in zip(
            shown["assignee"].tolist(), shown["id"].tolist(), shown["impediments"].tolist(), strict=True
        )
    ]
    parts.append("</ul>")
    if len(found) > len(shown):
        parts.append(f"<p>... and {len(found) - len(shown)} more, shown in the tables below.</p>")
    return parts


def sections(day: ScrumDay, on_section: Callable[[int, int], None] | None = None) -> list[str]:
    """The assignees' tables, in the note's order (unassigned last), as pieces of the page."""
    tasks = day.tasks
    if tasks.empty:
        return ["<h2>Tasks</h2><p>No tasks in this sprint.</p>"]
    # Each column converted once; an assignee's rows are then a slice. factorize numbers the
    # assignees in order of first appearance, and a stable sort by that number keeps each
    # assignee's rows in frame order (the note's frame is already grouped: no rows move).
    codes, assignees = pd.factorize(tasks["assignee"].to_numpy())
    order = np.argsort(codes, kind="stable")
    sizes = np.bincount(codes, minlength=len(assignees)).tolist()

    def column(name: str) -> list[Any]:
        return tasks[name].to_numpy()[order].tolist()

    ids, titles = _escape_all(column("id")), _escape_all(column("title"))
    # Per task only the id and title are new text; the rest of the row repeats (_row_tail).
    tail_columns = ("before", "made", "now", "capped", "status", "impediments")
    tails = list(map(_row_tail, *(column(c) for c in tail_columns)))
    total = len(assignees)
    parts: list[str] = []
    start = 0
    for done, (assignee, size) in enumerate(zip(assignees.tolist(), sizes, strict=True), start=1):
        name = day.team_names.get(str(assignee), "")
        heading = f"{_e(name)} ({_e(assignee)})" if name else _e(assignee)
        if assignee not in day.team_names and assignee != UNASSIGNED:
            heading += " - not in the project team"
        parts.append(
            f"<h2>{heading}: {size} task{'s' if size != 1 else ''}</h2>"
            "<table><tr><th>Task</th><th>Title</th><th>Today</th><th>Overall</th>"
            "<th>Status</th><th>Impediments</th></tr>"
        )
        # The rows as pieces (5 per task), filled by slice assignment: the page is joined once at
        # the end, instead of making a string per row and copying it again into the page.
        end = start + size
        rows = ["<tr><td>", "", "</td><td>", "", ""] * size
        rows[1::5], rows[3::5], rows[4::5] = ids[start:end], titles[start:end], tails[start:end]
        parts += rows
        parts.append("</table>")
        start = end
        if on_section is not None:
            on_section(done, total)
    return parts

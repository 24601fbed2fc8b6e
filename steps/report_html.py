"""The human-readable daily scrum page (pure: builds a string, no I/O).

Argo's UI shows an HTML artifact in a sandboxed frame (no scripts, no external resources): one
self-contained document, inline CSS and SVG, no URL but the optional link back to the run, every
service text escaped. Each member's tasks sit in a collapsible <details> with one fixed layout.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from functools import cache
from html import escape
from typing import Any, NamedTuple

from steps.burndown import Calendar
from steps.note import DONE_DEFINITION, UNASSIGNED, ScrumDay, headline, number

OPEN_UP_TO = 60  # tasks in the sprint up to which every member's table starts expanded
MAX_LISTED_AT_RISK = 25  # task ids listed per at-risk kind
# Rows per member's table: a page stays light enough for a browser at any size (100,000 tasks
# would make 22 MB of HTML); every task is in report.json.
MAX_ROWS = 200

_CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:1.5rem;color:#1f2933;
max-width:75rem}
h1{font-size:1.5rem;margin:0 0 .3rem}h2{font-size:1.15rem;margin:1.4rem 0 .4rem}
.run,.outcome,.def{color:#52606d;margin:.2rem 0}
.warning{background:#fde8e8;border:2px solid #c81e1e;color:#771d1d;padding:.8rem 1rem;
font-size:1.1rem;font-weight:700;margin:.8rem 0}
.flag{background:#fff3c4;border-left:4px solid #f0b429;padding:.3rem .6rem;margin:.3rem 0}
.summary{font-size:1.05rem}
table{border-collapse:collapse;margin:.3rem 0}
th,td{border:1px solid #cbd2d9;padding:.25rem .5rem;text-align:left;vertical-align:top;font-size:.9rem}
th{background:#f0f4f8}td.n,th.n{text-align:right;font-variant-numeric:tabular-nums}
table.tasks{table-layout:fixed;width:100%}
table.tasks td{overflow-wrap:anywhere}
.tasks :is(td,th):nth-child(n+4):nth-child(-n+6){text-align:right;font-variant-numeric:tabular-nums}
details{margin:.3rem 0}summary{cursor:pointer;font-weight:600;padding:.2rem 0}
.bar{display:flex;width:100%;height:.8rem;background:#e4e7eb;border-radius:2px;overflow:hidden}
.bar i{background:#9aa5b1}.bar i.d{background:#31a354}
.imp{color:#b44d12}
.risk li{margin:.15rem 0}
"""
# One layout for every member's table: (header, width); the CSS right-aligns the 4th to 6th.
TASK_TABLE = (
    ("Task", "14rem"), ("Title", "auto"), ("Status", "7rem"), ("Before", "4.5rem"), ("Now", "4.5rem"),
    ("Change", "5rem"), ("Progress", "8rem"), ("Impediments", "auto"),
)  # fmt: skip


class RunLink(NamedTuple):
    """Which workflow run made the page; `ui_url` (the Argo UI's base URL) makes it a link."""

    name: str
    namespace: str
    ui_url: str = ""


_e = escape  # quotes too: every text on the page is a str
_p = cache(number)


@cache  # a few thousand distinct tails repeat over the tasks of a big sprint
def _row_tail(before: float, made: float, now: float, new: bool, status: str, impediments: str) -> str:
    """A task's row after its title: status, before, now, change, the bar and the impediments."""
    if new:
        was, change, before_text = 0.0, "new", "&ndash;"
    else:
        was, change, before_text = min(before, now), ("+" if made > 0 else "") + _p(made), f"{_p(before)}%"
    pieces = (("", was), (" class=d", made))  # grey: before today, green: today; an empty one left out
    bar = "".join(f'<i{css} style="width:{_p(width)}%"></i>' for css, width in pieces if width > 0)
    return (
        f"</td><td>{_e(status)}</td><td>{before_text}</td><td>{_p(now)}%</td>"
        f'<td>{change}</td><td><div class="bar">{bar}</div></td>'
        f'<td{"" if impediments == "None." else " class=imp"}>{_e(impediments)}</td></tr>'
    )


def _escape_all(texts: list[str]) -> list[str]:
    """Every text HTML-escaped, in one escape() over their join instead of one call per text."""
    joined = "\x00".join(texts)
    if joined.count("\x00") != len(texts) - 1:  # a text holds the separator itself: one by one
        return [_e(text) for text in texts]
    return escape(joined, quote=True).split("\x00")


def render(
    day: ScrumDay, *, outcome: str, run: RunLink, days: list[dict[str, Any]], calendar: Calendar | None,
    on_section: Callable[[int, int], None] | None = None,
) -> str:
    """The whole page: `outcome` says what happened to the note, `days` is the burndown series,
    `calendar` the sprint's dates (None: unknown); `on_section(done, total)` after each member's table."""
    note, totals = day.note, day.totals
    project, sprint, date = note["project_id"], note["sprint_id"], note["report_date"]
    parts = [
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">',
        f"<title>Daily scrum {_e(project)} / {_e(sprint)} / {_e(date)}</title>",
        f"<style>{_CSS}</style></head><body>",
        f"<h1>Daily scrum: project {_e(project)}, sprint {_e(sprint)}, {_e(date)}</h1>",
        _run_line(run),
    ]
    if day.warning:
        parts.append(f'<div class="warning" role="alert">{_e(day.warning)}</div>')
    parts += [
        f'<p class="summary">{_e(headline(sprint, totals))}</p>',  # the note's, less the boxed warning
        f'<p class="outcome">{_e(outcome)}</p>',
        f'<p class="def">Definitions: {_e(DONE_DEFINITION)}; remaining work = the sum of 100 - progress '
        "over the tasks; at risk = not done and not moved today, at 100% but not closed, or unassigned.</p>",
    ]
    if totals.unclosed:
        parts.append(f'<p class="flag">At 100 % but not closed: {_p(totals.unclosed)}</p>')
    if day.mismatch:
        parts.append(f'<p class="flag">Note: {_e(day.mismatch)}.</p>')
    parts += _totals_table(day)
    parts += _sprint(days, calendar, scope=100.0 * totals.tasks)
    parts += _members_table(day)
    parts += _at_risk(day)
    parts += sections(day, on_section)
    parts.append("</body></html>\n")
    return "".join(parts)


def _run_line(run: RunLink) -> str:
    name = f"{run.namespace}/{run.name}" if run.namespace else run.name
    if not name:
        return '<p class="run">Run: not named (the report ran outside Argo).</p>'
    if run.ui_url and run.namespace:
        href = f"{run.ui_url.rstrip('/')}/workflows/{run.namespace}/{run.name}"
        return f'<p class="run">Run: <a href="{_e(href)}">{_e(name)}</a></p>'
    return f'<p class="run">Run: {_e(name)}</p>'


def _table(headers: list[str] | None, rows: list[list[Any]]) -> list[str]:
    """A table whose columns but the first are right-aligned numbers; no header row when None."""

    def cells(tag: str, row: list[Any]) -> str:
        return f"<{tag}>{row[0]}</{tag}>" + "".join(f'<{tag} class="n">{c}</{tag}>' for c in row[1:])

    head = f"<table><tr>{cells('th', headers)}</tr>" if headers else "<table>"
    return [head, *(f"<tr>{cells('td', row)}</tr>" for row in rows), "</table>"]


def _totals_table(day: ScrumDay) -> list[str]:
    t = day.totals
    rows = [
        ["Tasks", _p(t.tasks)], ["Done (at 100%)", _p(t.done)], ["Not done", _p(t.open)],
        ["Moved today", _p(t.moved)], ["Points made today", _p(t.points)],
        ["Remaining work (points)", _p(t.remaining)],
        ["Team members", _p(day.note["summary_metrics"]["total_team_members"])],
    ]  # fmt: skip
    return ["<h2>Today</h2>", *_table(None, rows)]


def _sprint(days: list[dict[str, Any]], calendar: Calendar | None, scope: float) -> list[str]:
    parts = ["<h2>Sprint</h2>"]
    if calendar is None:
        parts.append("<p>The sprint's dates are unknown (the sprint-service did not list them).</p>")
    else:
        ideal = calendar.ideal(scope, calendar.on)
        parts.append(
            f"<p>{calendar.start.isoformat()} to {calendar.end.isoformat()}: day {calendar.gone} of "
            f"{calendar.days}, {calendar.left} day{'s' if calendar.left != 1 else ''} left. "
            f"Ideal remaining today: {_p(ideal)} points.</p>"
        )
        if calendar.on > calendar.end:
            parts.append(f'<p class="flag">The sprint ended on {calendar.end.isoformat()}.</p>')
    parts.append(burndown_svg(days, calendar, scope))
    parts.append(
        f"<p>{len(days)} day{'s' if len(days) != 1 else ''} recorded: "
        + "; ".join(f"{_e(d['date'])}: {_p(d['remaining'])} points" for d in days[-14:])
        + (" (the last 14; all in report.json)" if len(days) > 14 else "")
        + ".</p>"
    )
    return parts


def burndown_svg(days: list[dict[str, Any]], calendar: Calendar | None, scope: float) -> str:
    """The remaining work per recorded day (one circle each) and the ideal line, as inline SVG."""
    width, height, right, top, bottom = 720, 260, 20, 15, 35
    dates = [dt.date.fromisoformat(d["date"]) for d in days]
    # The sprint's days and the recorded ones; the sprint only when a recorded day falls in it (a
    # report dated long after the sprint would squash its ideal line into a sliver).
    if calendar is not None and not any(calendar.start <= on <= calendar.end for on in dates):
        calendar = None
    first = min([*dates, *([calendar.start] if calendar else [])])
    last = max([*dates, *([calendar.end] if calendar else [])])
    span = max((last - first).days, 1)
    top_value = max([scope, *(d["remaining"] for d in days), 1.0])
    left = max(60, 12 + 7 * len(_p(top_value)))  # room for the axis' top label ("10,000,000" at 11 px)

    def x(on: dt.date) -> float:  # a single day sits in the middle
        share = (on - first).days / span if last > first else 0.5
        return round(left + (width - left - right) * share, 1)

    def y(value: float) -> float:
        return round(top + (height - top - bottom) * (1 - value / top_value), 1)

    parts = [
        f'<svg width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" aria-label="Burndown: remaining work per day">',
        f'<line x1="{left}" y1="{y(0)}" x2="{width - right}" y2="{y(0)}" stroke="#9aa5b1"/>',
        f'<line x1="{left}" y1="{top}" x2="{left}" y2="{y(0)}" stroke="#9aa5b1"/>',
        _label(left - 6, y(top_value) + 4, _p(top_value), "end"),
        _label(left - 6, y(0) + 4, "0", "end"),
        _label(left, height - 12, first.isoformat()) if last > first else "",
        _label(width - right, height - 12, last.isoformat(), "end"),
        _label(width / 2, height - 12, "remaining points: actual (blue), ideal (dashed)", "middle"),
    ]
    if calendar is not None:
        parts.append(
            f'<line x1="{x(calendar.start)}" y1="{y(calendar.ideal(scope, calendar.start))}" '
            f'x2="{x(calendar.end)}" y2="{y(0)}" stroke="#9aa5b1" stroke-dasharray="6 4"/>'
        )
    points = [(x(on), y(d["remaining"]), d) for on, d in zip(dates, days, strict=True)]
    if len(points) > 1:
        path = " ".join(f"{px},{py}" for px, py, _ in points)
        parts.append(f'<polyline points="{path}" fill="none" stroke="#2680c2" stroke-width="2"/>')
    parts += [
        f'<circle cx="{px}" cy="{py}" r="3.5" fill="#2680c2"><title>{_e(d["date"])}: '
        f'{_p(d["remaining"])} points remaining, {d["done"]} of {d["tasks"]} done</title></circle>'
        for px, py, d in points
    ]
    parts.append("</svg>")
    return "".join(parts)


def _label(x: float, y: float, text: str, anchor: str = "start") -> str:
    return f'<text x="{x}" y="{y}" text-anchor="{anchor}" font-size="11" fill="#52606d">{text}</text>'


def _members_table(day: ScrumDay) -> list[str]:
    if day.members.empty:
        return []
    figures = ("tasks", "done", "open", "remaining", "moved", "points")
    rows = [
        [_who(str(m.assignee), m.name, day), *(_p(getattr(m, name)) for name in figures)]
        for m in day.members.itertuples(index=False)
    ]
    headers = ["Member", "Tasks", "Done", "Not done", "Remaining", "Moved today", "Points today"]
    return ["<h2>Per member</h2>", *_table(headers, rows)]


def _who(assignee: str, name: str, day: ScrumDay) -> str:
    text = f"{_e(name)} ({_e(assignee)})" if name else _e(assignee)
    if assignee not in day.team_names and assignee != UNASSIGNED:
        text += " - not in the project team"
    return text


def _at_risk(day: ScrumDay) -> list[str]:
    tasks = day.tasks
    kinds = (
        ("No progress today", tasks["stalled"]),
        ("At 100% but not closed", tasks["unclosed"]),
        ("Unassigned", tasks["unassigned"] & ~tasks["done"]),
    )
    total = int((kinds[0][1] | kinds[1][1] | kinds[2][1]).sum())
    parts = [f"<h2>At risk ({_p(total)})</h2>"]
    if total == 0:
        return [*parts, "<p>None.</p>"]
    parts.append('<ul class="risk">')
    for label, mask in kinds:
        ids = tasks.loc[mask, "id"]
        if ids.empty:
            continue
        shown = ", ".join(_escape_all(ids.head(MAX_LISTED_AT_RISK).tolist()))
        more = f" and {_p(len(ids) - MAX_LISTED_AT_RISK)} more" if len(ids) > MAX_LISTED_AT_RISK else ""
        parts.append(f"<li><b>{label}: {_p(len(ids))}</b> &mdash; {shown}{more}</li>")
    parts.append("</ul>")
    return parts


def sections(day: ScrumDay, on_section: Callable[[int, int], None] | None = None) -> list[str]:
    """The members' task tables, in the note's order (unassigned last), as pieces of the page."""
    tasks = day.tasks
    if tasks.empty:
        return ["<h2>Tasks</h2><p>No tasks in this sprint.</p>"]
    opened = " open" if len(tasks) <= OPEN_UP_TO else ""
    # The rows shown, each column converted once; a member's rows are then a slice (the frame is
    # grouped by member).
    tasks = tasks[tasks.groupby("assignee", sort=False).cumcount() < MAX_ROWS]
    ids, titles = _escape_all(tasks["id"].tolist()), _escape_all(tasks["title"].tolist())
    # Per task only the id and title are new text; the rest of the row repeats (_row_tail).
    tail_columns = ("before", "made", "now", "new", "status", "impediments")
    tails = list(map(_row_tail, *(tasks[c].tolist() for c in tail_columns)))
    header = (
        '<table class="tasks"><colgroup>'
        + "".join(f'<col style="width:{width}">' for _, width in TASK_TABLE)
        + "</colgroup><tr>"
        + "".join(f"<th>{name}</th>" for name, _ in TASK_TABLE)
        + "</tr>"
    )
    total = len(day.members)
    parts: list[str] = ["<h2>Tasks per member</h2>"]
    start = 0
    for done, member in enumerate(day.members.itertuples(index=False), start=1):
        size = member.tasks
        parts.append(
            f"<details{opened}><summary>{_who(str(member.assignee), member.name, day)}: "
            f"{_p(size)} task{'s' if size != 1 else ''}, {_p(member.done)} done, "
            f"{_p(member.remaining)} points left</summary>{header}"
        )
        # The rows as pieces (5 per task), filled by slice assignment: the page is joined once at
        # the end, instead of making a string per row and copying it again into the page.
        shown = min(size, MAX_ROWS)
        end = start + shown
        rows = ["<tr><td>", "", "</td><td>", "", ""] * shown
        rows[1::5], rows[3::5], rows[4::5] = ids[start:end], titles[start:end], tails[start:end]
        parts += rows
        parts.append("</table>")
        if shown < size:
            parts.append(f'<p class="def">The first {_p(shown)} of {_p(size)} tasks (by task id); '
                         "every task is in report.json.</p>")
        parts.append("</details>")
        start = end
        if on_section is not None:
            on_section(done, total)
    return parts

"""steps.report_html: the self-contained daily scrum page (pure, no service), read back as a parser does."""

from __future__ import annotations

import datetime as dt
import re
from html.parser import HTMLParser
from typing import Any

from steps import burndown, report_html
from steps.report_html import RunLink
from tests.steps.test_report_note import DATE, SIMULATION, SNAPSHOT, TASKS, build, task

CALENDAR = burndown.Calendar(dt.date(2025, 8, 25), dt.date(2025, 9, 5), dt.date.fromisoformat(DATE))
DAYS = [
    {"date": "2025-08-28", "remaining": 420.0, "done": 1, "tasks": 7},
    {"date": "2025-08-29", "remaining": 350.0, "done": 2, "tasks": 7},
    {"date": DATE, "remaining": 310.0, "done": 3, "tasks": 7},
]
RUN = RunLink("dailyscrum-abc12", "dsm")


class Page(HTMLParser):
    """Tags, attributes, text, and the rows of every table (cells as text); fails on unbalanced tags."""

    STRUCTURE = ("table", "tr", "div", "ul", "li", "h1", "h2", "p", "td", "th", "details", "svg")

    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[str] = []
        self.attrs: list[tuple[str, str | None]] = []
        self.text: list[str] = []
        self.tables: list[list[list[str]]] = []
        self.open: list[str] = []
        self.feed(html)
        self.close()
        assert self.open == [], f"unclosed {self.open}"

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.attrs += attrs
        if tag in self.STRUCTURE:
            self.open.append(tag)
        if tag == "table":
            self.tables.append([])
        elif tag == "tr":
            self.tables[-1].append([])
        elif tag in ("td", "th"):
            self.tables[-1][-1].append("")

    def handle_endtag(self, tag: str) -> None:
        if tag in self.STRUCTURE:
            assert self.open and self.open.pop() == tag, f"unbalanced </{tag}>"

    def handle_data(self, data: str) -> None:
        self.text.append(data)
        if "td" in self.open or "th" in self.open:
            self.tables[-1][-1][-1] += data

    def words(self) -> str:
        return " ".join(" ".join(self.text).split())


def render(day: Any = None, **kw: Any) -> str:
    args = {"outcome": "Stored in the chronicle as note abc.", "run": RUN, "days": DAYS, "calendar": CALENDAR}
    return report_html.render(build() if day is None else day, **{**args, **kw})


def test_page_is_self_contained_every_task_present_with_its_exact_change() -> None:
    page = render()
    parsed = Page(page)
    assert "script" not in parsed.tags and "<script" not in page.lower()
    assert not re.search(r"(https?:)?//", page), "no URL without ARGO_UI_URL"
    assert "link" not in parsed.tags and "img" not in parsed.tags
    assert not any(name.startswith("on") for name, _ in parsed.attrs), "no event handlers"
    text = parsed.words()
    assert "Run: dsm/dailyscrum-abc12" in text and "Stored in the chronicle as note abc." in text
    task_tables = [t for t in parsed.tables if t[0][0] == "Task"]
    assert len(task_tables) == 4  # alice, bob, zed, unassigned
    headers = {tuple(t[0]) for t in task_tables}
    assert headers == {tuple(name for name, _ in report_html.TASK_TABLE)}  # one layout for all
    rows = {row[0]: row for t in task_tables for row in t[1:]}
    assert sorted(rows) == sorted(t["task_id"] for t in TASKS)
    assert all(len(row) == len(report_html.TASK_TABLE) for row in rows.values())
    # (status, before, now, change): exact, a task at 100 % before the run did not move.
    assert rows["T2"][2:6] == ["in progress", "100%", "100%", "0"]
    assert rows["T3"][2:6] == ["in progress", "40%", "60%", "+20"]
    assert rows["T6"][2:6] == ["in progress", "85%", "100%", "+15"]
    assert rows["T1"][2:6] == ["closed", "100%", "100%", "0"]
    assert rows["T7"][2:6] == ["not started", "\u2013", "0%", "new"]
    assert "&ge;" not in page and ">=" not in text
    assert "assigned_to_sprint" not in text and "in_progress" not in text  # statuses in words


def test_every_summary_adds_up() -> None:
    parsed = Page(render())
    today = dict(map(tuple, next(t for t in parsed.tables if t[0][0] == "Tasks")))
    assert (int(today["Done (at 100%)"]), int(today["Not done"]), int(today["Tasks"])) == (3, 4, 7)
    members = next(t for t in parsed.tables if t[0][0] == "Member")
    assert members[0] == ["Member", "Tasks", "Done", "Not done", "Remaining", "Moved today", "Points today"]
    for row in members[1:]:
        assert int(row[2]) + int(row[3]) == int(row[1]), row
    assert sum(int(row[1]) for row in members[1:]) == 7
    assert sum(float(row[4]) for row in members[1:]) == float(today["Remaining work (points)"]) == 310
    text = parsed.words()
    assert "At 100 % but not closed: 2" in text
    assert "done = progress 100 %" in text
    assert "At risk (3)" in text  # T4 stalled (and unassigned), T2 and T6 at 100 % but not closed
    assert "No progress today: 1 \u2014 T4" in text and "At 100% but not closed: 2 \u2014 T2, T6" in text
    assert "Unassigned: 1 \u2014 T4" in text


def test_burndown_is_one_svg_with_one_point_per_day_and_the_sprint_calendar() -> None:
    page = render()
    parsed = Page(page)
    assert parsed.tags.count("svg") == 1
    assert parsed.tags.count("circle") == len(DAYS)
    assert parsed.tags.count("polyline") == 1
    text = parsed.words()
    assert "2025-08-25 to 2025-09-05: day 6 of 12, 6 days left." in text
    assert "Ideal remaining today: 381.8 points." in text  # 700 * (1 - 5/11)
    first = Page(render(days=DAYS[-1:], calendar=None))
    assert first.tags.count("circle") == 1 and "polyline" not in first.tags
    assert "The sprint's dates are unknown" in first.words()


def test_the_burndowns_axis_makes_room_for_a_big_sprints_label() -> None:
    day = {"date": DATE, "remaining": 4_000_893.0, "done": 28_724, "tasks": 100_000}
    svg = report_html.burndown_svg([day], None, scope=10_000_000.0)
    [label_x] = re.findall(r'<text x="([0-9.]+)"[^>]*>10,000,000</text>', svg)
    assert float(label_x) >= 7 * len("10,000,000")  # right-aligned there: the whole label is inside


def test_run_link_only_with_the_argo_ui_url() -> None:
    page = render(run=RunLink("dailyscrum-abc12", "dsm", "https://argo.example.com/argo"))
    href = "https://argo.example.com/argo/workflows/dsm/dailyscrum-abc12"
    assert f'<a href="{href}">dsm/dailyscrum-abc12</a>' in page
    assert "Run: not named" in render(run=RunLink("", ""))


def test_all_service_text_is_escaped() -> None:
    evil = '<script>alert("x")</script>'
    tasks = [task("T<1>", "in_progress", 50, "bob", title=evil), task("T2", "in_progress", 10, "<b>")]
    page = render(build(snapshot=tasks, tasks=tasks), outcome=evil)
    assert "<script" not in page
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in page
    assert "T&lt;1&gt;" in page and "Bob &lt;Builder&gt; (bob)" in page
    Page(page)


def test_defect_warning_is_prominent() -> None:
    day = build(tasks=SNAPSHOT, simulation={**SIMULATION, "tasks_updated_count": 0, "updates": []})
    body = render(day).split("<body>", 1)[1]
    warning = '<div class="warning" role="alert">WARNING: the simulation moved no task although 4 tasks'
    assert warning in body and body.index(warning) < body.index("<h2>")


def test_a_big_sprint_is_grouped_in_closed_details_and_keeps_every_task() -> None:
    many = [task(f"T{i:04d}", "in_progress", i % 90, f"m{i % 20}") for i in range(1000)]
    after = [{**t, "progress_percentage": t["progress_percentage"] + 5} for t in many]
    calls: list[tuple[int, int]] = []
    day = build(snapshot=many, tasks=after)
    page = render(day, on_section=lambda d, t: calls.append((d, t)))
    parsed = Page(page)
    assert parsed.tags.count("details") == 20 and "<details open>" not in page
    assert sum(len(t) - 1 for t in parsed.tables if t[0][0] == "Task") == 1000
    assert calls[-1] == (20, 20)
    assert "<details open>" in render()  # a small sprint starts expanded
    # Counts read as people write them, as the points already are.
    assert "1,000 tasks moved today" in day.note["summary"] and "<td class=\"n\">1,000</td>" in page


def test_a_members_table_lists_at_most_max_rows_and_says_where_the_rest_is() -> None:
    size = report_html.MAX_ROWS + 5
    many = [task(f"T{i:04d}", "in_progress", 10, "bob") for i in range(size)]
    day = build(snapshot=many, tasks=many)
    parsed = Page(render(day))
    [table] = [t for t in parsed.tables if t[0][0] == "Task"]
    assert [row[0] for row in table[1:]] == [f"T{i:04d}" for i in range(report_html.MAX_ROWS)]
    assert f"The first 200 of {size} tasks (by task id); every task is in report.json." in parsed.words()
    assert len(day.note["reports"][DATE][0]["tasks"]) == size  # the note keeps every task

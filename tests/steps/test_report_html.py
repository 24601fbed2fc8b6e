"""steps.report_html: the self-contained daily scrum page (pure, no service)."""

from __future__ import annotations

import re
from html.parser import HTMLParser

from steps import note, report_html
from tests.steps.test_report_note import DATE, RUN_AT, SIMULATION, SUMMARY, TASKS, TEAM, build, task


class _Page(HTMLParser):
    """Collects tags, attributes and text, and fails on unbalanced structural tags."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[str] = []
        self.attrs: list[tuple[str, str | None]] = []
        self.text: list[str] = []
        self.open: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.attrs += attrs
        if tag in ("table", "tr", "div", "ul", "li", "h1", "h2", "p", "td", "th"):
            self.open.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if tag in ("table", "tr", "div", "ul", "li", "h1", "h2", "p", "td", "th"):
            assert self.open and self.open.pop() == tag, f"unbalanced </{tag}>"

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def parse(page: str) -> _Page:
    parser = _Page()
    parser.feed(page)
    parser.close()
    assert parser.open == []
    return parser


def test_page_is_self_contained_and_shows_every_task_and_metric() -> None:
    day = build()
    page = report_html.render(day, outcome="Stored in the chronicle as note abc.")
    parsed = parse(page)
    text = " ".join(parsed.text)
    assert "script" not in parsed.tags and "<script" not in page.lower()
    assert not re.search(r"(https?:)?//", page), "no external URL"
    assert "link" not in parsed.tags and "img" not in parsed.tags
    assert not any(name.startswith("on") for name, _ in parsed.attrs), "no event handlers"
    assert "<style>" in page
    assert "Daily scrum P1 / S1 / 2025-08-30" in text  # the <title>
    for t in TASKS:
        assert t["task_id"] in text and t["title"] in text
    for label, value in [("Team members", 3), ("Tasks", 6), ("Completed", 3), ("Pending", 3)]:
        assert re.search(rf"<th>{label}</th><td>{value}</td>", page)
    assert "Stored in the chronicle as note abc." in text
    assert "Impediments today (4)" in text
    assert "Assignee zed is not a member of the project team." in text
    assert "zed - not in the project team" in text


def test_progress_is_drawn_as_bars() -> None:
    page = report_html.render(build(), outcome="x")
    # T3 moved 40 -> 60: grey bar of 40% then green bar of 20%.
    assert '<div class="was" style="width:40%"></div><div class="day" style="width:20%"></div>' in page
    assert "40% &rarr; 60%" in page
    assert "&ge;75% &rarr; 100%" in page  # T2 reached 100: yesterday's value is a lower bound


def test_all_service_text_is_escaped() -> None:
    evil = '<script>alert("x")</script>'
    tasks = [task("T<1>", "in_progress", 50, "bob", title=evil), task("T2", "in_progress", 10, "<b>")]
    simulation = {**SIMULATION, "updates": []}
    day = note.build(simulation, tasks, SUMMARY, TEAM, project_id="P&1", sprint_id="S1", report_date=DATE)
    page = report_html.render(day, outcome=evil)
    assert "<script" not in page
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in page
    assert "T&lt;1&gt;" in page and "P&amp;1" in page
    assert "Bob &lt;Builder&gt; (bob)" in page  # the team member's name is escaped too
    parse(page)


def test_defect_warning_is_prominent() -> None:
    day = build(simulation={**SIMULATION, "tasks_updated_count": 0, "updates": []})
    page = report_html.render(day, outcome="x")
    body = page.split("<body>", 1)[1]
    warning = (
        '<div class="warning" role="alert">WARNING: the simulation moved no task although 5 tasks are open.'
    )
    assert warning in body
    assert body.index(warning) < body.index("<h2>")  # right under the title, before everything else


def test_unassigned_section_and_empty_sprint() -> None:
    page = report_html.render(build(), outcome="x")
    headings = re.findall(r"<h2>([^<]*)</h2>", page)
    assert headings[-4:] == [
        "Alice (alice): 2 tasks", "Bob &lt;Builder&gt; (bob): 2 tasks",
        "zed - not in the project team: 1 task", "unassigned: 1 task",
    ]
    empty = build(
        simulation={"message": "No tasks found for sprint.", "tasks_updated_count": 0, "updates": [],
                    "recorded_at": RUN_AT},
        tasks=[],
        summary={"total_tasks": 0, "completed_tasks": 0, "pending_tasks": 0},
    )
    page = report_html.render(empty, outcome="x")
    parse(page)
    assert "No tasks in sprint S1." in page and "No tasks in this sprint." in page
    assert "<h2>Impediments today (0)</h2><p>None.</p>" in page


def test_progress_callback_once_per_assignee_section() -> None:
    calls: list[tuple[int, int]] = []
    report_html.render(build(), outcome="x", on_section=lambda done, total: calls.append((done, total)))
    assert calls == [(1, 4), (2, 4), (3, 4), (4, 4)]


def test_long_impediment_list_is_capped_but_tables_keep_every_task() -> None:
    many = [task(f"T{i:04d}", "in_progress", 10, None) for i in range(report_html.MAX_LISTED_IMPEDIMENTS + 5)]
    day = build(tasks=many, simulation={**SIMULATION, "tasks_updated_count": 0, "updates": []})
    page = report_html.render(day, outcome="x")
    assert "... and 5 more, shown in the tables below." in page
    assert page.count("<tr><td>T") == len(many)

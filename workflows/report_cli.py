"""`python -m workflows report`: a stored daily scrum report read back from the chronicle-service, or
without a chronicle URL the note of the newest local run under runs/ (docs/report.md). Exit 0 shown,
1 no report (404), 2 invalid input, 3 no usable answer (a 5xx is never "no report": the chronicle's
known defect answers 500 for stored notes), 75 the chronicle could not be reached."""

from __future__ import annotations

import argparse
import datetime as dt
import itertools
import json
import os
import shutil
import sys
import textwrap
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from steps import contract, http, shapes, validate

DEFAULT_SPRINT_ID = "GEM-001-S01"
EXIT_NO_REPORT = 1  # like grep: the query ran and found nothing
COLUMNS = ("DATE", "ASSIGNEE", "TASK", "TODAY", "IMPEDIMENTS")
METRIC_LABELS = {  # summary_metrics key -> how the table's header line names it
    "total_team_members": "team members", "total_tasks": "tasks",
    "completed_tasks": "done (at 100%)", "pending_tasks": "not done",
}
# A day of the chronicle's `reports`: its notes, each with a list of task objects.
_DAY = shapes.Shape("chronicle answer", [{"tasks": [{}]}])
RUNS = Path("runs")  # the local runner's default root (workflows/runner/rundir.py)


def parse_args(argv: Sequence[str], environ: Mapping[str, str]) -> argparse.Namespace:
    description = "Show the daily scrum report stored in the chronicle-service for a sprint and day."
    parser = argparse.ArgumentParser(prog="python -m workflows report", description=description)
    add = parser.add_argument
    sprint, project = contract.ENV_SPRINT_ID, contract.ENV_PROJECT_ID
    chronicle = contract.ENV_CHRONICLE_SERVICE_URL
    add("--sprint-id", default=environ.get(sprint) or DEFAULT_SPRINT_ID,
        help=f"sprint ID (default: ${sprint}, else {DEFAULT_SPRINT_ID})")
    add("--project-id", default=environ.get(project) or None,
        help=f"project ID (default: ${project}, else any project)")
    add("--date", default=None, help="report day, YYYY-MM-DD (default: today in UTC)")
    add("--json", action="store_true", help="print the chronicle's answer as JSON")
    source = parser.add_mutually_exclusive_group()
    source.add_argument("--chronicle-url", default=environ.get(chronicle, ""),
                        help=f"chronicle-service base URL (default: ${chronicle})")
    source.add_argument("--run-dir", type=Path,
                        help="show the note of this local run (default without a URL: the newest)")
    return parser.parse_args(list(argv))


def local_run(run_dir: Path) -> dict[str, Path]:
    """The report step's artifacts of a local run (name -> path); {} when it wrote none."""
    try:
        status = json.loads((run_dir / "status.json").read_text(encoding="utf-8"))
        produced = status["tasks"][contract.REPORT.name]["outputs"]["artifacts"]
        return {name: run_dir / relative for name, relative in produced.items()}
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return {}


def last_run() -> Path | None:
    """The newest local run under runs/ whose report step wrote its note."""
    runs = [status.parent for status in RUNS.glob("*/status.json") if "report" in local_run(status.parent)]
    return max(runs, key=lambda run: (run / "status.json").stat().st_mtime, default=None)


def show_local(run_dir: Path | None, as_json: bool) -> int:
    """The note a local run wrote (report.json), printed as the chronicle's answer would be."""
    run_dir = run_dir or last_run()
    if run_dir is None:
        print(
            f"error: no chronicle-service URL: set {contract.ENV_CHRONICLE_SERVICE_URL} or pass "
            "--chronicle-url (from outside the cluster: kubectl -n dsm port-forward svc/chronicle-service "
            "8080:80); no local run under runs/ either (make run)",
            file=sys.stderr,
        )
        return contract.EXIT_INVALID_INPUT
    report_json = local_run(run_dir).get("report")
    if report_json is None or not report_json.is_file():
        print(f"error: {run_dir}: not a local run whose report step wrote its note", file=sys.stderr)
        return contract.EXIT_INVALID_INPUT
    try:
        note = json.loads(report_json.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        print(f"error: {report_json}: unreadable note: {exc}", file=sys.stderr)
        return contract.EXIT_INVALID_INPUT
    where = f"the note of the local run {run_dir} ({report_json})"
    print(f"{where}; the chronicle was not asked", file=sys.stderr)
    return show(note, str(note.get("report_date", "")), as_json)


def show(report: Mapping[str, Any], day: str, as_json: bool) -> int:
    if as_json:
        print(json.dumps(report, indent=2, ensure_ascii=False))
    else:
        print(render(report, day, shutil.get_terminal_size((120, 24)).columns))
    return contract.EXIT_OK


class Query:
    """The validated query: everything is checked here, before any request is made."""

    def __init__(self, args: argparse.Namespace, today: dt.date) -> None:
        sprint_id = validate.identifier("--sprint-id", args.sprint_id)
        project_id = None if args.project_id is None else validate.identifier("--project-id", args.project_id)
        self.day = validate.date("--date", args.date) if args.date is not None else today
        self.chronicle_url = validate.service_url("--chronicle-url", args.chronicle_url)
        self.params = {"sprint_id": sprint_id, "daily_scrum_date": self.day.isoformat()}
        if project_id is not None:
            self.params["project_id"] = project_id
        of_project = "" if project_id is None else f" of project {project_id}"
        self.description = f"sprint {sprint_id}{of_project} on {self.day.isoformat()}"


def fetch(query: Query, environ: Mapping[str, str]) -> dict[str, Any]:
    """The chronicle's merged answer for the query (http.NotFound on 404, other HttpErrors otherwise)."""
    timeout, session = http.timeouts(environ), http.make_session(environ)
    service = http.Service("chronicle-service", query.chronicle_url, session=session, timeout=timeout)
    answer = service.get_json(contract.NOTES_PATH, params=query.params)
    source = f"chronicle-service GET {service.url(contract.NOTES_PATH)}"
    report = shapes.reported_notes(answer, source)
    rows(report, source)  # refuse an answer the table could not show, with the field it lacks
    return report


def _text(value: Any) -> str:
    return "" if value is None else " ".join(str(value).split())


def rows(report: Mapping[str, Any], source: str) -> list[tuple[str, str, str, str, str]]:
    """(date, assignee, task, today, impediments) for every task entry, by date then as stored."""
    table: list[tuple[str, str, str, str, str]] = []
    for day, entries in sorted(report["reports"].items()):
        for entry in _DAY(entries, f"{source}: reports[{day!r}]"):
            # The chronicle answers `employee_id`; notes are posted with `assigned_to` (its alias).
            assignee = _text(entry.get("employee_id") or entry.get("assigned_to")) or "unassigned"
            for task in entry["tasks"]:
                table.append(
                    (day, assignee, _text(task.get("id")), _text(task.get("today_work")),
                     _text(task.get("impediments")) or "none")
                )  # fmt: skip
    return table


def format_table(table: Sequence[Sequence[str]], width: int) -> list[str]:
    """A plain-text table; the two free-text columns share what is left of `width` and wrap."""
    fixed = [max([len(COLUMNS[i])] + [len(row[i]) for row in table]) for i in range(3)]
    free = max(20, width - sum(fixed) - 2 * (len(COLUMNS) - 1))
    today_width = max(len(COLUMNS[3]), free * 3 // 5)
    widths = [*fixed, today_width, max(len(COLUMNS[4]), free - today_width)]
    lines: list[str] = []
    for row in [COLUMNS, *table]:
        cells = [textwrap.wrap(cell, widths[i]) or [""] for i, cell in enumerate(row)]
        for pieces in itertools.zip_longest(*cells, fillvalue=""):
            lines.append("  ".join(piece.ljust(widths[i]) for i, piece in enumerate(pieces)).rstrip())
    return lines


def render(report: Mapping[str, Any], day: str, width: int) -> str:
    """The report for a person: who and when, the metrics, then one row per task."""
    project, sprint = report.get("project_id") or "?", report.get("sprint_id") or "?"
    lines = [f"Daily scrum report: project {project}, sprint {sprint}, {day}"]
    if report.get("summary"):
        lines.append(_text(report["summary"]))
    metrics = report.get("summary_metrics")
    if isinstance(metrics, dict) and metrics:
        shown = [f"{METRIC_LABELS.get(key, key.replace('_', ' '))}: {val}" for key, val in metrics.items()]
        lines.append("  ".join(shown))
    if report.get("created_at"):
        lines.append(f"stored {report['created_at']}")
    table = rows(report, "chronicle-service")
    lines.append("")
    lines += format_table(table, width) if table else ["(the report has no task entries)"]
    repeated = len(table) - len({row[:3] for row in table})
    if repeated:
        # The chronicle keeps every POST: the same task twice means the day was reported twice.
        lines += ["", f"note: {repeated} task entr{'y' if repeated == 1 else 'ies'} repeated: "
                  "the chronicle holds more than one note for this day"]  # fmt: skip
    return "\n".join(lines)


def main(argv: Sequence[str]) -> int:
    env, err = os.environ, sys.stderr
    args = parse_args(argv, env)
    if args.run_dir is not None or not args.chronicle_url:
        return show_local(args.run_dir, args.json)
    try:
        query = Query(args, dt.datetime.now(dt.UTC).date())
        report = fetch(query, env)  # http.timeouts checks the HTTP_* settings before the request
    except validate.InvalidInput as error:
        print(f"error: {error}", file=err)
        return contract.EXIT_INVALID_INPUT
    except http.NotFound:
        print(f"no report for {query.description}", file=err)
        return EXIT_NO_REPORT
    except http.NotSent as error:
        print(f"error: the chronicle could not be reached, nothing was asked: {error}", file=err)
        return contract.EXIT_NOT_SENT
    except http.ServiceError as error:
        if (status := error.status) is not None and status >= 500:
            print(f"error: the chronicle could not answer (status {status}): unknown, not absent", file=err)
            print(
                "  the deployed chronicle answers 500 for every day with a stored note (its known defect):"
                " the day is most likely reported; read its page from the run (Argo UI: the report"
                " node's report-html artifact; locally: --run-dir)",
                file=err,
            )
        else:
            print("error: the chronicle's answer is unusable: unknown, not absent", file=err)
        print(f"  the report for {query.description} may or may not exist", file=err)
        print(f"  {error}", file=err)
        return contract.EXIT_SERVICE_ERROR
    return show(report, query.day.isoformat(), args.json)

"""chronicle-service stand-in: daily scrum report notes (docs/dsm-services.md, "chronicle-service").

POST validates the note as the real service's pydantic models do and stores every POST as a new
row (no de-duplication). GET has the deployed defect: it answers 500 (plain text
`Internal Server Error`) as soon as one matching note has non-empty `reports`, 404 when nothing
matches, and 200 only when every matching note was stored with `"reports": {}`. That answer is one
object whose scalar fields (`project_id`, `sprint_id`, `created_at`, `summary`, `summary_metrics`)
come from the MOST RECENT matching note; a null summary reads back as the real service's default text.

What was stored is never readable through the service API, as in production: tests read it with
the admin route `GET /_stand-in/notes` (`stored()` below).
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from typing import Any

from workflows.standin import validation as v
from workflows.standin.db import Database
from workflows.standin.server import Request, Response, Router, detail, internal_server_error, json_response

TASK = v.model(
    "TaskReport",
    {
        "id": v.Field(v.string),
        "yesterday_work": v.Field(v.optional(v.string), required=False),
        "today_work": v.Field(v.optional(v.string), required=False),
        "impediments": v.Field(v.optional(v.string), required=False),
        "created_at": v.Field(v.datetime),
    },
)
EMPLOYEE_REPORT = v.model(
    "EmployeeReport",
    {
        # `employee_id` with alias `assigned_to`: either key is accepted, neither is required.
        "employee_id": v.Field(v.optional(v.string), required=False, alias="assigned_to"),
        "tasks": v.Field(v.list_of(TASK)),
    },
)
SUMMARY_METRICS = v.model(
    "SummaryMetrics",
    {
        name: v.Field(v.integer)
        for name in ("total_team_members", "total_tasks", "completed_tasks", "pending_tasks")
    },
)
NOTE = v.model(
    "DailyScrumReportNote",
    {
        "project_id": v.Field(v.string),
        "sprint_id": v.Field(v.optional(v.string), required=False),
        "report_date": v.Field(v.optional(v.date), required=False),
        "summary": v.Field(v.optional(v.string), required=False),
        "summary_metrics": v.Field(v.optional(SUMMARY_METRICS), required=False),
        "reports": v.Field(v.dict_of(v.list_of(EMPLOYEE_REPORT))),
        "orchestration_decision_details": v.Field(v.optional(v.any_dict), required=False),
    },
    top_level=True,
)
QUERY = v.model(
    "DailyScrumReportQuery",
    {
        "sprint_id": v.Field(v.optional(v.string), required=False),
        "project_id": v.Field(v.optional(v.string), required=False),
        "daily_scrum_date": v.Field(v.optional(v.date), required=False),
    },
)
DEFAULT_SUMMARY = "No Holiday or PTO reported for this daily stand-up"
NOT_FOUND = "No daily scrum reports found for the given criteria."


def routes(db: Database) -> Router:
    router = Router()

    def health(_: Request) -> Response:
        return json_response(200, {"status": "ok"})

    def record(request: Request) -> Response:
        note = request.json(NOTE)
        note_id = str(uuid.uuid4())
        created_at = v.serialize_datetime(dt.datetime.now(dt.UTC))
        with db.write() as conn:
            conn.execute(
                "INSERT INTO notes (note_id, project_id, sprint_id, report_date, summary, summary_metrics,"
                " reports, orchestration_decision_details, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    note_id,
                    note["project_id"],
                    note["sprint_id"],
                    note["report_date"],
                    note["summary"],
                    _json_or_none(note["summary_metrics"]),
                    json.dumps(note["reports"]),
                    _json_or_none(note["orchestration_decision_details"]),
                    created_at,
                ),
            )
        return json_response(201, {"message": "Daily scrum report recorded successfully", "note_id": note_id})

    def read(request: Request) -> Response:
        rows = stored(db, v.validate(QUERY, request.query, ("query",)))
        if not rows:
            return detail(404, NOT_FOUND)
        if any(row["reports"] for row in rows):
            # The deployed service reads `additional_data = {"reports": {...}}` back as if it were
            # `{date: [...]}` and fails: any matching note with a report makes the whole GET fail.
            return internal_server_error()
        return json_response(200, merge(rows))

    router.add("GET", "/health", health)
    router.add("POST", "/v1/notes/daily_scrum_report", record)
    router.add("GET", "/v1/notes/daily_scrum_report", read)
    return router


def stored(db: Database, query: dict[str, Any]) -> list[dict[str, Any]]:
    """The stored notes matching a (validated) query, oldest first, `reports` and metrics decoded.

    Filters are AND-ed; an empty value is no filter, as in the real service. A date matches a
    note's `report_date` or a key of its `reports`."""
    sql, args = "SELECT * FROM notes WHERE 1 = 1", []
    for name in ("sprint_id", "project_id"):
        if query.get(name):
            sql += f" AND {name} = ?"
            args.append(query[name])
    with db.read() as conn:
        rows = [dict(row) for row in conn.execute(sql + " ORDER BY seq", args)]
    for row in rows:
        row["reports"] = json.loads(row["reports"])
        for name in ("summary_metrics", "orchestration_decision_details"):
            row[name] = json.loads(row[name]) if row[name] else None
    day = query.get("daily_scrum_date")
    if day:
        rows = [row for row in rows if row["report_date"] == day or day in row["reports"]]
    return rows


def merge(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """The 200 answer for notes that all have empty `reports` (rows oldest first): the most recent wins."""
    latest = rows[-1]
    return {
        "project_id": latest["project_id"],
        "sprint_id": latest["sprint_id"],
        "created_at": latest["created_at"],
        "summary": latest["summary"] if latest["summary"] is not None else DEFAULT_SUMMARY,
        "summary_metrics": latest["summary_metrics"],
        "reports": {},
    }


def _json_or_none(value: Any) -> str | None:
    return None if value is None else json.dumps(value)

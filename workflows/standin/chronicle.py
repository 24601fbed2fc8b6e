"""chronicle-service stand-in: daily scrum report notes (docs/dsm-services.md, "chronicle-service").
The GET's deployed read defect never shows a stored note: tests read them with `GET /_stand-in/notes`."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from typing import Any

from pydantic import BaseModel, Field

from workflows.standin.db import Database
from workflows.standin.server import INTERNAL_ERROR, Answer, HTTPError, Request, Routes, json_response


class TaskReport(BaseModel):
    id: str
    yesterday_work: str | None = None
    today_work: str | None = None
    impediments: str | None = None
    created_at: dt.datetime


class EmployeeReport(BaseModel, populate_by_name=True):
    employee_id: str | None = Field(None, alias="assigned_to")  # either key is accepted, neither required
    tasks: list[TaskReport]


class SummaryMetrics(BaseModel):
    total_team_members: int
    total_tasks: int
    completed_tasks: int
    pending_tasks: int


class DailyScrumReportNote(BaseModel):
    project_id: str
    sprint_id: str | None = None
    report_date: dt.date | None = None
    summary: str | None = None
    summary_metrics: SummaryMetrics | None = None
    reports: dict[str, list[EmployeeReport]]
    orchestration_decision_details: dict[str, Any] | None = None


class Query(BaseModel):
    sprint_id: str | None = None
    project_id: str | None = None
    daily_scrum_date: dt.date | None = None


DEFAULT_SUMMARY = "No Holiday or PTO reported for this daily stand-up"


def routes(db: Database) -> Routes:
    def record(request: Request) -> Answer:
        note = {
            "note_id": str(uuid.uuid4()),
            **request.json(DailyScrumReportNote).model_dump(mode="json"),
            "created_at": dt.datetime.now(dt.UTC).isoformat().replace("+00:00", "Z"),  # as pydantic writes it
        }
        with db.write() as conn:
            conn.execute("INSERT INTO notes (note) VALUES (?)", (json.dumps(note),))
        message = "Daily scrum report recorded successfully"
        return json_response(201, {"message": message, "note_id": note["note_id"]})

    def read(request: Request) -> Answer:
        rows = stored(db, request.query_as(Query))
        if not rows:
            raise HTTPError(404, "No daily scrum reports found for the given criteria.")
        if any(row["reports"] for row in rows):
            # The deployed service reads `additional_data = {"reports": {...}}` back as if it were
            # `{date: [...]}` and fails: any matching note with a report makes the whole GET fail.
            return INTERNAL_ERROR
        latest = rows[-1]  # the 200 answer: the most recent note's fields; its summary, or the default
        merged = {name: latest[name] for name in ("project_id", "sprint_id", "created_at", "summary")}
        if merged["summary"] is None:
            merged["summary"] = DEFAULT_SUMMARY
        return {**merged, "summary_metrics": latest["summary_metrics"], "reports": {}}

    return [("POST", "/v1/notes/daily_scrum_report", record), ("GET", "/v1/notes/daily_scrum_report", read)]


def stored(db: Database, query: Query) -> list[dict[str, Any]]:
    """The stored notes matching a query, oldest first: AND-ed filters, an empty one is none (as in the
    real service); a date matches a note's `report_date` or a key of its `reports`."""
    notes = [json.loads(row["note"]) for row in db.rows("SELECT note FROM notes ORDER BY rowid")]
    day = query.daily_scrum_date and query.daily_scrum_date.isoformat()
    return [
        note
        for note in notes
        if query.sprint_id in (None, "", note["sprint_id"])
        and query.project_id in (None, "", note["project_id"])
        and (not day or note["report_date"] == day or day in note["reports"])
    ]

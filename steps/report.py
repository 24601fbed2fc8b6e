"""Step `report`: build the daily scrum note from the artifacts and store it in the chronicle once.

Its files are contract.REPORT's (the carried `history`: the burndown series); what they hold: docs/report.md.

The chronicle stores every POST and its read-back fails once a day is stored (dsm-services.md),
so the step POSTs once and never asks: `prepare` alone decides whether the day is reported. The
POST is retried only when it never reached the service (exit 75); after a lost answer the run
fails saying so, and a later run's `prepare` finds the day stored.
"""

from __future__ import annotations

import datetime as dt
import gc
import time
from functools import partial
from typing import Any

import msgspec

from steps import artifacts, burndown, contract, http, note, report_html, shapes, validate
from steps.cli import Step, run_step

SPEC = contract.REPORT


def _calendar(step: Step, sprint: http.Service, project_id: str, sprint_id: str, on: str) -> Any:
    """The sprint's dates, or None (logged): a page without an ideal line beats a failed report."""
    try:
        listing = sprint.get_json(contract.PROJECT_SPRINTS_PATH, project_id=project_id)
        return burndown.calendar(listing, sprint_id, dt.date.fromisoformat(on))
    except (http.HttpError, ValueError) as exc:
        step.log.warning("The sprint's dates are unknown, the burndown has no ideal line: %s", exc)
        return None


def _history(step: Step, sprint_id: str) -> list[dict[str, Any]]:
    """The carried burndown series; a missing one is a first run, an unusable one is logged."""
    try:
        return burndown.load(step.read_carried("history"), sprint_id)
    except ValueError as exc:  # validate.InvalidInput (not JSON) is a ValueError too
        step.log.warning("The carried burndown history is unusable, the chart starts today: %s", exc)
        return []


def _run_link(step: Step) -> report_html.RunLink:
    ui_url = step.env(contract.ENV_ARGO_UI_URL)
    try:
        ui_url = validate.service_url(contract.ENV_ARGO_UI_URL, ui_url) if ui_url else ""
    except validate.InvalidInput as exc:
        step.log.warning("The page names the run without a link: %s", exc)
        ui_url = ""
    return report_html.RunLink(
        step.env(contract.ENV_WORKFLOW_NAME), step.env(contract.ENV_WORKFLOW_NAMESPACE), ui_url
    )


def main(step: Step) -> None:
    # Inputs first (exit 2, never retried), then artifacts, then the services.
    project_id = step.identifier(contract.ENV_PROJECT_ID)
    sprint_id = step.identifier(contract.ENV_SPRINT_ID)
    report_date = validate.date(contract.ENV_REPORT_DATE, step.env(contract.ENV_REPORT_DATE)).isoformat()
    chronicle = step.service("chronicle-service")
    sprint = step.service("sprint-service")
    run = _run_link(step)
    try:
        loaded = {name: step.read_json(name, loads=partial(note.decode, name)) for name in SPEC.inputs}
    except note.ArtifactError as exc:
        raise validate.InvalidInput(f"input artifact {exc}") from None
    history = _history(step, sprint_id)

    started = time.perf_counter()
    day = note.build(**loaded, project_id=project_id, sprint_id=sprint_id, report_date=report_date)
    totals = day.totals
    step.log.info(
        "Built the note for sprint %s on %s: %d tasks (%d done, %d not done), %d assignees, %d moved, "
        "in %.2f s", sprint_id, report_date, totals.tasks, totals.done, totals.open, len(day.members),
        totals.moved, time.perf_counter() - started,
    )
    if day.warning:
        defect = day.warning.removeprefix("WARNING: ")  # the log line has its level already
        step.log.warning("%s (the daily-scrum-service's known defect; the report says so)", defect)
    if day.mismatch:
        step.log.warning("%s", day.mismatch)
    del loaded  # the decoded artifacts (200,000 structs at 100,000 tasks): freed before the encoding

    calendar = _calendar(step, sprint, project_id, sprint_id, report_date)
    point = {"date": report_date, "remaining": totals.remaining, "done": totals.done, "tasks": totals.tasks}
    days = burndown.record(history, point)
    step.write_json("history", {"project_id": project_id, "sprint_id": sprint_id, "days": days})
    day.note["orchestration_decision_details"].update(
        workflow=run.name, namespace=run.namespace,
        sprint=calendar.to_json() if calendar else None, burndown=days,
    )  # fmt: skip

    # Encoded once: the POST body and, for a big sprint, report.json (the same bytes).
    payload = msgspec.json.encode(day.note)
    # The body we store (or would store), written first: useful even if the step then fails.
    # Indented for people when small (the artifacts' rule); beyond, the POST body's own compact bytes.
    small = len(payload) <= artifacts.INDENT_MAX_BYTES
    step.write_bytes("report", (msgspec.json.format(payload, indent=2) if small else payload) + b"\n")

    note_id = _store(step, chronicle, payload)
    del payload
    outcome = f"Stored in the chronicle as note {note_id}."
    page = report_html.render(
        day, outcome=outcome, run=run, days=days, calendar=calendar, on_section=step.progress
    )
    step.write_bytes("report-html", page.encode("utf-8"))
    for name, value in zip(SPEC.output_parameters, (note_id, totals.done, totals.open), strict=True):
        step.write_param(name, value)


def _store(step: Step, chronicle: http.Service, payload: bytes) -> str:
    """POST the note (already encoded) once; its note_id."""
    try:
        note_id = chronicle.post_json(contract.NOTES_PATH, encoded=payload, check=shapes.stored_note)
    except http.ServiceError as exc:  # a NotSent ends the step as is (exit 75): the retry posts again
        cause = (
            "the chronicle refused the note as invalid (HTTP 422), nothing was stored"
            if exc.status == 422
            else "the note may or may not be stored (not retried: a second POST would store it twice); "
            "a later run's prepare finds the day if it is"
        )
        raise http.ServiceError(f"{cause}; the note is in the report artifact. Cause: {exc}") from exc
    step.log.info("Stored the daily scrum note: note_id %s", note_id)
    return str(note_id)


if __name__ == "__main__":
    # A short-lived process that makes no reference cycles: without this, the collector walks the
    # objects of a 100,000-task sprint again and again (~0.1 s).
    gc.disable()
    run_step(SPEC, main)

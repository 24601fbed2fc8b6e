"""Step `prepare`: validate the inputs, resolve the sprint and the report date, and decide whether to run.

Environment: PROJECT_ID, SPRINT_ID (empty: the project's active sprint), REPORT_DATE (empty: the day
of RUN_CREATED_AT in SCHEDULE_TIMEZONE, default UTC; RUN_CREATED_AT empty: now), FORCE,
SPRINT_SERVICE_URL, CHRONICLE_SERVICE_URL; DAILY_SCRUM_SERVICE_URL and PROJECT_SERVICE_URL are only
validated, so that no bad input reaches a later step.
Output parameters: sprint_id, report_date, proceed, already_reported, reason.

The simulation is not idempotent and the chronicle stores every note, so `simulate` runs only when
this step says proceed=true: the sprint exists and is active (or was named), and the chronicle
says the day is not reported yet (skipped with FORCE=true). A chronicle that cannot tell (5xx,
timeout, garbage) stops the run with exit 3 rather than risking a second report.
"""

from __future__ import annotations

import datetime as dt

from steps import contract, http, shapes, validate
from steps.cli import Step, run_step

SPEC = contract.PREPARE


def _report_date(step: Step) -> dt.date:
    """REPORT_DATE if given, else the run's creation day in the schedule's time zone."""
    given = step.env(contract.ENV_REPORT_DATE)
    zone_name = step.env(contract.ENV_SCHEDULE_TIMEZONE) or "UTC"
    zone = validate.timezone(contract.ENV_SCHEDULE_TIMEZONE, zone_name)
    created_raw = step.env(contract.ENV_RUN_CREATED_AT)
    created = (
        validate.timestamp(contract.ENV_RUN_CREATED_AT, created_raw)
        if created_raw
        else dt.datetime.now(dt.UTC)
    )
    if given:
        day = validate.date(contract.ENV_REPORT_DATE, given)
        step.log.info("Report date %s: given as REPORT_DATE", day)
        return day
    day = created.astimezone(zone).date()
    if created_raw:
        step.log.info(
            "Report date %s: the run was created at %s, that day in %s", day, created_raw, zone_name
        )
    else:
        step.log.info("Report date %s: today in %s (RUN_CREATED_AT is empty)", day, zone_name)
    return day


def _write(
    step: Step, sprint_id: str, report_date: dt.date, proceed: bool, already_reported: bool, reason: str
) -> None:
    step.write_param("sprint_id", sprint_id)
    step.write_param("report_date", report_date.isoformat())
    step.write_param("proceed", proceed)
    step.write_param("already_reported", already_reported)
    step.write_param("reason", reason)


def main(step: Step) -> None:
    # Everything is validated before the first request (exit 2, never retried).
    project_id = step.identifier(contract.ENV_PROJECT_ID)
    sprint_id = step.env(contract.ENV_SPRINT_ID)
    if sprint_id:
        validate.identifier(contract.ENV_SPRINT_ID, sprint_id)
    force = validate.flag(contract.ENV_FORCE, step.env(contract.ENV_FORCE))
    report_date = _report_date(step)
    sprint_service = step.service("sprint-service")
    chronicle = step.service("chronicle-service")
    # The later steps' URLs too: one that is bad would otherwise fail the run after the simulation
    # (project-service) or after the chronicle was asked (daily-scrum-service).
    for later in ("daily-scrum-service", "project-service"):
        env_name = contract.SERVICE_URL_ENV[later]
        validate.service_url(env_name, step.env(env_name))
    step.progress(0, 2)

    if not sprint_id:
        step.log.info("SPRINT_ID is empty: asking the sprint-service for the active sprint of %s", project_id)
        try:
            found = sprint_service.get_json(
                contract.ACTIVE_SPRINT_PATH, check=shapes.active_sprint, project_id=project_id
            )
        except http.NotFound:
            reason = f"no active sprint for project {project_id}"
            step.log.warning("Nothing to do: %s", reason)
            _write(step, "", report_date, False, False, reason)
            return
        try:
            sprint_id = validate.identifier("the active sprint_id", found)
        except validate.InvalidInput as exc:  # the service's fault, not the user's
            raise http.ServiceError(f"sprint-service answered an unusable active sprint: {exc}") from None
        step.log.info("Active sprint of project %s: %s", project_id, sprint_id)
    step.progress(1, 2)

    if force:
        step.log.warning(
            "FORCE=true: not asking the chronicle; sprint %s on %s will be simulated and reported "
            "even if it already is", sprint_id, report_date,
        )
        _write(step, sprint_id, report_date, True, False, "force=true: the chronicle was not checked")
        step.progress(2, 2)
        return

    query = {"project_id": project_id, "sprint_id": sprint_id, "daily_scrum_date": report_date.isoformat()}
    step.log.info("Checking the chronicle for a report of sprint %s on %s", sprint_id, report_date)
    try:
        chronicle.get_json(contract.NOTES_PATH, params=query, check=shapes.reported_notes)
    except http.NotFound:
        reason = f"sprint {sprint_id} on {report_date} is not reported yet"
        step.log.info("Proceeding: %s", reason)
        _write(step, sprint_id, report_date, True, False, reason)
        step.progress(2, 2)
        return
    except http.NotSent:
        raise
    except http.ServiceError as exc:
        # A 5xx here is a known chronicle defect: "unknown" must never be read as "not reported".
        raise http.ServiceError(
            f"the chronicle could not tell whether sprint {sprint_id} on {report_date} is already "
            f"reported, so nothing was simulated; rerun later (or with force=true if you are sure "
            f"it is not reported). Cause: {exc}"
        ) from exc
    reason = f"already reported: sprint {sprint_id} on {report_date}"
    step.log.warning("Not simulating: %s (use force=true to report it again)", reason)
    _write(step, sprint_id, report_date, False, True, reason)
    step.progress(2, 2)


if __name__ == "__main__":
    run_step(SPEC, main)

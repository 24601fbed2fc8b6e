"""Step `prepare`: check everything before the one irreversible step, and decide whether to run.

`simulate` runs only when this step says proceed=true (the simulation is not idempotent). First the
inputs (exit 2, before any request); then the preflight, every problem in one pass, exiting with the
most specific code: 4 (never retried) before 3 (a bad answer) before 75 (not reached); then, unless
FORCE=true, whether the chronicle has the day. docs/fault-matrix.md says what each answer means.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from steps import contract, http, shapes, validate
from steps.cli import Step, run_step
from steps.fetch_summary import task_summary

SPEC = contract.PREPARE
HEALTH_READ_TIMEOUT = 5.0  # seconds: /health answers at once or the service is not fit to run


def _report_date(step: Step) -> dt.date:
    """REPORT_DATE if given, else the run's creation day in the schedule's time zone."""
    zone_name = step.env(contract.ENV_SCHEDULE_TIMEZONE) or "UTC"
    zone = validate.timezone(contract.ENV_SCHEDULE_TIMEZONE, zone_name)
    if created_raw := step.env(contract.ENV_RUN_CREATED_AT):
        created = validate.timestamp(contract.ENV_RUN_CREATED_AT, created_raw)
        how = f"the run was created at {created_raw}, that day in {zone_name}"
    else:
        created = dt.datetime.now(dt.UTC)
        how = f"today in {zone_name} (RUN_CREATED_AT is empty)"
    if given := step.env(contract.ENV_REPORT_DATE):
        day = validate.date(contract.ENV_REPORT_DATE, given)
        how = "given as REPORT_DATE"
    else:
        day = created.astimezone(zone).date()
    step.log.info("Report date %s: %s", day, how)
    return day


def _ask(problems: list[http.HttpError], get: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """`get(*args, **kwargs)`, or None with its error added to the preflight's problems."""
    try:
        return get(*args, **kwargs)
    except http.HttpError as exc:
        problems.append(exc)
        return None


def _active_sprint(step: Step, sprint: http.Service, project_id: str) -> str:
    """The project's active sprint; "" when it has none."""
    step.log.info("SPRINT_ID is empty: asking the sprint-service for the active sprint of %s", project_id)
    try:
        found = sprint.get_json(contract.ACTIVE_SPRINT_PATH, check=shapes.active_sprint,
                                project_id=project_id)
    except http.NotFound:
        return ""  # no active sprint: nothing to do, unless there are problems (main decides)
    try:
        sprint_id = validate.identifier("the active sprint_id", found)
    except validate.InvalidInput as exc:  # the service's fault, not the user's: exit 3, not 2
        raise http.ServiceError(f"sprint-service answered an unusable active sprint: {exc}") from None
    step.log.info("Active sprint of project %s: %s", project_id, sprint_id)
    return sprint_id


def _preflight(step: Step, services: dict[str, http.Service], project_id: str, sprint_id: str,
               problems: list[http.HttpError]) -> str:
    """Every check of step 2, problems collected; the sprint ID ("" when the project has no active one)."""
    healthy = set()
    for name, service in services.items():
        timeout = (service.timeout[0], min(service.timeout[1], HEALTH_READ_TIMEOUT))
        probe = http.Service(name, service.base_url, session=service.session, timeout=timeout)
        if _ask(problems, probe.get_json, contract.HEALTH_PATH, check=shapes.health) is not None:
            healthy.add(name)
    step.log.info("Health: %s answered ok", ", ".join(sorted(healthy)) or "no service")
    if "sprint-service" in healthy:
        sprint = services["sprint-service"]
        if not sprint_id:
            sprint_id = _ask(problems, _active_sprint, step, sprint, project_id) or ""
        if sprint_id:
            _ask(problems, task_summary, sprint, sprint_id, "; check sprint_id")
    if "project-service" in healthy:
        team = _ask(
            problems, services["project-service"].get_json, contract.TEAM_PATH,
            check=shapes.team(project_id), project_id=project_id,
        )
        if team is not None and not team["team_members"]:
            problems.append(http.NotFound(
                f"project {project_id} is unknown to the project-service (it answers an empty team, which "
                "is how it answers an unknown project); check project_id"
            ))
    return sprint_id


def _fail(step: Step, problems: list[http.HttpError]) -> http.HttpError:
    """One exception for the run's problems: the most specific one, or a summary of several
    (each then logged here on its own ERROR line)."""
    specificity = (http.NotFound, http.ServiceError, http.NotSent)  # see the module docstring
    worst = next(problem for kind in specificity for problem in problems if isinstance(problem, kind))
    if len(problems) == 1:
        return worst
    for problem in problems:
        step.log.error("%s", problem)
    return type(worst)(f"preflight found {len(problems)} problems (one ERROR line each above); "
                       "nothing was simulated")


def _reported(step: Step, chronicle: http.Service, query: dict[str, str]) -> tuple[bool, bool, str]:
    """Step 3: (proceed, already_reported, reason) from the chronicle's answer; "unknown" raises."""
    sprint_id, day = query["sprint_id"], query["daily_scrum_date"]
    step.log.info("Checking the chronicle for a report of sprint %s on %s", sprint_id, day)
    try:
        chronicle.get_json(contract.NOTES_PATH, params=query, check=shapes.reported_notes)
    except http.NotFound:
        reason = f"sprint {sprint_id} on {day} is not reported yet"
        step.log.info("Proceeding: %s", reason)
        return True, False, reason
    except http.ServiceError as exc:  # a NotSent is no ServiceError: it ends the step as is (exit 75)
        # "Unknown" is never "not reported": a second simulation cannot be undone.
        if exc.status == 500:
            cause = ("the chronicle answered HTTP 500, which is what the deployed chronicle answers once a "
                     "note for the day is stored (its known read defect), so the day is most likely reported "
                     "already; a chronicle failure answers the same")
        else:
            cause = f"the chronicle's answer was unusable ({exc})"
        reason = (
            f"unknown: could not tell whether sprint {sprint_id} on {day} is already reported: {cause}. "
            "Nothing was simulated. Look for the day's report (the page of that day's run in the Argo UI); "
            "if it is there, nothing to do; if it is missing, rerun later or with force=true"
        )
        raise http.ServiceError(reason) from exc
    reason = f"already reported: sprint {sprint_id} on {day}"
    step.log.warning("Not simulating: %s (use force=true to report it again)", reason)
    return False, True, reason


def main(step: Step) -> None:
    # 1. Everything is validated before the first request (exit 2, never retried).
    project_id = step.identifier(contract.ENV_PROJECT_ID)
    # SPRINT_ID may be empty: the project's active sprint, found by the preflight.
    sprint_id = step.identifier(contract.ENV_SPRINT_ID) if step.env(contract.ENV_SPRINT_ID) else ""
    force = validate.flag(contract.ENV_FORCE, step.env(contract.ENV_FORCE))
    report_date = _report_date(step)
    services = {name: step.service(name) for name in contract.SERVICE_URL_ENV}

    def write(sprint: str, proceed: bool, already_reported: bool, reason: str) -> None:
        values = (sprint, report_date.isoformat(), proceed, already_reported, reason)
        for name, value in zip(SPEC.output_parameters, values, strict=True):
            step.write_param(name, value)

    # 2. Preflight: every problem in one pass.
    problems: list[http.HttpError] = []
    sprint_id = _preflight(step, services, project_id, sprint_id, problems)
    if problems:
        reason = "preflight failed, nothing was simulated: " + "; ".join(str(problem) for problem in problems)
        write(sprint_id, False, False, reason)
        raise _fail(step, problems)
    if not sprint_id:
        nothing_to_do = f"no active sprint for project {project_id}"
        step.log.warning("Nothing to do: %s", nothing_to_do)
        write("", False, False, nothing_to_do)
        return
    step.log.info("Preflight passed: all four services answer, sprint %s and project %s exist", sprint_id,
                  project_id)

    # 3. Is the day reported?
    if force:
        step.log.warning(
            "FORCE=true: not asking the chronicle; sprint %s on %s will be simulated and reported "
            "even if it already is", sprint_id, report_date,
        )
        decision = True, False, "force=true: the chronicle was not checked"
    else:
        day = report_date.isoformat()
        query = {"project_id": project_id, "sprint_id": sprint_id, "daily_scrum_date": day}
        try:
            decision = _reported(step, services["chronicle-service"], query)
        except http.ServiceError as unknown:  # a NotSent ends the step as is (exit 75)
            write(sprint_id, False, False, str(unknown))
            raise
    write(sprint_id, *decision)


if __name__ == "__main__":
    run_step(SPEC, main)

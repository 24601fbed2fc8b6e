"""Step `prepare`: check everything before the one irreversible step, and decide whether to run.

Environment: PROJECT_ID, SPRINT_ID (empty: the project's active sprint), REPORT_DATE (empty: the day
of RUN_CREATED_AT in SCHEDULE_TIMEZONE, default UTC; RUN_CREATED_AT empty: now), FORCE, and the
four service URLs.
Output parameters: sprint_id, report_date, proceed, already_reported, reason.

The simulation is not idempotent (every call adds a day of progress), so `simulate` runs only when
this step says proceed=true. In order:
1. Inputs (exit 2, before any request, never retried).
2. Preflight, reported in one pass, one ERROR line per problem: every service answers GET /health;
   the sprint (named, or the active one) exists: its task summary answers 200, 404 = not found;
   the project is known: the project-service answers an unknown project with an empty team, so an
   empty team is "not found". The exit code is the most specific problem's: 4 (not found, never
   retried) before 3 (a bad answer) before 75 (not reached).
3. The chronicle: is this (project, sprint, day) reported? 404: no, proceed. 200: yes, stop quietly
   (proceed=false, exit 0). Anything else is "unknown" and stops the run with exit 3: the deployed
   chronicle answers 500 as soon as a note for the day is stored (dsm-services.md), so a 500 most
   likely means "already reported", but a chronicle failure reads the same; a run never simulates
   on "unknown". FORCE=true skips this question, never the preflight.

A day that was simulated but not reported is not simulated again by a later run: `simulate` finds
the day's recorded simulation (an artifact kept per project, sprint and day) and reuses it.
"""

from __future__ import annotations

import datetime as dt

from steps import contract, http, shapes, validate
from steps.cli import Step, run_step

SPEC = contract.PREPARE
HEALTH_READ_TIMEOUT = 5.0  # seconds: /health answers at once or the service is not fit to run
# The most specific problem decides the exit code (see the module docstring).
SPECIFICITY: tuple[type[http.HttpError], ...] = (http.NotFound, http.ServiceError, http.NotSent)


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


class Outcome:
    """What prepare decided, written as its output parameters."""

    def __init__(self, step: Step, report_date: dt.date) -> None:
        self.step = step
        self.report_date = report_date

    def write(self, sprint_id: str, proceed: bool, already_reported: bool, reason: str) -> None:
        step = self.step
        step.write_param("sprint_id", sprint_id)
        step.write_param("report_date", self.report_date.isoformat())
        step.write_param("proceed", proceed)
        step.write_param("already_reported", already_reported)
        step.write_param("reason", reason)


def _health(step: Step, services: dict[str, http.Service], problems: list[http.HttpError]) -> set[str]:
    """GET /health of every service (short read timeout); the names of those that answered ok."""
    healthy: set[str] = set()
    for name, service in services.items():
        probe = http.Service(
            name, service.base_url, session=service.session,
            timeout=(service.timeout[0], min(service.timeout[1], HEALTH_READ_TIMEOUT)),
        )
        try:
            probe.get_json(contract.HEALTH_PATH, check=shapes.health)
        except http.HttpError as exc:
            problems.append(exc)
            continue
        healthy.add(name)
    step.log.info("Health: %s answered ok", ", ".join(sorted(healthy)) or "no service")
    return healthy


def _active_sprint(step: Step, sprint: http.Service, project_id: str) -> str:
    """The project's active sprint; NotFound when it has none."""
    step.log.info("SPRINT_ID is empty: asking the sprint-service for the active sprint of %s", project_id)
    found = sprint.get_json(contract.ACTIVE_SPRINT_PATH, check=shapes.active_sprint, project_id=project_id)
    try:
        sprint_id = validate.identifier("the active sprint_id", found)
    except validate.InvalidInput as exc:  # the service's fault, not the user's: exit 3, not 2
        raise http.ServiceError(f"sprint-service answered an unusable active sprint: {exc}") from None
    step.log.info("Active sprint of project %s: %s", project_id, sprint_id)
    return sprint_id


def _sprint_exists(sprint: http.Service, sprint_id: str, problems: list[http.HttpError]) -> None:
    try:
        sprint.get_json(contract.TASK_SUMMARY_PATH, check=shapes.task_summary, sprint_id=sprint_id)
    except http.NotFound as exc:
        problems.append(http.NotFound(
            f"sprint {sprint_id} does not exist according to the sprint-service ({exc}); "
            "check sprint_id", status=exc.status, body=exc.body,
        ))
    except http.HttpError as exc:
        problems.append(exc)


def _project_known(project: http.Service, project_id: str, problems: list[http.HttpError]) -> None:
    try:
        team = project.get_json(
            contract.TEAM_PATH, check=lambda answer, source: shapes.team(answer, source, project_id),
            project_id=project_id,
        )
    except http.HttpError as exc:
        problems.append(exc)
        return
    if not team["team_members"]:
        problems.append(http.NotFound(
            f"project {project_id} is unknown to the project-service (it answers an empty team, which "
            "is how it answers an unknown project); check project_id"
        ))


def _fail(problems: list[http.HttpError]) -> http.HttpError:
    """One exception for the run's problems: the most specific one, or a summary of several
    (each then already logged on its own ERROR line)."""
    worst = min(problems, key=lambda p: next(i for i, kind in enumerate(SPECIFICITY) if isinstance(p, kind)))
    if len(problems) == 1:
        return worst
    return type(worst)(f"preflight found {len(problems)} problems (one ERROR line each above); "
                       "nothing was simulated")


def _unknown(exc: http.HttpError, sprint_id: str, day: dt.date) -> str:
    """The reason when the chronicle cannot say whether the day is reported."""
    if exc.status == 500:
        cause = ("the chronicle answered HTTP 500, which is what the deployed chronicle answers once a "
                 "note for the day is stored (its known read defect), so the day is most likely reported "
                 "already; a chronicle failure answers the same")
    else:
        cause = f"the chronicle's answer was unusable ({exc})"
    return (
        f"unknown: could not tell whether sprint {sprint_id} on {day} is already reported: {cause}. "
        "Nothing was simulated. Look for the day's report (the page of that day's run in the Argo UI); "
        "if it is there, nothing to do; if it is missing, rerun later or with force=true"
    )


def main(step: Step) -> None:
    # 1. Everything is validated before the first request (exit 2, never retried).
    project_id = step.identifier(contract.ENV_PROJECT_ID)
    sprint_id = step.env(contract.ENV_SPRINT_ID)
    if sprint_id:
        validate.identifier(contract.ENV_SPRINT_ID, sprint_id)
    force = validate.flag(contract.ENV_FORCE, step.env(contract.ENV_FORCE))
    report_date = _report_date(step)
    services = {name: step.service(name) for name in contract.SERVICE_URL_ENV}
    outcome = Outcome(step, report_date)
    step.progress(0, 3)

    # 2. Preflight: every problem in one pass.
    problems: list[http.HttpError] = []
    healthy = _health(step, services, problems)
    nothing_to_do = ""
    if "sprint-service" in healthy:
        sprint_service = services["sprint-service"]
        if not sprint_id:
            try:
                sprint_id = _active_sprint(step, sprint_service, project_id)
            except http.NotFound:
                nothing_to_do = f"no active sprint for project {project_id}"
            except http.HttpError as exc:
                problems.append(exc)
        if sprint_id:
            _sprint_exists(sprint_service, sprint_id, problems)
    if "project-service" in healthy:
        _project_known(services["project-service"], project_id, problems)
    step.progress(1, 3)
    if problems:
        for problem in problems if len(problems) > 1 else ():
            step.log.error("%s", problem)
        failure = _fail(problems)
        reason = "preflight failed, nothing was simulated: " + "; ".join(str(problem) for problem in problems)
        outcome.write(sprint_id, False, False, reason)
        raise failure
    if nothing_to_do:
        step.log.warning("Nothing to do: %s", nothing_to_do)
        outcome.write("", False, False, nothing_to_do)
        return
    step.log.info("Preflight passed: all four services answer, sprint %s and project %s exist", sprint_id,
                  project_id)
    step.progress(2, 3)

    # 3. Is the day reported?
    if force:
        step.log.warning(
            "FORCE=true: not asking the chronicle; sprint %s on %s will be simulated and reported "
            "even if it already is", sprint_id, report_date,
        )
        outcome.write(sprint_id, True, False, "force=true: the chronicle was not checked")
        step.progress(3, 3)
        return
    query = {"project_id": project_id, "sprint_id": sprint_id, "daily_scrum_date": report_date.isoformat()}
    step.log.info("Checking the chronicle for a report of sprint %s on %s", sprint_id, report_date)
    try:
        services["chronicle-service"].get_json(contract.NOTES_PATH, params=query, check=shapes.reported_notes)
    except http.NotFound:
        reason = f"sprint {sprint_id} on {report_date} is not reported yet"
        step.log.info("Proceeding: %s", reason)
        outcome.write(sprint_id, True, False, reason)
        step.progress(3, 3)
        return
    except http.NotSent:
        raise
    except http.ServiceError as exc:
        # "Unknown" is never "not reported": a second simulation cannot be undone.
        reason = _unknown(exc, sprint_id, report_date)
        outcome.write(sprint_id, False, False, reason)
        raise http.ServiceError(reason, status=exc.status, body=exc.body) from exc
    reason = f"already reported: sprint {sprint_id} on {report_date}"
    step.log.warning("Not simulating: %s (use force=true to report it again)", reason)
    outcome.write(sprint_id, False, True, reason)
    step.progress(3, 3)


if __name__ == "__main__":
    run_step(SPEC, main)

"""Step `simulate`: ask the daily-scrum-service to simulate one day of progress for the sprint.

Writes `snapshot` (the tasks right before the POST: the report's exact "yesterday") and `simulation`
(the answer, with `recorded_at` on it and on every update). The POST is not idempotent: only "not sent"
(exit 75) is retried, and a day an earlier run recorded is reused (docs/workflow.md, work avoidance).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from steps import contract, http, shapes, validate
from steps.cli import Step, run_step


def _write(step: Step, snapshot: Any, simulation: dict[str, Any], reused: bool) -> None:
    step.write_json("snapshot", snapshot)
    step.write_json("simulation", simulation)
    step.write_param("tasks_updated", simulation["tasks_updated_count"])
    step.write_param("reused", reused)


def _reuse_recorded(step: Step, sprint_id: str, report_date: str) -> bool:
    """Hand on the day's recorded simulation, if an earlier run of this day left one."""
    simulation, snapshot = step.read_carried("simulation"), step.read_carried("snapshot")
    if simulation is None or snapshot is None:
        return False
    source = f"the simulation recorded for sprint {sprint_id} on {report_date}"
    if validate.flag(contract.ENV_FORCE, step.env(contract.ENV_FORCE)):
        step.log.warning("FORCE=true: %s is ignored; simulating the day again", source)
        return False
    shapes.simulation(simulation, source)  # a damaged record stops the run; force=true replaces it
    shapes.tasks(snapshot, source)
    _write(step, snapshot, simulation, reused=True)
    step.log.info(
        "Reusing %s (recorded at %s): the day is simulated once, nothing sent",
        source, simulation.get("recorded_at", "an unknown time"),
    )
    return True


def main(step: Step) -> None:
    sprint_id = step.identifier(contract.ENV_SPRINT_ID)
    report_date = validate.date(contract.ENV_REPORT_DATE, step.env(contract.ENV_REPORT_DATE)).isoformat()
    service = step.service("daily-scrum-service")
    sprint = step.service("sprint-service")
    if _reuse_recorded(step, sprint_id, report_date):
        return
    try:
        snapshot = sprint.get_json(contract.TASKS_PATH, check=shapes.tasks, sprint_id=sprint_id)
    except http.HttpError as exc:
        # Nothing is simulated yet, so this is as safe to retry as a POST that was never sent (exit 75).
        message = f"the tasks before the simulation could not be read, nothing was simulated: {exc}"
        raise http.NotSent(message) from exc
    step.log.info("Starting daily scrum simulation for sprint %s", sprint_id)
    try:
        answer = service.post_json(contract.SIMULATION_PATH, check=shapes.simulation, sprint_id=sprint_id)
        # When the updates were made, as close as we can see it: UTC, with microseconds.
        recorded_at = dt.datetime.now(dt.UTC).isoformat(timespec="microseconds")
    except (http.ServiceError, http.NotFound) as exc:  # a NotSent ends the step as is: retried (exit 75)
        # Not retried: the service may have simulated the day already.
        message = "The simulation may have run anyway: check the sprint's tasks before running the day again"
        raise type(exc)(f"{exc}. {message}") from exc

    count = answer["tasks_updated_count"]
    # recorded_at on every update too: the note's created_at of each task.
    updates = [{**update, "recorded_at": recorded_at} for update in answer["updates"]]
    if count != len(updates):
        step.log.warning("The daily-scrum-service says %d tasks were updated but lists %d updates", count,
                         len(updates))
    _write(step, snapshot, {**answer, "recorded_at": recorded_at, "updates": updates}, reused=False)
    step.log.info("Simulation completed: %d tasks updated (%s)", count, answer["message"])
    if count == 0:
        step.log.warning(
            "No task was updated for sprint %s. If the sprint has unfinished tasks this is the "
            "daily-scrum-service defect that swallows its writes; the report step checks and says so",
            sprint_id,
        )


if __name__ == "__main__":
    run_step(contract.SIMULATE, main)

"""Step `fetch-summary`: the sprint's task summary from the sprint-service, written as answered.

An unknown sprint (404) exits 4, never retried: prepare's preflight asked the same before the
simulation, so this is a sprint deleted since.
"""

from __future__ import annotations

from steps import contract, http, shapes
from steps.cli import Step, run_step

SPEC = contract.FETCH_SUMMARY


def task_summary(service: http.Service, sprint_id: str, hint: str = "") -> dict[str, int]:
    """The sprint's task summary; an unknown sprint is NotFound saying so (and `hint`)."""
    try:
        return service.get_json(contract.TASK_SUMMARY_PATH, check=shapes.task_summary, sprint_id=sprint_id)
    except http.NotFound as exc:
        raise http.NotFound(
            f"sprint {sprint_id} does not exist according to the sprint-service ({exc}){hint}"
        ) from exc


def main(step: Step) -> None:
    sprint_id = step.identifier(contract.ENV_SPRINT_ID)
    service = step.service("sprint-service")
    step.log.info("Fetching the task summary of sprint %s...", sprint_id)
    summary = task_summary(service, sprint_id)
    step.write_json("summary", summary)
    for key in SPEC.output_parameters:  # total_tasks, completed_tasks, pending_tasks
        step.write_param(key, summary[key])
    step.log.info("Task summary: %(total_tasks)d tasks, %(completed_tasks)d completed, "
                  "%(pending_tasks)d pending", summary)


if __name__ == "__main__":
    run_step(SPEC, main)

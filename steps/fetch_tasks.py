"""Step `fetch-tasks`: the sprint's tasks from the sprint-service, written as answered (after a shape check).

The sprint-service answers `[]` both for a sprint without tasks and for an unknown sprint, so `[]`
succeeds with task_count 0 and a WARNING. An unknown sprint was refused earlier, by prepare's
preflight (its task summary answers 404), before anything was simulated.
"""

from __future__ import annotations

from steps import contract, shapes
from steps.cli import Step, run_step


def main(step: Step) -> None:
    sprint_id = step.identifier(contract.ENV_SPRINT_ID)
    service = step.service("sprint-service")
    step.log.info("Fetching tasks for sprint %s...", sprint_id)
    tasks = service.get_json(contract.TASKS_PATH, check=shapes.tasks, sprint_id=sprint_id)
    step.write_json("tasks", tasks)
    step.write_param("task_count", len(tasks))
    if tasks:
        step.log.info("Fetched %d tasks", len(tasks))
    else:
        step.log.warning(
            "Sprint %s has no tasks (the sprint-service answers the same for an unknown sprint); "
            "the report will have no entries", sprint_id,
        )


if __name__ == "__main__":
    run_step(contract.FETCH_TASKS, main)

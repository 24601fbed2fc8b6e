"""Step `fetch-team`: the project's team from the project-service, written as answered.

The project-service answers an empty team for an unknown project; prepare's preflight refused that
before anything was simulated, so an empty team here (emptied since) succeeds with a WARNING.
"""

from __future__ import annotations

from steps import contract, shapes
from steps.cli import Step, run_step


def main(step: Step) -> None:
    project_id = step.identifier(contract.ENV_PROJECT_ID)
    service = step.service("project-service")
    step.log.info("Fetching the team of project %s...", project_id)
    team = service.get_json(contract.TEAM_PATH, check=shapes.team(project_id), project_id=project_id)
    size = len(team["team_members"])
    step.write_json("team", team)
    step.write_param("team_size", size)
    if size:
        step.log.info("Fetched %d team members", size)
    else:
        step.log.warning(
            "Project %s has no team members (the project-service answers the same for an unknown "
            "project)", project_id,
        )


if __name__ == "__main__":
    run_step(contract.FETCH_TEAM, main)

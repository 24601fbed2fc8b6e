"""Step `fetch-team`: the project's team from the project-service, written as answered.

Environment: PROJECT_ID, PROJECT_SERVICE_URL. Output: artifact `team` ({project_id, team_members}
as answered) and parameter `team_size`. The project-service answers an empty team for an unknown
project; prepare's preflight refuses that before anything is simulated, so an empty team here
(the team emptied since) succeeds with team_size 0 and a WARNING line.
"""

from __future__ import annotations

from steps import contract, shapes
from steps.cli import Step, run_step

SPEC = contract.FETCH_TEAM


def main(step: Step) -> None:
    project_id = step.identifier(contract.ENV_PROJECT_ID)
    service = step.service("project-service")
    step.progress(0, 1)
    step.log.info("Fetching the team of project %s...", project_id)
    team = service.get_json(
        contract.TEAM_PATH, check=lambda answer, source: shapes.team(answer, source, project_id),
        project_id=project_id,
    )
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
    step.progress(1, 1)


if __name__ == "__main__":
    run_step(SPEC, main)

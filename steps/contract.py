"""The public contract of the step containers: the only module `workflows/` imports from `steps/`.

Every name the manifest and a step program must agree on is written here once: the manifest is
generated from it and the steps parse their arguments from it, so the two cannot drift apart.
"""

from __future__ import annotations

from typing import NamedTuple

ENV_PROJECT_ID = "PROJECT_ID"
ENV_SPRINT_ID = "SPRINT_ID"
ENV_REPORT_DATE = "REPORT_DATE"  # YYYY-MM-DD; empty means "the day the run was created"
ENV_FORCE = "FORCE"  # "true" simulates and reports again even when the day is already done
ENV_SCHEDULE_TIMEZONE = "SCHEDULE_TIMEZONE"  # IANA name; the report date is a day in this zone
ENV_RUN_CREATED_AT = "RUN_CREATED_AT"  # RFC 3339 creation time of the workflow run
ENV_WORKFLOW_NAME = "WORKFLOW_NAME"  # the run's name, for the page's link back to it
ENV_WORKFLOW_NAMESPACE = "WORKFLOW_NAMESPACE"
ENV_ARGO_UI_URL = "ARGO_UI_URL"  # base URL of the Argo UI; empty: the page names the run without a link

ENV_DAILY_SCRUM_SERVICE_URL = "DAILY_SCRUM_SERVICE_URL"
ENV_SPRINT_SERVICE_URL = "SPRINT_SERVICE_URL"
ENV_PROJECT_SERVICE_URL = "PROJECT_SERVICE_URL"
ENV_CHRONICLE_SERVICE_URL = "CHRONICLE_SERVICE_URL"

# service name (as deployed in the dsm namespace) -> env variable holding its base URL
SERVICE_URL_ENV: dict[str, str] = {
    "daily-scrum-service": ENV_DAILY_SCRUM_SERVICE_URL,
    "sprint-service": ENV_SPRINT_SERVICE_URL,
    "project-service": ENV_PROJECT_SERVICE_URL,
    "chronicle-service": ENV_CHRONICLE_SERVICE_URL,
}

# The services' paths (dsm-services.md); each {name} is one percent-quoted path segment.
HEALTH_PATH = "/health"
SIMULATION_PATH = "/scrums/{sprint_id}/run"  # POST: one day of progress, not idempotent
TASKS_PATH = "/sprints/{sprint_id}/tasks"
TASK_SUMMARY_PATH = "/sprints/{sprint_id}/task-summary"  # 404: unknown sprint
ACTIVE_SPRINT_PATH = "/sprints/active/{project_id}"  # 404: no active sprint
PROJECT_SPRINTS_PATH = "/sprints/by-project/{project_id}"
TEAM_PATH = "/projects/{project_id}/team-members"  # an unknown project has an empty team
NOTES_PATH = "/v1/notes/daily_scrum_report"  # POST stores a note; GET reads (500 once a day is stored)
USER_AGENT = "dsm-dailyscrum-step"

EXIT_OK = 0
EXIT_UNEXPECTED = 1  # a bug or an unforeseen error; retried like a service error
EXIT_INVALID_INPUT = 2  # bad ID, date, URL or artifact; refused before any request; never retried
EXIT_SERVICE_ERROR = 3  # the service was reached and answered badly (status, body, shape, timeout)
EXIT_NOT_FOUND = 4  # the service says the sprint or project does not exist; never retried
EXIT_NOT_SENT = 75  # the request never reached the service (EX_TEMPFAIL): always safe to retry

# Artifacts: name -> file name (JSON, but the page).
ARTIFACT_FILES: dict[str, str] = {
    name: "report.html" if name == "report-html" else f"{name}.json"
    for name in ("snapshot", "simulation", "tasks", "summary", "team", "report", "report-html", "history")
}


class StepSpec(NamedTuple):
    """One step container: what it runs, reads and writes; its options follow `option()`.
    A NamedTuple, not a frozen dataclass: `dataclasses` imports `inspect`, ~5 ms of each step's start-up."""

    name: str  # DAG task and template name
    module: str  # `python -m <module>`
    image: str  # image name without registry and tag
    env: tuple[str, ...]  # environment variables the step reads
    inputs: tuple[str, ...] = ()  # input artifact names
    output_artifacts: tuple[str, ...] = ()
    output_parameters: tuple[str, ...] = ()
    # Artifacts kept between runs in the artifact repository under a per-sprint key: read as an
    # optional input (absent on a sprint's first run) and written back as an output.
    carried: tuple[str, ...] = ()
    needs_pandas: bool = False  # only the report image carries pandas
    description: str = ""

    @property
    def command(self) -> list[str]:
        return ["python", "-m", self.module]


def option(kind: str, name: str) -> str:
    """The command-line option for an artifact or parameter path: option("in", "tasks") == "--in-tasks"."""
    return f"--{kind}-{name.replace('_', '-')}"


PREPARE = StepSpec(
    name="prepare", module="steps.prepare", image="dailyscrum-prepare",
    # All four service URLs: prepare checks every service before the one irreversible step.
    env=(ENV_PROJECT_ID, ENV_SPRINT_ID, ENV_REPORT_DATE, ENV_FORCE, ENV_SCHEDULE_TIMEZONE, ENV_RUN_CREATED_AT,
         *SERVICE_URL_ENV.values()),
    output_parameters=("sprint_id", "report_date", "proceed", "already_reported", "reason"),
    description="Check everything before the simulation: inputs, services, sprint, project, and "
    "whether the day is already reported.",
)
SIMULATE = StepSpec(
    name="simulate", module="steps.simulate", image="dailyscrum-simulate",
    env=(ENV_SPRINT_ID, ENV_REPORT_DATE, ENV_FORCE, ENV_DAILY_SCRUM_SERVICE_URL, ENV_SPRINT_SERVICE_URL),
    # Recorded per (project, sprint, day): a later run of a simulated day reuses them instead of
    # simulating again (work avoidance), also across fresh submits.
    carried=("snapshot", "simulation"),
    output_parameters=("tasks_updated", "reused"),
    description="Read the sprint's tasks, then ask the daily-scrum-service to simulate one day of "
    "progress (not idempotent), once per project, sprint and day.",
)


def _fetch(artifact: str, env: tuple[str, str], parameters: tuple[str, ...], description: str) -> StepSpec:
    """A fetch step: one GET, one artifact (module steps.fetch_<artifact>)."""
    return StepSpec(
        name=f"fetch-{artifact}", module=f"steps.fetch_{artifact}", image=f"dailyscrum-fetch-{artifact}",
        env=env, output_artifacts=(artifact,), output_parameters=parameters, description=description,
    )


FETCH_TASKS = _fetch("tasks", (ENV_SPRINT_ID, ENV_SPRINT_SERVICE_URL), ("task_count",),
                     "Fetch the sprint's tasks from the sprint-service.")
FETCH_SUMMARY = _fetch("summary", (ENV_SPRINT_ID, ENV_SPRINT_SERVICE_URL),
                       ("total_tasks", "completed_tasks", "pending_tasks"),
                       "Fetch the sprint's task summary from the sprint-service.")
FETCH_TEAM = _fetch("team", (ENV_PROJECT_ID, ENV_PROJECT_SERVICE_URL), ("team_size",),
                    "Fetch the project's team from the project-service.")
REPORT = StepSpec(
    name="report", module="steps.report", image="dailyscrum-report",
    env=(
        ENV_PROJECT_ID, ENV_SPRINT_ID, ENV_REPORT_DATE, ENV_CHRONICLE_SERVICE_URL,
        ENV_SPRINT_SERVICE_URL,  # the sprint's dates, for the burndown
        ENV_WORKFLOW_NAME, ENV_WORKFLOW_NAMESPACE, ENV_ARGO_UI_URL,
    ),
    inputs=("snapshot", "simulation", "tasks", "summary", "team"),
    output_artifacts=("report", "report-html"),
    # done_tasks/open_tasks: done means progress 100 (steps/note.py), as the task summary counts it.
    output_parameters=("note_id", "done_tasks", "open_tasks"),
    carried=("history",),
    needs_pandas=True,
    description="Join the artifacts, build the daily scrum note, store it in the chronicle-service.",
)

STEPS: tuple[StepSpec, ...] = (PREPARE, SIMULATE, FETCH_TASKS, FETCH_SUMMARY, FETCH_TEAM, REPORT)
FETCH_STEPS: tuple[StepSpec, ...] = (FETCH_TASKS, FETCH_SUMMARY, FETCH_TEAM)

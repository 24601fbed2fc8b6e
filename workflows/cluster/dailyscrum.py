"""The daily scrum CronWorkflow, written with Hera and derived from the step contract.

    prepare --> simulate --+--> fetch-tasks ----+
                           +--> fetch-summary --+--> report
                           +--> fetch-team -----+

Every container template is built by one function from its `contract.StepSpec` (command, CLI
options for artifact and parameter paths, environment, image), so a step added or renamed in the
contract shows up here without a second list of names. `manifest()` returns the finished
CronWorkflow as a plain dict: Hera's build plus the few fields Hera 7.1 does not map
(`spec.workflowMetadata`, Argo 3.7's template-level annotations).
"""

from __future__ import annotations

from typing import Any

from hera.workflows import (
    DAG,
    Artifact,
    Container,
    Counter,
    CronWorkflow,
    EmptyDirVolume,
    Gauge,
    Label,
    NoneArchiveStrategy,
    Parameter,
    Resources,
    RetryStrategy,
    Task,
)
from hera.workflows import models as m

from steps import contract
from steps.contract import StepSpec
from workflows.cluster.config import DEFAULT_ARGO_VERSION, ProjectConfig
from workflows.cluster.images import DEFAULT_REGISTRY, image_ref

NAMESPACE = "dsm"
SERVICE_ACCOUNT = "dailyscrum"
ENTRYPOINT = "dailyscrum"
RUN_AS = 10001  # the uid/gid the step images are built with (images/Dockerfile)

WORK_DIR = "/work"  # emptyDir shared by nothing but the one pod: inputs in /work/in, outputs in /work/out
IN_DIR = f"{WORK_DIR}/in"
OUT_DIR = f"{WORK_DIR}/out"

DISPLAY_NAME_ANNOTATION = "workflows.argoproj.io/display-name"
TITLE_ANNOTATION = "workflows.argoproj.io/title"
DESCRIPTION_ANNOTATION = "workflows.argoproj.io/description"
PROJECT_LABEL = "dsm.platform/project"


# --- the DAG's shape: who runs after whom (names from the contract) ------------------------------
def tag(variable: str) -> str:
    """`tag("inputs.parameters.x")` == "{{inputs.parameters.x}}": an Argo variable reference."""
    return "{{" + variable + "}}"


PROCEED_WHEN = tag(f"tasks.{contract.PREPARE.name}.outputs.parameters.proceed") + " == true"
UPSTREAM: dict[str, tuple[str, ...]] = {
    contract.PREPARE.name: (),
    contract.SIMULATE.name: (contract.PREPARE.name,),
    **{step.name: (contract.SIMULATE.name,) for step in contract.FETCH_STEPS},
    contract.REPORT.name: tuple(step.name for step in contract.FETCH_STEPS),
}
# Values `prepare` resolves (empty sprint -> active sprint, empty date -> run's day); every later
# step takes them from prepare's output parameters, never from the raw workflow parameters.
RESOLVED_BY_PREPARE: dict[str, str] = {
    contract.ENV_SPRINT_ID: "sprint_id",
    contract.ENV_REPORT_DATE: "report_date",
}

MUTEX = "dailyscrum-{{workflow.parameters.project_id}}"

DISPLAY_NAMES: dict[str, str] = {
    contract.PREPARE.name: "prepare: inputs, sprint, date, already reported?",
    contract.SIMULATE.name: "simulate one day of progress",
    contract.FETCH_TASKS.name: "fetch sprint tasks",
    contract.FETCH_SUMMARY.name: "fetch task summary",
    contract.FETCH_TEAM.name: "fetch project team",
    contract.REPORT.name: "report to the chronicle",
    ENTRYPOINT: "daily scrum",
}

# Output parameters a step may legitimately leave unwritten (nothing to report, day already
# reported): a default keeps such a run green instead of failing on a missing file.
OUTPUT_DEFAULTS: dict[str, str] = {"reason": "", "note_id": "", "already_reported": "false"}

# --- retries (exit codes from the contract) ----------------------------------------------------
_NEVER_RETRIED = f"[{contract.EXIT_INVALID_INPUT}, {contract.EXIT_NOT_FOUND}]"
RETRY_SAFE = RetryStrategy(  # prepare, fetches and report: reads, or a write the report step de-duplicates
    retry_policy="Always",
    limit=3,
    backoff=m.Backoff(duration="5s", factor=2, max_duration="1m"),
    expression=f'lastRetry.status == "Error" || !(asInt(lastRetry.exitCode) in {_NEVER_RETRIED})',
)
RETRY_SIMULATE = RetryStrategy(  # not idempotent: retry only when the request never reached the service
    retry_policy="Always",
    limit=2,
    backoff=m.Backoff(duration="5s", factor=2),
    expression=f"asInt(lastRetry.exitCode) == {contract.EXIT_NOT_SENT}",
)

# --- limits ----------------------------------------------------------------------------------------
WORKFLOW_DEADLINE_SECONDS = 30 * 60
STEP_DEADLINE_SECONDS = 3 * 60  # per attempt; the steps' HTTP timeouts are far shorter
REPORT_DEADLINE_SECONDS = 5 * 60
STARTING_DEADLINE_SECONDS = 10 * 60  # a run missed by more than this (controller down) is skipped
TTL_AFTER_SUCCESS = 3 * 24 * 3600
TTL_AFTER_FAILURE = 7 * 24 * 3600  # failed runs stay longer: someone has to look at them
SMALL = Resources(cpu_request="50m", memory_request="64Mi", cpu_limit="500m", memory_limit="128Mi")
LARGE = Resources(cpu_request="100m", memory_request="256Mi", cpu_limit="1", memory_limit="512Mi")  # pandas


def service_url_parameter(env_name: str) -> str:
    """`DAILY_SCRUM_SERVICE_URL` -> `daily_scrum_service_url`: one workflow parameter per service."""
    return env_name.lower()


def workflow_parameters(project: ProjectConfig) -> list[Parameter]:
    urls = [
        Parameter(
            name=service_url_parameter(env),
            value=f"http://{service}.{NAMESPACE}.svc.cluster.local",
            description=f"base URL of the {service}",
        )
        for service, env in contract.SERVICE_URL_ENV.items()
    ]
    return [
        Parameter(name="project_id", value=project.project_id, description="DSM project ID"),
        Parameter(
            name="sprint_id", value=project.sprint_id, description="sprint ID; empty = the active sprint"
        ),
        Parameter(name="report_date", value="", description="YYYY-MM-DD; empty = the run's day"),
        Parameter(name="force", value="false", description="true = report again even if the day is reported"),
        *urls,
    ]


def env_value(step: StepSpec, env_name: str, timezone: str) -> str:
    """Where a step's environment variable comes from; an unknown name is a contract change to wire here."""
    if env_name in RESOLVED_BY_PREPARE and step is not contract.PREPARE:
        return tag(f"inputs.parameters.{RESOLVED_BY_PREPARE[env_name]}")
    sources = {
        contract.ENV_PROJECT_ID: "{{workflow.parameters.project_id}}",
        contract.ENV_SPRINT_ID: "{{workflow.parameters.sprint_id}}",
        contract.ENV_REPORT_DATE: "{{workflow.parameters.report_date}}",
        contract.ENV_FORCE: "{{workflow.parameters.force}}",
        contract.ENV_SCHEDULE_TIMEZONE: timezone,
        contract.ENV_RUN_CREATED_AT: "{{workflow.creationTimestamp}}",
        **{
            env: tag(f"workflow.parameters.{service_url_parameter(env)}")
            for env in contract.SERVICE_URL_ENV.values()
        },
    }
    if env_name not in sources:
        raise ValueError(f"step {step.name}: no manifest source for environment variable {env_name}")
    return sources[env_name]


def step_inputs(step: StepSpec) -> list[Parameter]:
    """The parameters a step takes from prepare's outputs (as template inputs, passed by the DAG task)."""
    if step is contract.PREPARE:
        return []
    return [Parameter(name=param) for env, param in RESOLVED_BY_PREPARE.items() if env in step.env]


def step_args(step: StepSpec) -> list[str]:
    """`--in-X PATH --out-Y PATH ...` with Argo's path variables, by the contract's option rule."""
    args: list[str] = []
    for name in step.inputs:
        args += [contract.option("in", name), tag(f"inputs.artifacts.{name}.path")]
    for name in step.output_artifacts:
        args += [contract.option("out", name), tag(f"outputs.artifacts.{name}.path")]
    for name in step.output_parameters:
        args += [contract.option("out", name), tag(f"outputs.parameters.{name}.path")]
    return args


def step_metrics(step: StepSpec) -> list[Gauge | Counter]:
    labels = [Label(key="project", value="{{workflow.parameters.project_id}}")]
    metrics: list[Gauge | Counter] = [
        Counter(
            name="dailyscrum_step_failures_total",
            help="Daily scrum step attempts that failed, by step",
            labels=[*labels, Label(key="step", value=step.name)],
            when="{{status}} == Failed",
            value="1",
        )
    ]
    if step is contract.FETCH_SUMMARY:  # the sprint's progress, as the sprint-service counts it
        sprint = [*labels, Label(key="sprint", value="{{inputs.parameters.sprint_id}}")]
        for param, what in (
            ("completed_tasks", "completed"),
            ("pending_tasks", "pending"),
            ("total_tasks", "all"),
        ):
            metrics.append(
                Gauge(
                    name=f"dailyscrum_{param}",
                    help=f"Tasks of the sprint ({what}) at the last daily scrum",
                    labels=sprint,
                    when="{{status}} == Succeeded",
                    realtime=False,
                    value=tag(f"outputs.parameters.{param}"),
                )
            )
    return metrics


def step_template(step: StepSpec, project: ProjectConfig, registry: str, image_tag: str | None) -> Container:
    outputs: list[Parameter | Artifact] = [
        Artifact(name=name, path=f"{OUT_DIR}/{contract.ARTIFACT_FILES[name]}", archive=NoneArchiveStrategy())
        for name in step.output_artifacts
    ]
    for name in step.output_parameters:
        value_from = m.ValueFrom(path=f"{OUT_DIR}/{name}", default=OUTPUT_DEFAULTS.get(name))
        outputs.append(Parameter(name=name, value_from=value_from))
    inputs: list[Parameter | Artifact] = [*step_inputs(step)]
    inputs += [Artifact(name=name, path=f"{IN_DIR}/{contract.ARTIFACT_FILES[name]}") for name in step.inputs]
    return Container(
        name=step.name,
        annotations={DISPLAY_NAME_ANNOTATION: DISPLAY_NAMES.get(step.name, step.name)},
        image=image_ref(step, registry, image_tag),
        command=step.command,
        args=step_args(step),
        env=[m.EnvVar(name=env, value=env_value(step, env, project.timezone)) for env in step.env],
        inputs=inputs or None,
        outputs=outputs or None,
        resources=LARGE if step.needs_pandas else SMALL,
        volume_mounts=[
            m.VolumeMount(name="work", mount_path=WORK_DIR),
            m.VolumeMount(name="tmp", mount_path="/tmp"),
        ],
        security_context=m.SecurityContext(
            allow_privilege_escalation=False,
            read_only_root_filesystem=True,
            run_as_non_root=True,
            capabilities=m.Capabilities(drop=["ALL"]),
        ),
        retry_strategy=RETRY_SIMULATE if step is contract.SIMULATE else RETRY_SAFE,
        active_deadline_seconds=REPORT_DEADLINE_SECONDS if step is contract.REPORT else STEP_DEADLINE_SECONDS,
        metrics=step_metrics(step),
    )


def _producers() -> dict[str, str]:
    return {name: step.name for step in contract.STEPS for name in step.output_artifacts}


def step_task(step: StepSpec, template: Container) -> Task:
    producers = _producers()
    arguments: list[Parameter | Artifact] = [
        Parameter(
            name=param.name, value=tag(f"tasks.{contract.PREPARE.name}.outputs.parameters.{param.name}")
        )
        for param in step_inputs(step)
    ]
    arguments += [
        Artifact(name=name, from_=tag(f"tasks.{producers[name]}.outputs.artifacts.{name}"))
        for name in step.inputs
    ]
    upstream = UPSTREAM[step.name]
    return Task(
        name=step.name,
        template=template,
        arguments=arguments or None,
        depends=" && ".join(f"{name}.Succeeded" for name in upstream) or None,
        when=PROCEED_WHEN if step is contract.SIMULATE else None,
    )


def description(project: ProjectConfig) -> str:
    """Markdown for the Argo UI's workflow list (project, sprint, date, schedule)."""
    sprint = f"`{project.sprint_id}`" if project.sprint_id else "the active sprint"
    schedules = ", ".join(f"`{s}`" for s in project.schedules)
    return (
        f"**Project** `{project.project_id}` | **Sprint** {sprint} (parameter `sprint_id`) | "
        f"**Date** the run's day in {project.timezone} (parameter `report_date`) | "
        f"**Schedule** {schedules} {project.timezone}"
    )


def build(
    project: ProjectConfig, registry: str = DEFAULT_REGISTRY, image_tag: str | None = None
) -> CronWorkflow:
    """The Hera CronWorkflow for one project."""
    project_labels = {
        "app.kubernetes.io/name": "dailyscrum",
        "app.kubernetes.io/part-of": "dsm",
        PROJECT_LABEL: project.project_id,
    }
    with CronWorkflow(
        name=project.name,
        namespace=NAMESPACE,
        labels=project_labels,
        annotations={
            TITLE_ANNOTATION: f"Daily scrum {project.project_id}",
            DESCRIPTION_ANNOTATION: description(project),
        },
        schedules=list(project.schedules),
        timezone=project.timezone,
        concurrency_policy="Forbid",  # a slow run is never overlapped by the next scheduled one
        starting_deadline_seconds=STARTING_DEADLINE_SECONDS,
        successful_jobs_history_limit=3,
        failed_jobs_history_limit=3,
        cron_suspend=project.suspended,
        entrypoint=ENTRYPOINT,
        arguments=workflow_parameters(project),
        service_account_name=SERVICE_ACCOUNT,
        active_deadline_seconds=WORKFLOW_DEADLINE_SECONDS,
        # One run per project at a time, cron or `argo submit --from`: the others queue, then find
        # the day reported. Per project, not per sprint: sprint_id "" (the active sprint) and the
        # same sprint named explicitly would be two mutexes for one sprint.
        synchronization=m.Synchronization(mutexes=[m.Mutex(name=MUTEX)]),
        # Keep every pod of a run that failed (its logs are the diagnosis) until the TTL removes
        # the run; delete the pods of a run that succeeded as soon as it is done.
        pod_gc=m.PodGC(strategy="OnWorkflowSuccess"),
        ttl_strategy=m.TTLStrategy(
            seconds_after_success=TTL_AFTER_SUCCESS, seconds_after_failure=TTL_AFTER_FAILURE
        ),
        security_context=m.PodSecurityContext(
            run_as_non_root=True,
            run_as_user=RUN_AS,
            run_as_group=RUN_AS,
            fs_group=RUN_AS,
            seccomp_profile=m.SeccompProfile(type="RuntimeDefault"),
        ),
        volumes=[
            EmptyDirVolume(name="work", size_limit="64Mi"),
            EmptyDirVolume(name="tmp", size_limit="64Mi"),
        ],
        metrics=[
            Gauge(
                name="dailyscrum_run_duration_seconds",
                help="Duration of the last daily scrum run",
                labels=[Label(key="project", value="{{workflow.parameters.project_id}}")],
                realtime=False,
                value="{{workflow.duration}}",
            ),
            Counter(
                name="dailyscrum_failed_runs_total",
                help="Daily scrum runs that failed",
                labels=[Label(key="project", value="{{workflow.parameters.project_id}}")],
                when="{{workflow.status}} == Failed",
                value="1",
            ),
        ],
    ) as cron_workflow:
        templates = {step.name: step_template(step, project, registry, image_tag) for step in contract.STEPS}
        with DAG(name=ENTRYPOINT, annotations={DISPLAY_NAME_ANNOTATION: DISPLAY_NAMES[ENTRYPOINT]}):
            for step in contract.STEPS:
                step_task(step, templates[step.name])
    return cron_workflow


def manifest(
    project: ProjectConfig,
    registry: str = DEFAULT_REGISTRY,
    image_tag: str | None = None,
    argo_version: str = DEFAULT_ARGO_VERSION,
) -> dict[str, Any]:
    """The finished CronWorkflow document for one project, for Argo `argo_version` and later."""
    cron_workflow = build(project, registry, image_tag)
    model = run_metadata(cron_workflow.build(), project)
    document = model.model_dump(by_alias=True, exclude_none=True, mode="json")
    return name_first(place_template_annotations(document, argo_version))


def cron_metadata(project: ProjectConfig) -> m.WorkflowMetadata:
    return m.WorkflowMetadata(
        labels={"app.kubernetes.io/name": "dailyscrum", PROJECT_LABEL: project.project_id},
        annotations={
            TITLE_ANNOTATION: f"Daily scrum {project.project_id}",
            DESCRIPTION_ANNOTATION: description(project),
        },
    )


def run_metadata(model: Any, project: ProjectConfig) -> Any:
    """Hera 7.1 has no field for `spec.workflowMetadata`: set it on the built model, so every run
    (scheduled or `argo submit --from`) carries the title, description and labels."""
    model.spec.workflow_metadata = cron_metadata(project)
    return model


def place_template_annotations(document: dict[str, Any], argo_version: str) -> dict[str, Any]:
    """Hera writes a template's `annotations` under `metadata` (the pod's); Argo 3.7+ reads the node
    display name from the template's own `annotations` field, which Argo 3.6 does not have."""
    for template in document["spec"]["workflowSpec"]["templates"]:
        pod_metadata = template.get("metadata", {})
        annotations = pod_metadata.get("annotations", {})
        display_name = annotations.pop(DISPLAY_NAME_ANNOTATION, None)
        if not annotations:
            pod_metadata.pop("annotations", None)
        if not pod_metadata:
            template.pop("metadata", None)
        if display_name is not None and argo_version != "3.6":  # the one target without the field
            template["annotations"] = {DISPLAY_NAME_ANNOTATION: display_name}
    return document


def name_first(value: Any) -> Any:
    """Put `name` (then `namespace`) first in every mapping: the dump is read by people in review."""
    if isinstance(value, list):
        return [name_first(item) for item in value]
    if not isinstance(value, dict):
        return value
    leading = [key for key in ("name", "namespace") if key in value]
    ordered = leading + [key for key in value if key not in leading]
    return {key: name_first(value[key]) for key in ordered}

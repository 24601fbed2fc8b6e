"""The daily scrum as Argo resources, written with Hera and derived from the step contract.

    prepare --> simulate --+--> fetch-tasks ----+
                           +--> fetch-summary --+--> report
                           +--> fetch-team -----+

One WorkflowTemplate (`dailyscrum`) holds the DAG and its step templates once; each project gets a
thin CronWorkflow that references it. Every container template is built by one function from its
`contract.StepSpec`, so a step added or renamed in the contract shows up here without a second list.
"""

from __future__ import annotations

from typing import Any

from hera.workflows import (
    DAG,
    Artifact,
    Container,
    Counter,
    EmptyDirVolume,
    Gauge,
    Label,
    NoneArchiveStrategy,
    Parameter,
    RetryStrategy,
    S3Artifact,
    Task,
    WorkflowTemplate,
)
from hera.workflows import models as m

from steps import contract
from workflows.cluster.config import Config, ProjectConfig
from workflows.cluster.images import DEFAULT_REGISTRY, image_ref

API_VERSION = "argoproj.io/v1alpha1"
NAMESPACE = "dsm"
TEMPLATE_NAME = "dailyscrum"  # the WorkflowTemplate every CronWorkflow references
ENTRYPOINT = "dailyscrum"
RUN_AS = 10001  # the uid/gid the step images are built with (images/Dockerfile)

WORK_DIR = "/work"  # emptyDir shared by nothing but the one pod: inputs in /work/in, outputs in /work/out
IN_DIR = f"{WORK_DIR}/in"
OUT_DIR = f"{WORK_DIR}/out"
MOUNTS = {"work": WORK_DIR, "tmp": "/tmp"}  # emptyDir name -> mount path: the root filesystem is read-only

TITLE_ANNOTATION = "workflows.argoproj.io/title"
DESCRIPTION_ANNOTATION = "workflows.argoproj.io/description"
PROJECT_LABEL = "dsm.platform/project"
LABELS = {"app.kubernetes.io/name": "dailyscrum", "app.kubernetes.io/part-of": "dsm"}

# Fleet-wide cap on runs at once: a ConfigMap key the semaphore reads.
LIMITS_CONFIGMAP = "dailyscrum-limits"
LIMITS_KEY = "runs"
LIMITS_REF = m.ConfigMapKeySelector(name=LIMITS_CONFIGMAP, key=LIMITS_KEY)
# artifact -> the step that writes it (carried ones too: the report reads simulate's recorded day)
PRODUCERS = {name: step.name for step in contract.STEPS for name in (*step.output_artifacts, *step.carried)}
# Carried artifacts: key-only (the default artifact repository fills in bucket and credentials),
# used literally by Argo, read back as an optional input by the next run. The burndown history is
# one object per sprint; a simulated day's snapshot and answer one per day (work avoidance: a later
# run of the same day reuses them, so the day is simulated once).
_PROJECT_SPRINT = "dailyscrum/{{workflow.parameters.project_id}}/{{inputs.parameters.sprint_id}}"
CARRIED_KEYS: dict[str, str] = {
    "history": f"{_PROJECT_SPRINT}/history.json",
    "snapshot": _PROJECT_SPRINT + "/days/{{inputs.parameters.report_date}}/snapshot.json",
    "simulation": _PROJECT_SPRINT + "/days/{{inputs.parameters.report_date}}/simulation.json",
}


def tag(variable: str) -> str:  # an Argo variable reference
    return "{{" + variable + "}}"


UPSTREAM: dict[str, tuple[str, ...]] = {
    contract.PREPARE.name: (),
    contract.SIMULATE.name: (contract.PREPARE.name,),
    **{step.name: (contract.SIMULATE.name,) for step in contract.FETCH_STEPS},
    contract.REPORT.name: tuple(step.name for step in contract.FETCH_STEPS),
}
# Values `prepare` resolves (empty sprint -> active sprint, empty date -> run's day); every later
# step takes them from prepare's output parameters, never from the raw workflow parameters.
RESOLVED_BY_PREPARE = {contract.ENV_SPRINT_ID: "sprint_id", contract.ENV_REPORT_DATE: "report_date"}

# Output parameters a step may leave unwritten (nothing to report, a refused input): a default keeps
# the node's own exit status, not "failed to save outputs", as what the run shows.
OUTPUT_DEFAULTS: dict[str, str] = {
    "sprint_id": "", "report_date": "", "proceed": "false", "reason": "", "note_id": "",
    "already_reported": "false",
}

# Retries, by the contract's exit codes. No backoff.maxDuration: Argo counts it from the first attempt's
# start and hands retry pods that deadline, so it would cut promised retries short; each attempt is
# bounded by its template's activeDeadlineSeconds, the run by the workflow's (test_retries.py).
_NEVER_RETRIED = f"[{contract.EXIT_INVALID_INPUT}, {contract.EXIT_NOT_FOUND}]"


def retry(limit: int, expression: str) -> RetryStrategy:
    backoff = m.Backoff(duration="5s", factor=2, cap="1m")
    return RetryStrategy(retry_policy="Always", limit=limit, backoff=backoff, expression=expression)


# prepare and the fetches: reads, safe to repeat
RETRY_SAFE = retry(3, f'lastRetry.status == "Error" || !(asInt(lastRetry.exitCode) in {_NEVER_RETRIED})')
# simulate and report: each call stores; retried only if never sent
RETRY_IF_NOT_SENT = retry(2, f"asInt(lastRetry.exitCode) == {contract.EXIT_NOT_SENT}")

# Deadlines: per attempt at least the step's HTTP calls at their worst (timeouts and urllib3's retries, see
# steps/http.py), and the whole run at least every promised attempt and wait of
# the critical path (tests/workflows/test_retries.py computes both). prepare makes eight calls
# (four /health with a short read timeout), simulate and report two, each fetch one.
DEADLINE_SECONDS = {contract.PREPARE: 12 * 60, contract.SIMULATE: 5 * 60, contract.REPORT: 5 * 60}
SMALL = m.ResourceRequirements(
    requests={"cpu": "50m", "memory": "64Mi"}, limits={"cpu": "500m", "memory": "128Mi"}
)
LARGE = m.ResourceRequirements(  # pandas
    requests={"cpu": "100m", "memory": "256Mi"}, limits={"cpu": "1", "memory": "512Mi"}
)
# Ended without success: Failed (a step exited non-zero) or Error (a pod could not run, an artifact
# failed to upload, a deadline passed). `== Failed` alone would never count an Error.
def failures(name: str, help: str, labels: list[Label], status: str) -> Counter:
    """A counter of ends without success (`status` is "status" or "workflow.status")."""
    when = f"{tag(status)} == Failed || {tag(status)} == Error"
    return Counter(name=name, help=help, labels=labels, when=when, value="1")


def last_value(name: str, help: str, labels: list[Label], value: str, when: str | None = None) -> Gauge:
    """A gauge of the value at the last run (or step), not one updated while it runs."""
    return Gauge(name=name, help=help, labels=labels, when=when, realtime=False, value=value)


# name -> (default, description); one more per service: its base URL
PARAMETERS: dict[str, tuple[str, str]] = {
    "project_id": ("", "DSM project ID (each CronWorkflow sets it)"),
    "sprint_id": ("", "sprint ID; empty = the active sprint"),
    "report_date": ("", "YYYY-MM-DD; empty = the run's day"),
    "timezone": ("UTC", "IANA time zone of the report date"),
    "force": ("false", "true = simulate and report again"),
    "argo_ui_url": ("", "Argo UI base URL; the report page links to the run"),
    **{  # DAILY_SCRUM_SERVICE_URL -> daily_scrum_service_url
        env.lower(): (f"http://{service}.{NAMESPACE}.svc.cluster.local", f"base URL of the {service}")
        for service, env in contract.SERVICE_URL_ENV.items()
    },
}


# The variables that do not come from the workflow parameter of the same name in lower case.
ENV_SOURCES: dict[str, str] = {
    contract.ENV_SCHEDULE_TIMEZONE: "{{workflow.parameters.timezone}}",
    contract.ENV_RUN_CREATED_AT: "{{workflow.creationTimestamp}}",
    contract.ENV_WORKFLOW_NAME: "{{workflow.name}}",
    contract.ENV_WORKFLOW_NAMESPACE: "{{workflow.namespace}}",
}


def env_value(step: contract.StepSpec, env_name: str) -> str:
    """Where a step's environment variable comes from; an unknown name is a contract change to wire here."""
    if env_name in RESOLVED_BY_PREPARE and step is not contract.PREPARE:
        return tag(f"inputs.parameters.{RESOLVED_BY_PREPARE[env_name]}")
    if env_name.lower() in PARAMETERS:
        return tag(f"workflow.parameters.{env_name.lower()}")
    if env_name not in ENV_SOURCES:
        raise ValueError(f"step {step.name}: no manifest source for environment variable {env_name}")
    return ENV_SOURCES[env_name]


def step_inputs(step: contract.StepSpec) -> list[str]:
    """The parameters a step takes from prepare's outputs (as template inputs, passed by the DAG task)."""
    resolved = {} if step is contract.PREPARE else RESOLVED_BY_PREPARE
    return [param for env, param in resolved.items() if env in step.env]


def step_args(step: contract.StepSpec) -> list[str]:
    """`--in-X PATH --out-Y PATH ...` with Argo's path variables, by the contract's option rule."""
    args: list[str] = []
    for name in (*step.inputs, *step.carried):
        args += [contract.option("in", name), tag(f"inputs.artifacts.{name}.path")]
    for name in (*step.output_artifacts, *step.carried):
        args += [contract.option("out", name), tag(f"outputs.artifacts.{name}.path")]
    for name in step.output_parameters:
        args += [contract.option("out", name), tag(f"outputs.parameters.{name}.path")]
    return args


BY_PROJECT = [Label(key="project", value="{{workflow.parameters.project_id}}")]  # metric labels
# fetch-summary's output parameters that are the sprint's progress -> which tasks they count
SPRINT_GAUGES = {"completed_tasks": "completed", "pending_tasks": "pending", "total_tasks": "all"}


def step_metrics(step: contract.StepSpec) -> list[Gauge | Counter]:
    metrics: list[Gauge | Counter] = [
        failures("dailyscrum_step_failures_total", "Daily scrum step attempts that failed or errored, "
                 "by step", [*BY_PROJECT, Label(key="step", value=step.name)], "status")
    ]
    if step is contract.FETCH_SUMMARY:  # the sprint's progress, as the sprint-service counts it
        sprint = [*BY_PROJECT, Label(key="sprint", value="{{inputs.parameters.sprint_id}}")]
        metrics += [
            last_value(f"dailyscrum_{param}", f"Tasks of the sprint ({what}) at the last daily scrum", sprint,
                       tag(f"outputs.parameters.{param}"), when="{{status}} == Succeeded")
            for param, what in SPRINT_GAUGES.items()
        ]
    return metrics


def artifact(name: str, directory: str, carried: bool, **fields: Any) -> Artifact:
    """A step's artifact file in `directory`; a carried one under its per-sprint key."""
    path = f"{directory}/{contract.ARTIFACT_FILES[name]}"
    if carried:
        return S3Artifact(name=name, path=path, key=CARRIED_KEYS[name], **fields)
    return Artifact(name=name, path=path, **fields)


def step_template(step: contract.StepSpec, registry: str, image_tag: str | None) -> Container:
    outputs: list[Parameter | Artifact] = [
        artifact(name, OUT_DIR, name in step.carried, archive=NoneArchiveStrategy())
        for name in (*step.output_artifacts, *step.carried)
    ]
    for name in step.output_parameters:
        value_from = m.ValueFrom(path=f"{OUT_DIR}/{name}", default=OUTPUT_DEFAULTS.get(name))
        outputs.append(Parameter(name=name, value_from=value_from))
    inputs: list[Parameter | Artifact] = [Parameter(name=name) for name in step_inputs(step)]
    inputs += [artifact(name, IN_DIR, carried=False) for name in step.inputs]
    inputs += [artifact(name, IN_DIR, carried=True, optional=True) for name in step.carried]  # none at first
    return Container(
        name=step.name,
        image=image_ref(step, registry, image_tag),
        command=step.command,
        args=step_args(step),
        env=[m.EnvVar(name=env, value=env_value(step, env)) for env in step.env],
        inputs=inputs or None,
        outputs=outputs or None,
        resources=LARGE if step.needs_pandas else None,  # the rest take templateDefaults' SMALL
        retry_strategy=RETRY_IF_NOT_SENT if step in (contract.SIMULATE, contract.REPORT) else RETRY_SAFE,
        active_deadline_seconds=DEADLINE_SECONDS.get(step, 3 * 60),
        metrics=step_metrics(step),
    )


def step_task(step: contract.StepSpec, template: Container) -> Task:
    arguments: list[Parameter | Artifact] = [
        Parameter(name=name, value=tag(f"tasks.{contract.PREPARE.name}.outputs.parameters.{name}"))
        for name in step_inputs(step)
    ]
    arguments += [
        Artifact(name=name, from_=tag(f"tasks.{PRODUCERS[name]}.outputs.artifacts.{name}"))
        for name in step.inputs
    ]
    return Task(
        name=step.name,
        template=template,
        arguments=arguments or None,
        depends=" && ".join(f"{name}.Succeeded" for name in UPSTREAM[step.name]) or None,
        when=tag(f"tasks.{contract.PREPARE.name}.outputs.parameters.proceed") + " == true"
        if step is contract.SIMULATE else None,
    )


TEMPLATE_DESCRIPTION = (
    "Simulates one day of a sprint's progress (once per project, sprint and day), fetches the sprint's "
    "tasks, task summary and team, and stores the daily scrum report in the chronicle-service. "
    "Parameters: `project_id` (required), `sprint_id` (empty = the active sprint), `report_date` "
    "(empty = the run's day), `force`."
)


# What every container step shares; Argo merges it into each container template (the template's own
# fields win) and leaves the DAG template alone.
TEMPLATE_DEFAULTS = m.Template(
    container=m.Container(
        resources=SMALL,
        volume_mounts=[m.VolumeMount(name=name, mount_path=path) for name, path in MOUNTS.items()],
        security_context=m.SecurityContext(
            allow_privilege_escalation=False, read_only_root_filesystem=True, run_as_non_root=True,
            capabilities=m.Capabilities(drop=["ALL"]),
        ),
    )
)


def template_document(registry: str, image_tag: str | None) -> dict[str, Any]:
    """The WorkflowTemplate: the DAG, defined once for every project."""
    with WorkflowTemplate(
        name=TEMPLATE_NAME,
        namespace=NAMESPACE,
        labels=LABELS,
        annotations={TITLE_ANNOTATION: "Daily scrum", DESCRIPTION_ANNOTATION: TEMPLATE_DESCRIPTION},
        entrypoint=ENTRYPOINT,
        arguments=[Parameter(name=name, value=v, description=d) for name, (v, d) in PARAMETERS.items()],
        service_account_name="dailyscrum",
        active_deadline_seconds=2 * 3600,
        # One run per project at a time, cron or `argo submit --from`: the others queue, then find
        # the day reported. Per project, not per sprint: sprint_id "" (the active sprint) and the
        # same sprint named explicitly would be two mutexes for one sprint. The semaphore caps the
        # fleet. Both live here: a CronWorkflow's list would replace this one (no merge key).
        synchronization=m.Synchronization(
            mutexes=[m.Mutex(name="dailyscrum-{{workflow.parameters.project_id}}")],
            semaphores=[m.SemaphoreRef(config_map_key_ref=LIMITS_REF)],
        ),
        # Keep every pod of a run that failed (its logs are the diagnosis) until the TTL removes
        # the run; delete the pods of a run that succeeded as soon as it is done.
        pod_gc=m.PodGC(strategy="OnWorkflowSuccess"),
        # (failed runs stay longer: someone has to look at them)
        ttl_strategy=m.TTLStrategy(seconds_after_success=3 * 24 * 3600, seconds_after_failure=7 * 24 * 3600),
        security_context=m.PodSecurityContext(
            run_as_non_root=True, run_as_user=RUN_AS, run_as_group=RUN_AS, fs_group=RUN_AS,
            seccomp_profile=m.SeccompProfile(type="RuntimeDefault"),
        ),
        volumes=[EmptyDirVolume(name=name, size_limit="64Mi") for name in MOUNTS],
        template_defaults=TEMPLATE_DEFAULTS,
        metrics=[
            last_value("dailyscrum_run_duration_seconds", "Duration of the last daily scrum run", BY_PROJECT,
                       "{{workflow.duration}}"),
            failures("dailyscrum_failed_runs_total", "Daily scrum runs that failed or errored", BY_PROJECT,
                     "workflow.status"),
        ],
    ) as workflow_template:
        templates = {step.name: step_template(step, registry, image_tag) for step in contract.STEPS}
        with DAG(name=ENTRYPOINT):
            for step in contract.STEPS:
                step_task(step, templates[step.name])
    return name_first(workflow_template.build().model_dump(by_alias=True, exclude_none=True, mode="json"))


def cron_document(project: ProjectConfig) -> dict[str, Any]:
    """One project's CronWorkflow: its schedule and parameters; the DAG comes from the template. A plain
    mapping, not built through Hera's models: a fleet renders a thousand of these."""
    sprint = f"`{project.sprint_id}`" if project.sprint_id else "the active sprint"
    schedules = ", ".join(f"`{s}`" for s in project.schedules) + f" {project.timezone}"
    # the Argo UI lists runs with this Markdown
    listed = f"**Project** `{project.project_id}` | **Sprint** {sprint} | **Schedule** {schedules}"
    annotations = {TITLE_ANNOTATION: f"Daily scrum {project.project_id}", DESCRIPTION_ANNOTATION: listed}
    run_labels = {"app.kubernetes.io/name": "dailyscrum", PROJECT_LABEL: project.project_id}  # UI filter
    return {
        "apiVersion": API_VERSION,
        "kind": "CronWorkflow",
        "metadata": {
            "name": project.name,
            "namespace": NAMESPACE,
            "labels": {**LABELS, PROJECT_LABEL: project.project_id},
            "annotations": annotations,
        },
        "spec": {
            "schedules": list(project.schedules),
            "timezone": project.timezone,
            "concurrencyPolicy": "Forbid",  # a slow run is never overlapped by the next scheduled one
            "startingDeadlineSeconds": 10 * 60,  # a run missed by more than this (controller down) is skipped
            "successfulJobsHistoryLimit": 3,
            "failedJobsHistoryLimit": 3,
            "suspend": project.suspended,
            "workflowMetadata": {"labels": run_labels, "annotations": annotations},
            "workflowSpec": {
                "workflowTemplateRef": {"name": TEMPLATE_NAME},
                "arguments": {
                    "parameters": [
                        {"name": "project_id", "value": project.project_id},
                        {"name": "sprint_id", "value": project.sprint_id},
                        # the report date is a day in the schedule's zone
                        {"name": "timezone", "value": project.timezone},
                    ]
                },
            },
        },
    }


def documents(
    config: Config, registry: str = DEFAULT_REGISTRY, image_tag: str | None = None
) -> list[dict[str, Any]]:
    """Everything `make render` writes: the template, its ConfigMap, one CronWorkflow per project."""
    limits = {  # the fleet semaphore's size
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": LIMITS_CONFIGMAP, "namespace": NAMESPACE, "labels": LABELS},
        "data": {LIMITS_KEY: str(config.max_parallel_runs)},
    }
    return [template_document(registry, image_tag), limits, *map(cron_document, config.projects)]


def name_first(value: Any) -> Any:
    """Put `name` (then `namespace`) first in every mapping: the dump is read by people in review."""
    if isinstance(value, list):
        return [name_first(item) for item in value]
    if not isinstance(value, dict):
        return value
    leading = [key for key in ("name", "namespace") if key in value]
    ordered = leading + [key for key in value if key not in leading]
    return {key: name_first(value[key]) for key in ordered}

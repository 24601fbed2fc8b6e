"""Load a rendered manifest, pick its workflows, and turn each into a checked plan.

Every field of the workflow spec is either supported (run locally), cluster-only (accepted,
listed, not enforced locally) or refused with an `UnsupportedFeature` that names the feature
and where it is. Unknown fields and unknown `{{variables}}` are refused too: the runner never
silently ignores something that would change what a run does on the cluster.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

import yaml

from workflows.runner.expressions import (
    Depends,
    ExpressionError,
    RetryExpression,
    depends_from_dependencies,
    parse_depends,
    parse_duration,
    parse_retry_expression,
)
from workflows.runner.templating import TemplateError, variables


class ManifestError(ValueError):
    """The manifest cannot be run locally (unreadable, invalid, or uses an unsupported feature)."""


class UnsupportedFeature(ManifestError):
    def __init__(self, feature: str, where: str, hint: str = "") -> None:
        self.feature = feature
        self.where = where
        text = f"unsupported feature: {feature} at {where}"
        super().__init__(f"{text} ({hint})" if hint else text)


# Human names for refused fields, so the error says what the feature is, not only its key.
FEATURE_NAMES: dict[str, str] = {
    "steps": "steps template (`steps`)",
    "script": "script template (`script`)",
    "resource": "resource template (`resource`)",
    "suspend": "suspend template (`suspend`)",
    "data": "data template (`data`)",
    "http": "http template (`http`)",
    "plugin": "plugin template (`plugin`)",
    "containerSet": "container set template (`containerSet`)",
    "withItems": "loop (`withItems`)",
    "withParam": "loop (`withParam`)",
    "withSequence": "loop (`withSequence`)",
    "onExit": "exit handler (`onExit`)",
    "hooks": "lifecycle hooks (`hooks`)",
    "templateRef": "template reference (`templateRef`)",
    "workflowTemplateRef": "workflow template reference (`workflowTemplateRef`)",
    "inline": "inline template (`inline`)",
    "continueOn": "`continueOn`",
    "target": "DAG target (`target`)",
    "memoize": "memoization (`memoize`)",
    "sidecars": "sidecars (`sidecars`)",
    "initContainers": "init containers (`initContainers`)",
    "daemon": "daemon containers (`daemon`)",
    "valueFrom": "`valueFrom`",
    "globalName": "global output (`globalName`)",
    "templateDefaults": "template defaults (`templateDefaults`)",
    "volumeClaimTemplates": "volume claim templates (`volumeClaimTemplates`)",
    "podSpecPatch": "pod spec patch (`podSpecPatch`)",
    "workingDir": "container `workingDir`",
    "shutdown": "`shutdown`",
}

# Field sets per object. Anything not listed in SUPPORTED or CLUSTER_ONLY is refused.
CRON_SPEC_SUPPORTED = {"workflowSpec"}
CRON_SPEC_CLUSTER = {
    "schedule",
    "schedules",
    "timezone",
    "concurrencyPolicy",
    "startingDeadlineSeconds",
    "successfulJobsHistoryLimit",
    "failedJobsHistoryLimit",
    "suspend",
    "workflowMetadata",
    "stopStrategy",
    "when",
}
WF_SUPPORTED = {
    "entrypoint",
    "arguments",
    "templates",
    "volumes",
    "activeDeadlineSeconds",
    "parallelism",
    "synchronization",
}
WF_CLUSTER = {
    "serviceAccountName",
    "automountServiceAccountToken",
    "securityContext",
    "podGC",
    "ttlStrategy",
    "podMetadata",
    "workflowMetadata",
    "metrics",
    "archiveLogs",
    "artifactGC",
    "podDisruptionBudget",
    "priority",
    "podPriorityClassName",
    "nodeSelector",
    "tolerations",
    "affinity",
    "imagePullSecrets",
    "dnsPolicy",
    "dnsConfig",
    "hostAliases",
    "executor",
    "artifactRepositoryRef",
    "schedulerName",
    "hostNetwork",
}
TEMPLATE_SUPPORTED = {
    "name",
    "container",
    "dag",
    "inputs",
    "outputs",
    "retryStrategy",
    "activeDeadlineSeconds",
    "volumes",
    "parallelism",
}
TEMPLATE_CLUSTER = {
    "metadata",
    "annotations",  # Argo 3.7+: the node's display name in the UI
    "securityContext",
    "metrics",
    "synchronization",
    "serviceAccountName",
    "automountServiceAccountToken",
    "nodeSelector",
    "affinity",
    "tolerations",
    "archiveLocation",
    "priorityClassName",
    "schedulerName",
}
CONTAINER_SUPPORTED = {"command", "args", "env", "volumeMounts", "name"}
CONTAINER_CLUSTER = {"image", "imagePullPolicy", "resources", "securityContext"}
DAG_SUPPORTED = {"tasks"}
DAG_CLUSTER = {"failFast"}
TASK_SUPPORTED = {"name", "template", "depends", "dependencies", "when", "arguments"}
RETRY_SUPPORTED = {"limit", "retryPolicy", "backoff", "expression"}
RETRY_CLUSTER = {"affinity"}
BACKOFF_SUPPORTED = {"duration", "factor", "maxDuration", "cap"}
RETRY_POLICIES = {"Always", "OnFailure", "OnError", "OnTransientError"}

WORKFLOW_VARIABLES = ("workflow.name", "workflow.namespace", "workflow.uid", "workflow.creationTimestamp")
METRIC_VARIABLES = ("status", "workflow.status", "duration", "workflow.duration", "exitCode")


@dataclass(frozen=True)
class Parameter:
    name: str
    value: str | None  # None: no default, must be given
    enum: tuple[str, ...] = ()


@dataclass(frozen=True)
class ArtifactPath:
    name: str
    path: str  # container path
    optional: bool = False


@dataclass(frozen=True)
class OutputParameter:
    name: str
    path: str  # container path of the file holding the value
    default: str | None


@dataclass(frozen=True)
class Retry:
    limit: int
    policy: str  # Always | OnFailure | OnError | OnTransientError
    duration: float  # seconds before the first retry
    factor: float
    max_duration: float | None  # total time allowed since the first attempt started
    cap: float | None  # longest single wait
    expression: RetryExpression | None

    def wait(self, retry_number: int) -> float:
        """Backoff before retry number `retry_number` (1 for the first retry)."""
        seconds = self.duration * (self.factor ** (retry_number - 1))
        return min(seconds, self.cap) if self.cap is not None else seconds


@dataclass(frozen=True)
class ContainerTemplate:
    name: str
    where: str
    image: str
    command: tuple[str, ...]
    args: tuple[str, ...]
    env: tuple[tuple[str, str], ...]
    input_parameters: tuple[Parameter, ...]
    input_artifacts: tuple[ArtifactPath, ...]
    output_artifacts: tuple[ArtifactPath, ...]
    output_parameters: tuple[OutputParameter, ...]
    retry: Retry | None
    deadline: float | None  # activeDeadlineSeconds
    mounts: tuple[tuple[str, str], ...]  # (volume name, mount path)


@dataclass(frozen=True)
class ArtifactArgument:
    name: str
    task: str
    artifact: str


@dataclass(frozen=True)
class Task:
    name: str
    where: str
    template: str
    depends: Depends | None
    when: str | None
    parameters: tuple[tuple[str, str], ...]
    artifacts: tuple[ArtifactArgument, ...]


@dataclass
class WorkflowPlan:
    kind: str
    name: str
    namespace: str
    entrypoint: str
    parameters: tuple[Parameter, ...]
    tasks: dict[str, Task]  # manifest order
    templates: dict[str, ContainerTemplate]
    deadline: float | None
    parallelism: int | None
    document: dict[str, Any]
    cluster_only: list[str] = field(default_factory=list)
    mutexes: tuple[str, ...] = ()  # workflow-level mutex names, still with their {{variables}}
    source: str | None = None  # the manifest's text, when this workflow is all the file holds

    def dependencies(self, task: str) -> tuple[str, ...]:
        depends = self.tasks[task].depends
        return depends.tasks if depends else ()

    def dependents(self, task: str) -> list[str]:
        return [name for name in self.tasks if task in self.dependencies(name)]

    def ancestors(self, task: str) -> set[str]:
        seen: set[str] = set()
        stack = list(self.dependencies(task))
        while stack:
            name = stack.pop()
            if name not in seen:
                seen.add(name)
                stack.extend(self.dependencies(name))
        return seen

    def descendants(self, task: str) -> set[str]:
        return {name for name in self.tasks if task in self.ancestors(name)}


# --- loading ---------------------------------------------------------------------------------
RUNNABLE_KINDS = ("CronWorkflow", "Workflow")
# libyaml's parser when PyYAML has it (same safe constructors, same result, ~8x faster): parsing
# the manifest is most of the runner's start-up, which every local run waits for.
SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def load_documents(path: Path) -> list[dict[str, Any]]:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ManifestError(f"cannot read manifest {path}: {exc.strerror or exc}") from exc
    try:
        documents = [doc for doc in yaml.load_all(text, Loader=SAFE_LOADER) if doc is not None]
    except yaml.YAMLError as exc:
        raise ManifestError(f"{path} is not valid YAML: {exc}") from exc
    for index, doc in enumerate(documents):
        if not isinstance(doc, dict):
            raise ManifestError(f"{path}: document {index + 1} is not a mapping")
    return documents


def document_name(doc: dict[str, Any]) -> str:
    metadata = doc.get("metadata") or {}
    return str(metadata.get("name") or metadata.get("generateName", "").rstrip("-") or "workflow")


def select_workflows(documents: list[dict[str, Any]], name: str | None = None) -> list[dict[str, Any]]:
    """The runnable documents (CronWorkflow, Workflow), or only the one named `name`."""
    runnable = [doc for doc in documents if doc.get("kind") in RUNNABLE_KINDS]
    if not runnable:
        raise ManifestError("the manifest holds no CronWorkflow (nor Workflow) to run")
    if name is None:
        return runnable
    chosen = [doc for doc in runnable if document_name(doc) == name]
    if not chosen:
        names = ", ".join(document_name(doc) for doc in runnable)
        raise ManifestError(f"no workflow named {name!r} in the manifest (it has: {names})")
    return chosen


# --- checking --------------------------------------------------------------------------------
class _Checker:
    def __init__(self, doc: dict[str, Any]) -> None:
        self.doc = doc
        self.label = f"{doc.get('kind')}/{document_name(doc)}"
        self.cluster_only: list[str] = []

    def at(self, path: str) -> str:
        return f"{self.label}: {path}"

    def mapping(self, value: Any, path: str) -> dict[str, Any]:
        if value is None:
            return {}
        if not isinstance(value, dict):
            raise ManifestError(f"{self.at(path)} must be a mapping")
        return value

    def listing(self, value: Any, path: str) -> list[Any]:
        if value is None:
            return []
        if not isinstance(value, list):
            raise ManifestError(f"{self.at(path)} must be a list")
        return value

    def string(self, value: Any, path: str) -> str:
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            raise ManifestError(f"{self.at(path)} must be a string")
        return str(value)

    def keys(self, obj: dict[str, Any], path: str, supported: set[str], cluster: Iterable[str] = ()) -> None:
        cluster = set(cluster)
        for key in obj:
            if key in supported:
                continue
            if key in cluster:
                self.cluster_only.append(f"{path}.{key}")
                continue
            raise UnsupportedFeature(FEATURE_NAMES.get(key, f"field `{key}`"), self.at(f"{path}.{key}"))

    def check_variables(self, text: str, path: str, allowed: Callable[[str], bool]) -> None:
        try:
            names = variables(text)
        except TemplateError as exc:
            raise UnsupportedFeature("expression tag `{{=...}}`", self.at(path)) from exc
        for name in names:
            if not allowed(name):
                raise UnsupportedFeature(
                    f"variable `{{{{{name}}}}}`", self.at(path), "unknown or not available here"
                )


def check_workflow(doc: dict[str, Any]) -> WorkflowPlan:
    """Check one CronWorkflow/Workflow document and build its plan; raise ManifestError if refused."""
    c = _Checker(doc)
    kind = str(doc.get("kind"))
    metadata = c.mapping(doc.get("metadata"), "metadata")
    c.keys(metadata, "metadata", {"name", "generateName", "namespace"}, {"labels", "annotations"})
    spec = c.mapping(doc.get("spec"), "spec")
    if kind == "CronWorkflow":
        c.keys(spec, "spec", CRON_SPEC_SUPPORTED, CRON_SPEC_CLUSTER)
        base = "spec.workflowSpec"
        wf = c.mapping(spec.get("workflowSpec"), base)
    else:
        base = "spec"
        wf = spec
    c.keys(wf, base, WF_SUPPORTED, WF_CLUSTER)

    parameters = _workflow_parameters(c, wf, base)
    param_names = {p.name for p in parameters}

    def workflow_variable(name: str) -> bool:
        if name in WORKFLOW_VARIABLES:
            return True
        return (
            name.startswith("workflow.parameters.")
            and name.removeprefix("workflow.parameters.") in param_names
        )

    mutexes = _mutexes(c, wf.get("synchronization"), f"{base}.synchronization", workflow_variable)
    volumes = _empty_dirs(c, wf.get("volumes"), f"{base}.volumes")
    raw_templates = c.listing(wf.get("templates"), f"{base}.templates")
    by_name: dict[str, tuple[dict[str, Any], str]] = {}
    for index, raw in enumerate(raw_templates):
        raw = c.mapping(raw, f"{base}.templates[{index}]")
        name = c.string(raw.get("name"), f"{base}.templates[{index}].name")
        if name in by_name:
            raise ManifestError(f"{c.at(f'{base}.templates')}: two templates named {name!r}")
        by_name[name] = (raw, f"{base}.templates[name={name}]")

    entrypoint = c.string(wf.get("entrypoint"), f"{base}.entrypoint")
    if entrypoint not in by_name:
        raise ManifestError(f"{c.at(f'{base}.entrypoint')}: no template named {entrypoint!r}")

    containers: dict[str, ContainerTemplate] = {}
    dag_raw: tuple[dict[str, Any], str] | None = None
    for name, (raw, path) in by_name.items():
        c.keys(raw, path, TEMPLATE_SUPPORTED, TEMPLATE_CLUSTER)
        _check_metrics(c, raw.get("metrics"), f"{path}.metrics", workflow_variable)
        kinds = [k for k in ("container", "dag") if k in raw]
        if len(kinds) != 1:
            raise ManifestError(f"{c.at(path)} must have exactly one of container or dag")
        if kinds[0] == "container":
            template_volumes = {**volumes, **_empty_dirs(c, raw.get("volumes"), f"{path}.volumes")}
            containers[name] = _container_template(c, name, raw, path, template_volumes, workflow_variable)
        elif name != entrypoint:
            raise UnsupportedFeature("nested DAG template (a DAG that is not the entrypoint)", c.at(path))
        else:
            dag_raw = (raw, path)
    if dag_raw is None:
        raise UnsupportedFeature(
            "entrypoint that is not a DAG template", c.at(f"{base}.entrypoint"), "the runner runs DAGs"
        )
    raw, path = dag_raw
    for key in ("inputs", "outputs", "retryStrategy", "volumes", "activeDeadlineSeconds"):
        if raw.get(key):
            raise UnsupportedFeature(f"`{key}` on the DAG template", c.at(f"{path}.{key}"))
    tasks = _dag_tasks(c, raw, path, containers, workflow_variable)

    deadline = wf.get("activeDeadlineSeconds")
    parallelism = wf.get("parallelism")
    dag_parallelism = raw.get("parallelism")
    if dag_parallelism is not None:
        parallelism = min(int(dag_parallelism), int(parallelism)) if parallelism else int(dag_parallelism)
    return WorkflowPlan(
        kind=kind,
        name=document_name(doc),
        namespace=str(metadata.get("namespace") or "default"),
        entrypoint=entrypoint,
        parameters=parameters,
        tasks=tasks,
        templates=containers,
        deadline=float(deadline) if deadline is not None else None,
        parallelism=int(parallelism) if parallelism is not None else None,
        document=doc,
        cluster_only=c.cluster_only,
        mutexes=mutexes,
    )


def _mutexes(c: _Checker, raw: Any, path: str, allowed: Callable[[str], bool]) -> tuple[str, ...]:
    """Workflow-level mutex names (held locally); semaphores need the cluster's ConfigMap."""
    sync = c.mapping(raw, path)
    c.keys(sync, path, {"mutex", "mutexes"}, {"semaphore", "semaphores"})
    entries = [sync["mutex"]] if sync.get("mutex") else c.listing(sync.get("mutexes"), f"{path}.mutexes")
    names = []
    for index, entry in enumerate(entries):
        where = f"{path}.mutexes[{index}]"
        entry = c.mapping(entry, where)
        c.keys(entry, where, {"name"}, {"namespace", "database"})
        name = c.string(entry.get("name"), f"{where}.name")
        c.check_variables(name, f"{where}.name", allowed)
        names.append(name)
    return tuple(names)


def _workflow_parameters(c: _Checker, wf: dict[str, Any], base: str) -> tuple[Parameter, ...]:
    arguments = c.mapping(wf.get("arguments"), f"{base}.arguments")
    c.keys(arguments, f"{base}.arguments", {"parameters"})
    result = []
    for index, raw in enumerate(c.listing(arguments.get("parameters"), f"{base}.arguments.parameters")):
        path = f"{base}.arguments.parameters[{index}]"
        raw = c.mapping(raw, path)
        c.keys(raw, path, {"name", "value", "enum", "description"})
        name = c.string(raw.get("name"), f"{path}.name")
        value = raw.get("value")
        if value is not None:
            value = _scalar(c, value, f"{path}.value")
            c.check_variables(value, f"{path}.value", lambda _name: False)
        enum = tuple(_scalar(c, v, f"{path}.enum") for v in c.listing(raw.get("enum"), f"{path}.enum"))
        result.append(Parameter(name=name, value=value, enum=enum))
    return tuple(result)


def _scalar(c: _Checker, value: Any, path: str) -> str:
    """Parameter values are strings in Argo; YAML booleans and numbers are written as Go would."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return c.string(value, path)


def _empty_dirs(c: _Checker, raw: Any, path: str) -> dict[str, str]:
    volumes = {}
    for index, volume in enumerate(c.listing(raw, path)):
        vpath = f"{path}[{index}]"
        volume = c.mapping(volume, vpath)
        if "emptyDir" not in volume:
            kinds = ", ".join(sorted(set(volume) - {"name"})) or "none"
            raise UnsupportedFeature(f"volume other than emptyDir ({kinds})", c.at(vpath))
        c.keys(volume, vpath, {"name", "emptyDir"})
        empty_dir = c.mapping(volume.get("emptyDir"), f"{vpath}.emptyDir")
        c.keys(empty_dir, f"{vpath}.emptyDir", set(), {"medium", "sizeLimit"})
        volumes[c.string(volume.get("name"), f"{vpath}.name")] = vpath
    return volumes


def _check_metrics(c: _Checker, raw: Any, path: str, workflow_variable: Callable[[str], bool]) -> None:
    """Metrics are cluster-only; their variables must still be ones Argo knows there."""
    if raw is None:
        return

    def allowed(name: str) -> bool:
        return (
            workflow_variable(name)
            or name in METRIC_VARIABLES
            or name.startswith(("inputs.parameters.", "outputs.parameters.", "workflow.labels."))
        )

    def walk(value: Any, where: str) -> None:
        if isinstance(value, str):
            c.check_variables(value, where, allowed)
        elif isinstance(value, dict):
            for key, item in value.items():
                walk(item, f"{where}.{key}")
        elif isinstance(value, list):
            for index, item in enumerate(value):
                walk(item, f"{where}[{index}]")

    walk(raw, path)


def _container_template(
    c: _Checker,
    name: str,
    raw: dict[str, Any],
    path: str,
    volumes: dict[str, str],
    workflow_variable: Callable[[str], bool],
) -> ContainerTemplate:
    container = c.mapping(raw.get("container"), f"{path}.container")
    c.keys(container, f"{path}.container", CONTAINER_SUPPORTED, CONTAINER_CLUSTER)

    inputs = c.mapping(raw.get("inputs"), f"{path}.inputs")
    c.keys(inputs, f"{path}.inputs", {"parameters", "artifacts"})
    outputs = c.mapping(raw.get("outputs"), f"{path}.outputs")
    c.keys(outputs, f"{path}.outputs", {"parameters", "artifacts"})

    in_params = []
    for index, p in enumerate(c.listing(inputs.get("parameters"), f"{path}.inputs.parameters")):
        ppath = f"{path}.inputs.parameters[{index}]"
        p = c.mapping(p, ppath)
        c.keys(p, ppath, {"name", "value", "default", "enum", "description"})
        default = p.get("value", p.get("default"))
        if default is not None:
            default = _scalar(c, default, f"{ppath}.value")
            c.check_variables(default, f"{ppath}.value", workflow_variable)
        enum = tuple(_scalar(c, v, f"{ppath}.enum") for v in c.listing(p.get("enum"), f"{ppath}.enum"))
        in_params.append(Parameter(c.string(p.get("name"), f"{ppath}.name"), default, enum))

    def artifacts(raw_list: Any, apath: str, extra: set[str]) -> list[ArtifactPath]:
        result = []
        for index, a in enumerate(c.listing(raw_list, apath)):
            item_path = f"{apath}[{index}]"
            a = c.mapping(a, item_path)
            c.keys(a, item_path, {"name", "path", "optional", *extra}, {"archiveLogs"})
            archive = c.mapping(a.get("archive"), f"{item_path}.archive")
            if archive and set(archive) != {"none"}:
                raise UnsupportedFeature("artifact archive other than `none`", c.at(f"{item_path}.archive"))
            if "path" not in a:
                raise ManifestError(f"{c.at(item_path)} needs a path")
            art_path = c.string(a.get("path"), f"{item_path}.path")
            c.check_variables(art_path, f"{item_path}.path", lambda _n: False)
            _absolute(c, art_path, f"{item_path}.path")
            result.append(
                ArtifactPath(c.string(a.get("name"), f"{item_path}.name"), art_path, bool(a.get("optional")))
            )
        return result

    in_arts = artifacts(inputs.get("artifacts"), f"{path}.inputs.artifacts", set())
    out_arts = artifacts(outputs.get("artifacts"), f"{path}.outputs.artifacts", {"archive"})

    out_params = []
    for index, p in enumerate(c.listing(outputs.get("parameters"), f"{path}.outputs.parameters")):
        ppath = f"{path}.outputs.parameters[{index}]"
        p = c.mapping(p, ppath)
        c.keys(p, ppath, {"name", "valueFrom", "description"})
        value_from = c.mapping(p.get("valueFrom"), f"{ppath}.valueFrom")
        c.keys(value_from, f"{ppath}.valueFrom", {"path", "default"})
        if "path" not in value_from:
            raise ManifestError(f"{c.at(ppath)}.valueFrom needs a path")
        param_path = c.string(value_from.get("path"), f"{ppath}.valueFrom.path")
        c.check_variables(param_path, f"{ppath}.valueFrom.path", lambda _n: False)
        _absolute(c, param_path, f"{ppath}.valueFrom.path")
        default = value_from.get("default")
        default = _scalar(c, default, f"{ppath}.valueFrom.default") if default is not None else None
        out_params.append(OutputParameter(c.string(p.get("name"), f"{ppath}.name"), param_path, default))

    for kind, items in (
        ("inputs.parameters", in_params),
        ("inputs.artifacts", in_arts),
        ("outputs.artifacts", out_arts),
        ("outputs.parameters", out_params),
    ):
        names = [item.name for item in items]
        if len(set(names)) != len(names):
            raise ManifestError(f"{c.at(f'{path}.{kind}')}: duplicate names")

    def allowed(variable: str) -> bool:
        if workflow_variable(variable):
            return True
        for prefix, items, suffix in (
            ("inputs.parameters.", in_params, ""),
            ("inputs.artifacts.", in_arts, ".path"),
            ("outputs.artifacts.", out_arts, ".path"),
            ("outputs.parameters.", out_params, ".path"),
        ):
            if variable.startswith(prefix) and variable.endswith(suffix):
                item = variable[len(prefix) : len(variable) - len(suffix)]
                if item in {i.name for i in items}:
                    return True
        return False

    mounts = []
    for index, m in enumerate(c.listing(container.get("volumeMounts"), f"{path}.container.volumeMounts")):
        mpath = f"{path}.container.volumeMounts[{index}]"
        m = c.mapping(m, mpath)
        c.keys(m, mpath, {"name", "mountPath"}, {"readOnly"})
        volume = c.string(m.get("name"), f"{mpath}.name")
        if volume not in volumes:
            raise ManifestError(f"{c.at(mpath)}: no emptyDir volume named {volume!r}")
        mount_path = c.string(m.get("mountPath"), f"{mpath}.mountPath")
        _absolute(c, mount_path, f"{mpath}.mountPath")
        mounts.append((volume, mount_path))

    # Container paths must reach the step through variables, which the runner maps to local files.
    literal_paths = sorted(  # the most specific path first: the alternation takes the first that fits
        {m for _, m in mounts} | {a.path for a in (*in_arts, *out_arts)} | {p.path for p in out_params},
        key=len,
        reverse=True,
    )
    # One pattern per template, not one per path and field: compiling is most of the check's time.
    literal_re = re.compile(rf"(?:^|[\s=:])({'|'.join(map(re.escape, literal_paths))})(?:/|$|\s)")

    def text_field(value: Any, where: str) -> str:
        text = c.string(value, where)
        c.check_variables(text, where, allowed)
        match = literal_re.search(_TAGS.sub("", text)) if literal_paths else None
        if match:
            raise UnsupportedFeature(
                f"literal container path {match.group(1)!r}",
                c.at(where),
                "use {{inputs.artifacts.X.path}} / {{outputs...path}} so the runner can map it",
            )
        return text

    command = [
        text_field(v, f"{path}.container.command[{i}]")
        for i, v in enumerate(c.listing(container.get("command"), f"{path}.container.command"))
    ]
    if not command:
        raise UnsupportedFeature("container without `command` (image entrypoint)", c.at(f"{path}.container"))
    args = [
        text_field(v, f"{path}.container.args[{i}]")
        for i, v in enumerate(c.listing(container.get("args"), f"{path}.container.args"))
    ]
    env = []
    for index, e in enumerate(c.listing(container.get("env"), f"{path}.container.env")):
        epath = f"{path}.container.env[{index}]"
        e = c.mapping(e, epath)
        c.keys(e, epath, {"name", "value"})
        value = (
            ""
            if e.get("value") is None
            else text_field(_scalar(c, e["value"], f"{epath}.value"), f"{epath}.value")
        )
        env.append((c.string(e.get("name"), f"{epath}.name"), value))

    deadline = raw.get("activeDeadlineSeconds")
    return ContainerTemplate(
        name=name,
        where=c.at(path),
        image=str(container.get("image", "")),
        command=tuple(command),
        args=tuple(args),
        env=tuple(env),
        input_parameters=tuple(in_params),
        input_artifacts=tuple(in_arts),
        output_artifacts=tuple(out_arts),
        output_parameters=tuple(out_params),
        retry=_retry(c, raw.get("retryStrategy"), f"{path}.retryStrategy"),
        deadline=float(parse_duration(deadline)) if deadline is not None else None,
        mounts=tuple(mounts),
    )


def _absolute(c: _Checker, path: str, where: str) -> None:
    if not PurePosixPath(path).is_absolute() or ".." in PurePosixPath(path).parts:
        raise ManifestError(f"{c.at(where)}: {path!r} must be an absolute container path without '..'")


def _retry(c: _Checker, raw: Any, path: str) -> Retry | None:
    if raw is None:
        return None
    raw = c.mapping(raw, path)
    c.keys(raw, path, RETRY_SUPPORTED, RETRY_CLUSTER)
    if raw.get("limit") is None:
        raise UnsupportedFeature("retryStrategy without `limit` (unlimited retries)", c.at(path))
    try:
        limit = int(str(raw["limit"]))
    except ValueError as exc:
        raise ManifestError(f"{c.at(f'{path}.limit')}: not a number: {raw['limit']!r}") from exc
    policy = str(raw.get("retryPolicy") or "OnFailure")
    if policy not in RETRY_POLICIES:
        raise ManifestError(f"{c.at(f'{path}.retryPolicy')}: unknown policy {policy!r}")
    backoff = c.mapping(raw.get("backoff"), f"{path}.backoff")
    c.keys(backoff, f"{path}.backoff", BACKOFF_SUPPORTED)
    try:
        duration = parse_duration(backoff["duration"]) if "duration" in backoff else 0.0
        factor = float(str(backoff.get("factor", 1)))
        max_duration = parse_duration(backoff["maxDuration"]) if "maxDuration" in backoff else None
        cap = parse_duration(backoff["cap"]) if "cap" in backoff else None
        expression = parse_retry_expression(str(raw["expression"])) if raw.get("expression") else None
    except (ExpressionError, ValueError) as exc:
        raise ManifestError(f"{c.at(path)}: {exc}") from exc
    return Retry(limit, policy, duration, factor, max_duration, cap, expression)


_TAGS = re.compile(r"\{\{.*?\}\}")
_TASK_PARAM = re.compile(r"^tasks\.([^.]+)\.outputs\.parameters\.([^.]+)$")
_TASK_ARTIFACT = re.compile(r"^\{\{\s*tasks\.([^.]+)\.outputs\.artifacts\.([^.}\s]+)\s*\}\}$")


def _dag_tasks(
    c: _Checker,
    raw: dict[str, Any],
    path: str,
    containers: dict[str, ContainerTemplate],
    workflow_variable: Callable[[str], bool],
) -> dict[str, Task]:
    dag = c.mapping(raw.get("dag"), f"{path}.dag")
    c.keys(dag, f"{path}.dag", DAG_SUPPORTED, DAG_CLUSTER)
    raw_tasks = c.listing(dag.get("tasks"), f"{path}.dag.tasks")
    if not raw_tasks:
        raise ManifestError(f"{c.at(f'{path}.dag.tasks')}: the DAG has no tasks")
    names = [
        c.string(c.mapping(t, f"{path}.dag.tasks[{i}]").get("name"), f"{path}.dag.tasks[{i}].name")
        for i, t in enumerate(raw_tasks)
    ]
    if len(set(names)) != len(names):
        raise ManifestError(f"{c.at(f'{path}.dag.tasks')}: duplicate task names")

    # First pass: dependencies, so ancestry is known when variables are checked.
    depends: dict[str, Depends | None] = {}
    for name, t in zip(names, raw_tasks, strict=True):
        tpath = f"{path}.dag.tasks[name={name}]"
        c.keys(t, tpath, TASK_SUPPORTED)
        try:
            if t.get("depends") and t.get("dependencies"):
                raise ManifestError(f"{c.at(tpath)}: use either depends or dependencies, not both")
            if t.get("depends"):
                depends[name] = parse_depends(c.string(t["depends"], f"{tpath}.depends"))
            elif t.get("dependencies"):
                deps = [c.string(d, f"{tpath}.dependencies") for d in c.listing(t["dependencies"], tpath)]
                depends[name] = depends_from_dependencies(deps)
            else:
                depends[name] = None
        except ExpressionError as exc:
            raise ManifestError(f"{c.at(tpath)}.depends: {exc}") from exc
        for dep in depends[name].tasks if depends[name] else ():
            if dep not in names:
                raise ManifestError(f"{c.at(tpath)}: depends on unknown task {dep!r}")
            if dep == name:
                raise ManifestError(f"{c.at(tpath)}: depends on itself")
    _refuse_cycles(c, path, depends)

    def ancestors(task: str) -> set[str]:
        seen: set[str] = set()
        stack = list(depends[task].tasks if depends[task] else ())
        while stack:
            dep = stack.pop()
            if dep not in seen:
                seen.add(dep)
                stack.extend(depends[dep].tasks if depends[dep] else ())
        return seen

    tasks_template = {
        n: c.string(rt.get("template"), f"{path}.dag.tasks[name={n}].template")
        for n, rt in zip(names, raw_tasks, strict=True)
    }
    tasks: dict[str, Task] = {}
    for name, t in zip(names, raw_tasks, strict=True):
        tpath = f"{path}.dag.tasks[name={name}]"
        template_name = c.string(t.get("template"), f"{tpath}.template")
        if template_name not in containers:
            raise ManifestError(f"{c.at(f'{tpath}.template')}: no container template named {template_name!r}")
        template = containers[template_name]
        upstream = ancestors(name)

        def allowed(variable: str, upstream: set[str] = upstream) -> bool:
            if workflow_variable(variable):
                return True
            match = _TASK_PARAM.match(variable)
            if not match or match.group(1) not in upstream:
                return False
            producer = containers.get(tasks_template[match.group(1)])
            return producer is not None and match.group(2) in {p.name for p in producer.output_parameters}

        when = None
        if t.get("when") is not None:
            when = c.string(t["when"], f"{tpath}.when")
            c.check_variables(when, f"{tpath}.when", allowed)

        arguments = c.mapping(t.get("arguments"), f"{tpath}.arguments")
        c.keys(arguments, f"{tpath}.arguments", {"parameters", "artifacts"})
        params = []
        for index, p in enumerate(c.listing(arguments.get("parameters"), f"{tpath}.arguments.parameters")):
            ppath = f"{tpath}.arguments.parameters[{index}]"
            p = c.mapping(p, ppath)
            c.keys(p, ppath, {"name", "value"})
            pname = c.string(p.get("name"), f"{ppath}.name")
            if pname not in {ip.name for ip in template.input_parameters}:
                raise ManifestError(
                    f"{c.at(ppath)}: template {template_name!r} has no input parameter {pname!r}"
                )
            value = _scalar(c, p.get("value", ""), f"{ppath}.value")
            c.check_variables(value, f"{ppath}.value", allowed)
            params.append((pname, value))
        given = {n for n, _ in params}
        for ip in template.input_parameters:
            if ip.name not in given and ip.value is None:
                raise ManifestError(
                    f"{c.at(tpath)}: input parameter {ip.name!r} of {template_name!r} is not supplied"
                )

        arts = []
        for index, a in enumerate(c.listing(arguments.get("artifacts"), f"{tpath}.arguments.artifacts")):
            apath = f"{tpath}.arguments.artifacts[{index}]"
            a = c.mapping(a, apath)
            c.keys(a, apath, {"name", "from"})
            aname = c.string(a.get("name"), f"{apath}.name")
            if "from" not in a:
                raise UnsupportedFeature("artifact argument without `from`", c.at(apath))
            source = c.string(a["from"], f"{apath}.from")
            match = _TASK_ARTIFACT.match(source)
            if not match:
                c.check_variables(source, f"{apath}.from", lambda _n: False)
                raise UnsupportedFeature(f"artifact source {source!r}", c.at(f"{apath}.from"))
            producer, artifact = match.group(1), match.group(2)
            if producer not in upstream:
                raise UnsupportedFeature(
                    f"variable `{source}`", c.at(f"{apath}.from"), f"{producer!r} is not upstream of {name!r}"
                )
            if artifact not in {o.name for o in containers[tasks_template[producer]].output_artifacts}:
                raise ManifestError(
                    f"{c.at(f'{apath}.from')}: task {producer!r} has no output artifact {artifact!r}"
                )
            if aname not in {ia.name for ia in template.input_artifacts}:
                raise ManifestError(
                    f"{c.at(apath)}: template {template_name!r} has no input artifact {aname!r}"
                )
            arts.append(ArtifactArgument(aname, producer, artifact))
        given_arts = {a.name for a in arts}
        for ia in template.input_artifacts:
            if ia.name not in given_arts and not ia.optional:
                raise ManifestError(
                    f"{c.at(tpath)}: input artifact {ia.name!r} of {template_name!r} is not supplied"
                )

        tasks[name] = Task(name, c.at(tpath), template_name, depends[name], when, tuple(params), tuple(arts))
    return tasks


def _refuse_cycles(c: _Checker, path: str, depends: dict[str, Depends | None]) -> None:
    state: dict[str, int] = {}

    def visit(task: str, trail: list[str]) -> None:
        if state.get(task) == 2:
            return
        if state.get(task) == 1:
            raise ManifestError(f"{c.at(f'{path}.dag')}: dependency cycle {' -> '.join([*trail, task])}")
        state[task] = 1
        for dep in depends[task].tasks if depends[task] else ():
            visit(dep, [*trail, task])
        state[task] = 2

    for task in depends:
        visit(task, [])


def load_plans(path: Path, name: str | None = None) -> list[WorkflowPlan]:
    """Load, select and check; every selected workflow is checked before any of them runs."""
    documents = load_documents(path)
    plans = [check_workflow(doc) for doc in select_workflows(documents, name)]
    if len(documents) == 1:  # the run directory keeps the file as written (comments and all)
        plans[0].source = path.read_text(encoding="utf-8")
    return plans

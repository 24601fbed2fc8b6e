"""Load a manifest, pick what to run, resolve what it references and turn it into a plan.

The lint has checked the documents first (cli.py), so their structure and Argo's rules are taken as
valid here: this module only runs each field, lists it as cluster-only, or refuses it by name and
place (docs/local-runner.md, "What happens before anything runs")."""

from __future__ import annotations

import graphlib
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from workflows.checks import (
    TEMPLATE_TYPES,
    VARIABLE_TAG,
    ManifestFileError,
    UnresolvedTemplate,
    load_manifest,
    resolve_cron,
    workflow_templates,
)
from workflows.runner.expressions import Depends, ExpressionError, parse_depends, parse_duration
from workflows.runner.mutex import Semaphore
from workflows.runner.retry import Retry
from workflows.variables import strings


class ManifestError(ValueError):
    """The manifest cannot be run locally (unreadable, refers to what is not there, or unsupported)."""


class UnsupportedFeature(ManifestError):
    def __init__(self, feature: str, where: str, hint: str = "") -> None:
        text = f"{where}: {feature} is not supported by the local runner"
        super().__init__(f"{text} ({hint})" if hint else text)


# Human names for refused fields, so the error says what the feature is, not only its key.
FEATURE_NAMES: dict[str, str] = {
    **{kind: f"{kind} template (`{kind}`)" for kind in TEMPLATE_TYPES if kind not in ("container", "dag")},
    **{loop: f"loop (`{loop}`)" for loop in ("withItems", "withParam", "withSequence")},
    "onExit": "exit handler (`onExit`)",
    "hooks": "lifecycle hooks (`hooks`)",
    "dependencies": "`dependencies` (use `depends`)",
    "globalName": "global output (`globalName`)",
    "memoize": "memoization (`memoize`)",
}

# Per object: the fields run locally, and those accepted but only meaningful on a cluster.
# Anything else Argo knows is refused by name (FEATURE_NAMES, else "field `<key>`").
RUN, CLUSTER = "run", "cluster"
FIELDS: dict[str, dict[str, set[str]]] = {
    kind: {RUN: set(run.split()), CLUSTER: set(cluster.split())}
    for kind, run, cluster in (
        (
            "cron",
            "workflowSpec",
            "schedule schedules timezone concurrencyPolicy startingDeadlineSeconds successfulJobsHistoryLimit"
            " failedJobsHistoryLimit suspend workflowMetadata stopStrategy when",
        ),
        (
            "spec",
            "entrypoint arguments templates volumes activeDeadlineSeconds synchronization workflowTemplateRef"
            " templateDefaults",
            "serviceAccountName automountServiceAccountToken securityContext podGC ttlStrategy podMetadata"
            " workflowMetadata metrics archiveLogs artifactGC podDisruptionBudget priority"
            " podPriorityClassName nodeSelector tolerations affinity imagePullSecrets dnsPolicy dnsConfig"
            " hostAliases executor artifactRepositoryRef schedulerName hostNetwork",
        ),
        (
            "template",
            "name container dag inputs outputs retryStrategy activeDeadlineSeconds",
            "metadata annotations securityContext metrics synchronization serviceAccountName"
            " automountServiceAccountToken nodeSelector affinity tolerations archiveLocation"
            " priorityClassName schedulerName",
        ),
        (
            "container",
            "command args env volumeMounts name",
            "image imagePullPolicy resources securityContext",
        ),
        ("dag", "tasks", "failFast"),
        ("task", "name template depends when arguments", ""),
        ("retry", "limit retryPolicy backoff expression", "affinity"),
        ("artifact", "name path optional s3 archive", "archiveLogs mode"),
        ("synchronization", "mutexes semaphores", ""),
        ("inputs/outputs", "parameters artifacts", ""),
        ("volumeMount", "name mountPath", "readOnly"),
    )
}

# What the runner substitutes (the lint checks that a name exists where it is used).
_PROVIDED = re.compile(
    r"^(workflow\.(name|namespace|uid|creationTimestamp|parameters\.[^.]+)"
    r"|inputs\.parameters\.[^.]+|(inputs|outputs)\.artifacts\.[^.]+\.path|outputs\.parameters\.[^.]+\.path"
    r"|tasks\.[^.]+\.outputs\.parameters\.[^.]+)$"
)
_TASK_ARTIFACT = re.compile(r"^\{\{\s*tasks\.([^.]+)\.outputs\.artifacts\.([^.}\s]+)\s*\}\}$")


@dataclass(frozen=True)
class Parameter:
    name: str
    value: str | None  # None: no default, must be given (for an output parameter: its default)
    enum: tuple[str, ...] = ()
    path: str = ""  # an output parameter: the container path of the file holding its value


@dataclass(frozen=True)
class ArtifactPath:
    name: str
    path: str  # container path
    optional: bool = False
    key: str | None = None  # key-only artifact: its key in the artifact repository, with {{...}}


@dataclass(frozen=True)
class ContainerTemplate:
    where: str
    command: tuple[str, ...]  # its args after it, as the container runs them
    env: tuple[tuple[str, str], ...]
    input_parameters: tuple[Parameter, ...]
    input_artifacts: tuple[ArtifactPath, ...]
    output_artifacts: tuple[ArtifactPath, ...]
    output_parameters: tuple[Parameter, ...]
    retry: Retry | None
    deadline: float | None  # activeDeadlineSeconds
    mounts: tuple[tuple[str, str], ...]  # (volume name, mount path)


@dataclass(frozen=True)
class Task:
    name: str
    where: str
    template: str
    depends: Depends | None
    when: str | None
    parameters: tuple[tuple[str, str], ...]
    artifacts: tuple[tuple[str, str, str], ...]  # (input name, from task, its output artifact)


@dataclass
class WorkflowPlan:
    kind: str
    name: str
    namespace: str
    parameters: tuple[Parameter, ...]
    tasks: dict[str, Task]  # manifest order
    templates: dict[str, ContainerTemplate]
    deadline: float | None
    documents: list[dict[str, Any]]  # what the run uses: the workflow, its template, their ConfigMaps
    order: tuple[str, ...] = ()  # the tasks, each after everything it depends on
    cluster_only: list[str] = field(default_factory=list)
    mutexes: tuple[str, ...] = ()  # workflow-level mutex names, still with their {{variables}}
    semaphores: tuple[Semaphore, ...] = ()
    source: str | None = None  # the manifest's text, when this workflow is all the file holds

    def dependencies(self, task: str) -> tuple[str, ...]:
        depends = self.tasks[task].depends
        return depends.tasks if depends else ()


# --- loading and choosing --------------------------------------------------------------------
RUNNABLE_KINDS = ("CronWorkflow", "Workflow", "WorkflowTemplate")
# `kind/name` as `argo submit --from` spells it (pkg/apis/workflow/register.go), lower case.
KIND_NAMES = {
    alias: kind
    for kind, short in (("CronWorkflow", "cronwf"), ("Workflow", "wf"), ("WorkflowTemplate", "wftmpl"))
    for alias in (short, kind.lower(), f"{kind.lower()}s")
}


def load_documents(path: Path) -> list[dict[str, Any]]:
    try:
        documents = load_manifest(path)
    except ManifestFileError as exc:
        raise ManifestError(str(exc)) from exc
    for index, doc in enumerate(documents):
        if not isinstance(doc, dict):
            raise ManifestError(f"{path}: document {index + 1} is not a mapping (is it a manifest?)")
    return documents


def document_name(doc: dict[str, Any]) -> str:
    metadata = doc.get("metadata") or {}
    return str(metadata.get("name") or metadata.get("generateName", "").rstrip("-") or "workflow")


def label(doc: dict[str, Any]) -> str:
    return f"{doc.get('kind')}/{document_name(doc)}"


def select_workflows(documents: list[dict[str, Any]], name: str | None = None) -> list[dict[str, Any]]:
    """What to run: `name` (or kind/name); by default every CronWorkflow and Workflow, or the one template."""
    runnable = [doc for doc in documents if doc.get("kind") in RUNNABLE_KINDS]
    if name is None:
        chosen = [doc for doc in runnable if doc.get("kind") != "WorkflowTemplate"]
        templates = [doc for doc in runnable if doc.get("kind") == "WorkflowTemplate"]
        if chosen or len(templates) == 1:
            return chosen or templates
        hint = " (choose a WorkflowTemplate with --workflow)" if templates else ""
        raise ManifestError(f"the manifest holds no CronWorkflow nor Workflow to run{hint}")
    kind_name, slash, wanted = name.rpartition("/")
    kind = KIND_NAMES.get(kind_name.lower()) if slash else None
    if slash and kind is None:
        raise ManifestError(f"--workflow {name}: unknown kind {kind_name!r} (cronwf, wftmpl or wf)")
    chosen = [doc for doc in runnable if document_name(doc) == wanted and kind in (None, doc.get("kind"))]
    if not chosen:
        names = ", ".join(label(doc) for doc in runnable[:10]) + (", ..." if len(runnable) > 10 else "")
        raise ManifestError(f"no workflow named {name!r} in the manifest (it has: {names or 'none'})")
    if len(chosen) > 1:
        raise ManifestError(
            f"--workflow {name} is ambiguous ({', '.join(map(label, chosen))}): give kind/name"
        )
    return chosen


def find(documents: list[dict[str, Any]], kind: str, name: str, namespace: str) -> dict[str, Any] | None:
    """The `kind` named `name` in `namespace` (a document without a namespace matches any)."""
    for doc in documents:
        metadata = doc.get("metadata") or {}
        same = doc.get("kind") == kind and metadata.get("name") == name
        if same and metadata.get("namespace") in (None, namespace):
            return doc
    return None


def load_plans(
    path: Path, name: str | None = None, lint: Callable[[list[dict[str, Any]]], None] | None = None
) -> list[WorkflowPlan]:
    """Load, select, `lint` the file's documents, and build every selected workflow before any runs."""
    documents = load_documents(path)
    chosen = select_workflows(documents, name)
    if lint is not None:
        lint(documents)
    plans = [build_plan(doc, documents) for doc in chosen]
    if len(plans) == 1 and len(plans[0].documents) == len(documents):  # the run uses the whole file:
        plans[0].source = path.read_text(encoding="utf-8")  # kept as written (comments and all)
    return plans


# --- resolving what a workflow references ------------------------------------------------------
def semaphore(
    entry: dict[str, Any], namespace: str, documents: list[dict[str, Any]], where: str
) -> tuple[Semaphore, dict[str, Any]]:
    """A configMapKeyRef semaphore with its limit, read as the controller reads it (strconv.Atoi)."""
    ref = entry.get("configMapKeyRef")
    if not ref:
        raise UnsupportedFeature("semaphore without configMapKeyRef (database semaphore)", where)
    namespace = str(entry.get("namespace") or namespace)
    name, key = str(ref.get("name")), str(ref.get("key"))
    config_map = find(documents, "ConfigMap", name, namespace)
    if config_map is None:
        raise ManifestError(f"{where}: no ConfigMap {name!r} in this manifest (the semaphore's limit)")
    # The lint refuses a missing key and a limit that is not a whole number >= 1 (controller's getSyncLimit).
    return Semaphore(namespace, name, key, int(config_map["data"][key])), config_map


# --- building the plan -------------------------------------------------------------------------
class _Builder:
    def __init__(self, doc: dict[str, Any]) -> None:
        self.label = label(doc)  # names the document a refused field is written in
        self.cluster_only: list[str] = []

    def at(self, path: str) -> str:
        return f"{self.label}: {path}"

    def keys(self, obj: dict[str, Any], path: str, kind: str) -> None:
        """Every field of `obj` is run, listed as cluster-only, or refused by name (FIELDS)."""
        for key in obj:
            if key in FIELDS[kind][CLUSTER]:
                self.cluster_only.append(f"{path}.{key}")
            elif key not in FIELDS[kind][RUN]:
                raise UnsupportedFeature(FEATURE_NAMES.get(key, f"field `{key}`"), self.at(f"{path}.{key}"))

    def variables(self, value: Any, path: str) -> None:
        """Refuse `{{...}}` the runner cannot substitute (expression tags, pod.name, ...)."""
        for where, text in strings(value, path):
            for match in VARIABLE_TAG.finditer(text):
                if match.group(1).startswith("="):
                    raise UnsupportedFeature("expression tag `{{=...}}`", self.at(where))
                if not _PROVIDED.match(match.group(1)):
                    raise UnsupportedFeature(
                        f"variable `{{{{{match.group(1)}}}}}`", self.at(where), "not provided locally"
                    )

    def absolute(self, path: str, where: str) -> str:
        if not PurePosixPath(path).is_absolute() or ".." in PurePosixPath(path).parts:
            raise ManifestError(f"{self.at(where)}: {path!r} must be an absolute container path without '..'")
        return path


def build_plan(doc: dict[str, Any], documents: list[dict[str, Any]]) -> WorkflowPlan:
    """The plan for one runnable document; raise ManifestError when the runner cannot run it."""
    try:
        return _build_plan(doc, documents)
    except ManifestError:
        raise
    # What the lint refuses (a bad shape, a cycle, a limit that is no number), come here unlinted.
    except (KeyError, TypeError, AttributeError, ValueError) as exc:
        raise ManifestError(
            f"{label(doc)}: malformed ({type(exc).__name__}: {exc}); `python -m workflows lint` says where"
        ) from exc


def _build_plan(doc: dict[str, Any], documents: list[dict[str, Any]]) -> WorkflowPlan:
    kind, namespace = str(doc.get("kind")), str((doc.get("metadata") or {}).get("namespace") or "default")
    base = "spec.workflowSpec" if kind == "CronWorkflow" else "spec"
    try:
        resolved = resolve_cron(doc, workflow_templates(documents))
    except UnresolvedTemplate as exc:
        raise ManifestError(f"{label(doc)}: {base}.workflowTemplateRef: {exc}") from exc
    spec, used = resolved.spec, [doc] if resolved.template is None else [resolved.template, doc]
    base = base if resolved.template is None else "spec"  # the template's fields, in the template
    b = _Builder(doc)
    if kind == "CronWorkflow":
        b.keys(doc.get("spec") or {}, "spec", "cron")
    b.label = label(used[0])  # the spec's fields are written in the template when it is referenced
    b.keys(spec, base, "spec")
    if (spec.get("arguments") or {}).get("artifacts"):
        raise UnsupportedFeature("workflow argument artifacts", b.at(f"{base}.arguments.artifacts"))
    parameters = tuple(_parameter(p, "value") for p in (spec.get("arguments") or {}).get("parameters") or ())

    sync = spec.get("synchronization") or {}
    b.keys(sync, f"{base}.synchronization", "synchronization")
    mutexes = tuple(str(m.get("name")) for m in sync.get("mutexes") or ())
    b.variables(list(mutexes), f"{base}.synchronization.mutexes")
    found = [
        semaphore(entry, namespace, documents, b.at(f"{base}.synchronization.semaphores[{index}]"))
        for index, entry in enumerate(sync.get("semaphores") or ())
    ]

    for index, volume in enumerate(spec.get("volumes") or ()):
        where = f"{base}.volumes[{index}]"
        if set(volume) != {"name", "emptyDir"}:
            kinds = ", ".join(sorted(set(volume) - {"name"})) or "none"
            raise UnsupportedFeature(f"volume other than emptyDir ({kinds})", b.at(where))
        b.cluster_only.extend(f"{where}.emptyDir.{key}" for key in volume["emptyDir"] or {})
    templates = {raw["name"]: raw for raw in spec.get("templates") or ()}
    entrypoint = str(spec.get("entrypoint"))
    if "dag" not in templates.get(entrypoint, {}):
        raise UnsupportedFeature(
            "entrypoint that is not a DAG template", b.at(f"{base}.entrypoint"), "the runner runs DAGs"
        )
    containers: dict[str, ContainerTemplate] = {}
    for name, raw in templates.items():
        path = f"{base}.templates[name={name}]"
        b.keys(raw, path, "template")
        if name == entrypoint:
            for key in ("inputs", "outputs", "retryStrategy", "activeDeadlineSeconds"):
                if raw.get(key):
                    raise UnsupportedFeature(f"`{key}` on the DAG template", b.at(f"{path}.{key}"))
        elif "dag" in raw:
            raise UnsupportedFeature("nested DAG template (a DAG that is not the entrypoint)", b.at(path))
        else:
            containers[name] = _container_template(b, raw, path)
    dag_path = f"{base}.templates[name={entrypoint}].dag"
    tasks = _dag_tasks(b, templates[entrypoint]["dag"], dag_path, containers)
    graph = {name: task.depends.tasks if task.depends else () for name, task in tasks.items()}
    order = tuple(graphlib.TopologicalSorter(graph).static_order())  # the lint refuses a cycle

    deadline = spec.get("activeDeadlineSeconds")
    return WorkflowPlan(
        kind=kind,
        name=document_name(doc),
        namespace=namespace,
        parameters=parameters,
        tasks=tasks,
        templates=containers,
        deadline=float(deadline) if deadline is not None else None,
        documents=[*{id(d): d for d in [*(config_map for _, config_map in found), *used]}.values()],
        order=order,
        cluster_only=b.cluster_only,
        mutexes=mutexes,
        semaphores=tuple(limit for limit, _ in found),
    )


def _scalar(value: Any) -> str:
    """Parameter values are strings in Argo; YAML booleans and numbers are written as Go would."""
    return str(value).lower() if isinstance(value, bool) else str(value)


def _parameter(raw: dict[str, Any], default: str = "default") -> Parameter:
    """A workflow argument or input parameter: its value (or default) and enum, as strings."""
    value = raw.get("value", raw.get(default))
    enum = tuple(_scalar(v) for v in raw.get("enum") or ())
    return Parameter(str(raw["name"]), _scalar(value) if value is not None else None, enum)


def _artifacts(b: _Builder, items: Any, path: str, output: bool) -> tuple[ArtifactPath, ...]:
    result = []
    for index, a in enumerate(items or ()):
        where = f"{path}[{index}]"
        b.keys(a, where, "artifact")
        key = None
        if "s3" in a:
            if set(a["s3"]) != {"key"}:
                raise UnsupportedFeature(
                    "s3 artifact with more than a key (only key-only artifacts run locally)",
                    b.at(f"{where}.s3"),
                )
            key = str(a["s3"]["key"])
            b.variables(key, f"{where}.s3.key")
        archive = a.get("archive")
        if output and key is not None and archive != {"none": {}}:
            raise UnsupportedFeature(
                "key-only output artifact without `archive: {none: {}}`",
                b.at(where),
                "Argo would store it as a .tgz; the runner stores plain files",
            )
        if archive and set(archive) != {"none"}:
            raise UnsupportedFeature("artifact archive other than `none`", b.at(f"{where}.archive"))
        container_path = b.absolute(str(a["path"]), f"{where}.path")
        result.append(ArtifactPath(str(a["name"]), container_path, bool(a.get("optional")), key))
    return tuple(result)


def _container_template(b: _Builder, raw: dict[str, Any], path: str) -> ContainerTemplate:
    container = raw.get("container") or {}
    b.keys(container, f"{path}.container", "container")
    inputs, outputs = raw.get("inputs") or {}, raw.get("outputs") or {}
    b.keys(inputs, f"{path}.inputs", "inputs/outputs")
    b.keys(outputs, f"{path}.outputs", "inputs/outputs")
    b.variables(container, f"{path}.container")
    b.variables(inputs, f"{path}.inputs")

    in_params = []
    for p in inputs.get("parameters") or ():
        if "valueFrom" in p:
            raise UnsupportedFeature("`valueFrom`", b.at(f"{path}.inputs.parameters[name={p['name']}]"))
        in_params.append(_parameter(p))
    out_params = []
    for p in outputs.get("parameters") or ():
        where = f"{path}.outputs.parameters[name={p['name']}]"
        if "globalName" in p:
            raise UnsupportedFeature(FEATURE_NAMES["globalName"], b.at(f"{where}.globalName"))
        value_from = p.get("valueFrom") or {}
        if set(value_from) - {"path", "default"} or "path" not in value_from:
            raise UnsupportedFeature("output parameter not read from a file (`valueFrom.path`)", b.at(where))
        default = value_from.get("default")
        value = _scalar(default) if default is not None else None
        out_params.append(Parameter(str(p["name"]), value, path=b.absolute(str(value_from["path"]), where)))
    in_arts = _artifacts(b, inputs.get("artifacts"), f"{path}.inputs.artifacts", output=False)
    out_arts = _artifacts(b, outputs.get("artifacts"), f"{path}.outputs.artifacts", output=True)

    mounts = []
    for index, m in enumerate(container.get("volumeMounts") or ()):
        where = f"{path}.container.volumeMounts[{index}]"  # the lint refuses a mount of no volume
        b.keys(m, where, "volumeMount")
        mounts.append((str(m["name"]), b.absolute(str(m["mountPath"]), f"{where}.mountPath")))

    # Container paths must reach the step through variables, which the runner maps to local files.
    literal_paths = sorted(  # the most specific path first: the alternation takes the first that fits
        {m for _, m in mounts} | {a.path for a in (*in_arts, *out_arts, *out_params)}, key=len, reverse=True
    )
    literal_re = re.compile(rf"(?:^|[\s=:])({'|'.join(map(re.escape, literal_paths))})(?:/|$|\s)")

    def text(value: Any, where: str) -> str:
        value = _scalar(value)
        match = literal_re.search(VARIABLE_TAG.sub("", value)) if literal_paths else None
        if match:
            raise UnsupportedFeature(
                f"literal container path {match.group(1)!r}",
                b.at(where),
                "use {{inputs.artifacts.X.path}} / {{outputs...path}} so the runner can map it",
            )
        return value

    command, args = (
        tuple(text(v, f"{path}.container.{key}[{i}]") for i, v in enumerate(container.get(key) or ()))
        for key in ("command", "args")
    )
    if not command:
        raise UnsupportedFeature("container without `command` (image entrypoint)", b.at(f"{path}.container"))
    env = []
    for index, e in enumerate(container.get("env") or ()):
        if "valueFrom" in e:
            raise UnsupportedFeature("`valueFrom`", b.at(f"{path}.container.env[{index}].valueFrom"))
        env.append((str(e["name"]), text(e.get("value") or "", f"{path}.container.env[{index}].value")))
    retry = raw.get("retryStrategy")
    if retry is not None:
        b.keys(retry, f"{path}.retryStrategy", "retry")
        if retry.get("limit") is None:
            where = b.at(f"{path}.retryStrategy")
            raise UnsupportedFeature("retryStrategy without `limit` (unlimited retries)", where)
    deadline = raw.get("activeDeadlineSeconds")
    return ContainerTemplate(
        where=b.at(path),
        command=command + args,
        env=tuple(env),
        input_parameters=tuple(in_params),
        input_artifacts=in_arts,
        output_artifacts=out_arts,
        output_parameters=tuple(out_params),
        retry=Retry.from_manifest(retry) if retry is not None else None,
        deadline=parse_duration(deadline) if deadline is not None else None,
        mounts=tuple(mounts),
    )


def _dag_tasks(
    b: _Builder, dag: dict[str, Any], path: str, containers: dict[str, ContainerTemplate]
) -> dict[str, Task]:
    b.keys(dag, path, "dag")
    tasks: dict[str, Task] = {}
    for t in dag.get("tasks") or ():
        name = str(t["name"])
        where = f"{path}.tasks[name={name}]"
        b.keys(t, where, "task")
        arguments = t.get("arguments") or {}
        b.variables([t.get("when"), arguments.get("parameters")], where)
        if t.get("template") not in containers:
            raise ManifestError(
                f"{b.at(f'{where}.template')}: no container template named {t.get('template')!r}"
            )
        try:
            depends = parse_depends(str(t["depends"])) if t.get("depends") else None
        except ExpressionError as exc:
            raise ManifestError(f"{b.at(where)}.depends: {exc}") from exc
        params = tuple(
            (str(p["name"]), _scalar(p.get("value", ""))) for p in arguments.get("parameters") or ()
        )
        artifacts = []
        for index, a in enumerate(arguments.get("artifacts") or ()):
            match = _TASK_ARTIFACT.match(str(a.get("from") or ""))
            if set(a) != {"name", "from"} or not match:
                raise UnsupportedFeature(
                    "artifact argument other than `from: {{tasks.X.outputs.artifacts.Y}}`",
                    b.at(f"{where}.arguments.artifacts[{index}]"),
                )
            artifacts.append((str(a["name"]), match.group(1), match.group(2)))
        tasks[name] = Task(
            name, b.at(where), str(t["template"]), depends, t.get("when"), params, tuple(artifacts)
        )
    return tasks

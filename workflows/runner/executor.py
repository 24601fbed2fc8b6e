"""Run a WorkflowPlan: DAG scheduling, one subprocess per container attempt, retries, artifacts.

Semantics follow Argo's controller where they matter for the result:
- a task starts when every task its `depends` names is fulfilled; a false `depends` marks it Omitted,
  a false `when` marks it Skipped; a bare task name in `depends` means Succeeded or Skipped;
- retries are decided by retry.py as processNodeRetries decides them; every attempt gets fresh
  emptyDir volumes, like a new pod; DSM_RUNNER_MAX_BACKOFF_SECONDS shortens the waits but each wait
  still counts in full toward backoff.maxDuration, so the same retries happen as in the cluster;
- key-only artifacts are read from and written to the runs root's artifact store (store.py); like
  Argo's wait container, outputs are saved after the program exits, also when it failed;
- the workflow fails when a branch that ends in a leaf task (through Skipped/Omitted tasks) ends
  in a Failed or Error task; a failure handled by a downstream task (e.g. `depends: a.Failed`) does not.
Independent tasks run at the same time on worker threads, each waiting on its own subprocess.
"""

from __future__ import annotations

import functools
import os
import queue
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path, PurePosixPath
from typing import Any

from workflows.runner import store
from workflows.runner.expressions import ExpressionError, evaluate_when
from workflows.runner.manifest import ContainerTemplate, Task, WorkflowPlan
from workflows.runner.progress import Reporter, seconds
from workflows.runner.retry import Retry, decide
from workflows.runner.rundir import RunDir, rfc3339, utc_now
from workflows.runner.templating import TemplateError, substitute

FULFILLED = {"Succeeded", "Failed", "Error", "Skipped", "Omitted"}
COMPLETED = {"Succeeded", "Failed", "Error"}  # phases that set a branch's outcome (Argo's Completed())
PYTHON_COMMANDS = {"python", "python3"}
MAX_BACKOFF_ENV = "DSM_RUNNER_MAX_BACKOFF_SECONDS"
# Variables of the runner's own environment that a step still gets (the container has its own OS env).
PASSED_ENV = ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "SYSTEMROOT")
# The HTTP tuning knobs of steps/http.py (timeouts, in-process GET retries), passed through when set
# so a local run (and the fault-matrix tests) can use short timeouts. An explicit list, not a prefix:
# HTTP_PROXY and the like must stay out. In a cluster the container has only the manifest's env.
PASSED_STEP_SETTINGS = ("HTTP_CONNECT_TIMEOUT", "HTTP_READ_TIMEOUT", "HTTP_RETRIES", "HTTP_BACKOFF_FACTOR")


def base_environment(environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """A minimal environment: enough to start Python, plus the HTTP tuning knobs above when set;
    everything else comes from the template's env."""
    source = os.environ if environ is None else environ
    env = {name: source[name] for name in (*PASSED_ENV, *PASSED_STEP_SETTINGS) if name in source}
    env.update({"PYTHONUNBUFFERED": "1", "PYTHONDONTWRITEBYTECODE": "1", "TZ": "UTC"})
    return env


def max_backoff_from_env(environ: Mapping[str, str] | None = None) -> float | None:
    raw = (os.environ if environ is None else environ).get(MAX_BACKOFF_ENV, "").strip()
    if not raw:
        return None
    try:
        value = float(raw)
    except ValueError as exc:
        raise ValueError(f"{MAX_BACKOFF_ENV} must be a number of seconds, got {raw!r}") from exc
    if value < 0:
        raise ValueError(f"{MAX_BACKOFF_ENV} must not be negative, got {raw!r}")
    return value


@dataclass
class TaskState:
    phase: str = "Pending"  # Pending | Running | Succeeded | Failed | Error | Skipped | Omitted
    template: str = ""
    message: str = ""
    attempts: list[dict[str, Any]] = field(default_factory=list)
    parameters: dict[str, str] = field(default_factory=dict)  # output parameters
    artifacts: dict[str, str] = field(default_factory=dict)  # output artifact -> path in the run dir
    started_at: str | None = None
    finished_at: str | None = None
    duration_seconds: float | None = None

    def as_json(self) -> dict[str, Any]:
        last = self.attempts[-1] if self.attempts else {}
        return {
            "phase": self.phase,
            "template": self.template,
            "message": self.message,
            "exit_code": last.get("exit_code"),
            "started_at": self.started_at,
            "finished_at": self.finished_at,
            "duration_seconds": self.duration_seconds,
            "attempts": self.attempts,
            "outputs": {"parameters": self.parameters, "artifacts": self.artifacts},
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> TaskState:
        outputs = data.get("outputs") or {}
        return cls(
            phase=data.get("phase", "Pending"),
            template=data.get("template", ""),
            message=data.get("message", ""),
            attempts=list(data.get("attempts") or []),
            parameters=dict(outputs.get("parameters") or {}),
            artifacts=dict(outputs.get("artifacts") or {}),
            started_at=data.get("started_at"),
            finished_at=data.get("finished_at"),
            duration_seconds=data.get("duration_seconds"),
        )


@dataclass(frozen=True)
class AttemptResult:
    phase: str  # Succeeded | Failed | Error
    exit_code: int | None
    message: str
    duration: float
    parameters: dict[str, str] = field(default_factory=dict)
    artifacts: dict[str, str] = field(default_factory=dict)


class PathMapper:
    """Maps container paths to local ones: under an emptyDir mount -> that volume's local dir."""

    def __init__(self, attempt_dir: Path, mounts: tuple[tuple[str, str], ...]) -> None:
        self.root = attempt_dir / "root"
        # Longest mount path first, so nested mounts resolve to the innermost volume.
        self.mounts = sorted(
            ((PurePosixPath(mount), attempt_dir / "volumes" / volume) for volume, mount in mounts),
            key=lambda item: len(item[0].parts),
            reverse=True,
        )

    def volumes(self) -> list[Path]:
        return [local for _, local in self.mounts]

    def local(self, container_path: str) -> Path:
        path = PurePosixPath(container_path)
        for mount, local in self.mounts:
            if path == mount or mount in path.parents:
                return local.joinpath(*path.relative_to(mount).parts)
        return self.root.joinpath(*path.parts[1:])


class Executor:
    def __init__(
        self,
        plan: WorkflowPlan,
        parameters: Mapping[str, str],
        run_dir: RunDir,
        *,
        workflow_name: str,
        uid: str,
        created_at: datetime,
        manifest: str,
        reporter: Reporter | None = None,
        workdir: Path | None = None,
        environ: Mapping[str, str] | None = None,
        max_backoff: float | None = None,
        previous: Mapping[str, Any] | None = None,
    ) -> None:
        self.plan = plan
        self.runs_root = run_dir.path.parent  # where key-only artifacts live
        self.parameters = dict(parameters)
        self.run_dir = run_dir
        self.workflow_name = workflow_name
        self.uid = uid
        self.created_at = created_at
        self.manifest = manifest
        self.reporter = reporter or Reporter(width=max(len(name) for name in plan.tasks))
        self.workdir = workdir or Path.cwd()
        self.base_env = base_environment(environ)
        self.max_backoff = max_backoff
        self.stop = threading.Event()
        self.stop_reason = ""
        self._processes: dict[str, subprocess.Popen[bytes]] = {}
        self._lock = threading.Lock()
        self.states = {name: TaskState(template=task.template) for name, task in plan.tasks.items()}
        self.history: list[dict[str, Any]] = []
        self.rerun: list[str] = list(plan.tasks)
        self.started_at = rfc3339(utc_now(), precise=True)
        self.deadline: float | None = None
        self.workflow_values = {
            "workflow.name": workflow_name,
            "workflow.namespace": plan.namespace,
            "workflow.uid": uid,
            "workflow.creationTimestamp": rfc3339(created_at),
            **{f"workflow.parameters.{name}": value for name, value in self.parameters.items()},
        }
        if previous is not None:
            self._resume(previous)

    def mutex_names(self) -> list[str]:
        """The workflow's mutexes with this run's parameters, e.g. dailyscrum-GEM-001."""
        return [substitute(name, self.workflow_values, "synchronization") for name in self.plan.mutexes]

    # --- retry of an earlier run (`--retry`) -------------------------------------------------
    def _resume(self, previous: Mapping[str, Any]) -> None:
        """Keep what succeeded; rerun failed, errored or never-run tasks and everything downstream of them."""
        old = {name: TaskState.from_json(data) for name, data in (previous.get("tasks") or {}).items()}
        self.history = list(previous.get("history") or [])
        self.started_at = previous.get("started_at") or self.started_at
        reset: set[str] = set()
        for name in self.plan.tasks:
            state = old.get(name)
            if state is None or state.phase not in {"Succeeded", "Skipped", "Omitted"}:
                reset |= {name} | self.plan.descendants(name)
        for name, task in self.plan.tasks.items():
            state = old.get(name) or TaskState(template=task.template)
            if name in reset:
                state = TaskState(template=task.template, attempts=state.attempts)
            self.states[name] = state
        self.rerun = [name for name in self.plan.tasks if name in reset]

    # --- status --------------------------------------------------------------------------------
    def status(self, phase: str, message: str = "", finished: bool = False) -> dict[str, Any]:
        with self._lock:
            tasks = {name: state.as_json() for name, state in self.states.items()}
        return {
            "runner": "workflows.runner",
            "workflow": self.plan.name,
            "kind": self.plan.kind,
            "workflow_name": self.workflow_name,
            "namespace": self.plan.namespace,
            "uid": self.uid,
            "created_at": rfc3339(self.created_at),
            "manifest": self.manifest,
            "run_dir": str(self.run_dir.path),
            "parameters": self.parameters,
            "phase": phase,
            "message": message,
            "started_at": self.started_at,
            "finished_at": rfc3339(utc_now(), precise=True) if finished else None,
            "history": self.history,
            "tasks": tasks,
        }

    def save(self, phase: str = "Running", message: str = "", finished: bool = False) -> dict[str, Any]:
        status = self.status(phase, message, finished)
        self.run_dir.write_status(status)
        return status

    # --- scheduling ------------------------------------------------------------------------------
    def run(self) -> dict[str, Any]:
        """Run the DAG to the end (or to the deadline / Ctrl-C); return the final status."""
        if self.plan.deadline is not None:
            self.deadline = time.monotonic() + self.plan.deadline
        self.history.append({"started_at": rfc3339(utc_now(), precise=True), "retry": len(self.history) > 0})
        self.save()
        done: queue.Queue[str] = queue.Queue()
        running: set[str] = set()
        interrupted = False
        # One thread per running task; each ends by putting its name on `done`.
        # Plain threads: concurrent.futures would add ~8 ms to every local run.
        try:
            while True:
                self._schedule(running, done)
                if not running:
                    break
                timeout = None if self.deadline is None else max(0.0, self.deadline - time.monotonic())
                try:
                    running.discard(done.get(timeout=timeout))
                except queue.Empty:
                    limit = seconds(self.plan.deadline or 0)
                    self._halt(f"workflow activeDeadlineSeconds ({limit}) exceeded")
        except KeyboardInterrupt:
            interrupted = True
            self._halt("interrupted")
            while running:
                running.discard(done.get())
        phase, message = self._assess()
        if interrupted:
            phase, message = "Failed", "interrupted"
        self.history[-1]["finished_at"] = rfc3339(utc_now(), precise=True)
        self.history[-1]["phase"] = phase
        return self.save(phase, message, finished=True)

    def _halt(self, reason: str) -> None:
        if not self.stop.is_set():
            self.stop_reason = reason
            self.stop.set()
        with self._lock:
            processes = list(self._processes.values())
        for process in processes:
            _kill(process)

    def _schedule(self, running: set[str], done: queue.Queue[str]) -> None:
        progress = True
        while progress and not self.stop.is_set():
            progress = False
            for name, task in self.plan.tasks.items():
                state = self.states[name]
                if state.phase != "Pending" or name in running:
                    continue
                deps = self.plan.dependencies(name)
                if any(self.states[dep].phase not in FULFILLED for dep in deps):
                    continue
                progress = True
                if self._decide(task):
                    running.add(name)
                    with self._lock:
                        state.phase = "Running"
                    threading.Thread(target=self._run_task, args=(task, done), name=f"task-{name}").start()

    def _decide(self, task: Task) -> bool:
        """Settle depends and when; True when the task must run (its arguments then resolve)."""
        name = task.name
        if task.depends is not None:
            try:
                ok = task.depends.evaluate({dep: self.states[dep].phase for dep in task.depends.tasks})
            except ExpressionError as exc:
                self._finish(name, "Error", f"depends: {exc}", event=f"errored ({exc})")
                return False
            if not ok:
                self._finish(name, "Omitted", f"depends {task.depends.text!r} not met", event="omitted")
                return False
        if task.when is not None:
            try:
                when = substitute(task.when, self._task_values(), f"{task.where}.when")
                proceed = evaluate_when(when)
            except (TemplateError, ExpressionError) as exc:
                self._finish(name, "Error", f"when: {exc}", event=f"errored (when: {exc})")
                return False
            if not proceed:
                self._finish(
                    name, "Skipped", f"when {when!r} evaluated false", event=f"skipped (when {when!r} false)"
                )
                return False
        return True

    def _task_values(self) -> dict[str, str]:
        values = dict(self.workflow_values)
        with self._lock:
            for name, state in self.states.items():
                for param, value in state.parameters.items():
                    values[f"tasks.{name}.outputs.parameters.{param}"] = value
        return values

    def _finish(self, name: str, phase: str, message: str, event: str | None = None) -> None:
        state = self.states[name]
        with self._lock:
            state.phase = phase
            state.message = message
            state.finished_at = rfc3339(utc_now(), precise=True)
        if event:
            self.reporter.line(name, event)
        self.save()

    # --- one task, with its retries ------------------------------------------------------------
    def _run_task(self, task: Task, done: queue.Queue[str]) -> None:
        try:
            self._run_with_retries(task)
        except Exception as exc:  # a runner bug must not hang the scheduler; record it as the task's error
            self._finish(
                task.name, "Error", f"runner error: {exc!r}", event=f"errored (runner error: {exc!r})"
            )
        finally:
            done.put(task.name)

    def _run_with_retries(self, task: Task) -> None:
        name = task.name
        template = self.plan.templates[task.template]
        retry = template.retry
        total = 1 + (retry.limit if retry else 0)
        state = self.states[name]
        try:
            inputs = self._inputs(task, template)
        except (TemplateError, store.StoreError) as exc:
            self._finish(name, "Error", str(exc), event=f"errored ({exc})")
            return
        with self._lock:
            state.started_at = rfc3339(utc_now(), precise=True)
        first_start = time.monotonic()
        skipped = 0.0  # backoff not waited (DSM_RUNNER_MAX_BACKOFF_SECONDS): it still counts, as in Argo
        deadline: float | None = None  # for retries: backoff.maxDuration after the first start
        attempts = 0
        while True:
            attempts += 1
            number = len(state.attempts) + 1
            self.reporter.line(name, "started" if attempts == 1 else f"started (attempt {attempts}/{total})")
            started = rfc3339(utc_now(), precise=True)
            left = None if deadline is None else deadline - (time.monotonic() - first_start + skipped)
            result = self._attempt(task, template, inputs, number, left)
            record = {
                "attempt": number,
                "phase": result.phase,
                "exit_code": result.exit_code,
                "message": result.message,
                "started_at": started,
                "finished_at": rfc3339(utc_now(), precise=True),
                "duration_seconds": round(result.duration, 3),
                "log": self.run_dir.relative(self.run_dir.log_path(name, number)),
            }
            with self._lock:
                state.attempts.append(record)
                state.duration_seconds = round(time.monotonic() - first_start, 3)
            if result.phase == "Succeeded":
                self._succeed(name, result)
                return
            what = _describe(result)
            if retry is None:
                self._finish(name, result.phase, result.message, event=what)
                return
            if self.stop.is_set():
                self._finish(
                    name, result.phase, result.message, event=f"{what}; not retried ({self.stop_reason})"
                )
                return
            now = time.monotonic() - first_start + skipped
            try:
                decision = decide(
                    retry,
                    attempts,
                    result.phase,
                    now,
                    now,
                    functools.partial(_retry_expression, retry, result),
                )
            except ExpressionError as exc:  # Argo: an expression that cannot be evaluated errors the node
                self._finish(
                    name, "Error", f"retryStrategy.expression: {exc}", event=f"{what}; errored ({exc})"
                )
                return
            wait = decision.wait if self.max_backoff is None else min(decision.wait, self.max_backoff)
            skipped += decision.wait - wait
            if decision.retry:
                self.reporter.line(
                    name, f"{what}, retrying in {seconds(wait)} (attempt {attempts + 1}/{total})"
                )
            elif wait:
                self.reporter.line(name, f"{what}, backoff {seconds(wait)} before Argo decides on a retry")
            self.save()
            if self.stop.wait(wait):  # Argo waits out the backoff also before it says "no retry"
                self._finish(
                    name, result.phase, result.message, event=f"{what}; not retried ({self.stop_reason})"
                )
                return
            if not decision.retry:
                self._finish(
                    name, result.phase, result.message, event=f"{what}; not retried: {decision.message}"
                )
                return
            deadline = decision.deadline

    def _succeed(self, name: str, result: AttemptResult) -> None:
        state = self.states[name]
        with self._lock:
            state.parameters = result.parameters
            state.artifacts = result.artifacts
        self._finish(name, "Succeeded", "", event=f"succeeded ({seconds(result.duration)})")

    # --- one attempt: one subprocess -------------------------------------------------------------
    def _inputs(self, task: Task, template: ContainerTemplate) -> dict[str, Any]:
        """Resolve the task's arguments: input parameter values, the local files of input artifacts,
        and the keys of key-only artifacts (all substituted once, as Argo does)."""
        values = self._task_values()
        given = {
            name: substitute(value, values, f"{task.where}.arguments.parameters.{name}")
            for name, value in task.parameters
        }
        params: dict[str, str] = {}
        for param in template.input_parameters:
            if param.name in given:
                value = given[param.name]
            else:
                value = substitute(
                    param.value or "", self.workflow_values, f"{template.where}.inputs.{param.name}"
                )
            if param.enum and value not in param.enum:
                raise TemplateError(
                    f"input parameter {param.name}={value!r} is not one of {list(param.enum)}"
                )
            params[param.name] = value
        scope = {**self.workflow_values, **{f"inputs.parameters.{k}": v for k, v in params.items()}}
        artifacts: dict[str, Path] = {}
        for argument in task.artifacts:
            relative = self.states[argument.task].artifacts.get(argument.artifact)
            if relative is None:
                raise TemplateError(
                    f"artifact {argument.artifact!r} of task {argument.task!r} was not produced "
                    f"(needed as {argument.name!r})"
                )
            artifacts[argument.name] = self.run_dir.path / relative
        keys = {}  # output artifact -> its key-only location
        for artifact in (*template.input_artifacts, *template.output_artifacts):
            if artifact.key is None:
                continue
            key = substitute(artifact.key, scope, f"{template.where}.{artifact.name}.s3.key")
            path = store.artifact_path(self.runs_root, key)
            if artifact in template.output_artifacts:
                keys[artifact.name] = path
            elif path.exists():
                artifacts[artifact.name] = path
            elif not artifact.optional:  # optional and missing: skipped, the step gets no file
                raise TemplateError(
                    f"artifact {artifact.name} failed to load: no object at key {key} ({path})"
                )
        return {"parameters": params, "artifacts": artifacts, "keys": keys}

    def _attempt(
        self, task: Task, template: ContainerTemplate, inputs: dict[str, Any], number: int, left: float | None
    ) -> AttemptResult:
        """One attempt; `left`: seconds until a retry's backoff.maxDuration deadline (None: none)."""
        name = task.name
        attempt_dir = self.run_dir.attempt_dir(name, number)
        mapper = PathMapper(attempt_dir, template.mounts)
        started = time.monotonic()
        try:
            attempt_dir.mkdir(parents=True, exist_ok=True)
            for volume in mapper.volumes():
                volume.mkdir(parents=True, exist_ok=True)
            for artifact in template.input_artifacts:
                source = inputs["artifacts"].get(artifact.name)
                if source is not None:
                    store.copy(source, mapper.local(artifact.path))
            values = dict(self.workflow_values)
            values.update({f"inputs.parameters.{k}": v for k, v in inputs["parameters"].items()})
            for kind, items in (
                ("inputs.artifacts", template.input_artifacts),
                ("outputs.artifacts", template.output_artifacts),
            ):
                values.update({f"{kind}.{a.name}.path": str(mapper.local(a.path)) for a in items})
            values.update(
                {
                    f"outputs.parameters.{p.name}.path": str(mapper.local(p.path))
                    for p in template.output_parameters
                }
            )
            command = [
                substitute(part, values, template.where) for part in (*template.command, *template.args)
            ]
            env = dict(self.base_env)
            env.update(
                {key: substitute(value, values, f"{template.where}.env.{key}") for key, value in template.env}
            )
        except (TemplateError, OSError) as exc:
            return AttemptResult(
                "Error", None, f"cannot prepare the attempt: {exc}", time.monotonic() - started
            )
        if command[0] in PYTHON_COMMANDS:
            command[0] = sys.executable  # the same module the image runs, in this interpreter
        # The pod's deadlines: the template's activeDeadlineSeconds, and the workflow's deadline or a
        # retry's maxDuration deadline, whichever is first (workflowpod.go getDeadline).
        limits = []
        if template.deadline is not None:
            limits.append(
                (template.deadline, f"activeDeadlineSeconds ({seconds(template.deadline)}) exceeded")
            )
        if self.deadline is not None:
            limits.append(
                (
                    max(0.0, self.deadline - time.monotonic()),
                    f"workflow activeDeadlineSeconds ({seconds(self.plan.deadline or 0)}) exceeded",
                )
            )
        if left is not None:
            limits.append((max(0.0, left), "Step exceeded its deadline (backoff maxDuration)"))
        timeout, why = min(limits, default=(None, ""))
        log_path = self.run_dir.log_path(name, number)
        with open(log_path, "wb") as log:
            try:
                process = subprocess.Popen(
                    command,
                    cwd=self.workdir,
                    env=env,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    stdin=subprocess.DEVNULL,
                    start_new_session=True,
                )
            except OSError as exc:
                return AttemptResult(
                    "Error", None, f"cannot start {command[0]}: {exc}", time.monotonic() - started
                )
            with self._lock:
                self._processes[name] = process
            try:
                if self.stop.is_set():
                    _kill(process)
                exit_code = process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                _kill(process)
                process.wait()
                return AttemptResult("Failed", None, why, time.monotonic() - started)
            finally:
                with self._lock:
                    self._processes.pop(name, None)
        duration = time.monotonic() - started
        if self.stop.is_set() and exit_code != 0:
            return AttemptResult("Failed", None, f"stopped: {self.stop_reason}", duration)
        try:
            self._save_keyed(template, mapper, inputs["keys"])
        except (store.StoreError, OSError) as exc:
            return AttemptResult("Error", exit_code, f"could not save a key-only artifact: {exc}", duration)
        if exit_code != 0:
            reason = failure_reason(log_path)
            message = f"exit code {exit_code}: {reason}" if reason else f"exit code {exit_code}"
            return AttemptResult("Failed", exit_code, message, duration)
        return self._collect(name, template, mapper, duration)

    def _save_keyed(self, template: ContainerTemplate, mapper: PathMapper, keys: dict[str, Path]) -> None:
        """Key-only outputs go to the store after the program ends, whatever its exit code (Argo's
        wait container saves outputs also for a failed main); a missing one is for _collect to judge."""
        for artifact in template.output_artifacts:
            local = mapper.local(artifact.path)
            if artifact.name in keys and local.exists():
                store.copy(local, keys[artifact.name])

    def _collect(
        self, name: str, template: ContainerTemplate, mapper: PathMapper, duration: float
    ) -> AttemptResult:
        """Read output parameters and save output artifacts, as Argo's wait container does."""
        params: dict[str, str] = {}
        for param in template.output_parameters:
            local = mapper.local(param.path)
            try:
                params[param.name] = local.read_text(encoding="utf-8").strip()
            except OSError:
                if param.default is None:
                    return AttemptResult(
                        "Error", 0, f"output parameter {param.name!r}: no file at {param.path}", duration
                    )
                params[param.name] = param.default
        artifacts: dict[str, str] = {}
        for artifact in template.output_artifacts:
            local = mapper.local(artifact.path)
            if not local.exists():
                if artifact.optional:
                    continue
                return AttemptResult(
                    "Error", 0, f"output artifact {artifact.name!r}: no file at {artifact.path}", duration
                )
            saved = self.run_dir.artifact_dir(name) / artifact.name / local.name
            if saved.parent.exists():
                shutil.rmtree(saved.parent)
            store.copy(local, saved)
            artifacts[artifact.name] = self.run_dir.relative(saved)
        return AttemptResult("Succeeded", 0, "", duration, params, artifacts)

    # --- the workflow's phase --------------------------------------------------------------------
    def _assess(self) -> tuple[str, str]:
        """Argo's rule: a leaf's branch phase is the last completed phase on its way; Failed/Error fails."""
        if self.stop.is_set() and any(s.phase not in FULFILLED for s in self.states.values()):
            return "Failed", self.stop_reason
        never_ran = [name for name, s in self.states.items() if s.phase not in FULFILLED]
        if never_ran:
            return "Failed", f"tasks never ran: {', '.join(never_ran)}"
        branch: dict[str, set[str]] = {}
        for name in self.plan.order:
            phase = self.states[name].phase
            if phase in COMPLETED:
                branch[name] = {phase}
            else:
                inherited = set().union(*(branch[dep] for dep in self.plan.dependencies(name)))
                branch[name] = inherited or {"Succeeded"}
        leaves = [name for name in self.plan.tasks if not self.plan.dependents(name)]
        failed = [name for name in leaves if branch[name] & {"Failed", "Error"}]
        if not failed:
            return "Succeeded", ""
        failures = {n: s.phase for n, s in self.states.items() if s.phase in {"Failed", "Error"}}
        phase = "Error" if failures and "Failed" not in failures.values() else "Failed"
        words = {"Failed": "failed", "Error": "errored"}
        return phase, "; ".join(
            f"{name} {words[p]}" + (f" ({self.states[name].message})" if self.states[name].message else "")
            for name, p in failures.items()
        )


# steps/cli.py's log format: "2026-11-29T14:00:03Z simulate ERROR service error: ..."
_ERROR_LINE = re.compile(r"^\S+Z \S+ ERROR\s+(.*)$")


def _retry_expression(retry: Retry, result: AttemptResult) -> bool:
    """retryStrategy.expression over `lastRetry`, every value a string as in Argo."""
    assert retry.expression is not None
    last = {
        "exitCode": str(result.exit_code if result.exit_code is not None else -1),
        "status": result.phase,
        "duration": str(int(result.duration)),
        "message": result.message,
    }
    return retry.expression.evaluate(last)


def failure_reason(log_path: Path, limit: int = 300) -> str:
    """What the failed program said, so that "exit code 3" does not send everyone to the log: the
    first ERROR line of a step (steps/cli.py logs the cause first), else the last line (a traceback's
    exception), without the step log's time/step/level prefix."""
    try:
        with open(log_path, "rb") as log:
            log.seek(max(0, log_path.stat().st_size - 16384))  # the end says why; logs can be long
            lines = [line.strip() for line in log.read().decode(errors="replace").splitlines()]
    except OSError:
        return ""
    lines = [line for line in lines if line]
    errors = [match.group(1) for line in lines if (match := _ERROR_LINE.match(line))]
    reason = errors[0] if errors else (lines[-1] if lines else "")
    return reason if len(reason) <= limit else reason[: limit - 1] + "…"


def _describe(result: AttemptResult) -> str:
    if result.phase == "Failed" and result.exit_code is not None:
        return f"failed (exit {result.exit_code})"  # the reason is in status.json and the summary
    if result.phase == "Failed":
        return f"failed ({result.message})"
    return f"errored ({result.message})"


def _kill(process: subprocess.Popen[bytes]) -> None:
    """Kill the step and anything it started (it runs in its own session / process group)."""
    if process.poll() is not None:
        return
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        process.kill()

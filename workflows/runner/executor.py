"""Run a WorkflowPlan as Argo's controller would (docs/local-runner.md, "How a run behaves"): the DAG
on worker threads, one subprocess per container attempt, retries, artifacts."""

from __future__ import annotations

import compileall
import contextlib
import dataclasses
import itertools
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
from pathlib import Path, PurePosixPath
from typing import Any, TextIO

from workflows.checks import VARIABLE_TAG
from workflows.runner.expressions import ExpressionError, evaluate_when
from workflows.runner.manifest import ContainerTemplate, Task, WorkflowPlan
from workflows.runner.progress import Reporter, seconds
from workflows.runner.retry import decide
from workflows.runner.rundir import ENV_ARTIFACT_DIR, RunDir, artifact_path, copy, rfc3339, utc_now

REPO_ROOT = Path(__file__).resolve().parents[2]  # the steps' working directory, as the image's WORKDIR
FULFILLED = {"Succeeded", "Failed", "Error", "Skipped", "Omitted"}
COMPLETED = {"Succeeded", "Failed", "Error"}  # phases that set a branch's outcome (Argo's Completed())
MAX_BACKOFF_ENV = "DSM_RUNNER_MAX_BACKOFF_SECONDS"
# Variables of the runner's own environment that a step still gets (the container has its own OS env).
PASSED_ENV = ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "SYSTEMROOT")
# The HTTP tuning knobs of steps/http.py, passed through when set so a local run (and the fault-matrix
# tests) can use short timeouts; a list, not a prefix: HTTP_PROXY and the like must stay out.
PASSED_STEP_SETTINGS = ("HTTP_CONNECT_TIMEOUT", "HTTP_READ_TIMEOUT", "HTTP_RETRIES", "HTTP_BACKOFF_FACTOR")
# steps/cli.py's log format: "2026-11-29T14:00:03Z simulate ERROR service error: ..."
_ERROR_LINE = re.compile(r"^\S+Z \S+ ERROR\s+(.*)$")


class TemplateError(ValueError):
    """A variable without a value, or an input that cannot be given."""


def substitute(text: str, values: Mapping[str, str], where: str) -> str:
    """Replace every `{{...}}` with its value; a tag without a value is an error, never left in place
    (the plan has refused expression tags `{{=...}}` and the variables the runner does not provide)."""

    def replace(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in values:
            raise TemplateError(f"unresolved variable {{{{{name}}}}} at {where}")
        return values[name]

    return VARIABLE_TAG.sub(replace, text)


def base_environment(environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """Enough to start Python, plus the HTTP tuning knobs above when set; the rest is the template's env."""
    source = os.environ if environ is None else environ
    env = {name: source[name] for name in (*PASSED_ENV, *PASSED_STEP_SETTINGS) if name in source}
    return {**env, "PYTHONUNBUFFERED": "1", "PYTHONDONTWRITEBYTECODE": "1", "TZ": "UTC"}


def max_backoff_from_env(environ: Mapping[str, str]) -> float | None:
    raw = environ.get(MAX_BACKOFF_ENV, "").strip()
    if raw and not re.fullmatch(r"[0-9]+(\.[0-9]*)?|\.[0-9]+", raw):
        raise ValueError(f"{MAX_BACKOFF_ENV} must be a number of seconds >= 0, got {raw!r}")
    return float(raw) if raw else None


def _now() -> str:
    return rfc3339(utc_now(), precise=True)


@dataclass
class TaskState:
    """A task as status.json records it."""

    phase: str = "Pending"  # Pending | Running | Succeeded | Failed | Error | Skipped | Omitted
    template: str = ""
    message: str = ""
    exit_code: int | None = None  # the last attempt's
    started_at: str | None = None
    finished_at: str | None = None
    duration_seconds: float | None = None
    attempts: list[dict[str, Any]] = field(default_factory=list)
    # "parameters": name -> value; "artifacts": name -> path in the run directory
    outputs: dict[str, dict[str, str]] = field(default_factory=lambda: {"parameters": {}, "artifacts": {}})


@dataclass(frozen=True)
class AttemptResult:
    phase: str  # Succeeded | Failed | Error
    exit_code: int | None
    message: str
    outputs: dict[str, dict[str, str]] = field(default_factory=dict)

    def describe(self) -> str:
        if self.phase == "Failed" and self.exit_code is not None:
            return f"failed (exit {self.exit_code})"  # the reason is in status.json and the summary
        return f"failed ({self.message})" if self.phase == "Failed" else f"errored ({self.message})"


class PathMapper:
    """Maps container paths to local ones: under an emptyDir mount -> that volume's local dir."""

    def __init__(self, attempt_dir: Path, mounts: tuple[tuple[str, str], ...]) -> None:
        self.root = attempt_dir / "root"
        self.mounts = {PurePosixPath(mount): attempt_dir / "volumes" / volume for volume, mount in mounts}

    def local(self, container_path: str) -> Path:
        path = PurePosixPath(container_path)
        for mount in (path, *path.parents):  # the innermost mount first
            if mount in self.mounts:
                return self.mounts[mount].joinpath(*path.relative_to(mount).parts)
        return self.root.joinpath(*path.parts[1:])


class Executor:
    """Runs `plan` in `run_dir`, keeping `status` (status.json) up to date. A status with tasks is an earlier
    run (`--retry`): what succeeded keeps its outputs, the rest reruns with everything downstream of it."""

    def __init__(
        self,
        plan: WorkflowPlan,
        status: dict[str, Any],
        run_dir: RunDir,
        out: TextIO,
        environ: Mapping[str, str],
    ) -> None:
        self.plan = plan
        self.status = status
        self.run_dir = run_dir
        self.runs_root = run_dir.path.parent
        self.artifact_store = Path(environ.get(ENV_ARTIFACT_DIR) or self.runs_root / "artifacts")
        self.reporter = Reporter(out, width=max(map(len, plan.tasks)))
        self.base_env = base_environment(environ)
        self.max_backoff = max_backoff_from_env(environ)
        self.stop = threading.Event()
        self.stop_reason = ""
        self._processes: dict[str, subprocess.Popen[bytes]] = {}
        self._lock = threading.Lock()
        self.deadline: float | None = None  # the workflow's activeDeadlineSeconds, as time.monotonic()
        self.deadline_reason = f"workflow activeDeadlineSeconds ({seconds(plan.deadline or 0)}) exceeded"
        self.workflow_values = {
            "workflow.name": status["workflow_name"],
            "workflow.namespace": plan.namespace,
            "workflow.uid": status["uid"],
            "workflow.creationTimestamp": status["created_at"],
            **{f"workflow.parameters.{name}": value for name, value in status["parameters"].items()},
        }
        old = {name: TaskState(**data) for name, data in (status.get("tasks") or {}).items()}
        self.states = {name: old.get(name, TaskState(template=t.template)) for name, t in plan.tasks.items()}
        reset: set[str] = set()  # what did not succeed (Skipped and Omitted are kept) and all after it
        for name in plan.order:
            kept = self.states[name].phase in {"Succeeded", "Skipped", "Omitted"}
            if not kept or reset.intersection(plan.dependencies(name)):
                reset.add(name)
        self.rerun = [name for name in plan.tasks if name in reset]
        for name in self.rerun:  # anew, their earlier attempts kept on record
            s = self.states[name]
            self.states[name] = TaskState(template=s.template, attempts=s.attempts, exit_code=s.exit_code)

    def save(self, phase: str = "Running", message: str = "", finished: bool = False) -> dict[str, Any]:
        with self._lock:
            tasks = {name: dataclasses.asdict(state) for name, state in self.states.items()}
        self.status.update(
            phase=phase, message=message, finished_at=_now() if finished else None, tasks=tasks
        )
        self.run_dir.write_status(self.status)
        return self.status

    # --- scheduling ------------------------------------------------------------------------------
    def run(self) -> dict[str, Any]:
        """Run the DAG to the end (or to the deadline / Ctrl-C); return the final status."""
        if self.plan.deadline is not None:
            self.deadline = time.monotonic() + self.plan.deadline
        self._compile_steps()
        history = self.status["history"]
        history.append({"started_at": _now(), "retry": len(history) > 0})
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
                with contextlib.suppress(queue.Empty):
                    running.discard(done.get(timeout=timeout))
                # Past the deadline nothing more starts, also when a step's own timeout (the same
                # deadline, in workflowpod.go) ended it first and woke this loop with its result.
                if self.deadline is not None and time.monotonic() >= self.deadline:
                    self._halt(self.deadline_reason)
        except KeyboardInterrupt:
            interrupted = True
            self._halt("interrupted")
            while running:
                running.discard(done.get())
        phase, message = ("Failed", "interrupted") if interrupted else self._assess()
        history[-1].update(finished_at=_now(), phase=phase)
        return self.save(phase, message, finished=True)

    def _compile_steps(self) -> None:
        """Byte-compile the steps' package directories (`python -m steps.x`: steps/), as the image build
        does: the steps run with PYTHONDONTWRITEBYTECODE=1, so each start would compile them again."""
        modules = {t.command[2] for t in self.plan.templates.values() if t.command[1:2] == ("-m",)}
        for directory in {(REPO_ROOT / module.replace(".", "/")).parent for module in modules}:
            with contextlib.suppress(OSError):  # only a shortcut (a read-only checkout has none)
                compileall.compile_dir(directory, maxlevels=0, quiet=2)

    def _halt(self, reason: str) -> None:
        if not self.stop.is_set():
            self.stop_reason = reason
            self.stop.set()
        with self._lock:
            processes = list(self._processes.values())
        for process in processes:
            _kill(process)

    def _schedule(self, running: set[str], done: queue.Queue[str]) -> None:
        """Start or settle each task whose dependencies are done: one pass, `order` has them first."""
        for name in self.plan.order:
            task, state = self.plan.tasks[name], self.states[name]
            if self.stop.is_set() or state.phase != "Pending":
                continue
            if any(self.states[dep].phase not in FULFILLED for dep in self.plan.dependencies(name)):
                continue
            if self._decide(task):
                running.add(name)
                with self._lock:
                    state.phase = "Running"
                threading.Thread(target=self._run_task, args=(task, done), name=f"task-{name}").start()

    def _decide(self, task: Task) -> bool:
        """Settle depends and when; True when the task must run (its arguments then resolve)."""
        phases = {name: state.phase for name, state in self.states.items()}
        if task.depends is not None and not task.depends.evaluate(phases):
            self._finish(task.name, "Omitted", f"depends {task.depends.text!r} not met", event="omitted")
            return False
        if task.when is not None:
            try:
                when = substitute(task.when, self._task_values(), f"{task.where}.when")
                proceed = evaluate_when(when)
            except (TemplateError, ExpressionError) as exc:
                self._finish(task.name, "Error", f"when: {exc}", event=f"errored (when: {exc})")
                return False
            if not proceed:
                message = f"when {when!r} evaluated false"
                self._finish(task.name, "Skipped", message, event=f"skipped (when {when!r} false)")
                return False
        return True

    def _task_values(self) -> dict[str, str]:
        values = dict(self.workflow_values)
        with self._lock:
            for name, state in self.states.items():
                for param, value in state.outputs["parameters"].items():
                    values[f"tasks.{name}.outputs.parameters.{param}"] = value
        return values

    def _finish(self, name: str, phase: str, message: str, event: str) -> None:
        state = self.states[name]
        with self._lock:
            state.phase = phase
            state.message = message
            state.finished_at = _now()
        self.reporter.line(name, event)
        self.save()

    # --- one task, with its retries ------------------------------------------------------------
    def _run_task(self, task: Task, done: queue.Queue[str]) -> None:
        try:
            self._run_with_retries(task)
        except Exception as exc:  # a runner bug must not hang the scheduler; record it as the task's error
            message = f"runner error: {exc!r}"
            self._finish(task.name, "Error", message, event=f"errored ({message})")
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
        except TemplateError as exc:
            self._finish(name, "Error", str(exc), event=f"errored ({exc})")
            return
        with self._lock:
            state.started_at = _now()
        first_start = time.monotonic()
        skipped = 0.0  # backoff not waited (DSM_RUNNER_MAX_BACKOFF_SECONDS): it still counts, as in Argo
        deadline: float | None = None  # for retries: backoff.maxDuration after the first start
        for attempts in itertools.count(1):
            number = len(state.attempts) + 1
            self.reporter.line(name, "started" if attempts == 1 else f"started (attempt {attempts}/{total})")
            started, start = _now(), time.monotonic()
            left = None if deadline is None else deadline - (start - first_start + skipped)
            result = self._attempt(task, inputs, number, left)
            duration = time.monotonic() - start
            record = {
                "attempt": number,
                "phase": result.phase,
                "exit_code": result.exit_code,
                "message": result.message,
                "started_at": started,
                "finished_at": _now(),
                "duration_seconds": round(duration, 3),
                "log": self.run_dir.attempt(name, number)[1].relative_to(self.run_dir.path).as_posix(),
            }
            with self._lock:
                state.attempts.append(record)
                state.exit_code = result.exit_code
                state.duration_seconds = round(time.monotonic() - first_start, 3)
                if result.phase == "Succeeded":
                    state.outputs = result.outputs
            if result.phase == "Succeeded":
                self._finish(name, "Succeeded", "", event=f"succeeded ({seconds(duration)})")
                return
            event = result.describe()
            if retry is None:
                break
            if self.stop.is_set():
                event += f"; not retried ({self.stop_reason})"
                break
            now = time.monotonic() - first_start + skipped
            last_retry = {  # retryStrategy.expression's `lastRetry`, every value a string as in Argo
                "exitCode": str(result.exit_code if result.exit_code is not None else -1),
                "status": result.phase,
                "duration": str(int(duration)),
                "message": result.message,
            }
            try:
                decision = decide(retry, attempts, result.phase, now, last_retry)
            except ExpressionError as exc:  # Argo: an expression that cannot be evaluated errors the node
                message = f"retryStrategy.expression: {exc}"
                self._finish(name, "Error", message, event=f"{event}; errored ({exc})")
                return
            wait = decision.wait if self.max_backoff is None else min(decision.wait, self.max_backoff)
            skipped += decision.wait - wait
            if decision.retry:
                self.reporter.line(
                    name, f"{event}, retrying in {seconds(wait)} (attempt {attempts + 1}/{total})"
                )
            elif wait:
                self.reporter.line(name, f"{event}, backoff {seconds(wait)} before Argo decides on a retry")
            self.save()
            if self.stop.wait(wait):  # Argo waits out the backoff also before it says "no retry"
                event += f"; not retried ({self.stop_reason})"
                break
            if not decision.retry:
                event += f"; not retried: {decision.message}"
                break
            deadline = decision.deadline
        self._finish(name, result.phase, result.message, event=event)

    # --- one attempt: one subprocess -------------------------------------------------------------
    def _inputs(self, task: Task, template: ContainerTemplate) -> dict[str, Any]:
        """The task's arguments, substituted once as Argo does: its scope, input files and key-only keys."""
        values = self._task_values()
        given = {
            name: substitute(value, values, f"{task.where}.arguments.parameters.{name}")
            for name, value in task.parameters
        }
        params: dict[str, str] = {}
        for param in template.input_parameters:
            value = given.get(param.name)
            if value is None:
                where = f"{template.where}.inputs.{param.name}"
                value = substitute(param.value or "", self.workflow_values, where)
            if param.enum and value not in param.enum:
                raise TemplateError(
                    f"input parameter {param.name}={value!r} is not one of {list(param.enum)}"
                )
            params[param.name] = value
        scope = {**self.workflow_values, **{f"inputs.parameters.{k}": v for k, v in params.items()}}
        artifacts: dict[str, Path] = {}
        for argument, upstream, output in task.artifacts:
            relative = self.states[upstream].outputs["artifacts"].get(output)
            if relative is None:
                raise TemplateError(
                    f"artifact {output!r} of task {upstream!r} was not produced (needed as {argument!r})"
                )
            artifacts[argument] = self.run_dir.path / relative
        keys = {}  # output artifact -> its key-only location
        for artifact in (*template.input_artifacts, *template.output_artifacts):
            if artifact.key is None:
                continue
            key = substitute(artifact.key, scope, f"{template.where}.{artifact.name}.s3.key")
            try:
                path = artifact_path(self.artifact_store, key)
            except ValueError as exc:  # a key that would leave the repository: the task's error
                raise TemplateError(f"{template.where}.{artifact.name}.s3.key: {exc}") from None
            if artifact in template.output_artifacts:
                keys[artifact.name] = path
            elif path.exists():
                artifacts[artifact.name] = path
            elif not artifact.optional:  # optional and missing: skipped, the step gets no file
                raise TemplateError(
                    f"artifact {artifact.name} failed to load: no object at key {key} ({path})"
                )
        return {"scope": scope, "artifacts": artifacts, "keys": keys}

    def _prepare(
        self, template: ContainerTemplate, inputs: dict[str, Any], mapper: PathMapper, attempt_dir: Path
    ) -> tuple[list[str], dict[str, str]]:
        """Fresh volumes with the input artifacts in place; the command and env with paths mapped."""
        attempt_dir.mkdir(parents=True, exist_ok=True)
        for local in mapper.mounts.values():
            local.mkdir(parents=True, exist_ok=True)
        for artifact in template.input_artifacts:
            if artifact.name in inputs["artifacts"]:
                copy(inputs["artifacts"][artifact.name], mapper.local(artifact.path))
        values = dict(inputs["scope"])
        for kind, items in (("inputs", template.input_artifacts), ("outputs", template.output_artifacts)):
            values.update({f"{kind}.artifacts.{a.name}.path": str(mapper.local(a.path)) for a in items})
        for p in template.output_parameters:
            values[f"outputs.parameters.{p.name}.path"] = str(mapper.local(p.path))
        command = [substitute(part, values, template.where) for part in template.command]
        if command[0] in {"python", "python3"}:
            command[0] = sys.executable  # the same module the image runs, in this interpreter
        env = {key: substitute(value, values, f"{template.where}.env.{key}") for key, value in template.env}
        return command, {**self.base_env, **env}

    def _attempt(self, task: Task, inputs: dict[str, Any], number: int, left: float | None) -> AttemptResult:
        """One attempt; `left`: seconds until a retry's backoff.maxDuration deadline (None: none)."""
        name, template = task.name, self.plan.templates[task.template]
        attempt_dir, log_path = self.run_dir.attempt(name, number)
        mapper = PathMapper(attempt_dir, template.mounts)
        try:
            command, env = self._prepare(template, inputs, mapper, attempt_dir)
        except (TemplateError, OSError) as exc:
            return AttemptResult("Error", None, f"cannot prepare the attempt: {exc}")
        # The pod's deadlines: the template's activeDeadlineSeconds, and the workflow's deadline or a
        # retry's maxDuration deadline, whichever is first (workflowpod.go getDeadline).
        limits = [
            (template.deadline, f"activeDeadlineSeconds ({seconds(template.deadline or 0)}) exceeded"),
            (self.deadline and max(0.0, self.deadline - time.monotonic()), self.deadline_reason),
            (left and max(0.0, left), "Step exceeded its deadline (backoff maxDuration)"),
        ]
        timeout, why = min(((t, w) for t, w in limits if t is not None), default=(None, ""))
        with open(log_path, "wb") as log:
            try:
                process = subprocess.Popen(
                    command,
                    cwd=REPO_ROOT,
                    env=env,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    stdin=subprocess.DEVNULL,
                    start_new_session=True,
                )
            except OSError as exc:
                return AttemptResult("Error", None, f"cannot start {command[0]}: {exc}")
            with self._lock:
                self._processes[name] = process
            try:
                if self.stop.is_set():
                    _kill(process)
                exit_code = process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                _kill(process)
                process.wait()
                return AttemptResult("Failed", None, why)
            finally:
                with self._lock:
                    self._processes.pop(name, None)
        if self.stop.is_set() and exit_code != 0:
            return AttemptResult("Failed", None, f"stopped: {self.stop_reason}")
        try:  # key-only outputs are stored whatever the exit code (Argo's wait container saves them too)
            for artifact in template.output_artifacts:
                local = mapper.local(artifact.path)
                if artifact.name in inputs["keys"] and local.exists():
                    copy(local, inputs["keys"][artifact.name])
        except OSError as exc:
            return AttemptResult("Error", exit_code, f"could not save a key-only artifact: {exc}")
        if exit_code != 0:
            reason = failure_reason(log_path)
            message = f"exit code {exit_code}: {reason}" if reason else f"exit code {exit_code}"
            return AttemptResult("Failed", exit_code, message)
        return self._collect(name, template, mapper)

    def _collect(self, name: str, template: ContainerTemplate, mapper: PathMapper) -> AttemptResult:
        """Read output parameters and save output artifacts, as Argo's wait container does."""
        params: dict[str, str] = {}
        for param in template.output_parameters:
            try:
                params[param.name] = mapper.local(param.path).read_text(encoding="utf-8").strip()
            except OSError:
                if param.value is None:
                    message = f"output parameter {param.name!r}: no file at {param.path}"
                    return AttemptResult("Error", 0, message)
                params[param.name] = param.value
        artifacts: dict[str, str] = {}
        for artifact in template.output_artifacts:
            local = mapper.local(artifact.path)
            if not local.exists():
                if artifact.optional:
                    continue
                message = f"output artifact {artifact.name!r}: no file at {artifact.path}"
                return AttemptResult("Error", 0, message)
            saved = self.run_dir.path / name / "artifacts" / artifact.name / local.name
            shutil.rmtree(saved.parent, ignore_errors=True)
            copy(local, saved)
            artifacts[artifact.name] = saved.relative_to(self.run_dir.path).as_posix()
        return AttemptResult("Succeeded", 0, "", {"parameters": params, "artifacts": artifacts})

    # --- the workflow's phase --------------------------------------------------------------------
    def _assess(self) -> tuple[str, str]:
        """Argo's rule: a leaf's branch phase is the last completed phase on its way; Failed/Error fails."""
        if any(s.phase not in FULFILLED for s in self.states.values()):
            return "Failed", self.stop_reason  # only a stop leaves tasks unrun: each one ready is run
        branch: dict[str, set[str]] = {}
        for name in self.plan.order:
            phase = self.states[name].phase
            inherited = set().union(*(branch[dep] for dep in self.plan.dependencies(name)))
            branch[name] = {phase} if phase in COMPLETED else inherited or {"Succeeded"}
        depended = {dep for name in self.plan.tasks for dep in self.plan.dependencies(name)}
        leaves = [name for name in self.plan.tasks if name not in depended]
        if not any(branch[name] & {"Failed", "Error"} for name in leaves):
            return "Succeeded", ""
        failures = {n: s for n, s in self.states.items() if s.phase in {"Failed", "Error"}}
        phase = "Failed" if any(s.phase == "Failed" for s in failures.values()) else "Error"
        return phase, "; ".join(
            f"{name} {'failed' if s.phase == 'Failed' else 'errored'}"
            + (f" ({s.message})" if s.message else "")
            for name, s in failures.items()
        )


def failure_reason(log_path: Path, limit: int = 300) -> str:
    """What the failed program said, so that "exit code 3" does not send everyone to the log: a step's first
    ERROR line without its prefix (steps/cli.py logs the cause first), else the last line (an exception)."""
    try:
        with open(log_path, "rb") as log:
            log.seek(max(0, log_path.stat().st_size - 16384))  # the end says why; logs can be long
            lines = list(filter(None, map(str.strip, log.read().decode(errors="replace").splitlines())))
    except OSError:
        return ""
    errors = [match.group(1) for line in lines if (match := _ERROR_LINE.match(line))]
    reason = errors[0] if errors else (lines[-1] if lines else "")
    return reason if len(reason) <= limit else reason[: limit - 1] + "…"


def _kill(process: subprocess.Popen[bytes]) -> None:
    """Kill the step and anything it started (it runs in its own session / process group)."""
    if process.poll() is None:  # not reaped yet, so its group id cannot have been reused
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)

"""`python -m workflows run`: run a rendered manifest locally, each container step as a subprocess
(docs/local-runner.md)."""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import os
import signal
import string
import sys
import uuid
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

from workflows.runner import mutex
from workflows.runner.executor import MAX_BACKOFF_ENV, REPO_ROOT, Executor, max_backoff_from_env, substitute
from workflows.runner.manifest import (
    ManifestError,
    WorkflowPlan,
    build_plan,
    load_documents,
    load_plans,
    select_workflows,
)
from workflows.runner.progress import summary_table
from workflows.runner.rundir import DEFAULT_ROOT, RunDir, new_run_dir, rfc3339, utc_now

DEFAULT_MANIFEST = REPO_ROOT / "workflows" / "cluster" / "manifests" / "dailyscrum.yaml"
EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


class UsageError(ValueError):
    pass


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m workflows run",
        description="Run a rendered manifest locally: the DAG of a CronWorkflow, Workflow or "
        "WorkflowTemplate (a workflowTemplateRef resolved within the file), each container step as a "
        "subprocess of this Python (python -m steps.<name>, cwd = repo root). The manifest is linted first.",
        epilog="Parameters: manifest defaults, overridden by environment variables named like the parameter "
        "in upper case (SPRINT_SERVICE_URL, ...), overridden by -p. DSM_RUNNER_MAX_BACKOFF_SECONDS shortens "
        "every retry backoff; DSM_RUNNER_LOCK_DIR shares mutexes and semaphores across checkouts; "
        "DSM_RUNNER_ARTIFACT_DIR is the key-only artifact repository (default: the runs root's artifacts/). "
        "Exit: 0 succeeded, 1 failed, 2 usage error or refused manifest.",
    )
    add = parser.add_argument
    add("manifest", nargs="?", type=Path, help=f"default: {DEFAULT_MANIFEST.relative_to(REPO_ROOT)}")
    add(
        "-p",
        "--parameter",
        action="append",
        default=[],
        type=_pair,
        metavar="NAME=VALUE",
        help="set a workflow parameter",
    )
    add(
        "--run-dir",
        type=Path,
        help="run directory (default: runs/<workflow>-<time>-<random>); its parent holds the locks, "
        "the lint record and key-only artifacts",
    )
    add("--retry", type=Path, metavar="RUN_DIR", help="rerun only what failed or never ran in RUN_DIR")
    add(
        "--created-at",
        type=_moment,
        metavar="RFC3339",
        help="the run's creation time ({{workflow.creationTimestamp}}), e.g. a scheduled run's "
        "2026-12-01T14:00:00Z; default: now",
    )
    add(
        "--workflow",
        metavar="[KIND/]NAME",
        help="run only this CronWorkflow, Workflow or WorkflowTemplate (kind as in argo submit --from: "
        "cronwf/NAME, wftmpl/NAME); default: every CronWorkflow and Workflow",
    )
    return parser


def _moment(text: str) -> datetime:
    """An RFC 3339 time with its offset (Z or +hh:mm), as Argo writes creationTimestamp."""
    with contextlib.suppress(ValueError):
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
        if moment.utcoffset() is not None:
            return moment.astimezone(UTC)
    raise argparse.ArgumentTypeError(f"not an RFC 3339 time with an offset: {text!r}")


def _pair(text: str) -> tuple[str, str]:
    name, sep, value = text.partition("=")
    if not sep or not name.strip():
        raise argparse.ArgumentTypeError(f"needs NAME=VALUE, got {text!r}")
    return name.strip(), value


def resolve_parameters(
    plan: WorkflowPlan, overrides: Mapping[str, str], environ: Mapping[str, str]
) -> dict[str, str]:
    """Manifest defaults < environment (names upper-cased, '-' as '_') < -p; enums and required checked."""
    values: dict[str, str] = {}
    for param in plan.parameters:
        value = overrides.get(param.name, environ.get(param.name.upper().replace("-", "_"), param.value))
        if value is None:
            raise UsageError(
                f"{plan.name}: parameter {param.name!r} has no default; give it with -p {param.name}=..."
            )
        if param.enum and value not in param.enum:
            raise UsageError(
                f"{plan.name}: parameter {param.name}={value!r} is not one of {list(param.enum)}"
            )
        values[param.name] = value
    return values


# Files that passed the lint without a finding, by digest (the checkout's, whatever the run directory), are
# not linted again: importing the lint and building its validators costs ~1 s, which each run would pay.
LINT_PASSED = REPO_ROOT / "runs" / "lint-passed"


def refuse_what_the_lint_refuses(path: Path, documents: list[dict[str, Any]], out: TextIO) -> None:
    """The cluster would refuse what the lint refuses: so does the runner, before anything runs."""
    passed = LINT_PASSED / _lint_digest(path)
    if passed.exists():
        return
    from workflows.lint import lint_documents

    findings = lint_documents(documents, str(path))
    errors = [finding for finding in findings if finding.is_error]
    for warning in (finding for finding in findings if not finding.is_error):
        print(f"lint: {warning}", file=out)
    if errors:
        lines = "\n".join(f"  {finding}" for finding in errors)
        raise ManifestError(f"the lint refuses the manifest ({len(errors)} error(s)):\n{lines}")
    if not findings:
        with contextlib.suppress(OSError):  # only a shortcut for the next run (an installed copy has none)
            passed.parent.mkdir(parents=True, exist_ok=True)
            passed.touch()


def _lint_digest(path: Path) -> str:
    """The file's bytes and the size and time of each file of the workflows package (lint, rules, schemas)."""
    digest = hashlib.sha256(path.read_bytes())
    for part in sorted((REPO_ROOT / "workflows").rglob("*")):
        if part.is_file() and "__pycache__" not in part.parts:
            stat = part.stat()
            digest.update(f"{part}:{stat.st_size}:{stat.st_mtime_ns}".encode())
    return digest.hexdigest()[:32]


def _refuse_unknown(overrides: Mapping[str, str], plans: Sequence[WorkflowPlan]) -> None:
    known = {param.name for plan in plans for param in plan.parameters}
    if unknown := sorted(set(overrides) - known):
        raise UsageError(
            f"unknown parameter(s) {', '.join(unknown)}; "
            f"the workflow takes: {', '.join(sorted(known)) or 'none'}"
        )


def workflow_name(plan: WorkflowPlan, created: datetime) -> str:
    """As Argo names the run: `<cron>-<unix time>` for a CronWorkflow (cron/operator.go), else the
    generateName `<name>-` plus five random characters (argo submit --from, Kubernetes)."""
    if plan.kind == "CronWorkflow":
        return f"{plan.name}-{int(created.timestamp())}"
    alphabet = string.ascii_lowercase + string.digits
    return f"{plan.name}-{''.join(alphabet[b % len(alphabet)] for b in os.urandom(5))}"


def _run_dir_for(requested: Path | None, plan: WorkflowPlan, several: bool, created: datetime) -> Path:
    """The run directory: new under runs/, or the one asked for (created, never its parents)."""
    if requested is None:
        return new_run_dir(plan.name, created, DEFAULT_ROOT)
    path = requested / plan.name if several else requested
    for directory in (requested, path) if several else (path,):
        if directory.exists() and not directory.is_dir():
            raise UsageError(f"--run-dir {directory}: is a file, not a directory")
        if not directory.parent.is_dir():
            raise UsageError(f"--run-dir {directory}: {directory.parent} does not exist (create it first)")
        try:
            directory.mkdir(exist_ok=True)
        except OSError as exc:
            raise UsageError(f"--run-dir {directory}: cannot create it: {exc.strerror or exc}") from exc
    try:
        if any(path.iterdir()):
            raise UsageError(f"run directory {path} is not empty (use --retry to continue a run)")
    except OSError as exc:
        raise UsageError(f"--run-dir {path}: cannot read it: {exc.strerror or exc}") from exc
    return path


def _execute(
    plan: WorkflowPlan, status: dict[str, Any], run_dir: RunDir, out: TextIO, environ: Mapping[str, str]
) -> str:
    """Run (or with an earlier run's status, retry) one workflow under its locks; its final phase."""
    executor = Executor(plan, status, run_dir, out, environ)
    if status["tasks"]:
        print(f"{plan.name}: retrying in {run_dir.path}: {', '.join(executor.rerun) or 'nothing'}", file=out)
    else:
        print(f"{plan.name}: running locally, run directory {run_dir.path}", file=out)
        if names := sorted({path.rsplit(".", 1)[-1] for path in plan.cluster_only}):
            print(f"cluster-only, not enforced locally: {', '.join(names)}", file=out)
        if executor.max_backoff is not None:
            print(f"retry backoff capped at {executor.max_backoff:g} s ({MAX_BACKOFF_ENV})", file=out)
    directory = mutex.lock_dir(executor.runs_root, environ)
    holder = f"pid {os.getpid()}, run directory {run_dir.path}"
    try:
        # The workflow's mutexes with this run's parameters, e.g. dailyscrum-GEM-001.
        names = [substitute(name, executor.workflow_values, "synchronization") for name in plan.mutexes]
        with mutex.held(plan.namespace, names, plan.semaphores, directory, holder, out):
            status = executor.run()
    except KeyboardInterrupt:  # while waiting for a lock: nothing ran; say so in status.json
        status = executor.save("Failed", "interrupted while waiting for a mutex or semaphore", finished=True)
    verdict = f"{status['workflow']}: {status['phase']}"
    print(f"\n{summary_table(status)}\n", file=out)
    print(f"{verdict} ({status['message']})" if status["message"] else verdict, file=out)
    print(f"run directory: {run_dir.path}", file=out)
    return str(status["phase"])


def run(argv: Sequence[str], environ: Mapping[str, str] | None = None, out: TextIO | None = None) -> int:
    environ = os.environ if environ is None else environ
    out = out or sys.stdout
    try:
        args = build_parser().parse_args(list(argv))
    except SystemExit as exc:  # argparse already printed the usage message
        return EXIT_OK if exc.code == 0 else EXIT_USAGE
    try:
        overrides = dict(args.parameter)
        max_backoff_from_env(environ)  # a bad value is a usage error before anything runs
        if args.retry is not None:
            if args.manifest is not None or args.workflow or args.run_dir:
                raise UsageError(
                    "--retry takes the manifest and run directory from RUN_DIR; give nothing else"
                )
            return _retry(args.retry, overrides, environ, out)
        manifest = args.manifest or DEFAULT_MANIFEST
        plans = load_plans(
            manifest, args.workflow, lambda docs: refuse_what_the_lint_refuses(manifest, docs, out)
        )
        _refuse_unknown(overrides, plans)
        parameters = [resolve_parameters(plan, overrides, environ) for plan in plans]
        phases = []
        for plan, values in zip(plans, parameters, strict=True):
            created = args.created_at or utc_now()
            run_dir = RunDir(_run_dir_for(args.run_dir, plan, len(plans) > 1, created))
            run_dir.write_manifest(plan.documents, plan.source)
            status = {
                "runner": "workflows.runner",
                "workflow": plan.name,
                "kind": plan.kind,
                "workflow_name": workflow_name(plan, created),
                "namespace": plan.namespace,
                "uid": str(uuid.uuid4()),
                "created_at": rfc3339(created),
                "manifest": str(manifest),
                "run_dir": str(run_dir.path),
                "parameters": values,
                "phase": "Running",
                "message": "",
                "started_at": rfc3339(utc_now(), precise=True),
                "finished_at": None,
                "history": [],
                "tasks": {},
            }
            phases.append(_execute(plan, status, run_dir, out, environ))
    except (UsageError, ManifestError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    return EXIT_OK if all(phase == "Succeeded" for phase in phases) else EXIT_FAILED


def _retry(path: Path, overrides: Mapping[str, str], environ: Mapping[str, str], out: TextIO) -> int:
    """Continue the run in `path` (`--retry`), with the documents its manifest.yaml kept."""
    run_dir = RunDir(path)
    try:
        previous = json.loads(run_dir.status_path.read_text(encoding="utf-8"))
        documents = load_documents(run_dir.manifest_path)
    except (OSError, ValueError) as exc:
        raise UsageError(f"{path} is not a run directory of this runner: {exc}") from exc
    chosen = select_workflows(documents, f"{previous.get('kind', 'CronWorkflow')}/{previous.get('workflow')}")
    refuse_what_the_lint_refuses(run_dir.manifest_path, documents, out)
    plan = build_plan(chosen[0], documents)
    _refuse_unknown(overrides, [plan])
    if previous.get("phase") == "Succeeded" and not overrides:
        print(f"{plan.name}: {path} already succeeded; nothing to retry", file=out)
        return EXIT_OK
    previous["parameters"] = {**previous.get("parameters", {}), **overrides}
    return EXIT_OK if _execute(plan, previous, run_dir, out, environ) == "Succeeded" else EXIT_FAILED


def main(argv: Sequence[str] | None = None) -> int:
    # SIGTERM stops a run like Ctrl-C: steps killed, status.json says why, --retry can continue it.
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    return run(sys.argv[1:] if argv is None else argv)

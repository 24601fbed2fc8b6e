"""`make run` (`python -m workflows.local_demo [MANIFEST] [runner options]`): the daily scrum end to end.
The stand-in services, the manifest through the local runner, the services stopped, the day in short."""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TextIO

from workflows.report_cli import local_run, rows
from workflows.runner.cli import DEFAULT_MANIFEST
from workflows.runner.cli import run as run_manifest
from workflows.runner.manifest import ManifestError, load_plans
from workflows.runner.rundir import DEFAULT_ROOT, ENV_ARTIFACT_DIR, new_run_dir, utc_now

MAX_TASK_LINES = 40  # a bigger sprint's other tasks are in the page and in report.json


def summary(run_dir: Path, status: dict[str, Any], out: TextIO) -> None:
    """The day in a few lines: headline, one line per task, the note id, the page (nothing without a note)."""
    prepare = status["tasks"]["prepare"]["outputs"]["parameters"]
    if prepare.get("proceed") == "false":
        print(f"\nnothing reported: {prepare.get('reason', '')}", file=out)
        return
    paths = local_run(run_dir)
    if "report" not in paths:  # failed on the way: the runner's output says where
        return
    note = json.loads(paths["report"].read_text(encoding="utf-8"))
    outputs = status["tasks"]["report"]["outputs"]["parameters"]
    print(f"\nDaily scrum {note['project_id']} / {note['sprint_id']} / {note['report_date']}", file=out)
    print(note["summary"], file=out)
    table = rows(note, str(paths["report"]))  # (day, assignee, task, today, impediments)
    width = max((len(row[2]) for row in table), default=0)
    who = max((len(row[1]) for row in table), default=0)
    for _, name, task_id, today, _ in table[:MAX_TASK_LINES]:
        print(f"  {task_id:<{width}}  {name:<{who}}  {today}", file=out)
    if (more := len(table) - MAX_TASK_LINES) > 0:
        print(f"  ... and {more} more tasks (in the page and in report.json)", file=out)
    stored = outputs.get("note_id") or "none: not stored (the page says why)"
    print(f"note id: {stored}", file=out)
    print(f"page: {paths['report-html'].resolve()}", file=out)
    print("the note as JSON: python -m workflows report --json (reads this run's report.json)", file=out)


def demo(argv: Sequence[str], out: TextIO | None = None) -> int:
    # Imported here: the stand-in is only needed by this command.
    from workflows.standin.client import StandIn, StandInError

    out = out or sys.stdout
    manifest = Path(argv[0]) if argv and not argv[0].startswith("-") else DEFAULT_MANIFEST
    rest = list(argv[1:] if argv and not argv[0].startswith("-") else argv)
    chooser = argparse.ArgumentParser(add_help=False)  # only --workflow; the rest goes to the runner
    chooser.add_argument("--workflow")
    try:
        plans = load_plans(manifest, chooser.parse_known_args(rest)[0].workflow)
    except ManifestError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print("starting the stand-in DSM services (python -m workflows.standin) ...", file=out)
    try:
        stand_in = StandIn.start(sprints_to_today=True)  # a sprint under way: the page's sprint view
    except StandInError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    worst, runs = 0, []
    # Fresh services, so a fresh artifact repository: a day recorded by an earlier make run (its
    # simulation, the burndown) belongs to services that are gone, and reusing it would report on them.
    with stand_in, tempfile.TemporaryDirectory(prefix="dsm-demo-artifacts-") as store:
        for env_name, url in stand_in.urls.items():
            print(f"  {env_name}={url}", file=out)
        for plan in plans:
            run_dir = new_run_dir(plan.name, utc_now(), DEFAULT_ROOT)
            print(f"\nrunning {plan.name} from {manifest}\n", file=out)
            # A --workflow in `rest` comes last and wins: it names this same plan.
            run_argv = [str(manifest), "--workflow", plan.name, "--run-dir", str(run_dir), *rest]
            # The URLs reach the parameters of the same names (env < -p: a -p in `rest` still wins).
            environ = {**os.environ, **stand_in.urls, ENV_ARTIFACT_DIR: store}
            worst = max(worst, run_manifest(run_argv, environ, out=out))
            runs.append(run_dir)
        print("\nstopping the stand-in services", file=out)
    # The day last, where it is read: the services are stopped, the page and note are local files.
    for run_dir in runs:
        status_file = run_dir / "status.json"
        if not status_file.exists():
            continue
        status = json.loads(status_file.read_text(encoding="utf-8"))
        if status["tasks"].get("prepare", {}).get("phase") == "Succeeded":
            summary(run_dir, status, out)
    return worst


def main(argv: Sequence[str] | None = None) -> int:
    signal.signal(signal.SIGTERM, signal.default_int_handler)  # KeyboardInterrupt: stop the services too
    try:
        return demo(sys.argv[1:] if argv is None else argv)
    except KeyboardInterrupt:  # the stand-in was stopped on the way out of its `with`
        print("\ninterrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())

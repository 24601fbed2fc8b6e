"""`make run`: the daily scrum end to end on this machine, without a cluster.

Starts the stand-in DSM services (`python -m workflows.standin`), runs the rendered manifest through the
local runner with their URLs, prints the run directory and the stored report exactly as the
chronicle-service returns it, and stops the services (also on failure or Ctrl-C).

    python -m workflows.local_demo [-p name=value ...] [--workflow NAME]

Extra options go to the runner (`python -m workflows run --help`).
"""

from __future__ import annotations

import json
import signal
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TextIO

import requests

from steps.contract import SERVICE_URL_ENV
from workflows.runner.cli import DEFAULT_MANIFEST
from workflows.runner.cli import run as run_manifest
from workflows.runner.manifest import ManifestError, load_plans
from workflows.runner.rundir import DEFAULT_ROOT, new_run_dir, utc_now

HTTP_TIMEOUT = 10.0  # seconds, for reading the report back
REPORT_PATH = "/v1/notes/daily_scrum_report"


def _option(argv: Sequence[str], name: str) -> str | None:
    """The value of `--name VALUE` / `--name=VALUE` in argv, if given."""
    for index, arg in enumerate(argv):
        if arg == name and index + 1 < len(argv):
            return argv[index + 1]
        if arg.startswith(f"{name}="):
            return arg.split("=", 1)[1]
    return None


def read_report(chronicle_url: str, status: dict[str, Any], out: TextIO) -> bool:
    """Print the stored report for the run's project, sprint and day; False when it cannot be read."""
    prepare = status["tasks"].get("prepare", {}).get("outputs", {}).get("parameters", {})
    query = {
        "sprint_id": prepare.get("sprint_id", status["parameters"].get("sprint_id", "")),
        "project_id": status["parameters"].get("project_id", ""),
        "daily_scrum_date": prepare.get("report_date", ""),
    }
    url = chronicle_url.rstrip("/") + REPORT_PATH
    print(f"\nGET {url}?{'&'.join(f'{k}={v}' for k, v in query.items())}", file=out)
    session = requests.Session()
    session.trust_env = False  # the stand-in is on 127.0.0.1: never send this through an HTTP(S)_PROXY
    try:
        with session:
            answer = session.get(url, params=query, timeout=HTTP_TIMEOUT)
    except requests.RequestException as exc:
        print(f"could not read the report back: {exc}", file=out)
        return False
    print(f"-> {answer.status_code}", file=out)
    try:
        print(json.dumps(answer.json(), indent=2, ensure_ascii=False), file=out)
    except ValueError:
        print(answer.text, file=out)
    return answer.status_code == 200


def demo(argv: Sequence[str], out: TextIO | None = None) -> int:
    # Imported here: the stand-in lives with the tests and is only needed by this command.
    from workflows.standin.client import StandIn, StandInError

    out = out or sys.stdout
    manifest = Path(argv[0]) if argv and not argv[0].startswith("-") else DEFAULT_MANIFEST
    rest = list(argv[1:] if argv and not argv[0].startswith("-") else argv)
    try:
        plans = load_plans(manifest, _option(rest, "--workflow"))
    except ManifestError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print("starting the stand-in DSM services (python -m workflows.standin) ...", file=out)
    try:
        stand_in = StandIn.start()
    except StandInError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    worst = 0
    with stand_in:
        for env_name, url in stand_in.urls.items():
            print(f"  {env_name}={url}", file=out)
        for plan in plans:
            declared = {param.name for param in plan.parameters}
            urls = [f"{env.lower()}={stand_in.urls[env]}" for env in SERVICE_URL_ENV.values()]
            params = [arg for pair in urls if pair.split("=", 1)[0] in declared for arg in ("-p", pair)]
            run_dir = new_run_dir(plan.name, utc_now(), DEFAULT_ROOT)
            print(f"\nrunning {plan.name} from {manifest}\n", file=out)
            without_workflow = _drop_option(rest, "--workflow")
            code = run_manifest(
                [
                    str(manifest),
                    "--workflow",
                    plan.name,
                    "--run-dir",
                    str(run_dir),
                    *params,
                    *without_workflow,
                ],
                out=out,
            )
            worst = max(worst, code)
            status_file = run_dir / "status.json"
            if not status_file.exists():
                continue
            status = json.loads(status_file.read_text(encoding="utf-8"))
            phase = {name: task["phase"] for name, task in status["tasks"].items()}
            if phase.get("prepare") != "Succeeded":
                continue  # no sprint or day to look up
            # Also after a skipped run (the day was already reported): show what is stored.
            found = read_report(stand_in.url("chronicle"), status, out)
            if not found and phase.get("report") == "Succeeded":
                worst = max(worst, 1)
        print("\nstopping the stand-in services", file=out)
    return worst


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def _drop_option(argv: Sequence[str], name: str) -> list[str]:
    result, skip = [], False
    for arg in argv:
        if skip:
            skip = False
        elif arg == name:
            skip = True
        elif not arg.startswith(f"{name}="):
            result.append(arg)
    return result


def main(argv: Sequence[str] | None = None) -> int:
    signal.signal(signal.SIGTERM, _interrupt)  # stop the services on SIGTERM too
    try:
        return demo(sys.argv[1:] if argv is None else argv)
    except KeyboardInterrupt:  # the stand-in was stopped on the way out of its `with`
        print("\ninterrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())

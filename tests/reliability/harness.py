"""Run the golden manifest through the local runner against the stand-in, and count what happened.

The counts the reliability tests assert come from the stand-in's own request log and from the
chronicle's read-back, never from the run's view of itself:
- simulations: POSTs the daily-scrum-service received (each may have moved the sprint by a day);
- stored notes: chronicle POSTs the chronicle answered 201 (a note it stored, whether or not the
  answer reached the step);
- the notes stored for the day: the stand-in's admin view (`GET /_stand-in/notes`), since the
  chronicle's own GET answers 500 once a day is stored (its deployed defect, modelled exactly).
"""

from __future__ import annotations

import contextlib
import io
import json
import time
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests

from steps import http
from workflows.runner.cli import run
from workflows.runner.executor import MAX_BACKOFF_ENV
from workflows.standin.client import StandIn

PROJECT, SPRINT = "GEM-001", "GEM-001-S01"
DAY = "2026-11-27"  # a fixed report date: a test never straddles midnight
SERVICES = ("daily-scrum", "sprint", "project", "chronicle")
FETCHES = ("fetch-tasks", "fetch-summary", "fetch-team")
NOTES = "/v1/notes/daily_scrum_report"

# Short HTTP timeouts and backoffs so that every fault costs well under a second or two. The read
# timeout must stay above the stand-in's normal answer time (a simulation makes ~20 local requests).
READ_TIMEOUT = 1.0
SLOWER_THAN_TIMEOUT = 1.6  # a `delay` fault this long makes the step's read time out
FAST = {
    http.ENV_CONNECT_TIMEOUT: "1",
    http.ENV_READ_TIMEOUT: str(READ_TIMEOUT),
    http.ENV_BACKOFF_FACTOR: "0.01",  # in-process GET retries wait 0, 0.02, 0.04 s
    MAX_BACKOFF_ENV: "0.05",  # the manifest's 5 s doubling backoff, capped locally
}


@dataclass
class Run:
    """One `python -m workflows run` (in process): exit code, status.json, printed output, run dir."""

    code: int
    status: dict[str, Any]
    out: str
    err: str
    path: Path

    @property
    def phase(self) -> str:
        return self.status.get("phase", "")

    def phases(self) -> dict[str, str]:
        return {name: task["phase"] for name, task in self.status.get("tasks", {}).items()}

    def attempts(self) -> dict[str, int]:
        return {name: len(task["attempts"]) for name, task in self.status.get("tasks", {}).items()}

    def exit_codes(self, task: str) -> list[int | None]:
        return [a["exit_code"] for a in self.status["tasks"][task]["attempts"]]

    def outputs(self, task: str) -> dict[str, str]:
        return self.status["tasks"][task]["outputs"]["parameters"]

    def log(self, task: str) -> str:
        """Every attempt's log of a task, in order."""
        logs = sorted(self.path.glob(f"{task}/attempt-*.log"), key=lambda p: int(p.stem.split("-")[1]))
        return "".join(p.read_text(encoding="utf-8") for p in logs)

    def __str__(self) -> str:  # what pytest shows when an assertion on a run fails
        logs = "".join(
            f"\n--- {log.relative_to(self.path)} ---\n{log.read_text()}"
            for log in sorted(self.path.glob("*/*.log"))
        )
        return f"exit {self.code}\n--- stdout ---\n{self.out}\n--- stderr ---\n{self.err}{logs}"


def environment(stack: StandIn, extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The runner's environment: the stand-in's URLs, fast HTTP settings, and `extra`."""
    return {**stack.env(), **FAST, **(extra or {})}


def run_workflow(
    stack: StandIn, run_dir: Path, *params: str, env: Mapping[str, str] | None = None, retry: bool = False
) -> Run:
    """Run the golden manifest with `-p` params (e.g. "force=true"); `retry=True` is `--retry run_dir`."""
    argv: list[str] = []
    for param in params:
        argv += ["-p", param]
    argv += ["--retry", str(run_dir)] if retry else ["--run-dir", str(run_dir)]
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stderr(err):  # the runner prints usage errors to sys.stderr
        code = run(argv, environ=environment(stack, env), out=out)
    status_file = run_dir / "status.json"
    status = json.loads(status_file.read_text()) if status_file.exists() else {}
    return Run(code, status, out.getvalue(), err.getvalue(), run_dir)


def simulations(stack: StandIn) -> int:
    """POSTs the daily-scrum-service received: every one of them may have simulated a day."""
    return len(stack.requests("daily-scrum", method="POST"))


def progress_writes(stack: StandIn) -> int:
    """Progress the simulation wrote to the sprint-service (0: no day was simulated)."""
    return len(stack.requests("sprint", method="POST", path_prefix="/tasks/"))


def chronicle_posts(stack: StandIn) -> list[dict[str, Any]]:
    return stack.requests("chronicle", method="POST", path_prefix=NOTES)


def stored_notes(stack: StandIn) -> int:
    """Notes the chronicle stored (201), whether or not its answer reached the step."""
    return sum(1 for request in chronicle_posts(stack) if request["status"] == 201)


def read_day(
    stack: StandIn, day: str = DAY, sprint: str = SPRINT, project: str = PROJECT
) -> requests.Response:
    """The chronicle's own GET for the day: 404 while nothing is stored, then 500 (its deployed
    read defect), so it proves "nothing stored" and nothing else."""
    with requests.Session() as session:
        session.trust_env = False  # 127.0.0.1 traffic never goes through a proxy
        return session.get(
            stack.url("chronicle") + NOTES,
            params={"sprint_id": sprint, "project_id": project, "daily_scrum_date": day},
            timeout=10,
        )


def day_notes(stack: StandIn, day: str = DAY, sprint: str = SPRINT, project: str = PROJECT) -> list[Any]:
    """The notes the chronicle stored for the day, oldest first (the stand-in's admin view)."""
    return stack.notes(project_id=project, sprint_id=sprint, daily_scrum_date=day)


def task_entries(stack: StandIn, day: str = DAY) -> Counter[str]:
    """How often each task id appears in the day's stored notes: all 1 = one note, all 2 = two."""
    return Counter(
        task["id"] for note in day_notes(stack, day) for entry in note["reports"].get(day, [])
        for task in entry["tasks"]
    )


def notes_of_day(stack: StandIn, day: str = DAY) -> int:
    """How many notes are stored for the day; the chronicle's own GET agrees (404 for none, its
    500 defect for some)."""
    count = len(day_notes(stack, day))
    assert read_day(stack, day).status_code == (500 if count else 404)
    return count


def settle(stack: StandIn, service: str, method: str, timeout: float = 10.0) -> None:
    """Wait until `service` has answered every `method` request (a `delay` fault answers late, after
    the step gave up). Only for delays: a dropped request is never answered."""
    deadline = time.monotonic() + timeout
    while any(r["status"] is None for r in stack.requests(service, method=method)):
        if time.monotonic() > deadline:
            raise AssertionError(f"{service} still has unanswered {method} requests after {timeout} s")
        time.sleep(0.05)


def all_requests(stack: StandIn) -> dict[str, int]:
    return {service: len(stack.requests(service)) for service in SERVICES}

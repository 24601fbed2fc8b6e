"""The fault matrix: every DSM service x every failure mode, through the runner and the golden manifest.

One test per row (pytest id `<service>-<fault>`), each asserting what the run did (phase, which task
failed, every attempt's exit code), how many notes the chronicle stored for the day, and how many
times the daily-scrum-service was asked to simulate. Rows with a `recover` step also prove the
recovery the README gives (`--retry RUN_DIR`, like `argo retry`). The README table
"Reliability: one report per day, safe retries, the fault matrix" lists the same rows by id
(test_readme_table_lists_every_row keeps them in step).

Faults are injected into the stand-in (workflows/standin): `status` (answer N, not acted on), `delay`
(answer late but act: beyond the step's read timeout the answer is lost after the fact), `drop`
(close without answer, not acted on), `malformed` (200, cut JSON), `wrong_shape` (200, other JSON),
and `down` (connection refused). HTTP timeouts and backoffs are made small through the runner's
environment (tests/reliability/harness.py).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from steps import http
from tests.reliability.harness import (
    DAY,
    PROJECT,
    READ_TIMEOUT,
    SLOWER_THAN_TIMEOUT,
    SPRINT,
    Run,
    chronicle_posts,
    notes_read_back,
    progress_writes,
    run_workflow,
    settle,
    simulations,
    stored_notes,
)
from workflows.runner.executor import MAX_BACKOFF_ENV
from workflows.standin.client import StandIn

README = Path(__file__).resolve().parents[2] / "README.md"
SECTION = "## Reliability: one report per day, safe retries, the fault matrix"

RUN = f"/scrums/{SPRINT}/run"
SUMMARY = f"/sprints/{SPRINT}/task-summary"
TEAM = f"/projects/{PROJECT}/team-members"
MANY = 100  # a fault that outlasts every retry

Inject = Callable[[StandIn], None]


def fault(service: str, kind: str, count: int = 1, **kw: object) -> Inject:
    return lambda stack: stack.fault(service, kind, count, **kw)


def down(service: str) -> Inject:
    return lambda stack: stack.down(service)


def nothing(stack: StandIn) -> None:
    pass


def heal(stack: StandIn) -> None:
    """The service is back: every service up, no pending fault (the request logs are kept)."""
    for service in stack.SERVICES:
        stack.up(service)
    stack.clear_faults()


@dataclass(frozen=True)
class Row:
    id: str  # "<service>-<fault>", the pytest id and the README table's test id
    inject: Inject
    phase: str  # the run's phase
    exits: Mapping[str, list[int]]  # task -> exit code of every attempt (tasks worth asserting)
    notes: int  # notes the chronicle stored for the day
    simulations: int  # POSTs the daily-scrum-service received
    failed: tuple[str, ...] = ()  # the tasks that failed
    params: tuple[str, ...] = ()
    env: Mapping[str, str] = field(default_factory=dict)
    logs: tuple[tuple[str, str], ...] = ()  # (task, text its log must contain)
    day_simulated: bool | None = None  # did the sprint's progress move (None: not asserted)
    chronicle_posts: int | None = None  # chronicle POSTs received (None: not asserted)
    recover: bool = False  # prove the recovery: heal, then `--retry RUN_DIR` succeeds


FULL = ("prepare", "simulate", "fetch-tasks", "fetch-summary", "fetch-team", "report")
NOT_SENT, SERVICE, NOT_FOUND = 75, 3, 4
RETRIED_4 = [SERVICE] * 4  # retryStrategy limit 3: four attempts, then the task fails
MAY_HAVE_RUN = "The simulation may have run anyway: check the sprint's tasks"
UNKNOWN = f"could not tell whether sprint {SPRINT} on {DAY} is already reported"

ROWS: list[Row] = [
    # --- daily-scrum-service: POST /scrums/{sprint}/run, not idempotent, retried only on exit 75 --------
    Row("daily-scrum-down", down("daily-scrum"), "Failed", {"simulate": [NOT_SENT] * 3},
        notes=0, simulations=0, failed=("simulate",), recover=True,
        logs=(("simulate", "could not connect, the request was not sent"),)),
    Row("daily-scrum-500", fault("daily-scrum", "status", status=500), "Failed", {"simulate": [SERVICE]},
        notes=0, simulations=1, failed=("simulate",), logs=(("simulate", MAY_HAVE_RUN),)),
    Row("daily-scrum-503-twice", fault("daily-scrum", "status", 2, status=503), "Failed",
        {"simulate": [SERVICE]}, notes=0, simulations=1, failed=("simulate",),
        logs=(("simulate", "HTTP 503"),)),
    Row("daily-scrum-timeout", fault("daily-scrum", "delay", seconds=SLOWER_THAN_TIMEOUT), "Failed",
        {"simulate": [SERVICE]}, notes=0, simulations=1, failed=("simulate",), day_simulated=True,
        logs=(("simulate", f"no answer within {READ_TIMEOUT:g} s"), ("simulate", MAY_HAVE_RUN))),
    Row("daily-scrum-drop", fault("daily-scrum", "drop"), "Failed", {"simulate": [SERVICE]},
        notes=0, simulations=1, failed=("simulate",),
        logs=(("simulate", "the connection broke after the request was sent"),)),
    Row("daily-scrum-malformed", fault("daily-scrum", "malformed"), "Failed", {"simulate": [SERVICE]},
        notes=0, simulations=1, failed=("simulate",), logs=(("simulate", "the body is not JSON"),)),
    Row("daily-scrum-wrong-shape", fault("daily-scrum", "wrong_shape"), "Failed", {"simulate": [SERVICE]},
        notes=0, simulations=1, failed=("simulate",)),
    Row("daily-scrum-404", fault("daily-scrum", "status", status=404), "Failed", {"simulate": [NOT_FOUND]},
        notes=0, simulations=1, failed=("simulate",)),
    # --- sprint-service: read by the simulation itself, then GET /sprints/{id}/task-summary, /tasks ------
    Row("sprint-down", down("sprint"), "Failed", {"simulate": [SERVICE]}, notes=0, simulations=1,
        failed=("simulate",), day_simulated=False,
        logs=(("simulate", "Failed to fetch tasks for sprint"),)),
    Row("sprint-down-active-sprint", down("sprint"), "Failed", {"prepare": [NOT_SENT] * 4},
        notes=0, simulations=0, failed=("prepare",), params=("sprint_id=",), recover=True),
    Row("sprint-500", fault("sprint", "status", path=SUMMARY), "Succeeded",
        {"fetch-summary": [SERVICE, 0]}, notes=1, simulations=1),
    Row("sprint-500-persistent", fault("sprint", "status", MANY, path=SUMMARY), "Failed",
        {"fetch-summary": RETRIED_4, "simulate": [0]}, notes=0, simulations=1,
        failed=("fetch-summary",), recover=True),
    Row("sprint-503-twice", fault("sprint", "status", 2, status=503, path=SUMMARY), "Succeeded",
        {"fetch-summary": [0]}, notes=1, simulations=1),
    Row("sprint-timeout", fault("sprint", "delay", seconds=SLOWER_THAN_TIMEOUT, path=SUMMARY), "Succeeded",
        {"fetch-summary": [SERVICE, 0]}, notes=1, simulations=1),
    Row("sprint-malformed", fault("sprint", "malformed", path=SUMMARY), "Succeeded",
        {"fetch-summary": [SERVICE, 0]}, notes=1, simulations=1),
    Row("sprint-wrong-shape", fault("sprint", "wrong_shape", MANY, path=SUMMARY), "Failed",
        {"fetch-summary": RETRIED_4}, notes=0, simulations=1, failed=("fetch-summary",)),
    Row("sprint-404-unknown-sprint", nothing, "Failed", {"simulate": [0], "fetch-summary": [NOT_FOUND]},
        notes=0, simulations=1, failed=("fetch-summary",), params=("sprint_id=GEM-001-S99",),
        logs=(("fetch-summary", "sprint GEM-001-S99 does not exist"),)),
    Row("sprint-404-no-active-sprint", nothing, "Succeeded", {"prepare": [0]}, notes=0, simulations=0,
        params=("project_id=GEM-003", "sprint_id="),
        logs=(("prepare", "no active sprint for project GEM-003"),)),
    # --- project-service: GET /projects/{id}/team-members -----------------------------------------------
    Row("project-down", down("project"), "Failed", {"fetch-team": [NOT_SENT] * 4, "simulate": [0]},
        notes=0, simulations=1, failed=("fetch-team",), recover=True),
    Row("project-500", fault("project", "status", path=TEAM), "Succeeded", {"fetch-team": [SERVICE, 0]},
        notes=1, simulations=1),
    Row("project-503-twice", fault("project", "status", 2, status=503, path=TEAM), "Succeeded",
        {"fetch-team": [0]}, notes=1, simulations=1),
    Row("project-timeout", fault("project", "delay", seconds=SLOWER_THAN_TIMEOUT, path=TEAM), "Succeeded",
        {"fetch-team": [SERVICE, 0]}, notes=1, simulations=1),
    Row("project-malformed", fault("project", "malformed", path=TEAM), "Succeeded",
        {"fetch-team": [SERVICE, 0]}, notes=1, simulations=1),
    Row("project-wrong-shape", fault("project", "wrong_shape", path=TEAM), "Succeeded",
        {"fetch-team": [SERVICE, 0]}, notes=1, simulations=1),
    Row("project-404", fault("project", "status", status=404, path=TEAM), "Failed",
        {"fetch-team": [NOT_FOUND]}, notes=0, simulations=1, failed=("fetch-team",)),
    # --- chronicle-service: GET by prepare and by report, POST by report ---------------------------------
    Row("chronicle-down", down("chronicle"), "Failed", {"prepare": [NOT_SENT] * 4}, notes=0, simulations=0,
        failed=("prepare",), recover=True),
    Row("chronicle-get-500", fault("chronicle", "status", MANY, method="GET"), "Failed",
        {"prepare": RETRIED_4}, notes=0, simulations=0, failed=("prepare",),
        logs=(("prepare", UNKNOWN), ("prepare", "nothing was simulated; rerun later (or with force=true"))),
    Row("chronicle-get-503-twice", fault("chronicle", "status", 2, status=503, method="GET"), "Succeeded",
        {"prepare": [0], "report": [0]}, notes=1, simulations=1),
    # Only prepare runs, four times: a shorter read timeout keeps the row fast.
    Row("chronicle-get-timeout", fault("chronicle", "delay", MANY, seconds=SLOWER_THAN_TIMEOUT, method="GET"),
        "Failed", {"prepare": RETRIED_4}, notes=0, simulations=0, failed=("prepare",),
        env={http.ENV_READ_TIMEOUT: "0.5"},
        logs=(("prepare", UNKNOWN), ("prepare", "no answer within 0.5 s"))),
    Row("chronicle-get-malformed", fault("chronicle", "malformed", method="GET"), "Succeeded",
        {"prepare": [SERVICE, 0]}, notes=1, simulations=1),
    Row("chronicle-get-wrong-shape", fault("chronicle", "wrong_shape", method="GET"), "Succeeded",
        {"prepare": [SERVICE, 0]}, notes=1, simulations=1),
    Row("chronicle-get-404", nothing, "Succeeded", {"prepare": [0], "report": [0]}, notes=1, simulations=1,
        logs=(("prepare", "is not reported yet"),)),
    Row("chronicle-report-get-500", fault("chronicle", "status", method="GET"), "Succeeded",
        {"report": [SERVICE, 0]}, notes=1, simulations=1, chronicle_posts=1, params=("force=true",),
        logs=(("report", "so the note was not stored (a retry asks again)"),)),
    Row("chronicle-post-500", fault("chronicle", "status", method="POST"), "Succeeded",
        {"report": [SERVICE, 0]}, notes=1, simulations=1, chronicle_posts=2),
    Row("chronicle-post-503-twice", fault("chronicle", "status", 2, status=503, method="POST"), "Succeeded",
        {"report": [SERVICE, SERVICE, 0]}, notes=1, simulations=1, chronicle_posts=3),
    Row("chronicle-post-drop", fault("chronicle", "drop", method="POST"), "Succeeded",
        {"report": [SERVICE, 0]}, notes=1, simulations=1, chronicle_posts=2),
    # Stored, but the answer comes after the read timeout: the retry finds this run's note and does
    # not POST again. The retry must ask after the late store: here 1 s of backoff, 5 s in the cluster.
    Row("chronicle-post-timeout", fault("chronicle", "delay", seconds=SLOWER_THAN_TIMEOUT, method="POST"),
        "Succeeded", {"report": [SERVICE, 0]}, notes=1, simulations=1, chronicle_posts=1,
        env={MAX_BACKOFF_ENV: "1"}, logs=(("report", "already stored by this run"),)),
]


@pytest.mark.parametrize("row", [pytest.param(row, id=row.id) for row in ROWS])
def test_fault(stack: StandIn, tmp_path: Path, row: Row) -> None:
    row.inject(stack)
    run = run_workflow(stack, tmp_path / "run", f"report_date={DAY}", *row.params, env=row.env)
    check(stack, run, row)
    if row.recover:
        heal(stack)
        again = run_workflow(stack, run.path, retry=True)
        assert again.code == 0 and again.phase == "Succeeded", again
        # What had succeeded was kept: a simulation that ran is not run again by --retry.
        assert simulations(stack) == 1
        assert stored_notes(stack) == 1 and notes_read_back(stack) == 1


def check(stack: StandIn, run: Run, row: Row) -> None:
    assert run.phase == row.phase, run
    assert run.code == (0 if row.phase == "Succeeded" else 1), run
    phases = run.phases()
    assert {name for name, phase in phases.items() if phase in {"Failed", "Error"}} == set(row.failed), run
    if row.phase == "Succeeded":
        assert {phases[name] for name in FULL} <= {"Succeeded", "Skipped", "Omitted"}
    for task, codes in row.exits.items():
        assert run.exit_codes(task) == codes, f"{task}: {run}"
    for task, text in row.logs:
        assert text in run.log(task), f"{task} log lacks {text!r}: {run}"

    if row.day_simulated is not None:
        settle(stack, "daily-scrum", "POST")  # a delayed simulation finishes after the step gave up
        assert (progress_writes(stack) > 0) is row.day_simulated
    assert simulations(stack) == row.simulations
    assert stored_notes(stack) == row.notes
    # The day as the team reads it (one set of entries per note), once the faults are gone.
    stack.clear_faults()
    stack.up("chronicle")
    assert notes_read_back(stack) == row.notes
    if row.chronicle_posts is not None:
        assert len(chronicle_posts(stack)) == row.chronicle_posts
    if row.notes:
        report = run.outputs("report")
        stored_by_this_attempt = row.id != "chronicle-post-timeout"
        assert bool(report["note_id"]) is stored_by_this_attempt
        assert report["already_reported"] == ("false" if stored_by_this_attempt else "true")


def readme_rows() -> list[tuple[str, str, str]]:
    """(service, fault, test id) of every row of the README's fault-matrix table."""
    text = README.read_text(encoding="utf-8")
    assert SECTION in text, f"README.md has no section {SECTION!r}"
    section = text.split(SECTION, 1)[1].split("\n## ", 1)[0]
    rows = []
    for line in section.splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if line.startswith("|") and len(cells) == 7 and (ids := re.findall(r"`([a-z0-9-]+)`", cells[6])):
            rows.append((cells[0], cells[1], ids[0]))
    return rows


def test_readme_table_lists_every_row() -> None:
    table = readme_rows()
    assert [test_id for _, _, test_id in table] == [row.id for row in ROWS]
    for service, _, test_id in table:
        assert test_id.startswith(service.replace("-service", "").replace(" ", "-")), (service, test_id)

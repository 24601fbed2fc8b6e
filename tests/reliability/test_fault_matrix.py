"""The fault matrix: every DSM service x every failure mode, through the runner and the golden manifest.

One test per row (pytest id `<service>-<fault>`), each asserting what the run did (phase, which task
failed, every attempt's exit code), how many notes the chronicle stored for the day, and how many
times the daily-scrum-service was asked to simulate. Rows with a `recover` step also prove the
recovery docs/fault-matrix.md gives (`--retry RUN_DIR`, like `argo retry`). That page's table lists
the same rows by id (test_doc_table_lists_every_row keeps them in step).

`prepare` asks every service before the simulation (health, the sprint's task summary, the
project's team), so a fault meant for a later step's GET of the same path carries `skip=1`: the
preflight's request passes, the step's request gets the fault.

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
    notes_of_day,
    progress_writes,
    run_workflow,
    settle,
    simulations,
    stored_notes,
)
from workflows.standin.client import StandIn

DOC = Path(__file__).resolve().parents[2] / "docs" / "fault-matrix.md"
NOTES = "/v1/notes/daily_scrum_report"

RUN = f"/scrums/{SPRINT}/run"
SUMMARY = f"/sprints/{SPRINT}/task-summary"
TEAM = f"/projects/{PROJECT}/team-members"
MANY = 100  # a fault that outlasts every retry

Inject = Callable[[StandIn], None]


def fault(service: str, kind: str, count: int = 1, **kw: object) -> Inject:
    return lambda stack: stack.fault(service, kind, count, **kw)


def after_preflight(service: str, kind: str, count: int = 1, **kw: object) -> Inject:
    """A fault for the later step's request, not prepare's preflight request of the same path."""
    return fault(service, kind, count, skip=1, **kw)


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
    settle_posts: bool = False  # a delayed POST is stored after the step gave up: wait for it


FULL = ("prepare", "simulate", "fetch-tasks", "fetch-summary", "fetch-team", "report")
NOT_SENT, SERVICE, NOT_FOUND = 75, 3, 4
RETRIED_4 = [SERVICE] * 4  # retryStrategy limit 3: four attempts, then the task fails
MAY_HAVE_RUN = "The simulation may have run anyway: check the sprint's tasks"

PREFLIGHT = "preflight found"
UNKNOWN_DAY = f"unknown: could not tell whether sprint {SPRINT} on {DAY} is already reported"
DOWN = [NOT_SENT] * 4  # prepare: connection refused by a health check, retried, then Failed

ROWS: list[Row] = [
    # --- daily-scrum-service: GET /health by prepare; POST /scrums/{sprint}/run, retried only on 75 ---------
    Row("daily-scrum-down", down("daily-scrum"), "Failed", {"prepare": DOWN}, notes=0, simulations=0,
        failed=("prepare",), recover=True,
        logs=(("prepare", "daily-scrum-service GET"), ("prepare", "/health: could not connect"))),
    Row("daily-scrum-500", fault("daily-scrum", "status", status=500, path=RUN), "Failed",
        {"simulate": [SERVICE]}, notes=0, simulations=1, failed=("simulate",),
        logs=(("simulate", MAY_HAVE_RUN),)),
    Row("daily-scrum-503-twice", fault("daily-scrum", "status", 2, status=503, path=RUN), "Failed",
        {"simulate": [SERVICE]}, notes=0, simulations=1, failed=("simulate",),
        logs=(("simulate", "HTTP 503"),)),
    Row("daily-scrum-timeout", fault("daily-scrum", "delay", seconds=SLOWER_THAN_TIMEOUT, path=RUN), "Failed",
        {"simulate": [SERVICE]}, notes=0, simulations=1, failed=("simulate",), day_simulated=True,
        logs=(("simulate", f"no answer within {READ_TIMEOUT:g} s"), ("simulate", MAY_HAVE_RUN))),
    Row("daily-scrum-drop", fault("daily-scrum", "drop", path=RUN), "Failed", {"simulate": [SERVICE]},
        notes=0, simulations=1, failed=("simulate",),
        logs=(("simulate", "the connection broke after the request was sent"),)),
    Row("daily-scrum-malformed", fault("daily-scrum", "malformed", path=RUN), "Failed",
        {"simulate": [SERVICE]}, notes=0, simulations=1, failed=("simulate",),
        logs=(("simulate", "the body is not JSON"),)),
    Row("daily-scrum-wrong-shape", fault("daily-scrum", "wrong_shape", path=RUN), "Failed",
        {"simulate": [SERVICE]}, notes=0, simulations=1, failed=("simulate",)),
    Row("daily-scrum-404", fault("daily-scrum", "status", status=404, path=RUN), "Failed",
        {"simulate": [NOT_FOUND]}, notes=0, simulations=1, failed=("simulate",)),
    # --- sprint-service: prepare's health, active sprint and task summary; the fetches' GETs -------------
    Row("sprint-down", down("sprint"), "Failed", {"prepare": DOWN}, notes=0, simulations=0,
        failed=("prepare",), day_simulated=False,
        logs=(("prepare", "sprint-service GET"), ("prepare", "/health: could not connect"))),
    Row("sprint-500-at-preflight", fault("sprint", "status", path=SUMMARY), "Succeeded",
        {"prepare": [SERVICE, 0], "fetch-summary": [0]}, notes=1, simulations=1),
    Row("sprint-500-persistent", after_preflight("sprint", "status", MANY, path=SUMMARY), "Failed",
        {"fetch-summary": RETRIED_4, "simulate": [0]}, notes=0, simulations=1,
        failed=("fetch-summary",), recover=True),
    Row("sprint-503-twice", after_preflight("sprint", "status", 2, status=503, path=SUMMARY), "Succeeded",
        {"fetch-summary": [0]}, notes=1, simulations=1),
    Row("sprint-timeout", after_preflight("sprint", "delay", seconds=SLOWER_THAN_TIMEOUT, path=SUMMARY),
        "Succeeded", {"fetch-summary": [SERVICE, 0]}, notes=1, simulations=1),
    Row("sprint-wrong-shape", after_preflight("sprint", "wrong_shape", MANY, path=SUMMARY), "Failed",
        {"fetch-summary": RETRIED_4}, notes=0, simulations=1, failed=("fetch-summary",)),
    # A well-formed but unknown sprint: found by the preflight, never retried, nothing simulated.
    Row("sprint-404-unknown-sprint", nothing, "Failed", {"prepare": [NOT_FOUND]}, notes=0, simulations=0,
        failed=("prepare",), params=("sprint_id=gem-001-s01",),
        logs=(("prepare", "sprint gem-001-s01 does not exist according to the sprint-service"),)),
    Row("sprint-404-no-active-sprint", nothing, "Succeeded", {"prepare": [0]}, notes=0, simulations=0,
        params=("project_id=GEM-003", "sprint_id="),
        logs=(("prepare", "no active sprint for project GEM-003"),)),
    # --- project-service: prepare's health and team check; fetch-team's GET ----------------------------
    Row("project-down", down("project"), "Failed", {"prepare": DOWN}, notes=0, simulations=0,
        failed=("prepare",),
        logs=(("prepare", "project-service GET"), ("prepare", "/health: could not connect"))),
    Row("project-unknown", nothing, "Failed", {"prepare": [NOT_FOUND]}, notes=0, simulations=0,
        failed=("prepare",), params=("project_id=GEM-404",),
        logs=(("prepare", "project GEM-404 is unknown to the project-service"),)),
    Row("project-500", after_preflight("project", "status", path=TEAM), "Succeeded",
        {"fetch-team": [SERVICE, 0]}, notes=1, simulations=1),
    Row("project-404", after_preflight("project", "status", status=404, path=TEAM), "Failed",
        {"fetch-team": [NOT_FOUND]}, notes=0, simulations=1, failed=("fetch-team",)),
    # --- chronicle-service: prepare's health and GET; report's GET and POST -----------------------------
    Row("chronicle-down", down("chronicle"), "Failed", {"prepare": DOWN}, notes=0, simulations=0,
        failed=("prepare",),
        logs=(("prepare", "chronicle-service GET"), ("prepare", "/health: could not connect"))),
    # A lasting 500 is what the deployed chronicle answers for a day already stored.
    Row("chronicle-get-500", fault("chronicle", "status", MANY, method="GET", path=NOTES), "Failed",
        {"prepare": RETRIED_4}, notes=0, simulations=0, failed=("prepare",),
        logs=(("prepare", UNKNOWN_DAY), ("prepare", "most likely reported already"),
              ("prepare", "Nothing was simulated"))),
    Row("chronicle-get-503-twice", fault("chronicle", "status", 2, status=503, method="GET", path=NOTES),
        "Succeeded", {"prepare": [0], "report": [0]}, notes=1, simulations=1),
    # Only prepare runs, four times: a shorter read timeout keeps the row fast.
    Row("chronicle-get-timeout",
        fault("chronicle", "delay", MANY, seconds=SLOWER_THAN_TIMEOUT, method="GET", path=NOTES),
        "Failed", {"prepare": RETRIED_4}, notes=0, simulations=0, failed=("prepare",),
        env={http.ENV_READ_TIMEOUT: "0.5"},
        logs=(("prepare", UNKNOWN_DAY), ("prepare", "no answer within 0.5 s"))),
    Row("chronicle-get-malformed", fault("chronicle", "malformed", method="GET", path=NOTES), "Succeeded",
        {"prepare": [SERVICE, 0]}, notes=1, simulations=1),
    Row("chronicle-get-404", nothing, "Succeeded", {"prepare": [0], "report": [0]}, notes=1, simulations=1,
        logs=(("prepare", "is not reported yet"),)),
    # force=true: neither prepare nor report asks the chronicle; the day is simulated and stored.
    Row("chronicle-report-get-500", fault("chronicle", "status", method="GET", path=NOTES), "Succeeded",
        {"report": [0]}, notes=1, simulations=1, chronicle_posts=1, params=("force=true",)),
    # The report POSTs once: an answer that says nothing was stored (503) fails the run, and
    # `--retry` (argo retry) posts again; a dropped or late answer is unknown and is never retried.
    Row("chronicle-post-503-twice", fault("chronicle", "status", 2, status=503, method="POST"), "Failed",
        {"report": [SERVICE]}, notes=0, simulations=1, chronicle_posts=1, failed=("report",), recover=True),
    Row("chronicle-post-drop", fault("chronicle", "drop", method="POST"), "Failed",
        {"report": [SERVICE]}, notes=0, simulations=1, chronicle_posts=1, failed=("report",)),
    Row("chronicle-post-timeout", fault("chronicle", "delay", seconds=SLOWER_THAN_TIMEOUT, method="POST"),
        "Failed", {"report": [SERVICE]}, notes=1, simulations=1, chronicle_posts=1, failed=("report",),
        logs=(("report", "may or may not be stored"),), settle_posts=True),
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
        assert stored_notes(stack) == 1 and notes_of_day(stack) == 1


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
    if row.settle_posts:
        settle(stack, "chronicle", "POST")
    assert stored_notes(stack) == row.notes
    # The notes stored for the day (one set of entries per note), once the faults are gone.
    stack.clear_faults()
    stack.up("chronicle")
    assert notes_of_day(stack) == row.notes
    if row.chronicle_posts is not None:
        assert len(chronicle_posts(stack)) == row.chronicle_posts
    if row.notes and row.phase == "Succeeded":
        report = run.outputs("report")
        assert report["note_id"]


def doc_rows() -> list[tuple[str, str, str]]:
    """(service, fault, test id) of every row of docs/fault-matrix.md's table."""
    rows = []
    for line in DOC.read_text(encoding="utf-8").splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if line.startswith("|") and len(cells) == 7 and (ids := re.findall(r"`([a-z0-9-]+)`", cells[6])):
            rows.append((cells[0], cells[1], ids[0]))
    return rows


def test_doc_table_lists_every_row() -> None:
    table = doc_rows()
    assert [test_id for _, _, test_id in table] == [row.id for row in ROWS]
    for service, _, test_id in table:
        assert test_id.startswith(service.replace("-service", "").replace(" ", "-")), (service, test_id)

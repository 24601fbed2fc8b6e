"""Retries as Argo's processNodeRetries decides them: the schedule (pure) and real runs that must
honour backoff.maxDuration, counted from the first attempt's start, even with shortened waits."""

from __future__ import annotations

import dataclasses
import io
import json
import time
from datetime import datetime
from pathlib import Path

from tests.runner.builder import container, cron, write
from tests.runner.test_run import ENV
from workflows.runner.cli import run
from workflows.runner.expressions import parse_retry_expression
from workflows.runner.retry import Retry, decide, retry_schedule

# The contract's strategy for the HTTP steps: 5 s doubling, 1 min in all.
CONTRACT = Retry.from_manifest(
    {"limit": 3, "retryPolicy": "Always", "backoff": {"duration": "5s", "factor": 2, "maxDuration": "1m"}}
)


def test_waits_grow_by_the_factor_and_stop_at_the_cap() -> None:
    assert Retry(limit=3, policy="Always", duration=5, factor=2, max_duration=60) == CONTRACT
    assert [CONTRACT.wait(n) for n in (1, 2, 3)] == [5, 10, 20]
    capped = Retry(limit=3, duration=5, factor=2, cap=8)
    assert [capped.wait(n) for n in (1, 2, 3)] == [5, 8, 8]
    assert Retry(limit=2, duration=5).wait(2) == 5  # no factor: the same wait every time
    assert Retry(limit=2).wait(1) == 0  # no backoff block: retry at once


def test_the_schedule_says_which_promised_retries_fit_in_max_duration() -> None:
    quick = retry_schedule(CONTRACT, attempt_seconds=1)
    assert [(r.wait, r.starts_at, r.fits) for r in quick] == [(5, 6, True), (10, 17, True), (20, 38, True)]
    # Attempts of 10 s: 10 + 5, 25 + 10, then 45 + 20 > 60: the third retry never starts.
    slow = retry_schedule(CONTRACT, attempt_seconds=10)
    assert [(r.starts_at, r.starts, r.fits) for r in slow] == [
        (15, True, True),
        (35, True, True),
        (65, False, False),
    ]
    # An attempt of 55 s: the retry starts at 60 but ARGO_DEADLINE kills it at once.
    [first, second, _] = retry_schedule(CONTRACT, attempt_seconds=55)
    assert (first.starts, first.fits, second.starts) == (True, False, False)


def test_argo_waits_out_the_backoff_before_it_says_no() -> None:
    """processNodeRetries checks maxDuration and waits the backoff before policy, limit and expression."""
    with_expression = dataclasses.replace(
        CONTRACT, expression=parse_retry_expression("lastRetry.exitCode == '75'")
    )
    refused = decide(with_expression, 1, "Failed", 1, {"exitCode": "3"})
    assert (refused.retry, refused.wait, refused.message) == (
        False,
        5,
        "retryStrategy.expression evaluated to false",
    )
    last = decide(Retry(limit=3, duration=5, factor=2), 4, "Failed", 30)  # no wait once none is left
    assert (last.retry, last.wait, last.message) == (False, 0, "No more retries left")
    late = decide(CONTRACT, 2, "Failed", 61)
    assert (late.retry, late.message) == (False, "Max duration limit exceeded")
    too_long = decide(CONTRACT, 3, "Failed", 45)
    assert (too_long.retry, too_long.message) == (False, "Backoff would exceed max duration limit")
    on_error = decide(Retry(limit=3, policy="OnError"), 1, "Failed", 0)
    assert not on_error.retry and "OnError" in on_error.message
    assert decide(CONTRACT, 1, "Error", 1).deadline == 60  # the retry's pod deadline


def _run(tmp_path: Path, retry: dict, *args: str) -> tuple[dict, str, float]:
    doc = cron(
        tasks=[{"name": "t", "template": "flaky"}],
        templates=[
            container(
                "flaky", ["--counter", str(tmp_path / "calls"), "--fail-times", "9", *args], retry=retry
            )
        ],
    )
    out = io.StringIO()
    started = time.monotonic()
    run([str(write(tmp_path / "m.yaml", doc)), "--run-dir", str(tmp_path / "run")], environ=ENV, out=out)
    status = json.loads((tmp_path / "run" / "status.json").read_text())
    return status["tasks"]["t"], out.getvalue(), time.monotonic() - started


def test_a_run_stops_retrying_when_the_next_wait_passes_max_duration(tmp_path: Path) -> None:
    """Attempts of 1.2 s, waits of 2 then 4 s (shortened to 0.2 s, counted in full), 8 s in all: the
    second attempt ends after 1.2 + 2 + 1.2 = 4.4 s and 4.4 + 4 > 8, so 2 attempts, not the 3 the
    limit allows. (The lint, which cannot know how long attempts take, accepts this budget: waits
    2 + 4 <= 8.) The margins are wide: a slow machine's start-ups only make the second attempt end later."""
    retry = {
        "limit": 2,
        "retryPolicy": "Always",
        "backoff": {"duration": "2s", "factor": 2, "maxDuration": "8s"},
    }
    task, out, _ = _run(tmp_path, retry, "--sleep", "1.2")
    assert len(task["attempts"]) == 2, out
    assert "not retried: Backoff would exceed max duration limit" in out
    first, second = task["attempts"]
    waited = datetime.fromisoformat(second["started_at"]) - datetime.fromisoformat(first["finished_at"])
    assert waited.total_seconds() < 1.5  # the 2 s wait was shortened, the budget was not


def test_a_retry_is_killed_at_the_max_duration_deadline(tmp_path: Path) -> None:
    """The first attempt fails at once; the retry (1 s later, counted) hangs and is killed when the
    2 s budget since the first start is spent (ARGO_DEADLINE), long before its own 30 s."""
    retry = {"limit": 1, "retryPolicy": "OnFailure", "backoff": {"duration": "1s", "maxDuration": "2s"}}
    task, out, took = _run(tmp_path, retry, "--sleep", "30", "--sleep-from-call", "2")
    assert [a["message"] for a in task["attempts"]] == [
        "exit code 3: stepkit: failing with 3",
        "Step exceeded its deadline (backoff maxDuration)",
    ]
    assert took < 10, out

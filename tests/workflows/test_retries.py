"""Retry budgets at the real timeouts, without sleeping: every attempt a template's retryStrategy
promises starts and ends inside its limits, computed by the runner's own copy of Argo's retry
decisions (workflows/runner/retry.py) and the worst case of the steps' HTTP calls (steps/http.py)."""

from __future__ import annotations

from collections.abc import Mapping

import pytest
from urllib3.util.retry import RequestHistory

from steps import contract, http, prepare
from tests.workflows.manifests import templates, workflow_template
from workflows.runner.retry import Retry, retry_schedule


def worst_case_seconds(environ: Mapping[str, str]) -> float:
    """The longest one call of steps/http.py can take before it gives up: every attempt waits its full
    connect and read timeouts, plus urllib3's own backoff sleeps. (A body trickled byte by byte could
    exceed it; the step's activeDeadlineSeconds is the last guard.)"""
    connect, read = http.timeouts(environ)
    policy = http.retry_policy(environ)
    retries = policy.total or 0
    attempt = RequestHistory("GET", None, None, 503, None)  # any error counts the same
    sleeps = sum(policy.new(history=(attempt,) * done).get_backoff_time() for done in range(1, retries + 1))
    return (retries + 1) * (connect + read) + sleeps


def test_worst_case_of_one_call() -> None:
    # 4 attempts of 3.05 s connect + 30 s read, urllib3's sleeps 0 + 1 + 2 s between them.
    assert worst_case_seconds({}) == pytest.approx(4 * 33.05 + 3)
    assert worst_case_seconds({http.ENV_RETRIES: "0"}) == pytest.approx(33.05)
    tuned = {http.ENV_RETRIES: "5", http.ENV_BACKOFF_FACTOR: "4", http.ENV_READ_TIMEOUT: "10"}
    # sleeps 0, 8, 16 -> capped at 10, 10, 10 (urllib3's backoff_max)
    assert worst_case_seconds(tuned) == pytest.approx(6 * 13.05 + 0 + 8 + 10 + 10 + 10)


# The HTTP calls each step makes one after another, at most (each bounded by worst_case_seconds).
FULL_CALLS = {"prepare": 4, "simulate": 2, "fetch-tasks": 1, "fetch-summary": 1, "fetch-team": 1, "report": 2}
HEALTH_CALLS = {"prepare": len(contract.SERVICE_URL_ENV)}  # /health, with its own short read timeout
CRITICAL_PATH = ("prepare", "simulate", "fetch-tasks", "report")  # the fetches run side by side


def worst_attempt(step: str) -> float:
    health = worst_case_seconds({http.ENV_READ_TIMEOUT: str(prepare.HEALTH_READ_TIMEOUT)})
    return FULL_CALLS[step] * worst_case_seconds({}) + HEALTH_CALLS.get(step, 0) * health


@pytest.mark.parametrize("step", list(FULL_CALLS))
def test_an_attempt_at_its_worst_ends_before_the_template_deadline(step: str) -> None:
    template = templates(workflow_template())[step]
    assert worst_attempt(step) <= template["activeDeadlineSeconds"], (
        f"{step}: its HTTP timeouts and retries allow {worst_attempt(step):.0f} s, "
        f"its activeDeadlineSeconds {template['activeDeadlineSeconds']} s would kill it first"
    )


@pytest.mark.parametrize("step", list(FULL_CALLS))
def test_every_promised_retry_starts_and_fits(step: str) -> None:
    template = templates(workflow_template())[step]
    retry = Retry.from_manifest(template["retryStrategy"])
    schedule = retry_schedule(retry, template["activeDeadlineSeconds"])  # each attempt to its deadline
    assert len(schedule) == retry.limit and all(planned.fits for planned in schedule), schedule


def test_the_critical_path_at_its_worst_fits_the_workflow_deadline() -> None:
    spec = workflow_template()["spec"]
    total = 0.0
    for step in CRITICAL_PATH:
        template = templates(workflow_template())[step]
        retry = Retry.from_manifest(template["retryStrategy"])
        schedule = retry_schedule(retry, template["activeDeadlineSeconds"])
        total += schedule[-1].ends_at if schedule else template["activeDeadlineSeconds"]
    assert total <= spec["activeDeadlineSeconds"], f"{total:.0f} s of attempts and waits"


def test_a_budget_that_cuts_retries_short_is_caught() -> None:
    """The check above can fail: Argo's maxDuration counts from the first attempt's start."""
    retry = Retry.from_manifest(
        {"limit": 3, "retryPolicy": "Always", "backoff": {"duration": "5s", "factor": 2, "maxDuration": "1m"}}
    )
    assert not all(planned.fits for planned in retry_schedule(retry, 55))

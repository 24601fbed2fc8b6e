"""A template's retryStrategy, decided as Argo's controller decides it (processNodeRetries in
workflow/controller/operator.go, v3.7.18 ~1031-1140 and v4.1.2 ~1077-1200), as pure functions; the
order of its checks and Argo's messages are in docs/local-runner.md, "Retries"."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from workflows.runner.expressions import RetryExpression, parse_duration, parse_retry_expression

# Policy -> the attempt phases it retries. OnTransientError: the runner has no transient errors of
# Kubernetes' kind, so only an Error (the step's pod failing, not its program) is retried.
RETRIED_PHASES = {
    "Always": {"Failed", "Error"},
    "OnFailure": {"Failed"},
    "OnError": {"Error"},
    "OnTransientError": {"Error"},
}


@dataclass(frozen=True)
class Retry:
    limit: int
    policy: str = "OnFailure"
    duration: float | None = None  # backoff.duration in seconds; None: no backoff block
    factor: int | None = None
    max_duration: float | None = None  # counted from the first attempt's start
    cap: float | None = None  # the longest single wait
    expression: RetryExpression | None = None

    @classmethod
    def from_manifest(cls, raw: Mapping[str, Any]) -> Retry:
        """A template's `retryStrategy` as written (limit required), after the lint."""
        backoff = raw.get("backoff") or {}  # the lint refuses one without a duration, and unknown policies
        return cls(
            limit=int(str(raw["limit"])),
            policy=str(raw.get("retryPolicy") or "OnFailure"),
            duration=parse_duration(backoff["duration"]) if backoff else None,
            factor=int(str(backoff["factor"])) if backoff.get("factor") is not None else None,
            max_duration=parse_duration(backoff["maxDuration"]) if backoff.get("maxDuration") else None,
            cap=parse_duration(backoff["cap"]) if backoff.get("cap") else None,
            expression=parse_retry_expression(str(raw["expression"])) if raw.get("expression") else None,
        )

    def wait(self, attempts: int) -> float:
        """The backoff after `attempts` attempts: before retry number `attempts`."""
        if self.duration is None:
            return 0.0
        factor = self.factor if self.factor is not None and self.factor > 0 else 1
        seconds = self.duration * factor ** (attempts - 1)
        return min(seconds, self.cap) if self.cap is not None else seconds


@dataclass(frozen=True)
class Decision:
    retry: bool
    wait: float = 0.0  # seconds to wait before the next attempt (Argo waits even before saying no)
    message: str = ""  # why not, in Argo's words
    deadline: float | None = None  # the next attempt must end by then (seconds after the first start)


def decide(
    retry: Retry, attempts: int, phase: str, now: float, last_retry: Mapping[str, str] | None = None
) -> Decision:
    """After `attempts` attempts, the last ending in `phase` at `now` (seconds after the first attempt's
    start): retry or not, and the wait. `last_retry`: the expression's `lastRetry` (None: taken as true)."""
    wait, deadline = 0.0, None
    if retry.duration is not None:
        wait = retry.wait(attempts)
        if retry.max_duration is not None:
            deadline = retry.max_duration
            if now > deadline:
                return Decision(False, 0.0, "Max duration limit exceeded")
            if now + wait > deadline:
                return Decision(False, 0.0, "Backoff would exceed max duration limit")
        if attempts > retry.limit:
            wait = 0.0  # Argo only waits while a retry is still possible by count
    if phase not in RETRIED_PHASES[retry.policy]:
        return Decision(False, wait, f"retryPolicy {retry.policy} does not retry a node that ends in {phase}")
    if attempts > retry.limit:
        return Decision(False, wait, "No more retries left")
    if retry.expression is not None and last_retry is not None and not retry.expression.evaluate(last_retry):
        return Decision(False, wait, "retryStrategy.expression evaluated to false")
    return Decision(True, wait, "", deadline)


@dataclass(frozen=True)
class PlannedRetry:
    number: int  # 1 = the first retry
    wait: float  # the backoff before it
    starts_at: float  # seconds after the first attempt started
    ends_at: float  # when a full attempt would end
    starts: bool  # Argo starts it: the wait fits in maxDuration
    fits: bool  # it starts and a full attempt ends before the maxDuration deadline kills it


def retry_schedule(retry: Retry, attempt_seconds: float) -> list[PlannedRetry]:
    """Every retry `retry` promises when each attempt fails after `attempt_seconds` (e.g. a step's worst
    case): when it would start, and whether it fits in maxDuration. Once one does not start, none does."""
    planned: list[PlannedRetry] = []
    finished, starts = float(attempt_seconds), True
    for number in range(1, retry.limit + 1):
        starts = starts and decide(retry, number, "Failed", finished).retry
        start = finished + retry.wait(number)
        finished = start + attempt_seconds
        fits = starts and (retry.max_duration is None or finished <= retry.max_duration)
        planned.append(PlannedRetry(number, retry.wait(number), start, finished, starts, fits))
    return planned

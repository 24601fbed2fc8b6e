"""steps.http: path quoting, timeouts from the environment, and which requests may be retried."""

from __future__ import annotations

import time
from typing import Any

import pytest

from steps import contract, http
from steps.validate import InvalidInput


def test_path_segments_are_quoted() -> None:
    service = http.Service("sprint-service", "http://host/", session=http.make_session({}), timeout=(1, 1))
    assert service.url("/sprints/{s}/tasks", s="GEM-001-S01") == "http://host/sprints/GEM-001-S01/tasks"
    assert service.url("/sprints/{s}/tasks", s="../x") == "http://host/sprints/..%2Fx/tasks"
    assert service.url("/{a}/{b}", a="a b", b="c?d#e") == "http://host/a%20b/c%3Fd%23e"


def test_excerpt_is_one_short_line() -> None:
    assert http.excerpt("a\n  b\tc") == "a b c"
    long = http.excerpt("x" * 500)
    assert len(long) == http.EXCERPT_CHARS and long.endswith("...")


def test_timeouts_from_the_environment() -> None:
    # Literal values: a changed default must fail here, not be compared with itself.
    assert http.timeouts({}) == (3.05, 30.0)
    assert http.timeouts({http.ENV_CONNECT_TIMEOUT: "0.5", http.ENV_READ_TIMEOUT: "2"}) == (0.5, 2.0)
    assert http.timeouts({http.ENV_READ_TIMEOUT: "7"}) == (3.05, 7.0)
    with pytest.raises(InvalidInput, match="HTTP_CONNECT_TIMEOUT"):
        http.timeouts({http.ENV_CONNECT_TIMEOUT: "fast"})


def test_retry_policy_only_repeats_what_cannot_have_acted() -> None:
    policy = http.retry_policy({})
    assert policy.connect == http.DEFAULT_RETRIES  # not sent yet: safe for any method
    assert policy.read is False  # sent: never repeated in-process
    for status in (502, 503, 504):
        assert policy.is_retry("GET", status)
        assert not policy.is_retry("POST", status)
    assert not policy.is_retry("GET", 500)
    assert http.retry_policy({http.ENV_RETRIES: "0"}).connect == 0
    assert policy.total == 3  # one budget: refused connections and 503s together
    assert policy.respect_retry_after_header is False


def test_a_long_retry_after_does_not_hold_a_get(stack: Any) -> None:
    """A 503 asking to come back in 4 s, three times: urllib3 would sleep 12 s if it honoured it."""
    service = http.Service(
        "sprint-service", stack.url("sprint"),
        session=http.make_session({http.ENV_BACKOFF_FACTOR: "0"}), timeout=(1.0, 5.0),
    )
    stack.fault("sprint", "status", count=10, status=503, retry_after=4, path="/sprints/")
    started = time.monotonic()
    with pytest.raises(http.ServiceError, match="HTTP 503"):
        service.get_json(contract.TASKS_PATH, sprint_id="GEM-001-S01")
    assert time.monotonic() - started < 2.0
    assert len(stack.requests("sprint", method="GET")) == 1 + http.DEFAULT_RETRIES


def test_post_is_retried_only_while_the_service_is_unreachable(stack: Any) -> None:
    """Refused connections are retried (nothing was sent); once sent, a 503 comes back as is."""
    service = http.Service(
        "daily-scrum-service", stack.url("daily-scrum"),
        session=http.make_session({http.ENV_BACKOFF_FACTOR: "0"}), timeout=(1.0, 5.0),
    )
    stack.fault("daily-scrum", "status", status=503, path="/scrums/")
    with pytest.raises(http.ServiceError, match="HTTP 503") as caught:
        service.post_json(contract.SIMULATION_PATH, sprint_id="GEM-001-S01")
    assert caught.value.status == 503
    assert len(stack.requests("daily-scrum", method="POST")) == 1
    stack.down("daily-scrum")
    with pytest.raises(http.NotSent, match=r"daily-scrum-service POST .*/scrums/GEM-001-S01/run"):
        service.post_json(contract.SIMULATION_PATH, sprint_id="GEM-001-S01")


def test_not_found_shows_the_body(stack: Any) -> None:
    session = http.make_session({})
    service = http.Service("sprint-service", stack.url("sprint"), session=session, timeout=(3, 30))
    with pytest.raises(http.NotFound) as caught:
        service.get_json(contract.TASK_SUMMARY_PATH, sprint_id="NOPE")
    assert caught.value.status == 404
    assert "NOPE" in str(caught.value).partition("HTTP 404: ")[2]  # the body's excerpt

"""The expression evaluators: depends, when, retry expressions and Go durations."""

from __future__ import annotations

import pytest

from workflows.runner.expressions import (
    ExpressionError,
    evaluate_when,
    parse_depends,
    parse_duration,
    parse_retry_expression,
)

FETCH_RETRY = 'lastRetry.status == "Error" || !(asInt(lastRetry.exitCode) in [2, 4])'
SIMULATE_RETRY = "asInt(lastRetry.exitCode) == 75"


@pytest.mark.parametrize(
    ("text", "phases", "expected"),
    [
        ("a", {"a": "Succeeded"}, True),
        ("a", {"a": "Skipped"}, True),
        ("a", {"a": "Omitted"}, False),
        ("a", {"a": "Failed"}, False),
        ("a.Succeeded", {"a": "Skipped"}, False),
        ("a.Failed", {"a": "Failed"}, True),
        ("a.Errored", {"a": "Error"}, True),
        ("a.Omitted", {"a": "Omitted"}, True),
        ("a.Daemoned", {"a": "Succeeded"}, False),
        ("!a.Failed", {"a": "Succeeded"}, True),
        (
            "fetch-tasks.Succeeded && fetch-team.Succeeded",
            {"fetch-tasks": "Succeeded", "fetch-team": "Failed"},
            False,
        ),
        ("(a.Failed || a.Errored) && b", {"a": "Error", "b": "Succeeded"}, True),
        ("a.Succeeded || b.Succeeded && c.Succeeded", {"a": "Succeeded", "b": "Failed", "c": "Failed"}, True),
        ("!(a || b)", {"a": "Failed", "b": "Omitted"}, True),
    ],
)
def test_depends(text: str, phases: dict[str, str], expected: bool) -> None:
    assert parse_depends(text).evaluate(phases) is expected


def test_depends_lists_its_tasks_in_order() -> None:
    assert parse_depends("b.Succeeded && (a || !b.Failed) && c-d").tasks == ("b", "a", "c-d")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("a.Finished", "unsupported task result 'a.Finished'"),
        ("a.AnySucceeded", "unsupported task result"),
        ("a == true", "only task results"),
        ("true", "literal"),
        ("a &&", "not a valid expression"),
        ("(a", "not a valid expression"),
        ("", "empty expression"),
        ("a ; b", "unexpected character ';'"),
    ],
)
def test_depends_refuses_what_it_does_not_know(text: str, message: str) -> None:
    with pytest.raises(ExpressionError, match=message.replace("(", r"\(").replace(")", r"\)")):
        parse_depends(text)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("true == true", True),
        ("false == true", False),
        ("true != true", False),
        ("'abc' == 'abc'", True),
        ('"abc" != "abd"', True),
        ("3 == 3", True),
        ("3 == '3'", False),
        ("2 < 10", True),
        ("true == true && 'x' == 'y'", False),
        ("true == false || 1 == 1", True),
        ("!(1 == 2)", True),
        ("(true)", True),
        ("heads == heads", True),  # Argo turns bare words into strings
        ("heads != 'tails'", True),
    ],
)
def test_when(text: str, expected: bool) -> None:
    assert evaluate_when(text) is expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("GEM-001 == GEM-001", "unexpected character '-'"),
        ("'a'", "not a boolean"),
        ("1 ==", "not a valid expression"),
        ("asInt('1') == 1", "function calls are not supported"),
        ("1 in [1]", "'in' and lists are not supported"),
        ("true == true ||", "not a valid expression"),
        ("1 < 2 < 3", "unsupported expression"),
        ("(1, 2) == (1, 2)", "unsupported expression"),
        ("[1][0] == 1", "unsupported expression"),
    ],
)
def test_when_errors(text: str, message: str) -> None:
    with pytest.raises(ExpressionError, match=message):
        evaluate_when(text)


def last(exit_code: str, status: str = "Failed") -> dict[str, str]:
    return {"exitCode": exit_code, "status": status, "duration": "1", "message": ""}


@pytest.mark.parametrize(
    ("exit_code", "status", "expected"),
    [
        ("3", "Failed", True),
        ("75", "Failed", True),
        ("1", "Failed", True),
        ("2", "Failed", False),
        ("4", "Failed", False),
        ("-1", "Error", True),
        ("2", "Error", True),
    ],
)
def test_contract_fetch_retry_expression(exit_code: str, status: str, expected: bool) -> None:
    assert parse_retry_expression(FETCH_RETRY).evaluate(last(exit_code, status)) is expected


@pytest.mark.parametrize(("exit_code", "expected"), [("75", True), ("3", False), ("2", False), ("1", False)])
def test_contract_simulate_retry_expression(exit_code: str, expected: bool) -> None:
    assert parse_retry_expression(SIMULATE_RETRY).evaluate(last(exit_code)) is expected


def test_retry_expression_words_and_comparisons() -> None:
    expression = parse_retry_expression(
        "asInt(lastRetry.duration) < 30 and not (lastRetry.exitCode in ['2'])"
    )
    assert expression.evaluate(last("3")) is True
    assert expression.evaluate(last("2")) is False
    assert parse_retry_expression("asInt(lastRetry.exitCode) not in [2, 4]").evaluate(last("3")) is True
    assert parse_retry_expression("asFloat(lastRetry.duration) >= 1.0").evaluate(last("3")) is True


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("lastRetry.node == 'x'", "unknown variable 'lastRetry.node'"),
        ("exec('x')", r"unknown function exec\(\)"),
        ("__import__('os')", "unexpected character|unknown function"),
        ("lastRetry.exitCode.__class__", "unknown variable"),
    ],
)
def test_retry_expression_is_a_closed_language(text: str, message: str) -> None:
    with pytest.raises(ExpressionError, match=message):
        parse_retry_expression(text)


def test_retry_expression_bad_conversion_is_an_error() -> None:
    with pytest.raises(ExpressionError, match="asInt"):
        parse_retry_expression("asInt(lastRetry.message) == 1").evaluate(last("1"))


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("5s", 5), ("1m", 60), ("1m30s", 90), ("500ms", 0.5), ("1.5s", 1.5), ("2h", 7200), ("10", 10), (3, 3)],
)
def test_durations(text: str | int, seconds: float) -> None:
    assert parse_duration(text) == pytest.approx(seconds)


@pytest.mark.parametrize("text", ["5 s", "five", "1d", "", "s"])
def test_bad_durations(text: str) -> None:
    with pytest.raises(ExpressionError):
        parse_duration(text)

"""Small, safe evaluators for a DAG manifest's `depends` (expr-lang over task results), `when`
(govaluate, after substitution) and `retryStrategy.expression` (expr-lang over `lastRetry.*`).

Each is split into strict tokens and translated to the Python expression it means (`&&` -> `and`,
every name -> a placeholder `_<n>`), which `ast` parses; only the node types below are evaluated,
nothing is ever passed to eval(). Anything outside the subset raises ExpressionError naming the text."""

from __future__ import annotations

import ast
import operator
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any


class ExpressionError(ValueError):
    """An expression outside the supported subset, or one that cannot be evaluated."""


def _tokens(name: str) -> re.Pattern[str]:
    return re.compile(
        rf"""\s*(?:(?P<str>'[^']*'|"[^"]*")|(?P<num>\d+(?:\.\d+)?)|(?P<name>{name})"""
        r"|(?P<op>&&|\|\||[=!<>]=|[!<>()\[\],]))"
    )


_TOKENS = _tokens(r"[A-Za-z_][\w.]*")
_DEPENDS_TOKENS = _tokens(r"[A-Za-z_][\w.\-]*")  # task names in `depends` may contain dashes
_PYTHON = {"&&": "and", "||": "or", "!": "not", "true": "True", "false": "False"}
_KEYWORDS = {"and", "or", "not", "in"}
_ORDER = {ast.Lt: operator.lt, ast.Gt: operator.gt, ast.LtE: operator.le, ast.GtE: operator.ge}
_ALLOWED = (
    ast.BoolOp, ast.boolop, ast.UnaryOp, ast.Not, ast.Compare, ast.cmpop,
    ast.Constant, ast.Name, ast.Load, ast.List, ast.Call,
)  # fmt: skip


@dataclass(frozen=True)
class Expression:
    text: str
    tree: ast.expr
    names: tuple[str, ...]  # placeholder `_<n>` -> the name as written

    def _name(self, node: ast.expr) -> str:
        assert isinstance(node, ast.Name)
        return self.names[int(node.id[1:])]

    def _evaluate(self, lookup: Callable[[str], Any], functions: Mapping[str, Callable[..., Any]]) -> bool:
        value = self._value(self.tree, lookup, functions)
        if not isinstance(value, bool):
            raise ExpressionError(f"expression {self.text!r} gave {value!r}, not a boolean")
        return value

    def _boolean(self, value: Any, operator_: str) -> bool:
        if not isinstance(value, bool):
            raise ExpressionError(f"{operator_} needs booleans, got {value!r} in {self.text!r}")
        return value

    def _value(self, node: ast.expr, lookup: Callable[[str], Any], functions: Mapping[str, Any]) -> Any:
        if isinstance(node, ast.Constant):
            return node.value
        if isinstance(node, ast.Name):
            return lookup(self._name(node))
        if isinstance(node, ast.UnaryOp):
            return not self._boolean(self._value(node.operand, lookup, functions), "'!'")
        if isinstance(node, ast.BoolOp):
            stop = isinstance(node.op, ast.Or)  # || stops at the first true, && at the first false
            for operand in node.values:
                if self._boolean(self._value(operand, lookup, functions), "&& and ||") is stop:
                    return stop
            return not stop
        if isinstance(node, ast.List):
            return [self._value(item, lookup, functions) for item in node.elts]
        if isinstance(node, ast.Call):
            name = self._name(node.func)
            values = [self._value(arg, lookup, functions) for arg in node.args]
            try:
                return functions[name](*values)
            except (TypeError, ValueError) as exc:
                call = f"{name}({', '.join(map(repr, values))})"
                raise ExpressionError(f"{call} failed: {exc} in {self.text!r}") from exc
        assert isinstance(node, ast.Compare)
        op = type(node.ops[0])
        left = self._value(node.left, lookup, functions)
        right = self._value(node.comparators[0], lookup, functions)
        if op in (ast.Eq, ast.NotEq):
            return (_same_kind(left, right) and left == right) is (op is ast.Eq)
        if op in (ast.In, ast.NotIn):
            if not isinstance(right, list):
                raise ExpressionError(f"'in' needs a list on its right in {self.text!r}")
            return any(_same_kind(left, item) and left == item for item in right) is (op is ast.In)
        if not _same_kind(left, right) or isinstance(left, bool):
            raise ExpressionError(f"cannot compare {left!r} and {right!r} in {self.text!r}")
        return _ORDER[op](left, right)


def _same_kind(a: Any, b: Any) -> bool:
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool)
    return (isinstance(a, int | float) and isinstance(b, int | float)) or type(a) is type(b)


def _parse(text: str, tokens: re.Pattern[str] = _TOKENS, calls: bool = False) -> Expression:
    """Translate `text` to Python, parse it with `ast`, and refuse every node outside the subset."""
    parts: list[str] = []
    names: list[str] = []
    pos, end = 0, len(text.rstrip())
    while pos < end:
        match = tokens.match(text, pos)
        if not match:
            at = len(text) - len(text[pos:].lstrip())
            raise ExpressionError(f"unexpected character {text[at]!r} at position {at} in {text!r}")
        kind, token, pos = match.lastgroup, match.group(match.lastgroup or 0), match.end()
        if kind == "str":
            parts.append(repr(token[1:-1]))
        elif kind == "num":
            parts.append(repr(float(token) if "." in token else int(token)))  # "007" is 7, as in Go
        elif token in _PYTHON or token in _KEYWORDS:
            parts.append(_PYTHON.get(token, token))
        elif kind == "name":
            parts.append(f"_{len(names)}")
            names.append(token)
        else:
            parts.append(token)
    if not parts:
        raise ExpressionError("empty expression")
    try:
        tree = ast.parse(" ".join(parts), mode="eval").body
    except SyntaxError as exc:
        raise ExpressionError(f"{text!r} is not a valid expression ({exc.msg})") from None
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and not calls:
            raise ExpressionError(f"function calls are not supported here: {text!r}")
        if isinstance(node, ast.In | ast.NotIn | ast.List) and not calls:
            raise ExpressionError(f"'in' and lists are not supported here: {text!r}")
        chained = isinstance(node, ast.Compare) and len(node.ops) > 1
        keywords = isinstance(node, ast.Call) and (node.keywords or not isinstance(node.func, ast.Name))
        if not isinstance(node, _ALLOWED) or chained or keywords:
            raise ExpressionError(f"unsupported expression {text!r}")
    return Expression(text, tree, tuple(names))


# --- depends ---------------------------------------------------------------------------------
# The task phase (as recorded by the runner) that makes each result true. The lint knows Argo's
# whole list; AnySucceeded and AllFailed are about loops, which the runner does not run.
_RESULT_PHASE = {
    **{result: result for result in ("Succeeded", "Failed", "Skipped", "Omitted")},
    "Errored": "Error",
}
TASK_RESULTS = (*_RESULT_PHASE, "Daemoned")


class Depends(Expression):
    """A parsed `depends` expression."""

    @property
    def tasks(self) -> tuple[str, ...]:
        """Every task it names, in order of first appearance."""
        return tuple(dict.fromkeys(name.partition(".")[0] for name in self.names))

    def evaluate(self, phases: Mapping[str, str]) -> bool:
        """True when the task should run, given the final phase of every task it names."""

        def lookup(name: str) -> bool:
            task, _, result = name.partition(".")
            if not result:  # a bare task name means "it did not fail"
                return phases[task] in {"Succeeded", "Skipped"}
            return phases[task] == _RESULT_PHASE.get(result)  # Daemoned: the runner has no daemons

        return self._evaluate(lookup, {})


def parse_depends(text: str) -> Depends:
    """Parse `a.Succeeded && (b || !c.Failed)`; raise ExpressionError for anything else."""
    parsed = _parse(text, _DEPENDS_TOKENS)
    for node in ast.walk(parsed.tree):
        if isinstance(node, ast.Constant):
            raise ExpressionError(f"literal {node.value!r} is not allowed in depends {text!r}")
        if not isinstance(node, ast.BoolOp | ast.boolop | ast.UnaryOp | ast.Not | ast.Name | ast.Load):
            raise ExpressionError(
                f"only task results with &&, ||, ! and parentheses are allowed in depends {text!r}"
            )
    for name in parsed.names:
        _, dot, result = name.partition(".")
        if dot and result not in TASK_RESULTS:
            hint = "" if result in {"AnySucceeded", "AllFailed"} else f" (one of {', '.join(TASK_RESULTS)})"
            raise ExpressionError(f"unsupported task result {name!r} in depends {text!r}{hint}")
    return Depends(parsed.text, parsed.tree, parsed.names)


# --- when ------------------------------------------------------------------------------------
def evaluate_when(text: str) -> bool:
    """Evaluate a substituted `when` (govaluate subset); as in Argo, a bare word is a string."""
    return _parse(text)._evaluate(str, {})


# --- retryStrategy.expression ----------------------------------------------------------------
def _number(convert: Callable[[Any], Any]) -> Callable[[Any], Any]:
    def call(value: Any) -> Any:
        if isinstance(value, bool):  # Python's int(True) is 1; expr refuses a boolean
            raise ValueError("not a number")
        return convert(value)  # int() and float() take the strings of `lastRetry` as they are

    return call


RETRY_FUNCTIONS: dict[str, Callable[..., Any]] = {"asInt": _number(int), "asFloat": _number(float)}
RETRY_NAMES = ("lastRetry.exitCode", "lastRetry.status", "lastRetry.duration", "lastRetry.message")


class RetryExpression(Expression):
    def evaluate(self, last_retry: Mapping[str, str]) -> bool:
        """`last_retry` holds exitCode, status, duration and message, all strings as in Argo."""
        return self._evaluate(lambda name: last_retry[name.removeprefix("lastRetry.")], RETRY_FUNCTIONS)


def parse_retry_expression(text: str) -> RetryExpression:
    parsed = _parse(text, calls=True)
    functions = {parsed._name(node.func) for node in ast.walk(parsed.tree) if isinstance(node, ast.Call)}
    for name in parsed.names:
        if name in functions and name not in RETRY_FUNCTIONS:
            raise ExpressionError(f"unknown function {name}() in retry expression {text!r}")
        if name not in functions and name not in RETRY_NAMES:
            raise ExpressionError(f"unknown variable {name!r} in retry expression {text!r}")
    return RetryExpression(parsed.text, parsed.tree, parsed.names)


# --- Go durations ----------------------------------------------------------------------------
_DURATION_UNITS = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}
_DURATION_PART = re.compile(r"(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h)")


def parse_duration(text: str | int | float) -> float:
    """Seconds in a Go duration ("5s", "1m30s", "500ms"); a bare number is seconds, as in Argo."""
    if isinstance(text, int | float) and not isinstance(text, bool):
        return float(text)
    raw = str(text).strip()
    if re.fullmatch(r"\d+(\.\d+)?", raw):
        return float(raw)
    if not raw or _DURATION_PART.sub("", raw):  # not numbers with units only (a boolean neither)
        raise ExpressionError(f"invalid duration {text!r} (use Go durations like '5s', '1m30s')")
    return sum(float(number) * _DURATION_UNITS[unit] for number, unit in _DURATION_PART.findall(raw))

"""Small, safe evaluators for the three expression languages a DAG manifest uses.

- `depends`: `task.Succeeded && (b.Failed || !c)`, evaluated by Argo with expr-lang over task results.
- `when`: a govaluate expression, evaluated after `{{...}}` substitution (`true == true`, `'a' != 'b'`).
- `retryStrategy.expression`: expr-lang over `lastRetry.{exitCode,status,duration,message}`
  with `asInt()` / `asFloat()`, `in [..]`, `!`, `&&`, `||`.

One tokenizer and one recursive-descent parser serve all three; nothing is ever passed to eval().
Anything outside the subset raises ExpressionError naming the offending text.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any


class ExpressionError(ValueError):
    """An expression outside the supported subset, or one that cannot be evaluated."""


@dataclass(frozen=True)
class Token:
    kind: str  # "str", "num", "name", "op", "end"
    value: Any
    pos: int


_OPERATORS = ("&&", "||", "==", "!=", "<=", ">=", "!", "<", ">", "(", ")", "[", "]", ",")
_WORD_OPERATORS = {"and": "&&", "or": "||", "not": "!", "in": "in"}


def tokenize(text: str, *, dashes_in_names: bool = False) -> list[Token]:
    """Split an expression into tokens. Task names in `depends` may contain dashes."""
    name_re = re.compile(r"[A-Za-z_][A-Za-z0-9_.\-]*" if dashes_in_names else r"[A-Za-z_][A-Za-z0-9_.]*")
    number_re = re.compile(r"\d+(\.\d+)?")
    tokens: list[Token] = []
    i = 0
    while i < len(text):
        ch = text[i]
        if ch.isspace():
            i += 1
            continue
        if ch in "'\"":
            end = text.find(ch, i + 1)
            if end < 0:
                raise ExpressionError(f"unterminated string at position {i} in {text!r}")
            tokens.append(Token("str", text[i + 1 : end], i))
            i = end + 1
            continue
        match = number_re.match(text, i)
        if match:
            raw = match.group(0)
            tokens.append(Token("num", float(raw) if "." in raw else int(raw), i))
            i = match.end()
            continue
        match = name_re.match(text, i)
        if match:
            word = match.group(0)
            if word in _WORD_OPERATORS:
                tokens.append(Token("op", _WORD_OPERATORS[word], i))
            else:
                tokens.append(Token("name", word, i))
            i = match.end()
            continue
        for op in _OPERATORS:
            if text.startswith(op, i):
                tokens.append(Token("op", op, i))
                i += len(op)
                break
        else:
            raise ExpressionError(f"unexpected character {ch!r} at position {i} in {text!r}")
    tokens.append(Token("end", None, len(text)))
    return tokens


# --- AST: tuples keep it small: ("lit", v) ("name", n) ("not", e) ("and"|"or", a, b)
# ("cmp", op, a, b) ("in", a, b) ("list", [e...]) ("call", fname, [e...])
Node = tuple


class _Parser:
    """Precedence (low to high): ||, &&, comparison / in, unary !, primary."""

    def __init__(self, text: str, tokens: list[Token], *, allow_calls: bool, allow_lists: bool) -> None:
        self.text = text
        self.tokens = tokens
        self.i = 0
        self.allow_calls = allow_calls
        self.allow_lists = allow_lists

    def peek(self) -> Token:
        return self.tokens[self.i]

    def take(self) -> Token:
        token = self.tokens[self.i]
        self.i += 1
        return token

    def expect(self, op: str) -> None:
        token = self.take()
        if token.kind != "op" or token.value != op:
            raise ExpressionError(f"expected {op!r} at position {token.pos} in {self.text!r}")

    def parse(self) -> Node:
        if self.peek().kind == "end":
            raise ExpressionError("empty expression")
        node = self.parse_or()
        token = self.peek()
        if token.kind != "end":
            raise ExpressionError(f"unexpected {token.value!r} at position {token.pos} in {self.text!r}")
        return node

    def parse_or(self) -> Node:
        node = self.parse_and()
        while self.peek().kind == "op" and self.peek().value == "||":
            self.take()
            node = ("or", node, self.parse_and())
        return node

    def parse_and(self) -> Node:
        node = self.parse_cmp()
        while self.peek().kind == "op" and self.peek().value == "&&":
            self.take()
            node = ("and", node, self.parse_cmp())
        return node

    def parse_cmp(self) -> Node:
        node = self.parse_unary()
        token = self.peek()
        if token.kind == "op" and token.value in {"==", "!=", "<", ">", "<=", ">="}:
            self.take()
            return ("cmp", token.value, node, self.parse_unary())
        if token.kind == "op" and token.value == "!" and self.tokens[self.i + 1].value == "in":
            self.take()
            self.take()
            return ("not", ("in", node, self.parse_unary()))
        if token.kind == "op" and token.value == "in":
            if not self.allow_lists:
                raise ExpressionError(f"'in' is not supported here: {self.text!r}")
            self.take()
            return ("in", node, self.parse_unary())
        return node

    def parse_unary(self) -> Node:
        token = self.peek()
        if token.kind == "op" and token.value == "!":
            self.take()
            return ("not", self.parse_unary())
        return self.parse_primary()

    def parse_primary(self) -> Node:
        token = self.take()
        if token.kind in {"str", "num"}:
            return ("lit", token.value)
        if token.kind == "name":
            if token.value in {"true", "false"}:
                return ("lit", token.value == "true")
            if self.peek().kind == "op" and self.peek().value == "(":
                if not self.allow_calls:
                    raise ExpressionError(f"function calls are not supported here: {self.text!r}")
                self.take()
                args = self.parse_items(")")
                return ("call", token.value, args)
            return ("name", token.value)
        if token.kind == "op" and token.value == "(":
            node = self.parse_or()
            self.expect(")")
            return node
        if token.kind == "op" and token.value == "[" and self.allow_lists:
            return ("list", self.parse_items("]"))
        what = "end of expression" if token.kind == "end" else repr(token.value)
        raise ExpressionError(f"unexpected {what} at position {token.pos} in {self.text!r}")

    def parse_items(self, closer: str) -> list[Node]:
        items: list[Node] = []
        if self.peek().kind == "op" and self.peek().value == closer:
            self.take()
            return items
        while True:
            items.append(self.parse_or())
            token = self.take()
            if token.kind == "op" and token.value == closer:
                return items
            if token.kind != "op" or token.value != ",":
                raise ExpressionError(f"expected ',' or {closer!r} at position {token.pos} in {self.text!r}")


def _same_kind(a: Any, b: Any) -> bool:
    numeric = (int, float)
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool)
    return (isinstance(a, numeric) and isinstance(b, numeric)) or type(a) is type(b)


def _evaluate(
    node: Node, names: Callable[[str], Any], functions: Mapping[str, Callable[..., Any]], text: str
) -> Any:
    kind = node[0]
    if kind == "lit":
        return node[1]
    if kind == "name":
        return names(node[1])
    if kind == "not":
        value = _evaluate(node[1], names, functions, text)
        if not isinstance(value, bool):
            raise ExpressionError(f"'!' needs a boolean, got {value!r} in {text!r}")
        return not value
    if kind in {"and", "or"}:
        left = _evaluate(node[1], names, functions, text)
        if not isinstance(left, bool):
            raise ExpressionError(
                f"{'&&' if kind == 'and' else '||'} needs booleans, got {left!r} in {text!r}"
            )
        if (kind == "and" and not left) or (kind == "or" and left):
            return left
        right = _evaluate(node[2], names, functions, text)
        if not isinstance(right, bool):
            raise ExpressionError(
                f"{'&&' if kind == 'and' else '||'} needs booleans, got {right!r} in {text!r}"
            )
        return right
    if kind == "cmp":
        op = node[1]
        left = _evaluate(node[2], names, functions, text)
        right = _evaluate(node[3], names, functions, text)
        if op == "==":
            return _same_kind(left, right) and left == right
        if op == "!=":
            return not (_same_kind(left, right) and left == right)
        if not _same_kind(left, right) or isinstance(left, bool):
            raise ExpressionError(f"cannot compare {left!r} {op} {right!r} in {text!r}")
        return {"<": left < right, ">": left > right, "<=": left <= right, ">=": left >= right}[op]
    if kind == "in":
        item = _evaluate(node[1], names, functions, text)
        container = _evaluate(node[2], names, functions, text)
        if not isinstance(container, list):
            raise ExpressionError(f"'in' needs a list on its right in {text!r}")
        return any(_same_kind(item, other) and item == other for other in container)
    if kind == "list":
        return [_evaluate(item, names, functions, text) for item in node[1]]
    if kind == "call":
        name, args = node[1], node[2]
        if name not in functions:
            raise ExpressionError(f"unknown function {name}() in {text!r}")
        values = [_evaluate(arg, names, functions, text) for arg in args]
        try:
            return functions[name](*values)
        except (TypeError, ValueError) as exc:
            raise ExpressionError(
                f"{name}({', '.join(map(repr, values))}) failed: {exc} in {text!r}"
            ) from exc
    raise ExpressionError(f"unsupported expression node {kind!r}")  # pragma: no cover


def _require_bool(value: Any, text: str) -> bool:
    if not isinstance(value, bool):
        raise ExpressionError(f"expression {text!r} gave {value!r}, not a boolean")
    return value


# --- depends ---------------------------------------------------------------------------------
# The task phase (as recorded by the runner) that makes each result true. The lint knows Argo's
# whole list; AnySucceeded and AllFailed are about loops, which the runner does not run.
_RESULT_PHASE = {
    "Succeeded": "Succeeded",
    "Failed": "Failed",
    "Errored": "Error",
    "Skipped": "Skipped",
    "Omitted": "Omitted",
}
TASK_RESULTS = (*_RESULT_PHASE, "Daemoned")


@dataclass(frozen=True)
class Depends:
    """A parsed `depends` expression."""

    text: str
    tree: Node
    tasks: tuple[str, ...]  # every task it names, in order of first appearance

    def evaluate(self, phases: Mapping[str, str]) -> bool:
        """True when the task should run, given the final phase of every task it names."""

        def lookup(name: str) -> bool:
            task, _, result = name.partition(".")
            phase = phases[task]
            if not result:  # a bare task name means "it did not fail"
                return phase in {"Succeeded", "Skipped"}
            if result == "Daemoned":
                return False  # the runner has no daemon containers
            return phase == _RESULT_PHASE[result]

        return _require_bool(_evaluate(self.tree, lookup, {}, self.text), self.text)


def parse_depends(text: str) -> Depends:
    """Parse `a.Succeeded && (b || !c.Failed)`; raise ExpressionError for anything else."""
    tree = _Parser(text, tokenize(text, dashes_in_names=True), allow_calls=False, allow_lists=False).parse()
    tasks: list[str] = []

    def walk(node: Node) -> None:
        if node[0] == "name":
            task, dot, result = node[1].partition(".")
            if not task or (dot and result not in TASK_RESULTS):
                hint = (
                    "" if result in {"AnySucceeded", "AllFailed"} else f" (one of {', '.join(TASK_RESULTS)})"
                )
                raise ExpressionError(f"unsupported task result {node[1]!r} in depends {text!r}{hint}")
            if task not in tasks:
                tasks.append(task)
        elif node[0] == "lit":
            raise ExpressionError(f"literal {node[1]!r} is not allowed in depends {text!r}")
        elif node[0] == "not":
            walk(node[1])
        elif node[0] in {"and", "or"}:
            walk(node[1])
            walk(node[2])
        else:
            raise ExpressionError(
                f"only task results with &&, ||, ! and parentheses are allowed in depends {text!r}"
            )

    walk(tree)
    return Depends(text=text, tree=tree, tasks=tuple(tasks))


# --- when ------------------------------------------------------------------------------------
def evaluate_when(text: str) -> bool:
    """Evaluate a substituted `when` (govaluate subset); as in Argo, a bare word is a string."""

    def lookup(name: str) -> Any:
        return name

    tree = _Parser(text, tokenize(text), allow_calls=False, allow_lists=False).parse()
    return _require_bool(_evaluate(tree, lookup, {}, text), text)


# --- retryStrategy.expression ----------------------------------------------------------------
def _as_int(value: Any) -> int:
    if isinstance(value, bool):
        raise ValueError("not a number")
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return int(value)
    return int(str(value).strip())


def _as_float(value: Any) -> float:
    if isinstance(value, bool):
        raise ValueError("not a number")
    return float(value)


RETRY_FUNCTIONS: dict[str, Callable[..., Any]] = {"asInt": _as_int, "asFloat": _as_float}
RETRY_NAMES = ("lastRetry.exitCode", "lastRetry.status", "lastRetry.duration", "lastRetry.message")


@dataclass(frozen=True)
class RetryExpression:
    text: str
    tree: Node

    def evaluate(self, last_retry: Mapping[str, str]) -> bool:
        """`last_retry` holds exitCode, status, duration and message, all strings as in Argo."""

        def lookup(name: str) -> Any:
            return last_retry[name.removeprefix("lastRetry.")]

        return _require_bool(_evaluate(self.tree, lookup, RETRY_FUNCTIONS, self.text), self.text)


def parse_retry_expression(text: str) -> RetryExpression:
    tree = _Parser(text, tokenize(text), allow_calls=True, allow_lists=True).parse()

    def walk(node: Node) -> None:
        if node[0] == "name" and node[1] not in RETRY_NAMES:
            raise ExpressionError(f"unknown variable {node[1]!r} in retry expression {text!r}")
        if node[0] == "call" and node[1] not in RETRY_FUNCTIONS:
            raise ExpressionError(f"unknown function {node[1]}() in retry expression {text!r}")
        for child in node[1:]:
            if isinstance(child, tuple):
                walk(child)
            elif isinstance(child, list):
                for item in child:
                    walk(item)

    walk(tree)
    return RetryExpression(text=text, tree=tree)


# --- Go durations ----------------------------------------------------------------------------
_DURATION_UNITS = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}
_DURATION_PART = re.compile(r"(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h)")


def parse_duration(text: str | int | float) -> float:
    """Seconds in a Go duration ("5s", "1m30s", "500ms"); a bare number is seconds, as in Argo."""
    if isinstance(text, bool):
        raise ExpressionError(f"invalid duration {text!r}")
    if isinstance(text, int | float):
        return float(text)
    raw = text.strip()
    if re.fullmatch(r"\d+(\.\d+)?", raw):
        return float(raw)
    pos, total = 0, 0.0
    while pos < len(raw):
        match = _DURATION_PART.match(raw, pos)
        if not match:
            raise ExpressionError(f"invalid duration {text!r} (use Go durations like '5s', '1m30s')")
        total += float(match.group(1)) * _DURATION_UNITS[match.group(2)]
        pos = match.end()
    if not raw:
        raise ExpressionError("empty duration")
    return total

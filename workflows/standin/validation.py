"""Pydantic-like validation that answers in FastAPI's 422 shape, without pydantic.

The real services are FastAPI apps: a bad body gets `{"detail": [{"type", "loc", "msg", "input"}]}`
with every error at once, in pydantic v2's lax mode (ints accept "5" and 5.0, dates accept
"2025-08-30", datetimes accept ISO 8601 strings and Unix times). A validator is a function
`(value, loc, errors) -> normalized value`; it appends errors instead of raising so that all
errors of a body are reported together, as pydantic does.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

Loc = tuple[str | int, ...]
Errors = list[dict[str, Any]]
Validator = Callable[[Any, Loc, Errors], Any]


class Invalid(Exception):
    """A request failed validation; `errors` is FastAPI's `detail` list."""

    def __init__(self, errors: Errors) -> None:
        super().__init__(f"{len(errors)} validation error(s)")
        self.errors = errors


def error(errors: Errors, kind: str, loc: Loc, msg: str, value: Any) -> None:
    errors.append({"type": kind, "loc": list(loc), "msg": msg, "input": value})


def parse_json_body(body: bytes) -> Any:
    """The request body as JSON, or Invalid exactly where FastAPI would refuse it."""
    if not body.strip():
        raise Invalid([{"type": "missing", "loc": ["body"], "msg": "Field required", "input": None}])
    try:
        return json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        pos = exc.pos if isinstance(exc, json.JSONDecodeError) else exc.start
        reason = exc.msg if isinstance(exc, json.JSONDecodeError) else exc.reason
        raise Invalid(
            [
                {
                    "type": "json_invalid",
                    "loc": ["body", pos],
                    "msg": "JSON decode error",
                    "input": {},
                    "ctx": {"error": reason},
                }
            ]
        ) from None


def validate(validator: Validator, value: Any, loc: Loc) -> Any:
    """Run a validator; raise Invalid with every error found."""
    errors: Errors = []
    result = validator(value, loc, errors)
    if errors:
        raise Invalid(errors)
    return result


# --- scalar validators ------------------------------------------------------------------------
def string(value: Any, loc: Loc, errors: Errors) -> Any:
    if not isinstance(value, str):
        error(errors, "string_type", loc, "Input should be a valid string", value)
    return value


def integer(value: Any, loc: Loc, errors: Errors) -> Any:
    if isinstance(value, bool | int):
        return int(value)
    if isinstance(value, float):
        if value.is_integer():
            return int(value)
        error(
            errors,
            "int_from_float",
            loc,
            "Input should be a valid integer, got a number with a fractional part",
            value,
        )
        return value
    if isinstance(value, str):
        try:
            return int(value.strip())
        except ValueError:
            error(
                errors,
                "int_parsing",
                loc,
                "Input should be a valid integer, unable to parse string as an integer",
                value,
            )
            return value
    error(errors, "int_type", loc, "Input should be a valid integer", value)
    return value


def number(value: Any, loc: Loc, errors: Errors) -> Any:
    if isinstance(value, bool | int | float):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value.strip())
        except ValueError:
            error(
                errors,
                "float_parsing",
                loc,
                "Input should be a valid number, unable to parse string as a number",
                value,
            )
            return value
    error(errors, "float_type", loc, "Input should be a valid number", value)
    return value


def bounded(inner: Validator, *, ge: float | None = None, le: float | None = None) -> Validator:
    def check(value: Any, loc: Loc, errors: Errors) -> Any:
        before = len(errors)
        result = inner(value, loc, errors)
        if len(errors) > before:
            return result
        if ge is not None and result < ge:
            error(errors, "greater_than_equal", loc, f"Input should be greater than or equal to {ge}", value)
        elif le is not None and result > le:
            error(errors, "less_than_equal", loc, f"Input should be less than or equal to {le}", value)
        return result

    return check


def literal(*choices: str) -> Validator:
    quoted = [repr(c) for c in choices]
    expected = quoted[0] if len(quoted) == 1 else ", ".join(quoted[:-1]) + " or " + quoted[-1]

    def check(value: Any, loc: Loc, errors: Errors) -> Any:
        if value not in choices:
            error(errors, "literal_error", loc, f"Input should be {expected}", value)
        return value

    return check


def date(value: Any, loc: Loc, errors: Errors) -> Any:
    """A date, returned as YYYY-MM-DD (pydantic also takes a datetime at exactly midnight)."""
    if isinstance(value, str):
        try:
            if len(value) == 10:
                return dt.date.fromisoformat(value).isoformat()
            moment = dt.datetime.fromisoformat(value)
            if moment.time() == dt.time(0):
                return moment.date().isoformat()
            error(
                errors,
                "date_from_datetime_inexact",
                loc,
                "Datetimes provided to dates should have zero time - e.g. be exact dates",
                value,
            )
            return value
        except ValueError:
            pass
        error(
            errors,
            "date_from_datetime_parsing",
            loc,
            "Input should be a valid date or datetime, invalid date format",
            value,
        )
        return value
    error(errors, "date_type", loc, "Input should be a valid date", value)
    return value


def datetime(value: Any, loc: Loc, errors: Errors) -> Any:
    """A datetime, returned the way pydantic serializes it (ISO 8601, UTC written as `Z`)."""
    moment: dt.datetime | None = None
    if isinstance(value, str):
        try:
            moment = dt.datetime.fromisoformat(value)
        except ValueError:
            error(
                errors,
                "datetime_from_date_parsing",
                loc,
                "Input should be a valid datetime or date, invalid datetime format",
                value,
            )
            return value
    elif isinstance(value, int | float) and not isinstance(value, bool):
        moment = dt.datetime.fromtimestamp(value, tz=dt.UTC)
    else:
        error(errors, "datetime_type", loc, "Input should be a valid datetime", value)
        return value
    return serialize_datetime(moment)


def serialize_datetime(moment: dt.datetime) -> str:
    text = moment.isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


def any_dict(value: Any, loc: Loc, errors: Errors) -> Any:
    if not isinstance(value, dict):
        error(errors, "dict_type", loc, "Input should be a valid dictionary", value)
    return value


# --- combinators ------------------------------------------------------------------------------
def optional(inner: Validator) -> Validator:
    def check(value: Any, loc: Loc, errors: Errors) -> Any:
        return None if value is None else inner(value, loc, errors)

    return check


def list_of(inner: Validator) -> Validator:
    def check(value: Any, loc: Loc, errors: Errors) -> Any:
        if not isinstance(value, list):
            error(errors, "list_type", loc, "Input should be a valid list", value)
            return value
        return [inner(item, (*loc, i), errors) for i, item in enumerate(value)]

    return check


def dict_of(inner: Validator) -> Validator:
    """A dict with string keys (JSON keys always are) and validated values; loc includes the key."""

    def check(value: Any, loc: Loc, errors: Errors) -> Any:
        if not isinstance(value, dict):
            error(errors, "dict_type", loc, "Input should be a valid dictionary", value)
            return value
        return {key: inner(item, (*loc, key), errors) for key, item in value.items()}

    return check


@dataclass(frozen=True)
class Field:
    validator: Validator
    required: bool = True
    default: Any = None
    alias: str | None = None  # accepted in place of the field name and tried first (populate_by_name)


def model(
    name: str, fields: dict[str, Field], *, top_level: bool = False, forbid_extra: bool = False
) -> Validator:
    """A pydantic model: a dict whose listed fields are validated; unknown keys are dropped
    (pydantic's default) or refused (`forbid_extra`). Returns only the declared fields."""

    def check(value: Any, loc: Loc, errors: Errors) -> Any:
        if not isinstance(value, dict):
            if top_level:  # FastAPI's wording for a body that is not an object
                error(
                    errors,
                    "model_attributes_type",
                    loc,
                    "Input should be a valid dictionary or object to extract fields from",
                    value,
                )
            else:
                error(
                    errors,
                    "model_type",
                    loc,
                    f"Input should be a valid dictionary or instance of {name}",
                    value,
                )
            return value
        result: dict[str, Any] = {}
        for key, spec in fields.items():
            source = spec.alias if spec.alias is not None and spec.alias in value else key
            if source not in value:
                if spec.required:
                    error(errors, "missing", (*loc, spec.alias or key), "Field required", value)
                result[key] = spec.default
                continue
            result[key] = spec.validator(value[source], (*loc, source), errors)
        if forbid_extra:
            allowed = set(fields) | {f.alias for f in fields.values() if f.alias}
            for key in value:
                if key not in allowed:
                    error(
                        errors, "extra_forbidden", (*loc, key), "Extra inputs are not permitted", value[key]
                    )
        return result

    return check

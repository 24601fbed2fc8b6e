"""Validation of the step inputs, done before any request so a bad value never reaches a service.

Every check takes the name of the variable (or option) and the raw value, returns the parsed value,
and raises `InvalidInput` naming both: exit 2, never retried (the same input cannot do better).
"""

from __future__ import annotations

import datetime as dt
import math
import re
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

if TYPE_CHECKING:
    from zoneinfo import ZoneInfo

# IDs end up in URL paths and in file names: a closed ASCII alphabet keeps them safe in both.
_IDENTIFIER = re.compile(r"[A-Za-z0-9_-]{1,64}")
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


class InvalidInput(ValueError):
    """An input value (environment variable, option or input artifact) is unusable; exit 2."""


def identifier(name: str, value: str) -> str:
    """A project or sprint ID: 1 to 64 ASCII letters, digits, '-' or '_'."""
    if not isinstance(value, str) or not _IDENTIFIER.fullmatch(value):
        raise InvalidInput(f"{name} must be 1 to 64 ASCII letters, digits, '-' or '_'; got {value!r}")
    return value


def date(name: str, value: str) -> dt.date:
    """A calendar date written YYYY-MM-DD that exists (2026-02-30 is refused)."""
    if not isinstance(value, str) or not _DATE.fullmatch(value):
        raise InvalidInput(f"{name} must be a date written YYYY-MM-DD; got {value!r}")
    try:
        return dt.date.fromisoformat(value)
    except ValueError as exc:
        raise InvalidInput(f"{name} is not a real date ({exc}); got {value!r}") from None


def timestamp(name: str, value: str) -> dt.datetime:
    """An RFC 3339 time with a zone offset, e.g. 2026-11-30T14:00:00Z (Argo's creationTimestamp)."""
    try:
        parsed = dt.datetime.fromisoformat(value)
    except (TypeError, ValueError):
        raise InvalidInput(
            f"{name} must be an RFC 3339 time such as 2026-11-30T14:00:00Z; got {value!r}"
        ) from None
    if parsed.tzinfo is None:
        # A naive time would silently be read in the machine's zone and shift the report date.
        raise InvalidInput(f"{name} must carry a zone offset (Z or +HH:MM); got {value!r}")
    return parsed


def timezone(name: str, value: str) -> ZoneInfo:
    """A known IANA time zone name such as UTC or Europe/Paris."""
    # Imported here: only prepare reads a time zone, and zoneinfo (with sysconfig) costs every
    # other step ~3 ms of start-up.
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        return ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError, OSError):  # ValueError: "", a path such as "../x"
        raise InvalidInput(
            f"{name} is not a known IANA time zone (e.g. UTC, Europe/Paris); got {value!r}"
        ) from None


def flag(name: str, value: str) -> bool:
    """A boolean written "true" or "false" in any case; empty means false."""
    lowered = value.strip().lower()
    if lowered not in ("", "false", "true"):
        raise InvalidInput(f"{name} must be 'true' or 'false'; got {value!r}")
    return lowered == "true"


def service_url(name: str, value: str) -> str:
    """A service base URL: http or https with a host, no query or fragment; returned without a trailing /."""
    if not isinstance(value, str) or not value or any(ch.isspace() for ch in value):
        raise InvalidInput(f"{name} must be an http(s) URL such as http://host:port; got {value!r}")
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError:
        raise InvalidInput(f"{name} is not a valid URL; got {value!r}") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InvalidInput(f"{name} must be an http(s) URL with a host; got {value!r}")
    if parts.query or parts.fragment:
        raise InvalidInput(f"{name} must not carry a query or fragment; got {value!r}")
    return value.rstrip("/")


def seconds(name: str, value: str | None, default: float, *, allow_zero: bool = False) -> float:
    """A positive (or, with allow_zero, non-negative) finite number of seconds; empty means `default`."""
    if value is None or not value.strip():
        return default
    try:
        number = float(value)
    except ValueError:
        number = math.nan
    if not math.isfinite(number) or number < 0 or (number == 0 and not allow_zero):
        kind = "non-negative" if allow_zero else "positive"
        raise InvalidInput(f"{name} must be a {kind} number of seconds; got {value!r}")
    return number


def count(name: str, value: str | None, default: int, maximum: int = 10) -> int:
    """A small non-negative integer (retry counts); empty means `default`."""
    if value is None or not value.strip():
        return default
    if not value.strip().isdecimal() or int(value) > maximum:
        raise InvalidInput(f"{name} must be a whole number between 0 and {maximum}; got {value!r}")
    return int(value)

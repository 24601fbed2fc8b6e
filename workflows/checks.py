"""Single-value checks shared by the config loader and the lint: CronWorkflow name, cron schedule, time zone.

Each returns None when the value is fine, or a short sentence saying what is wrong, so the caller
can prefix it with where the value came from (config entry, document and field).
"""

from __future__ import annotations

import re
import zoneinfo

from croniter import croniter

# The cron controller names each run `<cronworkflow>-<unix seconds>` (11 more characters), and
# that name must stay a valid 63-character label value: hence Argo's limit of 52.
MAX_CRON_WORKFLOW_NAME = 52
_DNS1123_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")

# Argo parses schedules with robfig/cron's standard parser: five fields, or a descriptor.
_DESCRIPTORS = {"@yearly", "@annually", "@monthly", "@weekly", "@daily", "@midnight", "@hourly"}
_GO_DURATION = re.compile(r"^(?:\d+(?:\.\d+)?(?:ns|us|µs|ms|s|m|h))+$")
_MONTHS = {
    m: i
    for i, m in enumerate(
        ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"], start=1
    )
}
_DAYS = {d: i for i, d in enumerate(["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"])}
# (field name, lowest, highest, names) in robfig's order; robfig's day-of-week stops at 6 (no 7).
_FIELDS: tuple[tuple[str, int, int, dict[str, int]], ...] = (
    ("minute", 0, 59, {}),
    ("hour", 0, 23, {}),
    ("day of month", 1, 31, {}),
    ("month", 1, 12, _MONTHS),
    ("day of week", 0, 6, _DAYS),
)


def name_problem(name: str) -> str | None:
    if not name:
        return "is empty"
    if len(name) > MAX_CRON_WORKFLOW_NAME:
        return f"is {len(name)} characters; a CronWorkflow name may have at most {MAX_CRON_WORKFLOW_NAME}"
    if not _DNS1123_SUBDOMAIN.match(name):
        return (
            "is not a valid DNS-1123 name (lowercase letters, digits, '-' and '.', "
            "starting and ending with a letter or digit)"
        )
    return None


def timezone_problem(timezone: str) -> str | None:
    try:
        zoneinfo.ZoneInfo(timezone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return "is not a known IANA time zone (e.g. UTC, Europe/Berlin)"
    return None


def schedule_problem(schedule: str) -> str | None:
    text = schedule.strip()
    if not text:
        return "is empty"
    if text.startswith(("CRON_TZ=", "TZ=")):
        return "must not carry a time zone prefix; set the CronWorkflow's timezone instead"
    if text.startswith("@every"):
        duration = text[len("@every") :].strip()
        if not _GO_DURATION.match(duration) or not re.search(r"[1-9]", duration):
            return f"'@every' needs a positive duration such as 1h30m, got {duration!r}"
        return None
    if text.startswith("@"):
        if text not in _DESCRIPTORS:
            return f"unknown descriptor; use one of {', '.join(sorted(_DESCRIPTORS))} or '@every <duration>'"
        return None
    fields = text.split()
    if len(fields) != 5:
        return f"has {len(fields)} fields; Argo expects 5 (minute hour day-of-month month day-of-week)"
    for value, (label, low, high, names) in zip(fields, _FIELDS, strict=True):
        if problem := _field_problem(value, low, high, names):
            return f"{label} field {value!r}: {problem}"
    if not croniter.is_valid(text):  # a second opinion on what the field rules let through
        return "is not a valid cron expression"
    return None


def _field_problem(field: str, low: int, high: int, names: dict[str, int]) -> str | None:
    for part in field.split(","):
        base, _, step = part.partition("/")
        if step and (not step.isdigit() or int(step) == 0):
            return f"step {step!r} must be a positive number"
        if base in {"*", "?"}:
            continue
        bounds = base.split("-")
        if len(bounds) > 2 or not all(bounds):
            return f"{part!r} is not a number, a range or '*'"
        numbers = []
        for bound in bounds:
            number = names.get(bound.upper()) if not bound.isdigit() else int(bound)
            if number is None:
                return f"{bound!r} is not a number{' or a name' if names else ''}"
            if not low <= number <= high:
                return f"{number} is outside {low}-{high}"
            numbers.append(number)
        if len(numbers) == 2 and numbers[0] > numbers[1]:
            return f"range {base!r} runs backwards"
    return None

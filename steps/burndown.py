"""The sprint view: the sprint's calendar and the burndown series carried from run to run (pure).

The series is not read back from the chronicle (deployed chronicles answer 500 to that GET once
a day is stored): the report step gets last run's series as the carried artifact `history`,
adds or replaces the report date's point, and writes it back. A missing or unusable history
starts the series today; it never fails the run.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any, NamedTuple

POINT_FIELDS = ("date", "remaining", "done", "tasks")


class Calendar(NamedTuple):
    """The sprint's dates and where the report date falls in them (calendar days, both ends included)."""

    start: dt.date
    end: dt.date
    on: dt.date  # the report date

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    @property
    def gone(self) -> int:
        """Days of the sprint up to and including the report date (0 before it starts)."""
        return min(max((self.on - self.start).days + 1, 0), self.days)

    @property
    def left(self) -> int:
        return self.days - self.gone

    def ideal(self, scope: float, on: dt.date) -> float:
        """The ideal line: the whole scope on the first day, straight down to 0 on the last."""
        span = max((self.end - self.start).days, 1)
        return scope * min(max(1 - (on - self.start).days / span, 0.0), 1.0)

    def to_json(self) -> dict[str, Any]:
        return {
            "start_date": self.start.isoformat(), "end_date": self.end.isoformat(),
            "days": self.days, "days_gone": self.gone, "days_left": self.left,
        }  # fmt: skip


def calendar(sprints: Any, sprint_id: str, on: dt.date) -> Calendar:
    """The sprint's calendar from the sprint-service's list of the project's sprints; ValueError naming
    what is wrong (the sprint is not listed, a date is not YYYY-MM-DD)."""
    if not isinstance(sprints, list):
        raise ValueError("the project's sprint list is not a JSON list")
    for sprint in sprints:
        if isinstance(sprint, Mapping) and sprint.get("sprint_id") == sprint_id:
            try:
                start = dt.date.fromisoformat(sprint["start_date"])
                end = dt.date.fromisoformat(sprint["end_date"])
            except (KeyError, TypeError, ValueError) as exc:
                raise ValueError(f"sprint {sprint_id}: no usable start_date/end_date ({exc})") from None
            if end < start:
                raise ValueError(f"sprint {sprint_id} ends ({end}) before it starts ({start})")
            return Calendar(start, end, on)
    raise ValueError(f"sprint {sprint_id} is not in the project's sprint list")


def load(history: Any, sprint_id: str) -> list[dict[str, Any]]:
    """The days of a carried history (None: a first run, no days); ValueError naming the first thing
    wrong: the caller logs it and starts today."""
    if history is None:
        return []
    if not isinstance(history, Mapping) or not isinstance(history.get("days"), list):
        raise ValueError("expected an object with a list 'days'")
    if history.get("sprint_id") != sprint_id:
        raise ValueError(f"it is the history of sprint {history.get('sprint_id')!r}, not {sprint_id}")
    for index, day in enumerate(history["days"]):
        if not isinstance(day, Mapping) or set(POINT_FIELDS) - set(day):
            raise ValueError(f"days[{index}] must be an object with {', '.join(POINT_FIELDS)}")
        try:
            dt.date.fromisoformat(day["date"])
        except (TypeError, ValueError):
            raise ValueError(f"days[{index}].date is not YYYY-MM-DD: {day['date']!r}") from None
        if not all(type(day[key]) in (int, float) and day[key] >= 0 for key in POINT_FIELDS[1:]):  # no bool
            raise ValueError(f"days[{index}]: remaining, done and tasks must be non-negative numbers")
    return [{key: day[key] for key in POINT_FIELDS} for day in history["days"]]


def record(days: list[dict[str, Any]], point: dict[str, Any]) -> list[dict[str, Any]]:
    """The series with `point` added, replacing a point of the same date (a re-run of the day), by date."""
    kept = {day["date"]: day for day in days}
    kept[point["date"]] = point
    return [kept[date] for date in sorted(kept)]

"""Build the chronicle's daily scrum note from the four artifacts (pure: no I/O, no clock).

The note follows the chronicle-service contract (docs: dsm-services.md): one entry per assignee
under `reports[report_date]`, each task with yesterday's and today's work and its impediments
written from the task's real progress, and `created_at` = when that task's update was recorded.

The join is done with pandas and stays vectorised (tasks left-join updates on task_id, assignees
mapped to the team): the report step must handle 100,000 tasks over 50 assignees within two
seconds and 500 MB, so no Python code runs per task except building the final note dicts.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np
import pandas as pd

WORKFLOW_NAME = "run-dailyscrum"
UNASSIGNED = "unassigned"  # the assignee key of tasks with assigned_to null (listed last)
COMPLETED = "completed"

# Columns of ScrumDay.tasks, in the order the HTML page shows them.
TASK_COLUMNS = (
    "assignee",  # assigned_to, or UNASSIGNED
    "assignee_name",  # the team member's name; "" when not in the team or unassigned
    "in_team",
    "id",
    "title",
    "status",
    "before",  # progress before today (0..100); a lower bound when `capped`
    "made",  # points made today
    "now",  # progress after today
    "capped",  # reached 100 today: the service reports the points drawn, not the points added
    "open",  # status is not "completed"
    "yesterday_work",
    "today_work",
    "impediments",
    "created_at",
)
NOTE_TASK_FIELDS = ["id", "yesterday_work", "today_work", "impediments", "created_at"]


class ArtifactError(ValueError):
    """An input artifact does not have the shape its step promised (invalid input, not a bug)."""


@dataclass(frozen=True)
class ScrumDay:
    """The note to store plus the per-task frame the HTML page is drawn from."""

    note: dict[str, Any]
    tasks: pd.DataFrame  # TASK_COLUMNS, sorted by assignee (unassigned last) then task id
    team_names: dict[str, str]  # member id -> name
    open_tasks: int  # tasks whose status is not "completed"
    tasks_progressed: int  # tasks whose progress moved today
    warning: str | None  # the loud message when the simulation moved nothing although tasks are open

    @property
    def impediments(self) -> pd.DataFrame:
        """The day's impediments: tasks whose impediments are not "None."."""
        return self.tasks.loc[self.tasks["impediments"] != "None.", ["assignee", "id", "impediments"]]


# --- input checks ------------------------------------------------------------------------------


def _require(condition: bool, message: str) -> None:
    if not condition:
        raise ArtifactError(message)


def _int_field(obj: Mapping[str, Any], key: str, artifact: str) -> int:
    value = obj.get(key)
    _require(
        isinstance(value, int) and not isinstance(value, bool) and value >= 0,
        f"{artifact}: {key!r} must be a non-negative integer, got {value!r}",
    )
    return value


def _frame(records: Any, columns: tuple[str, ...], artifact: str) -> pd.DataFrame:
    """A DataFrame from a list of JSON objects, refusing anything but objects with `columns`."""
    _require(isinstance(records, list), f"{artifact}: expected a JSON list, got {type(records).__name__}")
    if not records:
        return pd.DataFrame({c: pd.Series(dtype="object") for c in columns})
    _require(all(isinstance(r, dict) for r in records), f"{artifact}: every entry must be a JSON object")
    frame = pd.DataFrame(records)
    missing = [c for c in columns if c not in frame.columns]
    _require(not missing, f"{artifact}: entries lack the field(s) {missing}")
    return frame


def _text(frame: pd.DataFrame, column: str, artifact: str, nullable: bool = False) -> pd.Series:
    """A column of strings (None where null, when allowed); anything else is refused."""
    if column not in frame.columns:
        _require(nullable, f"{artifact}: entries lack the field {column!r}")
        return pd.Series(None, index=frame.index, dtype="object")
    series = frame[column]
    nulls = series.isna()
    _require(nullable or not nulls.any(), f"{artifact}: {column!r} is missing in some entries")
    kind = pd.api.types.infer_dtype(series, skipna=True)  # a C scan, not a Python loop
    _require(kind in ("string", "empty"), f"{artifact}: {column!r} must be a string, found {kind} values")
    return series.astype("object").where(~nulls, None)


def _percent(series: pd.Series, what: str) -> pd.Series:
    """Parse "20%" (or a bare number) into floats; a value that is not a percentage is refused."""
    if pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series):
        numbers = series.astype("float64")
    else:
        text = series.astype("str") if pd.api.types.infer_dtype(series) != "string" else series
        numbers = pd.to_numeric(text.str.removesuffix("%"), errors="coerce").astype("float64")
    bad = numbers.isna() | (numbers < 0) | (numbers > 100)
    _require(not bad.any(), f"{what}: not a percentage between 0 and 100: {series[bad].head(1).tolist()}")
    return numbers


# --- wording -----------------------------------------------------------------------------------
# The sentences are plain Python applied once per distinct combination of the facts they depend
# on (a few hundred or thousand), never once per task; `_words` spreads them back vectorised.


def _words(facts: pd.DataFrame, write: Callable[..., str]) -> pd.Series:
    """`write(*row)` for every row of `facts`, computed once per distinct row."""
    if facts.empty:
        return pd.Series([], index=facts.index, dtype="object")
    # Number the distinct rows column by column (codes stay < len(facts), so no overflow).
    codes = np.zeros(len(facts), dtype=np.int64)
    for column in facts.columns:
        level_codes, levels = pd.factorize(facts[column])
        codes, _ = pd.factorize(codes * len(levels) + level_codes)
    # factorize numbers in order of first appearance, so return_index gives each combination's first row.
    _, first_rows = np.unique(codes, return_index=True)
    texts = [write(*row) for row in facts.iloc[first_rows].itertuples(index=False, name=None)]
    return pd.Series(np.array(texts, dtype=object)[codes], index=facts.index, dtype="object")


def _p(value: float) -> str:
    """40.0 -> "40", 12.5 -> "12.5": progress as people write it."""
    return f"{round(value, 1):g}"


def _yesterday(before: float, capped: bool, status: str) -> str:
    # Capped at 100, the points drawn may exceed the points added: `before` is only a lower bound.
    return f"Was at {_p(before)}%{' or more' if capped else ''} ({status.replace('_', ' ')})."


def _today(before: float, made: float, now: float, is_open: bool) -> str:
    if made > 0 and now >= 100:
        return f"Completed: reached 100% (the simulation drew +{_p(made)} points, capped at 100)."
    if made > 0:
        return f"Moved from {_p(before)}% to {_p(now)}% (+{_p(made)} points)."
    if not is_open:
        return "Already completed; nothing left to do."
    return "No progress recorded today."


def _impediments(
    is_open: bool, made: float, now: float, status: str, assignee: str, unassigned: bool, in_team: bool
) -> str:
    found = []
    if is_open and made <= 0 and now < 100:
        found.append("No progress today while the task is still open.")
    if is_open and now >= 100:
        found.append(f"At 100% but status is still {status}: close the task.")
    if not unassigned and not in_team:
        found.append(f"Assignee {assignee} is not a member of the project team.")
    if unassigned and is_open:
        found.append("No one is assigned to this task.")
    return " ".join(found) or "None."


def _plural(count: int, word: str) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


# --- the note ----------------------------------------------------------------------------------


def build(
    simulation: Mapping[str, Any],
    tasks: list[Any],
    summary: Mapping[str, Any],
    team: Mapping[str, Any],
    *,
    project_id: str,
    sprint_id: str,
    report_date: str,
) -> ScrumDay:
    """Join the four artifacts into the note the chronicle stores (see the module docstring).

    Raises ArtifactError when an artifact does not have the shape its step writes.
    """
    for name, value in (("simulation", simulation), ("summary", summary), ("team", team)):
        _require(isinstance(value, Mapping), f"{name}: expected a JSON object")
    tasks_updated = _int_field(simulation, "tasks_updated_count", "simulation")
    message = simulation.get("message", "")
    _require(isinstance(message, str), "simulation: 'message' must be a string")
    members = _frame(team.get("team_members"), ("id",), "team")
    member_ids = _text(members, "id", "team")
    names = _text(members, "name", "team", nullable=True).fillna("")
    team_names = dict(zip(member_ids, names, strict=True))
    metrics = {
        "total_team_members": len(members),
        "total_tasks": _int_field(summary, "total_tasks", "summary"),
        "completed_tasks": _int_field(summary, "completed_tasks", "summary"),
        "pending_tasks": _int_field(summary, "pending_tasks", "summary"),
    }

    day = _task_frame(simulation, tasks, team_names)
    open_tasks = int(day["open"].sum())
    progressed = int((day["made"] > 0).sum())
    warning = None
    if tasks_updated == 0 and open_tasks > 0:  # the simulation's known defect: say it loudly
        verb = "is" if open_tasks == 1 else "are"
        warning = f"WARNING: the simulation moved no task although {_plural(open_tasks, 'task')} {verb} open."
    if day.empty:
        text = f"No tasks in sprint {sprint_id}."
    else:
        text = (
            f"Daily stand-up for sprint {sprint_id}. {_plural(progressed, 'task')} progressed. "
            f"{metrics['completed_tasks']} of {_plural(metrics['total_tasks'], 'task')} completed, "
            f"{metrics['pending_tasks']} pending."
        )
    note = {
        "project_id": project_id,
        "sprint_id": sprint_id,
        "report_date": report_date,
        "summary": f"{warning} {text}" if warning else text,
        "summary_metrics": metrics,
        "reports": {report_date: _entries(day)},
        "orchestration_decision_details": {
            "workflow": WORKFLOW_NAME,
            "tasks_updated": tasks_updated,
            "simulation_message": message,
        },
    }
    return ScrumDay(note, day, team_names, open_tasks, progressed, warning)


def _task_frame(simulation: Mapping[str, Any], tasks: list[Any], team_names: dict[str, str]) -> pd.DataFrame:
    """One row per task (TASK_COLUMNS): tasks LEFT JOIN today's updates, assignees mapped to the team."""
    frame = _frame(tasks, ("task_id", "status", "progress_percentage", "assigned_to"), "tasks")
    frame = pd.DataFrame(
        {
            "id": _text(frame, "task_id", "tasks"),
            "title": _text(frame, "title", "tasks", nullable=True).fillna(""),
            "status": _text(frame, "status", "tasks"),
            "assigned_to": _text(frame, "assigned_to", "tasks", nullable=True),
            "progress": _percent(frame["progress_percentage"], "tasks: progress_percentage"),
        }
    ).drop_duplicates("id", keep="last")
    raw = _frame(simulation.get("updates"), ("task_id", "progress_made", "new_status"), "simulation.updates")
    updates = pd.DataFrame(
        {
            "id": _text(raw, "task_id", "simulation.updates"),
            "made": _percent(raw["progress_made"], "simulation: progress_made"),
            "new": _percent(raw["new_status"], "simulation: new_status"),
            "recorded_at": _text(raw, "recorded_at", "simulation.updates", nullable=True),
        }
    ).drop_duplicates("id", keep="last")
    # A task the simulation did not touch (completed, or the defect) keeps its progress, made 0.
    joined = frame.merge(updates, on="id", how="left")  # both sides are de-duplicated
    has_update = joined["new"].notna()
    now = joined["new"].where(has_update, joined["progress"])
    made = joined["made"].fillna(0.0)
    # The service reports the points it drew, also when the sum was capped at 100 (a task at 90
    # drawing 25 reads "+25%" -> "100%"): then now - made is only a lower bound of yesterday's.
    before = (now - made).clip(lower=0.0, upper=100.0)
    capped = (made > 0) & (now >= 100)

    # created_at is when the task's update was recorded; untouched tasks take the run's time.
    created_at = joined["recorded_at"].where(has_update, None)
    fallback = created_at.isna()
    if fallback.any():
        run_recorded_at = simulation.get("recorded_at")
        _require(
            isinstance(run_recorded_at, str) and run_recorded_at != "",
            "simulation: 'recorded_at' is missing (it is the created_at of tasks without an update)",
        )
        created_at = created_at.where(~fallback, run_recorded_at)

    status = joined["status"]
    is_open = status != COMPLETED
    unassigned = joined["assigned_to"].isna() | (joined["assigned_to"] == "")
    assignee = joined["assigned_to"].where(~unassigned, UNASSIGNED)
    in_team = assignee.isin(list(team_names))
    # The impediments depend on made > 0, now >= 100, the status only in the "close the task"
    # case and the assignee only when not in the team: reduced to exactly that, a 100,000-task
    # sprint has a handful of combinations to word instead of tens of thousands.
    full = now >= 100
    impediment_facts = pd.DataFrame(
        {
            "o": is_open,
            "m": (made > 0).astype("float64"),  # 1.0 or 0.0: _impediments only asks made <= 0
            "n": full * 100.0,  # 100.0 or 0.0: it only asks now < 100 / now >= 100
            "s": status.where(is_open & full, ""),
            "a": assignee.where(~unassigned & ~in_team, ""),
        }
    ).assign(u=unassigned, t=in_team)
    day = pd.DataFrame(
        {
            "assignee": assignee,
            "assignee_name": assignee.map(team_names).fillna("").astype("object"),
            "in_team": in_team,
            "id": joined["id"],
            "title": joined["title"],
            "status": status,
            "before": before,
            "made": made,
            "now": now,
            "capped": capped,
            "open": is_open,
            "yesterday_work": _words(pd.DataFrame({"b": before, "c": capped, "s": status}), _yesterday),
            "today_work": _words(pd.DataFrame({"b": before, "m": made, "n": now, "o": is_open}), _today),
            "impediments": _words(impediment_facts, _impediments),
            "created_at": created_at,
            "_last": unassigned,  # the unassigned entry comes after the team's
        }
    )
    return day.take(_order(day)).drop(columns="_last").reset_index(drop=True)


def _order(day: pd.DataFrame) -> np.ndarray:
    """Row order by (unassigned last, assignee, task id), as Python would sort the strings.

    sort_values on string columns compares in Python (a fifth of a 100,000-task build); numpy
    compares fixed-width unicode arrays in C by code point, which is Python's order, except that
    numpy drops trailing NUL characters: ids holding one are sorted the slow, exact way.
    """
    ids = day["id"].tolist()
    if "\x00" in "".join(ids):
        return day.sort_values(["_last", "assignee", "id"], kind="stable").index.to_numpy()
    assignees, _ = pd.factorize(day["assignee"], sort=True)  # few distinct values
    return np.lexsort((np.array(ids, dtype=str), assignees, day["_last"].to_numpy(dtype=bool)))


def _entries(day: pd.DataFrame) -> list[dict[str, Any]]:
    """One {"assigned_to", "tasks"} entry per assignee, in the frame's (sorted) order."""
    if day.empty:
        return []
    # zip over column lists: ~10x faster than DataFrame.to_dict("records") for 100k rows, and a
    # dict display 3x faster than dict(zip(names, row)). The keys are NOTE_TASK_FIELDS, in order.
    columns = [day[c].tolist() for c in NOTE_TASK_FIELDS]
    records = [
        {"id": i, "yesterday_work": y, "today_work": t, "impediments": m, "created_at": c}
        for i, y, t, m, c in zip(*columns, strict=True)
    ]
    entries, start = [], 0
    for assignee, size in day.groupby("assignee", sort=False).size().items():  # per assignee
        entries.append({"assigned_to": assignee, "tasks": records[start : start + size]})
        start += size
    return entries


# --- the chronicle's answer --------------------------------------------------------------------


def _instant(value: Any) -> Any:
    """created_at as an instant when it parses, so "…+00:00" and "…Z" compare equal."""
    if isinstance(value, str):
        try:
            return datetime.fromisoformat(value)
        except ValueError:
            return value
    return value


def fingerprint(note: Mapping[str, Any]) -> set[tuple[str, Any]]:
    """(task id, created_at) of every task in the note: unique to the run that built it."""
    report_date = note["report_date"]
    return {
        (task["id"], _instant(task["created_at"]))
        for entry in note["reports"].get(report_date, [])
        for task in entry["tasks"]
    }


def stored_by_this_run(stored: Mapping[str, Any], note: Mapping[str, Any]) -> bool:
    """Whether the chronicle's merged answer already holds a task of this very note.

    created_at is when this run's simulation recorded the update, so an equal (id, created_at)
    means this run stored the note before (a retried step whose POST answer was lost).
    """
    ours = fingerprint(note)
    reports = stored.get("reports")
    if not ours or not isinstance(reports, Mapping):
        return False
    entries = reports.get(note["report_date"])
    if not isinstance(entries, list):
        return False
    for entry in entries:
        tasks = entry.get("tasks") if isinstance(entry, Mapping) else None
        for task in tasks if isinstance(tasks, list) else []:
            if isinstance(task, Mapping) and (task.get("id"), _instant(task.get("created_at"))) in ours:
                return True
    return False

"""Build the chronicle's daily scrum note from the artifacts (pure: no I/O, no clock).

One entry per assignee under `reports[report_date]` (dsm-services.md). Yesterday -> today is exact:
`before` is the progress in the snapshot simulate read right before its POST, `now` in the tasks
fetched after it; the simulation's own answer is never used to guess a change. Done means progress
100, as the sprint-service's summary counts it; status `completed` ("closed") is a separate fact.

The artifacts are decoded by msgspec into the fields read here, checked against the contract's
types as they are decoded. The join is vectorised (pandas/numpy, the wording computed once per
distinct combination of facts): at 100,000 tasks no Python runs per task but taking the fields out
of the decoded entries.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from itertools import repeat
from operator import attrgetter
from typing import Annotated, Any, NamedTuple

import msgspec
import numpy as np
import pandas as pd

UNASSIGNED = "unassigned"  # the assignee key of tasks with assigned_to null (listed last)
CLOSED = "completed"  # the status the simulation skips
DONE_DEFINITION = "done = progress 100 % (as the sprint-service's task summary counts it)"
# Statuses in people's words; an unknown status is shown with its underscores as spaces.
STATUS_WORDS = {"assigned_to_sprint": "not started", "in_progress": "in progress", CLOSED: "closed"}


class ArtifactError(ValueError):
    """An input artifact does not have the shape its step promised (invalid input, not a bug)."""


class Totals(NamedTuple):
    """Counts over the sprint's tasks; done + open == tasks."""

    tasks: int
    done: int  # progress 100
    open: int  # not done
    unclosed: int  # done but status not "completed": the flag of the other definition
    moved: int  # tasks whose progress changed today
    points: float  # points made today (sum of now - before)
    remaining: float  # sum of 100 - progress


class ScrumDay(NamedTuple):
    """The note to store plus what the HTML page is drawn from."""

    note: dict[str, Any]  # its tasks are NoteTask structs: msgspec.json.encode makes it JSON
    tasks: pd.DataFrame  # the columns of _task_frame, sorted by assignee (unassigned last) then task id
    members: pd.DataFrame  # assignee, name, tasks, done, open, remaining, moved, points; the note's order
    team_names: dict[str, str]  # member id -> name
    totals: Totals
    warning: str | None  # the loud message when the simulation moved nothing although tasks are open
    mismatch: str | None  # the task summary disagrees with the task list (they were read apart)


Percent = Annotated[int, msgspec.Meta(ge=0, le=100)]  # progress_percentage (dsm-services.md)
Count = Annotated[int, msgspec.Meta(ge=0)]


# The artifacts' shapes, the fields the report reads (others are skipped, unread). gc=False: a
# task holds no reference cycle, and 200,000 of them would otherwise be tracked by the collector.
class SnapshotTask(msgspec.Struct, gc=False):
    task_id: str
    status: str
    progress_percentage: Percent


class Task(SnapshotTask, gc=False):
    assigned_to: str | None
    title: str = ""


class Member(msgspec.Struct):
    id: str
    name: str = ""


class Team(msgspec.Struct):
    team_members: list[Member]


class Simulation(msgspec.Struct):
    tasks_updated_count: Count
    recorded_at: Annotated[str, msgspec.Meta(min_length=1)]  # the created_at of every task of the note
    message: str = ""


class Summary(msgspec.Struct):
    total_tasks: Count
    completed_tasks: Count


TYPES: dict[str, Any] = {
    "snapshot": list[SnapshotTask], "simulation": Simulation, "tasks": list[Task], "summary": Summary,
    "team": Team,
}  # fmt: skip


class NoteTask(msgspec.Struct, gc=False):
    """A task of the note as the chronicle takes it (msgspec encodes it as a JSON object)."""

    id: str
    yesterday_work: str
    today_work: str
    impediments: str
    created_at: str


def decode(artifact: str, data: bytes) -> Any:
    """The artifact's JSON as its type (checked and decoded at once, ~3x faster than to dicts);
    ArtifactError naming the wrong field. What msgspec refuses and Python's json reads (NaN, Infinity
    in a field the report skips: the fetch steps checked the answers with json) goes through json,
    which raises JSONDecodeError on malformed JSON."""
    try:
        return msgspec.json.decode(data, type=TYPES[artifact])
    except msgspec.ValidationError as exc:
        raise ArtifactError(f"{artifact}: {exc}") from None
    except msgspec.DecodeError:
        return convert(artifact, json.loads(data))


def convert(artifact: str, value: Any) -> Any:
    """The artifact from decoded JSON (lists, dicts) as its type; ArtifactError naming the wrong field."""
    try:
        return msgspec.convert(value, TYPES[artifact])
    except msgspec.ValidationError as exc:
        raise ArtifactError(f"{artifact}: {exc}") from None


def _columns(records: list[Any], *fields: str) -> list[np.ndarray]:
    """Each field of the entries as a numpy array: floats for the progress, Python objects else
    (never numpy strings or pandas' str dtype)."""
    count = len(records)
    kinds = {name: float if name == "progress_percentage" else object for name in fields}
    return [np.fromiter(map(attrgetter(name), records), kind, count) for name, kind in kinds.items()]


def _words(facts: list[np.ndarray], write: Callable[..., str]) -> np.ndarray:
    """`write(*row)` for every row of the columns `facts`, computed once per distinct row."""
    rows = len(facts[0])
    if rows == 0:
        return np.empty(0, dtype="object")
    # Number the distinct rows column by column (codes stay < rows, so no overflow).
    codes = np.zeros(rows, dtype=np.int64)
    for column in facts:
        # A boolean column is its own codes (two levels); others are numbered by factorize.
        level_codes, levels = (column, (0, 1)) if column.dtype == bool else pd.factorize(column)
        codes, _ = pd.factorize(codes * len(levels) + level_codes)
    # factorize numbers in order of first appearance, so return_index gives each combination's first row.
    _, first_rows = np.unique(codes, return_index=True)
    texts = [write(*row) for row in zip(*(column[first_rows].tolist() for column in facts), strict=True)]
    return np.array(texts, dtype="object")[codes]


def number(value: float) -> str:
    """40.0 -> "40", 12.5 -> "12.5", 39371.0 -> "39,371": progress and points as people write them."""
    return f"{value:,.1f}".removesuffix(".0")


_p = number


def status_word(status: str) -> str:
    return STATUS_WORDS.get(status, status.replace("_", " "))


def _today(before: float, now: float, new: bool, closed: bool) -> str:
    if new:
        return f"Added to the sprint today, at {_p(now)}%."
    made = now - before
    if made > 0:
        return f"Moved from {_p(before)}% to {_p(now)}% (+{_p(made)} points){': done' if now >= 100 else ''}."
    if made < 0:
        return f"Moved back from {_p(before)}% to {_p(now)}% ({_p(made)} points)."
    if closed:
        return f"Closed; not moved by the simulation (at {_p(now)}%)."
    return f"Not moved by today's simulation: still at {_p(now)}%."


def _impediments(stalled: bool, unclosed: bool, unassigned: bool, outsider: str) -> str:
    found = (
        (stalled, "No progress today while the task is not done."),
        (unclosed, "At 100% but not closed: close the task."),
        (unassigned, "No one is assigned to this task."),
        (outsider, f"Assignee {outsider} is not a member of the project team."),
    )
    return " ".join(text for present, text in found if present) or "None."


def _plural(count: int, word: str) -> str:
    return f"{count} {word}" if count == 1 else f"{_p(count)} {word}s"


def headline(sprint_id: str, totals: Totals) -> str:
    """The day in one sentence: what moved, done and not done (adding up), what is left, the flag."""
    if totals.tasks == 0:
        return f"No tasks in sprint {sprint_id}."
    text = (
        f"Daily stand-up for sprint {sprint_id}: {_p(totals.moved)} of {_plural(totals.tasks, 'task')} "
        f"moved today (+{_p(totals.points)} points). Done (at 100%): {_p(totals.done)}, "
        f"not done: {_p(totals.open)}. Remaining work: {_p(totals.remaining)} points."
    )
    if totals.unclosed:
        text += f" At 100% but not closed: {_p(totals.unclosed)}."
    return text


def build(
    snapshot: list[SnapshotTask], simulation: Simulation, tasks: list[Task], summary: Summary, team: Team, *,
    project_id: str, sprint_id: str, report_date: str,
) -> ScrumDay:
    """Join the artifacts (decoded by `decode` or `convert`) into the note the chronicle stores."""
    team_names = {member.id: member.name for member in team.team_members}

    day = _task_frame(snapshot, tasks, team_names)
    totals, members = _totals(day), _members(day, team_names)
    mismatch = None
    counted = (summary.total_tasks, summary.completed_tasks)
    if counted != (totals.tasks, totals.done):
        mismatch = (
            f"the sprint-service's task summary ({counted[1]} of {counted[0]} at 100%) disagrees with its "
            f"task list ({totals.done} of {totals.tasks}): the tasks changed between the two reads; "
            "the report counts the task list"
        )
    warning = None
    workable = int((~day["done"] & ~day["closed"]).sum())
    if totals.moved == 0 and workable > 0:  # the simulation's known defect: say it loudly
        verb = "is" if workable == 1 else "are"
        warning = f"WARNING: the simulation moved no task although {_plural(workable, 'task')} {verb} open."
    text = headline(sprint_id, totals)
    note = {
        "project_id": project_id,
        "sprint_id": sprint_id,
        "report_date": report_date,
        "summary": f"{warning} {text}" if warning else text,
        "summary_metrics": {
            "total_team_members": len(team.team_members),
            "total_tasks": totals.tasks,
            "completed_tasks": totals.done,
            "pending_tasks": totals.open,
        },
        "reports": {report_date: _entries(day, members, simulation.recorded_at)},
        "orchestration_decision_details": {
            "done_definition": DONE_DEFINITION,
            "tasks_updated": simulation.tasks_updated_count,
            "simulation_message": simulation.message,
        },
    }
    return ScrumDay(note, day, members, team_names, totals, warning, mismatch)


def _totals(day: pd.DataFrame) -> Totals:
    made = day["made"].to_numpy()
    return Totals(
        tasks=len(day),
        done=int(day["done"].sum()),
        open=int((~day["done"]).sum()),
        unclosed=int(day["unclosed"].sum()),
        moved=int((made != 0).sum()),
        points=float(made.sum()),
        remaining=float((100.0 - day["now"].to_numpy()).sum()),
    )


def _members(day: pd.DataFrame, team_names: dict[str, str]) -> pd.DataFrame:
    """Totals per assignee (ScrumDay.members), in the note's order (the frame is already grouped)."""
    frame = day.assign(
        open=~day["done"], remaining=100.0 - day["now"], moved=day["made"] != 0,
    ).groupby("assignee", sort=False)
    members = frame.agg(
        tasks=("id", "size"), done=("done", "sum"), open=("open", "sum"),
        remaining=("remaining", "sum"), moved=("moved", "sum"), points=("made", "sum"),
    ).reset_index()
    members.insert(1, "name", [team_names.get(who, "") for who in members["assignee"].tolist()])
    return members


def _task_frame(snapshot: list[SnapshotTask], tasks: list[Task], team_names: dict[str, str]) -> pd.DataFrame:
    """One row per task: tasks LEFT JOIN the snapshot on task_id, in the note's order. Worked on
    numpy arrays, made a frame at the end (a DataFrame per step and a merge cost ~3x more)."""
    fields = ("task_id", "status", "progress_percentage")
    ids, statuses, now, assigned, titles = _last_of_each(_columns(tasks, *fields, "assigned_to", "title"))
    old_ids, old_statuses, old_progress = _columns(snapshot, *fields)

    # The join: each task's row in the snapshot, by position when it lists the same tasks (the
    # usual case), else by a hash lookup of its id (-1: a task added while the run went on).
    if old_ids.tolist() == ids.tolist():
        found = np.arange(len(ids))
    else:
        old_ids, old_statuses, old_progress = _last_of_each([old_ids, old_statuses, old_progress])
        found = pd.Index(old_ids, dtype="object").get_indexer(ids)

    # Statuses and assignees have few distinct values: each is looked at once (its level), and
    # the rows carry small integer codes, cheaper to compare, sort and spread than 100,000 strings.
    status_codes, status_levels = pd.factorize(statuses)
    # Assignee levels: the distinct assigned_to values, then one for null (factorize's code -1
    # picks the last level); "" and null are unassigned.
    who_codes, who_values = pd.factorize(assigned)
    who_unassigned = np.array([value == "" for value in who_values] + [True], dtype=bool)
    who = [value or UNASSIGNED for value in who_values] + [UNASSIGNED]
    who_in_team = np.array([name in team_names for name in who], dtype=bool)
    rank = {name: position for position, name in enumerate(sorted(set(who)))}
    who_rank = np.array([rank[name] for name in who], dtype=np.int64)
    unassigned = who_unassigned[who_codes]

    # Every column in the note's order: (unassigned last, assignee, task id).
    order = _order(ids, who_rank[who_codes], unassigned)
    ids, titles, now, found, status_codes, who_codes, unassigned = (
        a[order] for a in (ids, titles, now, found, status_codes, who_codes, unassigned)
    )
    closed = np.array([level == CLOSED for level in status_levels], dtype=bool)[status_codes]
    new = found < 0
    found[new] = 0
    # The snapshot's statuses as codes too (a new task's is any: its words do not use it).
    old_codes, old_levels = pd.factorize(old_statuses)
    if len(old_ids) == 0:
        old_progress, old_codes = np.zeros(1), np.zeros(1, dtype=np.intp)
    before = np.where(new, np.nan, old_progress[found])
    made = np.where(new, 0.0, now - old_progress[found])
    was = old_codes[found]
    done = now >= 100
    stalled = ~done & ~closed & ~new & (made == 0)
    unclosed = done & ~closed
    # The impediments depend on four facts and, for an assignee outside the team, on the assignee:
    # a 100,000-task sprint has a handful of combinations to word instead of tens of thousands.
    outsider = np.where(~unassigned & ~who_in_team[who_codes], who_codes, len(who))  # code len(who): ""
    who_text = [*who, ""]
    columns = {
        "assignee": np.array(who, dtype="object")[who_codes],  # assigned_to, or UNASSIGNED
        "id": ids,
        "title": titles,
        "status": np.array([status_word(level) for level in status_levels], dtype="object")[status_codes],
        "before": before,  # progress in the snapshot (0..100); NaN for a task that was not in it
        "made": made,  # now - before, exact (0 for a task not in the snapshot)
        "now": now,  # progress after today's simulation
        "new": new,  # not in the snapshot: added to the sprint during the run
        "done": done,  # progress 100
        "closed": closed,  # status "completed"
        "stalled": stalled,
        "unclosed": unclosed,
        "unassigned": unassigned,  # at risk when not done
        "yesterday_work": _words(
            [before, new, was],
            lambda before, new, was: "Not in the sprint before today's simulation."
            if new
            else f"Was at {_p(before)}% ({status_word(old_levels[was])}).",
        ),
        "today_work": _words([before, now, new, closed], _today),
        "impediments": _words(
            [stalled, unclosed, unassigned & ~done, outsider],
            lambda s, c, u, o: _impediments(s, c, u, who_text[o]),
        ),
    }
    # dtype="object" for the text columns: pandas 3 would otherwise convert them to its str dtype.
    return pd.DataFrame(
        {
            name: pd.Series(values, dtype="object" if values.dtype == object else None, copy=False)
            for name, values in columns.items()
        },
        copy=False,
    )


def _last_of_each(columns: list[np.ndarray]) -> list[np.ndarray]:
    """The columns with each id (the first column) once: a task listed twice counts by its last entry."""
    ids = columns[0]
    if len(set(ids.tolist())) == len(ids):  # the usual case
        return columns
    rows = np.flatnonzero(~pd.Series(ids, dtype="object").duplicated(keep="last").to_numpy())
    return [column[rows] for column in columns]


def _order(ids: np.ndarray, assignee_rank: np.ndarray, unassigned: np.ndarray) -> np.ndarray:
    """Row order by (unassigned last, assignee rank, task id), ids compared as Python compares them
    (an object array's sort calls str's <; near-linear on ids already in order, as services list them)."""
    by_id = np.argsort(ids, kind="stable")
    return by_id[np.lexsort((assignee_rank[by_id], unassigned[by_id]))]  # lexsort is stable too


def _entries(day: pd.DataFrame, members: pd.DataFrame, created_at: str) -> list[dict[str, Any]]:
    """One {"assigned_to", "tasks"} entry per assignee, in the frame's (sorted) order."""
    columns = [day[c].tolist() for c in ("id", "yesterday_work", "today_work", "impediments")]
    records = list(map(NoteTask, *columns, repeat(created_at)))  # in C: ~4x faster than dicts
    entries, start = [], 0
    for assignee, size in zip(members["assignee"].tolist(), members["tasks"].tolist(), strict=True):
        entries.append({"assigned_to": assignee, "tasks": records[start : start + size]})
        start += size
    return entries

"""The deterministic seed of the stand-in database (docs/standin.md, "Seed"), what every reset() brings
back; `--fleet N` (the fleet benchmark) adds N look-alike projects FLEET-0001.., `--sprints-to-today`
moves every sprint by whole weeks so that the active ones run through today (make run)."""

from __future__ import annotations

import datetime as dt
import sqlite3
from typing import Any

PROJECTS = [
    ("GEM-001", "Gemini Platform", "Core platform services", "active"),
    ("GEM-002", "Gemini Mobile", "Mobile apps", "active"),
    ("GEM-003", "Gemini Archive", "Archive of retired systems", "completed"),
]

TEAM_MEMBERS = [
    ("GEM-001", "alice", "Alice Martin", "female", "California", 34),
    ("GEM-001", "bob", "Bob Nguyen", "male", "Texas", 29),
    ("GEM-001", "carol", "Carol Smith", "female", "New York", 41),
    ("GEM-001", "dave", "Dave Okafor", "male", "Oregon", 38),
    ("GEM-001", "erin", "Erin Rossi", "female", "Florida", 26),
    ("GEM-002", "frank", "Frank Weber", "male", "Ohio", 45),
    ("GEM-002", "grace", "Grace Kim", "female", "Washington", 31),
    ("GEM-002", "heidi", "Heidi Larsen", "female", "Colorado", 36),
    ("GEM-003", "ivan", "Ivan Petrov", "male", "Illinois", 50),
    ("GEM-003", "judy", "Judy Chen", "female", "Georgia", 27),
]

# Sprint statuses as the sprint-service stores them: the active sprint is `in_progress`.
SPRINT_ACTIVE = "in_progress"
SEED_MONDAY = dt.date(2025, 8, 25)  # the active sprints' first day

SPRINTS = [
    ("GEM-001-S01", "GEM-001", "GEM-001 Sprint 1", "2025-08-25", "2025-09-05", 2, SPRINT_ACTIVE),
    ("GEM-001-S02", "GEM-001", "GEM-001 Sprint 2", "2025-09-08", "2025-09-19", 2, "planned"),
    ("GEM-002-S01", "GEM-002", "GEM-002 Sprint 1", "2025-08-25", "2025-09-05", 2, SPRINT_ACTIVE),
    ("GEM-003-S01", "GEM-003", "GEM-003 Sprint 1", "2025-07-14", "2025-07-25", 2, "completed"),
]

TASKS = [
    ("GEM-001-TASK001", "GEM-001-S01", "Set up CI pipeline", "completed", 100, "alice"),
    ("GEM-001-TASK002", "GEM-001-S01", "Design login page", "in_progress", 100, "bob"),
    ("GEM-001-TASK003", "GEM-001-S01", "Implement user model", "in_progress", 40, "carol"),
    ("GEM-001-TASK004", "GEM-001-S01", "Write API documentation", "assigned_to_sprint", 0, "dave"),
    ("GEM-001-TASK005", "GEM-001-S01", "Add password reset", "in_progress", 65, "erin"),
    ("GEM-001-TASK006", "GEM-001-S01", "Create dashboard layout", "in_progress", 20, "alice"),
    ("GEM-001-TASK007", "GEM-001-S01", "Configure monitoring", "assigned_to_sprint", 0, "bob"),
    ("GEM-001-TASK008", "GEM-001-S01", "Optimize search query", "in_progress", 85, "carol"),
    ("GEM-001-TASK009", "GEM-001-S01", "Triage bug backlog", "assigned_to_sprint", 0, None),
    ("GEM-001-TASK010", "GEM-001-S01", "Add audit logging", "in_progress", 55, "dave"),
    ("GEM-002-TASK001", "GEM-002-S01", "Build app shell", "in_progress", 50, "frank"),
    ("GEM-002-TASK002", "GEM-002-S01", "Push notifications", "assigned_to_sprint", 0, "grace"),
    ("GEM-002-TASK003", "GEM-002-S01", "Offline cache", "in_progress", 30, "heidi"),
    ("GEM-002-TASK004", "GEM-002-S01", "App store listing", "completed", 100, "frank"),
    ("GEM-003-TASK001", "GEM-003-S01", "Export old records", "completed", 100, "ivan"),
    ("GEM-003-TASK002", "GEM-003-S01", "Decommission servers", "completed", 100, "judy"),
]


FLEET_TEAM = (("ana", "Ana Fleet", "female", "Nevada", 33), ("ben", "Ben Fleet", "male", "Utah", 40))
FLEET_TASKS = (  # (title, status, progress_percentage, assigned_to): one of each kind
    ("Plan the sprint", "completed", 100, "ana"),
    ("Build the feature", "in_progress", 40, "ben"),
    ("Write the tests", "assigned_to_sprint", 0, "ana"),
    ("Triage incoming bugs", "assigned_to_sprint", 0, None),
)


def fleet_project_id(number: int) -> str:
    """FLEET-0001 for 1: the id of the fleet's n-th project (1-based)."""
    return f"FLEET-{number:04d}"


def load(conn: sqlite3.Connection, fleet: int, today: dt.date | None = None) -> None:
    """Insert the seed rows and `fleet` projects FLEET-0001.. (their sprints moved to `today`'s week
    if given); rows already there are kept, so a database file given again with --db is not doubled."""
    tables: dict[str, list[tuple[Any, ...]]] = {  # rows in the order of their table's columns (db.py)
        "projects": list(PROJECTS),
        "team_members": list(TEAM_MEMBERS),
        "sprints": list(SPRINTS),
        "tasks": list(TASKS),
    }
    for number in range(1, fleet + 1):
        project_id = fleet_project_id(number)
        sprint_id = f"{project_id}-S01"
        name = f"Fleet project {number}"
        tables["projects"].append((project_id, name, "A project of the fleet benchmark", "active"))
        tables["team_members"] += [(project_id, *member) for member in FLEET_TEAM]
        dates = ("2025-08-25", "2025-09-05")
        tables["sprints"].append((sprint_id, project_id, f"{project_id} Sprint 1", *dates, 2, SPRINT_ACTIVE))
        for n, task in enumerate(FLEET_TASKS, start=1):
            tables["tasks"].append((f"{project_id}-TASK{n:03d}", sprint_id, *task))
    if today is not None:  # whole weeks: a sprint still runs Monday to Friday
        weeks = dt.timedelta(weeks=(today - SEED_MONDAY).days // 7)

        def moved(day: str) -> str:
            return (dt.date.fromisoformat(day) + weeks).isoformat()

        tables["sprints"] = [(*row[:3], moved(row[3]), moved(row[4]), *row[5:]) for row in tables["sprints"]]
    for table, rows in tables.items():
        marks = ", ".join("?" * len(rows[0]))
        conn.executemany(f"INSERT OR IGNORE INTO {table} VALUES ({marks})", rows)

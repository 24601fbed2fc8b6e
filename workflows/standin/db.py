"""The one SQLite file the four stand-in services share: each request opens its own connection, WAL
lets readers run beside the writer, `BEGIN IMMEDIATE` plus a busy timeout serializes writers."""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections.abc import Iterator
from contextlib import closing, contextmanager
from pathlib import Path
from typing import Any

from workflows.standin import seed

SCHEMA = """
CREATE TABLE IF NOT EXISTS projects (
    project_id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    description TEXT NOT NULL,
    status TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS team_members (  -- listed in rowid (insertion) order, as the seed has them
    project_id TEXT NOT NULL,
    id TEXT NOT NULL,
    name TEXT NOT NULL,
    gender TEXT NOT NULL,
    state TEXT NOT NULL,
    age INTEGER NOT NULL,
    PRIMARY KEY (project_id, id)
);
CREATE TABLE IF NOT EXISTS sprints (  -- a row is the sprint-service's sprint, keys in its order
    sprint_id TEXT PRIMARY KEY,
    project_id TEXT NOT NULL,
    sprint_name TEXT NOT NULL,
    start_date TEXT NOT NULL,
    end_date TEXT NOT NULL,
    duration_weeks INTEGER NOT NULL,
    status TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS tasks (
    task_id TEXT PRIMARY KEY,
    sprint_id TEXT NOT NULL,
    title TEXT NOT NULL,
    status TEXT NOT NULL,
    progress_percentage INTEGER NOT NULL,
    assigned_to TEXT
);
-- A note: JSON {"note_id", the posted fields, "created_at"}; its rowid is the insertion order.
CREATE TABLE IF NOT EXISTS notes (note TEXT NOT NULL);
"""


class Database:
    def __init__(self, path: Path, fleet: int, today: dt.date | None = None) -> None:
        """Create the schema and add the seed rows (and `fleet` projects, sprints moved to `today`) not
        there yet, so a file given with --db keeps its notes and progress across restarts."""
        self.path = path
        self.fleet, self.today = fleet, today  # reseed() loads the same seed again
        with self.read() as conn:
            conn.execute("PRAGMA journal_mode = WAL")
            conn.executescript(SCHEMA)
        with self.write() as conn:
            seed.load(conn, fleet, today)

    def read(self) -> closing[sqlite3.Connection]:
        # isolation_level=None: transactions are explicit (BEGIN IMMEDIATE in write()).
        conn = sqlite3.connect(self.path, timeout=10.0, isolation_level=None)
        conn.row_factory = sqlite3.Row
        conn.execute("PRAGMA synchronous = NORMAL")  # test data: speed over surviving a power cut
        return closing(conn)

    def rows(self, sql: str, *parameters: object) -> list[dict[str, Any]]:
        """The rows one query selects, as dicts with its column names."""
        with self.read() as conn:
            return [dict(row) for row in conn.execute(sql, parameters)]

    @contextmanager
    def write(self) -> Iterator[sqlite3.Connection]:
        """One transaction holding the write lock from its start: no lost update inside it."""
        with self.read() as conn, conn:  # `with conn`: COMMIT, or ROLLBACK on an exception
            conn.execute("BEGIN IMMEDIATE")
            yield conn

    def reseed(self) -> None:
        """Back to the seed and the fleet: every table emptied (notes included) and refilled at once."""
        with self.write() as conn:
            for table in ("notes", "projects", "team_members", "sprints", "tasks"):
                conn.execute(f"DELETE FROM {table}")
            seed.load(conn, self.fleet, self.today)

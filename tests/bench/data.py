"""Synthetic input artifacts for the report step: N tasks spread over a team of assignees.

The four files have exactly the shapes the upstream steps write (simulate adds `recorded_at`;
the fetches write the services' answers as is), so the report step reads them as in a real run.
Deterministic (seeded), so every run of the benchmark measures the same work.
"""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

from steps import artifacts as step_files
from steps import contract

PROJECT, SPRINT = "BENCH-001", "BENCH-001-S01"
RECORDED_AT = "2026-11-27T14:00:03.120000+00:00"
STATUSES = (("completed", 0.2), ("in_progress", 0.5), ("assigned_to_sprint", 0.3))
VERBS = ("Implement", "Design", "Review", "Test", "Document", "Refactor", "Deploy", "Fix")
NOUNS = ("login page", "search index", "audit log", "billing API", "dashboard", "CI job", "cache", "export")


def sprint(tasks: int, assignees: int = 50, seed: int = 9) -> dict[str, Any]:
    """{"snapshot", "simulation", "tasks", "summary", "team"}: a sprint of `tasks` tasks over
    `assignees` people, before (snapshot) and after (tasks) one simulated day.

    About 1% of the tasks are unassigned (their own entry in the note), the rest round-robin over
    the team; the simulation moves every task that is not completed by 5-35 points, capped at 100,
    as the daily-scrum-service does.
    """
    rng = random.Random(seed)
    members = [f"member-{n:03d}" for n in range(assignees)]
    team = {
        "project_id": PROJECT,
        "team_members": [
            {"id": m, "name": f"Member {n}", "gender": "n/a", "state": "active", "age": 30 + n % 30}
            for n, m in enumerate(members)
        ],
    }
    statuses = [name for name, _ in STATUSES]
    weights = [weight for _, weight in STATUSES]
    rows, updates, after = [], [], []
    for n in range(tasks):
        status = rng.choices(statuses, weights)[0]
        progress = (
            100 if status == "completed" else (0 if status == "assigned_to_sprint" else rng.randint(5, 95))
        )
        task_id = f"{SPRINT}-TASK{n + 1:06d}"
        rows.append(
            {
                "task_id": task_id,
                "title": f"{rng.choice(VERBS)} {rng.choice(NOUNS)} #{n + 1}",
                "status": status,
                "sprint_id": SPRINT,
                "progress_percentage": progress,
                "assigned_to": None if rng.random() < 0.01 else members[n % assignees],
            }
        )
        after.append(dict(rows[-1]))
        if status != "completed":
            made = rng.randint(5, 35)
            after[-1]["progress_percentage"] = min(100, progress + made)
            updates.append(
                {
                    "task_id": task_id,
                    "progress_made": f"{made}%",
                    "new_status": f"{min(100, progress + made)}%",
                    "recorded_at": RECORDED_AT,
                }
            )
    completed = sum(1 for row in after if row["progress_percentage"] == 100)
    simulation = {
        "message": f"Daily scrum simulation completed for sprint {SPRINT}",
        "tasks_updated_count": len(updates),
        "updates": updates,
        "recorded_at": RECORDED_AT,
    }
    summary = {"total_tasks": tasks, "completed_tasks": completed, "pending_tasks": tasks - completed}
    return {"snapshot": rows, "simulation": simulation, "tasks": after, "summary": summary, "team": team}


def write(directory: Path, data: dict[str, Any]) -> dict[str, Path]:
    """Write the artifacts as the upstream steps do (contract file names, `artifacts.write_json`)."""
    paths = {}
    for name, value in data.items():
        paths[name] = step_files.write_json(directory / contract.ARTIFACT_FILES[name], value)
    return paths

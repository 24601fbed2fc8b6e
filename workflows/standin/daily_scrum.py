"""daily-scrum-service stand-in: the progress simulation (docs/dsm-services.md, "daily-scrum-service").

Like production it never touches the database itself: it reads the sprint's tasks with
GET /sprints/{id}/tasks and writes each new progress with POST /tasks/{id}/progress on the
sprint-service, over HTTP. So sprint-service faults and downtime reach the simulation as they do
in the cluster: a failed read answers 500, a failed write is logged and swallowed (the task is
just left out of `updates`, which is how the deployed defect "200 with tasks_updated_count 0"
comes about).
"""

from __future__ import annotations

import http.client
import json
import random
import sys
import threading
import urllib.request
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

from workflows.standin.server import Request, Response, Router, detail, json_response

TIMEOUT_SECONDS = 10.0
# No proxy for 127.0.0.1, whatever the environment says.
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


class SprintServiceError(Exception):
    pass


def routes(sprint_url: Callable[[], str], rng: random.Random, rng_lock: threading.Lock) -> Router:
    """`sprint_url` gives the sprint-service's current base URL."""
    router = Router()

    def health(_: Request) -> Response:
        return json_response(200, {"status": "ok"})

    def run(request: Request) -> Response:
        sprint_id = request.params["sprint_id"]
        base = sprint_url()
        try:
            tasks = _read_tasks(base, sprint_id)
        except SprintServiceError as exc:
            return detail(500, f"Failed to fetch tasks for sprint {sprint_id}: {exc}")
        if not tasks:
            return json_response(
                200, {"message": "No tasks found for sprint.", "tasks_updated_count": 0, "updates": []}
            )
        updates = []
        for task in tasks:
            if task["status"] == "completed":  # the status decides, not progress 100
                continue
            with rng_lock:
                increase = rng.randint(5, 35)
            new_progress = min(100, task["progress_percentage"] + increase)
            try:
                _call(
                    base,
                    "POST",
                    f"/tasks/{quote(task['task_id'], safe='')}/progress",
                    {"progress_percentage": new_progress},
                )
            except SprintServiceError as exc:
                print(f"daily-scrum stand-in: update of {task['task_id']} failed: {exc}", file=sys.stderr)
                continue
            # progress_made is the points drawn (as production reports it), even when capped at 100
            updates.append(
                {
                    "task_id": task["task_id"],
                    "progress_made": f"{increase}%",
                    "new_status": f"{new_progress}%",
                }
            )
        return json_response(
            200,
            {
                "message": f"Daily scrum simulation completed for sprint {sprint_id}",
                "tasks_updated_count": len(updates),
                "updates": updates,
            },
        )

    router.add("GET", "/health", health)
    router.add("POST", "/scrums/{sprint_id}/run", run)
    return router


def _read_tasks(base: str, sprint_id: str) -> list[dict[str, Any]]:
    tasks = _call(base, "GET", f"/sprints/{quote(sprint_id, safe='')}/tasks")
    valid = isinstance(tasks, list) and all(
        isinstance(t, dict)
        and isinstance(t.get("task_id"), str)
        and isinstance(t.get("status"), str)
        and isinstance(t.get("progress_percentage"), int)
        for t in tasks
    )
    if not valid:
        raise SprintServiceError("unexpected task list from the sprint-service")
    return tasks


def _call(base: str, method: str, path: str, payload: Any = None) -> Any:
    data = None if payload is None else json.dumps(payload).encode()
    request = urllib.request.Request(
        base + path, data=data, method=method, headers={"Content-Type": "application/json"}
    )
    try:
        with _OPENER.open(request, timeout=TIMEOUT_SECONDS) as answer:
            return json.loads(answer.read())
    # URLError, HTTPError, refused and timeouts are OSErrors; a cut answer is an HTTPException;
    # bad JSON is a ValueError
    except (OSError, http.client.HTTPException, ValueError) as exc:
        raise SprintServiceError(str(exc)) from exc

"""daily-scrum-service stand-in: the progress simulation (docs/dsm-services.md, "daily-scrum-service").
Like production it reads and writes the tasks over HTTP on the sprint-service, its faults included."""

from __future__ import annotations

import random
import sys
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

import requests
from pydantic import BaseModel, TypeAdapter, ValidationError

from workflows.standin.server import Answer, HTTPError, Request, Routes

TIMEOUT_SECONDS = 10.0
UNEXPECTED = "unexpected task list from the sprint-service"


class SprintTask(BaseModel, strict=True):
    """What the simulation needs of each task the sprint-service lists."""

    task_id: str
    status: str
    progress_percentage: int


TASK_LIST = TypeAdapter(list[SprintTask])


def routes(sprint_url: Callable[[], str], rng: random.Random) -> Routes:
    """`sprint_url` gives the sprint-service's current base URL."""

    def run(request: Request) -> Answer:
        sprint_id = request.params["sprint_id"]
        base = sprint_url()
        with requests.Session() as http:
            http.trust_env = False  # never through an HTTP(S)_PROXY to 127.0.0.1
            try:
                tasks = _call(http, "GET", f"{base}/sprints/{quote(sprint_id, safe='')}/tasks")
                tasks = TASK_LIST.validate_python(tasks)
            except (requests.RequestException, ValidationError) as exc:
                reason = UNEXPECTED if isinstance(exc, ValidationError) else exc
                raise HTTPError(500, f"Failed to fetch tasks for sprint {sprint_id}: {reason}") from None
            updates = []
            for task in tasks:
                if task.status == "completed":  # the status decides, not progress 100
                    continue
                increase = rng.randint(5, 35)
                new_progress = min(100, task.progress_percentage + increase)
                path = f"/tasks/{quote(task.task_id, safe='')}/progress"
                try:
                    _call(http, "POST", base + path, json={"progress_percentage": new_progress})
                except requests.RequestException as exc:
                    print(f"daily-scrum stand-in: update of {task.task_id} failed: {exc}", file=sys.stderr)
                    continue  # left out of `updates`: the deployed "tasks_updated_count 0" defect
                # progress_made is the points drawn (as production reports it), even when capped at 100
                updates.append(
                    dict(task_id=task.task_id, progress_made=f"{increase}%", new_status=f"{new_progress}%")
                )
        done = f"Daily scrum simulation completed for sprint {sprint_id}"
        message = done if tasks else "No tasks found for sprint."
        return {"message": message, "tasks_updated_count": len(updates), "updates": updates}

    return [("POST", "/scrums/{sprint_id}/run", run)]


def _call(http: requests.Session, method: str, url: str, **kw: Any) -> Any:
    """The JSON answer; any failure (refused, timeout, HTTP error, cut JSON) is a RequestException."""
    answer = http.request(method, url, timeout=TIMEOUT_SECONDS, **kw)
    answer.raise_for_status()
    return answer.json()

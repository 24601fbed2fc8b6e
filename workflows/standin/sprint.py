"""sprint-service stand-in: sprints and their tasks (docs/dsm-services.md, "sprint-service")."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from workflows.standin.db import Database
from workflows.standin.seed import SPRINT_ACTIVE
from workflows.standin.server import Answer, HTTPError, Request, Routes


class TaskProgressUpdate(BaseModel):
    progress_percentage: int = Field(ge=0, le=100)
    status: str | None = None


def routes(db: Database) -> Routes:
    def tasks_of(sprint_id: str) -> list[dict[str, Any]]:
        columns = "task_id, title, status, sprint_id, progress_percentage, assigned_to"
        return db.rows(f"SELECT {columns} FROM tasks WHERE sprint_id = ? ORDER BY task_id", sprint_id)

    def tasks(request: Request) -> Answer:
        # An unknown sprint answers 200 [] (not 404), as the real service does.
        return tasks_of(request.params["sprint_id"])

    def one_sprint(request: Request) -> dict[str, Any]:
        sprint_id = request.params["sprint_id"]
        if not (sprints := db.rows("SELECT * FROM sprints WHERE sprint_id = ?", sprint_id)):
            raise HTTPError(404, f"Sprint {sprint_id} not found.")
        return {"sprint": sprints[0], "tasks": tasks_of(sprint_id)}

    def task_summary(request: Request) -> Answer:
        tasks = one_sprint(request)["tasks"]  # 404 for an unknown sprint
        done = sum(task["progress_percentage"] == 100 for task in tasks)  # "completed": whatever the status
        return {"total_tasks": len(tasks), "completed_tasks": done, "pending_tasks": len(tasks) - done}

    def active(request: Request) -> Answer:
        project_id = request.params["project_id"]
        sql = "SELECT sprint_id FROM sprints WHERE project_id = ? AND status = ?"
        found = db.rows(f"{sql} ORDER BY start_date DESC, sprint_id DESC LIMIT 1", project_id, SPRINT_ACTIVE)
        if not found:
            raise HTTPError(404, f"No active sprint found for project {project_id}.")
        return found[0]

    def by_project(request: Request) -> Answer:
        sql = "SELECT * FROM sprints WHERE project_id = ? ORDER BY start_date, sprint_id"
        return db.rows(sql, request.params["project_id"])

    def progress(request: Request) -> Answer:
        task_id = request.params["task_id"]
        body = request.json(TaskProgressUpdate)
        with db.write() as conn:
            # Without "status" the status stays as it was: a task can reach 100 and stay in_progress.
            changed = conn.execute(
                "UPDATE tasks SET progress_percentage = ?, status = COALESCE(?, status) WHERE task_id = ?",
                (body.progress_percentage, body.status, task_id),
            ).rowcount
        if not changed:
            raise HTTPError(404, f"Task {task_id} not found.")
        return {"message": f"Task {task_id} progress updated to {body.progress_percentage}%."}

    return [
        ("GET", "/sprints/active/{project_id}", active),
        ("GET", "/sprints/by-project/{project_id}", by_project),
        ("GET", "/sprints/{sprint_id}", one_sprint),
        ("GET", "/sprints/{sprint_id}/tasks", tasks),
        ("GET", "/sprints/{sprint_id}/task-summary", task_summary),
        ("POST", "/tasks/{task_id}/progress", progress),
    ]

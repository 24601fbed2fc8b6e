"""project-service stand-in: a project's team (docs/dsm-services.md, "project-service")."""

from __future__ import annotations

from workflows.standin.db import Database
from workflows.standin.server import Answer, HTTPError, Request, Routes


def routes(db: Database) -> Routes:
    def team_members(request: Request) -> Answer:
        # An unknown project answers 200 with an empty list, as the real service does.
        project_id = request.params["project_id"]
        sql = "SELECT id, name, gender, state, age FROM team_members WHERE project_id = ? ORDER BY rowid"
        return {"project_id": project_id, "team_members": db.rows(sql, project_id)}

    def project(request: Request) -> Answer:
        sql = "SELECT project_id AS id, name, description, status FROM projects WHERE project_id = ?"
        if not (found := db.rows(sql, request.params["project_id"])):
            raise HTTPError(500, "Database operation failed.")  # not 404: the real service fails on it
        return found[0]

    return [
        ("GET", "/projects/{project_id}/team-members", team_members),
        ("GET", "/projects/{project_id}", project),
    ]

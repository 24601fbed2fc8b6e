"""project-service stand-in: a project's team (docs/dsm-services.md, "project-service")."""

from __future__ import annotations

from workflows.standin.db import Database
from workflows.standin.server import Answer, HTTPError, Request, Routes


def routes(db: Database) -> Routes:
    def team_members(request: Request) -> Answer:
        # An unknown project answers 200 with an empty list, as the real service does.
        project_id = request.params["project_id"]
        with db.read() as conn:
            rows = conn.execute(
                "SELECT id, name, gender, state, age FROM team_members WHERE project_id = ? ORDER BY rowid",
                (project_id,),
            )
            return {"project_id": project_id, "team_members": [dict(row) for row in rows]}

    def project(request: Request) -> Answer:
        with db.read() as conn:
            row = conn.execute(
                "SELECT project_id AS id, name, description, status FROM projects WHERE project_id = ?",
                (request.params["project_id"],),
            ).fetchone()
        if row is None:  # not 404: the real service fails on the missing row
            raise HTTPError(500, "Database operation failed.")
        return dict(row)

    return [
        ("GET", "/projects/{project_id}/team-members", team_members),
        ("GET", "/projects/{project_id}", project),
    ]

"""The four stand-in services wired together on one SQLite file, plus the admin API that every
service serves under /_stand-in/ (the routes: docs/standin.md, "Admin API")."""

from __future__ import annotations

import datetime as dt
import functools
import random
from collections.abc import Callable
from pathlib import Path

from workflows.standin import SERVICES, chronicle, daily_scrum, project, sprint
from workflows.standin.db import Database
from workflows.standin.server import Answer, Fault, HTTPError, Request, Routes, Service, json_response

RANDOM_SEED = 20250830  # the simulation draws the same sequence after every reset
AdminHandler = Callable[[Service, Request], Answer]  # given the service a request is about


class Stack:
    """The four services on one database, each serving from construction until stop()."""

    def __init__(self, db_path: Path, host: str, fleet: int, today: dt.date | None = None) -> None:
        self.db = Database(db_path, fleet, today)
        self.rng = random.Random(RANDOM_SEED)  # no lock: its C implementation is thread-safe (random docs)
        service_routes = {
            "daily-scrum": daily_scrum.routes(lambda: self.services["sprint"].url, self.rng),
            "sprint": sprint.routes(self.db),
            "project": project.routes(self.db),
            "chronicle": chronicle.routes(self.db),
        }
        admin = self._admin_routes()
        self.services = {name: Service(name, [*service_routes[name], *admin], host) for name in SERVICES}
        for service in self.services.values():
            service.start()

    def stop(self) -> None:
        for service in self.services.values():
            service.stop()

    def urls(self) -> dict[str, str]:
        """env variable name -> base URL, in the contract's order."""
        return {env: self.services[name].url for name, env in SERVICES.items()}

    def states(self) -> dict[str, dict[str, object]]:
        return {name: {"url": s.url, "up": s.up} for name, s in self.services.items()}

    def _admin_routes(self) -> Routes:
        def add_fault(about: Service, request: Request) -> Answer:
            fault = request.json(Fault)
            about.faults.append(fault)  # atomic: _take_fault's lock is for its read-modify-write
            return json_response(201, {"service": about.name, "fault": fault.to_dict()})

        def clear_faults(about: Service, _: Request) -> Answer:
            about.faults.clear()
            return {"message": f"faults of {about.name} cleared"}

        def list_requests(about: Service, request: Request) -> Answer:
            method = request.query.get("method", "").upper()
            prefix = request.query.get("path_prefix", "")
            return [e for e in about.log if method in ("", e["method"]) and e["path"].startswith(prefix)]

        def clear_requests(about: Service, _: Request) -> Answer:
            about.log.clear()
            return {"message": f"request log of {about.name} cleared"}

        def reset(*_: object) -> Answer:
            self.db.reseed()
            self.rng.seed(RANDOM_SEED)
            for service in self.services.values():
                service.faults.clear()
                service.log.clear()
                service.start()
            return {"message": "stand-in reset", "services": self.states()}

        def up(about: Service, _: Request) -> Answer:
            about.start()
            return {"service": about.name, "up": True, "url": about.url}

        def down(about: Service, request: Request) -> Answer:
            answer = {"service": about.name, "up": False, "url": about.url}
            if about.name == request.service:  # going down through itself: answer first, then close
                return json_response(200, answer, after=about.stop)
            about.stop()  # closed before the answer, so the caller sees "refused" as soon as it is told
            return answer

        routes: list[tuple[str, str, AdminHandler]] = [
            ("POST", "/_stand-in/reset", reset),
            ("GET", "/_stand-in/services", lambda *_: self.states()),
            ("GET", "/_stand-in/notes", lambda _, r: chronicle.stored(self.db, r.query_as(chronicle.Query))),
            ("POST", "/_stand-in/services/{name}/down", down),
            ("POST", "/_stand-in/services/{name}/up", up),
        ]
        for prefix in ("/_stand-in", "/_stand-in/services/{name}"):  # this service, or service {name}
            routes += [
                ("POST", f"{prefix}/faults", add_fault),
                ("GET", f"{prefix}/faults", lambda about, _: [fault.to_dict() for fault in about.faults]),
                ("DELETE", f"{prefix}/faults", clear_faults),
                ("GET", f"{prefix}/requests", list_requests),
                ("DELETE", f"{prefix}/requests", clear_requests),
            ]
        return [(method, path, functools.partial(self._about, handler)) for method, path, handler in routes]

    def _about(self, handler: AdminHandler, request: Request) -> Answer:
        """`handler` given the service a request is about: {name} in the path, else the one that got it."""
        name = request.params.get("name", request.service)
        if name not in self.services:
            raise HTTPError(404, f"Unknown service {name}; known: {', '.join(self.services)}")
        return handler(self.services[name], request)

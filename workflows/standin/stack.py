"""The four stand-in services wired together on one SQLite file, plus the admin API.

Admin routes, served by every service under /_stand-in/ (never logged, never faulted):
  POST   /_stand-in/faults                 queue a fault for THIS service (body: see faults.py) -> 201
  GET    /_stand-in/faults                 this service's pending faults
  DELETE /_stand-in/faults                 clear this service's faults
  GET    /_stand-in/requests               this service's request log (?method=&path_prefix=)
  DELETE /_stand-in/requests               clear this service's request log
  .../_stand-in/services/{name}/faults     the same two for service {name}, through any service
  .../_stand-in/services/{name}/requests   (so a service that is down can still be prepared)
  GET    /_stand-in/notes                  the notes the chronicle stored, oldest first
                                           (?project_id=&sprint_id=&daily_scrum_date=, AND-ed): what
                                           the chronicle's own GET cannot show (its read defect)
  POST   /_stand-in/reset                  ALL services: reseed the database, clear faults and logs,
                                           bring every service back up
  GET    /_stand-in/services               every service's URL and whether it is up
  POST   /_stand-in/services/{name}/down   close that service's listening socket and connections
  POST   /_stand-in/services/{name}/up     listen again on the same port
Anything addressed by {name} may be sent to any service that is up. `down` sent to another service
returns once the target is closed; sent to the target itself, it answers first, then closes.
"""

from __future__ import annotations

import random
import threading
from pathlib import Path

from workflows.standin import SERVICES, chronicle, daily_scrum, project, sprint
from workflows.standin.db import Database
from workflows.standin.server import Handler, Request, Response, Router, Service, detail, json_response
from workflows.standin.validation import parse_json_body, validate

RANDOM_SEED = 20250830  # the simulation draws the same sequence after every reset


class UnknownService(LookupError):
    pass


class Stack:
    def __init__(self, db_path: Path, host: str = "127.0.0.1") -> None:
        self.db = Database(db_path)
        self.db.initialize()
        self.rng = random.Random(RANDOM_SEED)
        self.rng_lock = threading.Lock()
        service_routes = {
            "daily-scrum": daily_scrum.routes(lambda: self.services["sprint"].url, self.rng, self.rng_lock),
            "sprint": sprint.routes(self.db),
            "project": project.routes(self.db),
            "chronicle": chronicle.routes(self.db),
        }
        assert set(service_routes) == set(SERVICES), "one route table per service of the contract"
        self.services: dict[str, Service] = {}
        for name in SERVICES:
            service = Service(name, service_routes[name], Router(), host)
            self._add_admin_routes(service)
            self.services[name] = service

    def start(self) -> None:
        for service in self.services.values():
            service.start()

    def stop(self) -> None:
        for service in self.services.values():
            service.stop()

    def urls(self) -> dict[str, str]:
        """env variable name -> base URL, in the contract's order."""
        return {env: self.services[name].url for name, env in SERVICES.items()}

    def reset(self) -> None:
        self.db.reseed()
        with self.rng_lock:
            self.rng.seed(RANDOM_SEED)
        for service in self.services.values():
            service.faults.clear()
            service.log.clear()
            service.start()

    def _add_admin_routes(self, service: Service) -> None:
        prefix = "/_stand-in"

        def target(request: Request) -> Service:
            """The service a request is about: {name} in the path, else the one that got it."""
            name = request.params.get("name")
            if name is None:
                return service
            if name not in self.services:
                raise UnknownService(name)
            return self.services[name]

        def add_fault(request: Request) -> Response:
            about = target(request)
            fault = about.faults.add(parse_json_body(request.body))  # Invalid -> 422 by the router
            return json_response(201, {"service": about.name, "fault": fault.to_dict()})

        def list_faults(request: Request) -> Response:
            return json_response(200, target(request).faults.pending())

        def clear_faults(request: Request) -> Response:
            about = target(request)
            about.faults.clear()
            return json_response(200, {"message": f"faults of {about.name} cleared"})

        def list_requests(request: Request) -> Response:
            entries = target(request).log.entries(
                request.query.get("method"), request.query.get("path_prefix")
            )
            return json_response(200, entries)

        def clear_requests(request: Request) -> Response:
            about = target(request)
            about.log.clear()
            return json_response(200, {"message": f"request log of {about.name} cleared"})

        def reset(_: Request) -> Response:
            self.reset()
            return json_response(200, {"message": "stand-in reset", "services": self._states()})

        def states(_: Request) -> Response:
            return json_response(200, self._states())

        def notes(request: Request) -> Response:
            query = validate(chronicle.QUERY, request.query, ("query",))  # Invalid -> 422
            rows = chronicle.stored(self.db, query)
            return json_response(200, [{k: v for k, v in row.items() if k != "seq"} for row in rows])

        def up(request: Request) -> Response:
            about = target(request)
            about.start()
            return json_response(200, {"service": about.name, "up": True, "url": about.url})

        def down(request: Request) -> Response:
            about = target(request)
            answer = json_response(200, {"service": about.name, "up": False, "url": about.url})
            if about is service:  # going down through itself: answer first, then close
                answer.after = about.stop
            else:  # closed before the answer, so the caller sees "refused" as soon as it is told
                about.stop()
            return answer

        def guarded(handler: Handler) -> Handler:
            def run(request: Request) -> Response:
                try:
                    return handler(request)
                except UnknownService as exc:
                    return detail(404, f"Unknown service {exc}; known: {', '.join(self.services)}")

            return run

        routes = [
            ("POST", "/faults", add_fault),
            ("GET", "/faults", list_faults),
            ("DELETE", "/faults", clear_faults),
            ("GET", "/requests", list_requests),
            ("DELETE", "/requests", clear_requests),
        ]
        for method, path, handler in routes:
            service.admin.add(method, prefix + path, handler)
            service.admin.add(method, prefix + "/services/{name}" + path, guarded(handler))
        service.admin.add("POST", f"{prefix}/reset", reset)
        service.admin.add("GET", f"{prefix}/services", states)
        service.admin.add("GET", f"{prefix}/notes", notes)
        service.admin.add("POST", f"{prefix}/services/{{name}}/down", guarded(down))
        service.admin.add("POST", f"{prefix}/services/{{name}}/up", guarded(up))

    def _states(self) -> dict[str, dict[str, object]]:
        return {name: {"url": s.url, "up": s.is_up} for name, s in self.services.items()}

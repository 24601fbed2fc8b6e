"""A stand-in Argo Server for `submit` tests: the version and CronWorkflow endpoints, over plain HTTP
on 127.0.0.1.

It keeps CronWorkflows in memory, answers 409 to a create of an existing name (like the real
server), and records every request (method, path, headers, JSON body) for the test to assert on.
"""

from __future__ import annotations

import copy
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

PREFIX = "/api/v1/cron-workflows/"


@dataclass
class Request:
    method: str
    path: str
    headers: dict[str, str]
    body: Any


@dataclass
class ArgoServer:
    address: str = ""  # host:port, as ARGO_SERVER takes it
    requests: list[Request] = field(default_factory=list)
    stored: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)  # (namespace, name) -> object
    fail_with: int | None = None  # answer every request with this status
    argo_version: str | None = "v3.7.18"  # GET /api/v1/version; None: 404 (an old or odd server)
    _version: int = 100

    def cron_requests(self) -> list[Request]:
        """The requests to the CronWorkflow endpoints (not the version check before them)."""
        return [r for r in self.requests if r.path.startswith(PREFIX)]

    def next_version(self) -> str:
        self._version += 1
        return str(self._version)


def version_answer(version: str) -> dict[str, str]:
    """GET /api/v1/version as the Argo Server answers it (every field is there)."""
    return {
        "version": version,
        "buildDate": "2026-10-01T00:00:00Z",
        "gitCommit": "0" * 40,
        "gitTag": version,
        "gitTreeState": "clean",
        "goVersion": "go1.24.9",
        "compiler": "gc",
        "platform": "linux/amd64",
    }


def _handler(state: ArgoServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:  # keep pytest output clean
            pass

        def _answer(self, status: int, body: Any) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _record(self) -> Any:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            body = json.loads(raw) if raw else None
            state.requests.append(
                Request(self.command, self.path, dict(self.headers.items()), copy.deepcopy(body))
            )
            return body

        def _route(self) -> tuple[str, str | None] | None:
            path = self.path.split("?", 1)[0]
            if not path.startswith(PREFIX):
                return None
            parts = path[len(PREFIX) :].split("/")
            return (parts[0], parts[1] if len(parts) > 1 else None) if 1 <= len(parts) <= 2 else None

        def _handle(self) -> None:
            body = self._record()
            route = self._route()
            if state.fail_with:
                self._answer(state.fail_with, {"code": 13, "message": "stand-in told to fail"})
                return
            if self.path == "/api/v1/version" and self.command == "GET" and state.argo_version:
                self._answer(200, version_answer(state.argo_version))
                return
            if route is None:
                self._answer(404, {"code": 5, "message": f"no route {self.path}"})
                return
            namespace, name = route
            if self.command == "POST" and name is None:
                cron = body["cronWorkflow"]
                key = (namespace, cron["metadata"]["name"])
                if key in state.stored:
                    self._answer(
                        409, {"code": 6, "message": f'cronworkflows.argoproj.io "{key[1]}" already exists'}
                    )
                    return
                cron["metadata"]["resourceVersion"] = state.next_version()
                state.stored[key] = cron
                self._answer(200, cron)
            elif self.command == "GET" and name is not None:
                if (namespace, name) not in state.stored:
                    self._answer(404, {"code": 5, "message": "not found"})
                    return
                self._answer(200, state.stored[(namespace, name)])
            elif self.command == "PUT" and name is not None:
                cron = body["cronWorkflow"]
                current = state.stored.get((namespace, name))
                if current is None:
                    self._answer(404, {"code": 5, "message": "not found"})
                    return
                if cron["metadata"].get("resourceVersion") != current["metadata"]["resourceVersion"]:
                    self._answer(409, {"code": 10, "message": "the object has been modified"})
                    return
                cron["metadata"]["resourceVersion"] = state.next_version()
                state.stored[(namespace, name)] = cron
                self._answer(200, cron)
            else:
                self._answer(405, {"code": 12, "message": f"{self.command} not supported here"})

        do_GET = do_POST = do_PUT = do_DELETE = _handle  # http.server's naming

    return Handler


@contextmanager
def argo_server() -> Iterator[ArgoServer]:
    state = ArgoServer()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(state))
    state.address = f"127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)

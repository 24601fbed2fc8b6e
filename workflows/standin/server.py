"""HTTP plumbing of one stand-in service: routing, FastAPI-like error answers, the request log,
fault injection, and a listening socket that can be closed and reopened on the same port.

Each service is its own ThreadingHTTPServer (HTTP/1.1, keep-alive, one thread per connection).
Routes under /_stand-in/ are the admin API: never logged, never faulted.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import socket
import sys
import threading
import time
import traceback
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from workflows.standin import ADMIN_PREFIX
from workflows.standin.faults import FaultBook
from workflows.standin.validation import Invalid, Validator, parse_json_body, validate


@dataclass
class Request:
    method: str
    path: str  # as sent (percent-encoded), without the query
    query: dict[str, str]
    body: bytes
    params: dict[str, str] = field(default_factory=dict)  # path parameters, decoded

    def json(self, validator: Validator) -> Any:
        """The body parsed and validated like FastAPI would (raises validation.Invalid)."""
        return validate(validator, parse_json_body(self.body), ("body",))


@dataclass
class Response:
    status: int
    body: bytes
    content_type: str = "application/json"
    after: Callable[[], None] | None = None  # runs once the answer is on the wire
    headers: dict[str, str] = field(default_factory=dict)


def json_response(status: int, payload: Any) -> Response:
    return Response(status, json.dumps(payload).encode())


def detail(status: int, text: str) -> Response:
    return json_response(status, {"detail": text})


def internal_server_error() -> Response:
    """Starlette's answer to an unhandled exception: 500, plain text, not JSON."""
    return Response(500, b"Internal Server Error", "text/plain; charset=utf-8")


Handler = Callable[[Request], Response]


class Router:
    """Path templates like /sprints/{sprint_id}/tasks; first declared match wins, as in FastAPI."""

    def __init__(self) -> None:
        self._routes: list[tuple[str, re.Pattern[str], Handler]] = []

    def add(self, method: str, template: str, handler: Handler) -> None:
        pattern = re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", template)
        self._routes.append((method, re.compile(f"^{pattern}$"), handler))

    def dispatch(self, request: Request) -> Response:
        path_matched = False
        for method, pattern, handler in self._routes:
            match = pattern.match(request.path)
            if not match:
                continue
            path_matched = True
            if method != request.method:
                continue
            request.params = {k: unquote(v) for k, v in match.groupdict().items()}
            try:
                return handler(request)
            except Invalid as exc:
                return json_response(422, {"detail": exc.errors})
        if path_matched:
            return detail(405, "Method Not Allowed")
        return detail(404, "Not Found")


class RequestLog:
    """What a service was asked (admin routes excluded), oldest first."""

    def __init__(self) -> None:
        self._entries: list[dict[str, Any]] = []
        self._lock = threading.Lock()

    def open(self, request: Request) -> dict[str, Any]:
        """Record a request on arrival; its status is filled in when answered (None if dropped)."""
        entry = {
            "method": request.method,
            "path": request.path,
            "query": dict(request.query),
            "status": None,
            "at": dt.datetime.now(dt.UTC).isoformat(timespec="microseconds").replace("+00:00", "Z"),
        }
        with self._lock:
            self._entries.append(entry)
        return entry

    def entries(self, method: str | None = None, path_prefix: str | None = None) -> list[dict[str, Any]]:
        with self._lock:
            return [
                dict(e)
                for e in self._entries
                if (method is None or e["method"] == method.upper())
                and (path_prefix is None or e["path"].startswith(path_prefix))
            ]

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


MALFORMED_BODY = b'{"detail": "this body is cut sho'
WRONG_SHAPE_BODY = b'{"unexpected": true}'


class Service:
    """One stand-in service: its routes, faults and request log, and its listening socket."""

    def __init__(self, name: str, routes: Router, admin: Router, host: str) -> None:
        self.name = name
        self.routes = routes
        self.admin = admin
        self.host = host
        self.port = 0  # 0 until first started; then kept, so down/up reuses the same port
        self.faults = FaultBook()
        self.log = RequestLog()
        self._server: _Server | None = None
        self._lock = threading.Lock()

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def is_up(self) -> bool:
        return self._server is not None

    def start(self) -> None:
        with self._lock:
            if self._server is not None:
                return
            server = _Server((self.host, self.port), _RequestHandler, self)
            self.port = server.server_address[1]
            self._server = server
            threading.Thread(
                target=server.serve_forever,
                kwargs={"poll_interval": 0.05},
                name=f"stand-in-{self.name}",
                daemon=True,
            ).start()

    def stop(self) -> None:
        """Close the listening socket AND the open keep-alive connections, so that every new
        request gets "connection refused" as from a stopped pod."""
        with self._lock:
            server, self._server = self._server, None
        if server is not None:
            server.shutdown()
            server.server_close()
            server.close_connections()

    def handle(self, request: Request) -> Response | None:
        """The answer to a request, or None to drop the connection without one."""
        if request.path.startswith(ADMIN_PREFIX):
            return self.admin.dispatch(request)
        entry = self.log.open(request)
        fault = self.faults.take(request.method, request.path)
        response: Response | None
        if fault is None or fault.kind == "delay":
            if fault is not None:
                time.sleep(fault.seconds)
            response = self.routes.dispatch(request)
        elif fault.kind == "status":
            response = detail(fault.status, f"Injected fault: status {fault.status}")
            if fault.retry_after is not None:
                response.headers["Retry-After"] = str(fault.retry_after)
        elif fault.kind == "answer":
            response = json_response(fault.status, fault.body)
        elif fault.kind == "malformed":
            response = Response(200, MALFORMED_BODY)
        elif fault.kind == "wrong_shape":
            response = Response(200, WRONG_SHAPE_BODY)
        else:  # drop
            response = None
        entry["status"] = None if response is None else response.status
        return response


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    # The default listen backlog (5) drops SYNs when a fleet of runs connects at once; the client
    # then waits ~1 s for its SYN retransmission. Uvicorn's default is 2048.
    request_queue_size = 256

    def __init__(
        self, address: tuple[str, int], handler: type[BaseHTTPRequestHandler], service: Service
    ) -> None:
        self.service = service
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()
        super().__init__(address, handler)

    def track(self, conn: socket.socket) -> None:
        with self._connections_lock:
            self._connections.add(conn)

    def untrack(self, conn: socket.socket) -> None:
        with self._connections_lock:
            self._connections.discard(conn)

    def close_connections(self) -> None:
        with self._connections_lock:
            connections = list(self._connections)
        for conn in connections:
            with suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that went away (or a socket closed by stop()) is not an error worth a traceback.
        if isinstance(sys.exc_info()[1], OSError):
            return
        super().handle_error(request, client_address)


class _RequestHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, like uvicorn
    timeout = 60  # an idle keep-alive connection is closed after this
    disable_nagle_algorithm = True  # headers and body go out in two writes: no 40 ms delayed-ACK stall
    server: _Server

    def setup(self) -> None:
        super().setup()
        self.server.track(self.connection)

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            self.server.untrack(self.connection)

    def log_message(self, format: str, *args: Any) -> None:
        pass  # quiet: GET /_stand-in/requests is the record

    def _dispatch(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        parts = urlsplit(self.path)
        request = Request(
            self.command, parts.path, dict(parse_qsl(parts.query, keep_blank_values=True)), body
        )
        try:
            response = self.server.service.handle(request)
        except Exception:  # a bug in a stand-in handler: answer like Starlette does, keep serving
            traceback.print_exc()
            response = internal_server_error()
        if response is None:
            self.close_connection = True
            with suppress(OSError):
                self.connection.shutdown(socket.SHUT_RDWR)
            return
        self.send_response(response.status)
        self.send_header("Content-Type", response.content_type)
        self.send_header("Content-Length", str(len(response.body)))
        for name, value in response.headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(response.body)
        self.wfile.flush()
        if response.after is not None:
            response.after()

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _dispatch

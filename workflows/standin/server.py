"""HTTP plumbing of one stand-in service (a ThreadingHTTPServer): routing, FastAPI's error answers,
the request log, fault injection. Routes under /_stand-in/ (the admin API) are never logged nor faulted."""

from __future__ import annotations

import datetime as dt
import itertools
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
from typing import Annotated, Any, Literal, TypeVar
from urllib.parse import parse_qsl, unquote, urlsplit

from pydantic import AfterValidator, BaseModel, Field, PrivateAttr, ValidationError

M = TypeVar("M", bound=BaseModel)


@dataclass(eq=False)  # hashable, as exceptions are
class HTTPError(Exception):
    """Answer `status` with `{"detail": detail}`, like FastAPI's HTTPException (422: the error list)."""

    status: int
    detail: Any


def validate(model: type[M], value: Any, where: str) -> M:
    """`value` as a `model`, validated as FastAPI does (`where`: "body" or "query", the loc's head)."""
    try:
        return model.model_validate(value, from_attributes=True)
    except ValidationError as exc:
        errors = exc.errors(include_url=False)
        raise HTTPError(422, [{**e, "loc": [where, *e["loc"]]} for e in errors]) from None


@dataclass
class Request:
    service: str  # the service that got it
    method: str
    path: str  # as sent (percent-encoded), without the query
    query: dict[str, str]
    body: bytes
    params: dict[str, str] = field(default_factory=dict)  # path parameters, decoded

    def json(self, model: type[M]) -> M:
        """The body parsed and validated like FastAPI would (raises HTTPError 422, or 400 if not UTF-8)."""
        if not self.body:
            raise HTTPError(
                422, [{"type": "missing", "loc": ["body"], "msg": "Field required", "input": None}]
            )
        try:
            value = json.loads(self.body)
        except json.JSONDecodeError as exc:
            error = {"type": "json_invalid", "loc": ["body", exc.pos], "msg": "JSON decode error"}
            raise HTTPError(422, [{**error, "input": {}, "ctx": {"error": exc.msg}}]) from None
        except UnicodeDecodeError:
            raise HTTPError(400, "There was an error parsing the body") from None
        return validate(model, value, "body")

    def query_as(self, model: type[M]) -> M:
        """The query validated like FastAPI would (raises HTTPError 422)."""
        return validate(model, self.query, "query")


@dataclass(frozen=True)
class Response:
    status: int
    body: bytes
    headers: dict[str, str] = field(default_factory=lambda: {"Content-Type": "application/json"})
    after: Callable[[], None] | None = None  # runs once the answer is on the wire


def json_response(status: int, payload: Any, **kw: Any) -> Response:
    """`kw`: `headers` (Content-Type included) or `after`."""
    return Response(status, json.dumps(payload).encode(), **kw)


# Starlette's answer to an unhandled exception: 500, plain text, not JSON.
INTERNAL_ERROR = Response(500, b"Internal Server Error", {"Content-Type": "text/plain; charset=utf-8"})

Answer = Response | dict[str, Any] | list[Any]  # a handler's Response, or the JSON of its 200 answer
Handler = Callable[[Request], Answer]
Routes = list[tuple[str, str, Handler]]  # (method, path template like /sprints/{sprint_id}, handler)


class Fault(BaseModel, extra="forbid"):  # extra="forbid": a typo ("second") must not become a default
    """A fault as posted to /_stand-in/faults; `remaining` is posted as `count`."""

    kind: Literal["status", "delay", "malformed", "drop", "wrong_shape", "answer"]
    remaining: int = Field(1, ge=1, validation_alias="count")
    status: int = Field(500, ge=100, le=599)
    seconds: float = Field(1.0, ge=0)
    path: str | None = None  # a prefix
    method: Annotated[str, AfterValidator(lambda m: m.upper() or None)] | None = None
    skip: int = Field(0, ge=0)  # matching requests still let through before the fault applies
    retry_after: int | None = Field(None, ge=0)
    body: Any = None  # any JSON, for `answer`
    _id: int = PrivateAttr(default_factory=itertools.count(1).__next__)  # unique among all services

    def to_dict(self) -> dict[str, Any]:
        return {"id": self._id, **self.model_dump()}


class Service(ThreadingHTTPServer):
    """One stand-in service: its routes, faults and request log, and a listening socket that
    stop() closes and start() reopens on the same port."""

    block_on_close = False  # stop() must not wait for the threads of open keep-alive connections
    # The default listen backlog (5) drops SYNs when a fleet of runs connects at once; the client
    # then waits ~1 s for its SYN retransmission. Uvicorn's default is 2048.
    request_queue_size = 256

    def __init__(self, name: str, routes: Routes, host: str) -> None:
        self.name = name
        self.routes = [
            (method, re.compile("^" + re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", template) + "$"), handler)
            for method, template, handler in [("GET", "/health", lambda _: {"status": "ok"}), *routes]
        ]
        self.faults: list[Fault] = []  # pending; the first that matches a request is used
        self.log: list[dict[str, Any]] = []  # what it was asked (admin routes excluded), oldest first
        self.connections: set[socket.socket] = set()  # open ones; a set's add, discard and copy are atomic
        self.up = False
        self._lock = threading.Lock()
        super().__init__((host, 0), _RequestHandler)  # listening from here on, served once started
        self.url = f"http://{host}:{self.server_address[1]}"  # the port kept by every start()

    def start(self) -> None:
        with self._lock:
            if self.up:
                return
            if self.socket.fileno() == -1:  # closed by stop()
                self.socket = socket.socket(self.address_family, self.socket_type)
                self.server_bind()  # to server_address: the same port
                self.server_activate()
            self.up = True
            threading.Thread(target=self.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()

    def stop(self) -> None:
        """Close the listening socket AND the open keep-alive connections, so that every new
        request gets "connection refused" as from a stopped pod."""
        with self._lock:
            if not self.up:
                return
            self.up = False
            self.shutdown()
            self.server_close()
            for conn in self.connections.copy():
                with suppress(OSError):
                    conn.shutdown(socket.SHUT_RDWR)

    def process_request(self, request: Any, client_address: Any) -> None:
        self.connections.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        self.connections.discard(request)
        super().shutdown_request(request)

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that went away (or a socket closed by stop()) is not an error worth a traceback.
        if not isinstance(sys.exc_info()[1], OSError):
            super().handle_error(request, client_address)

    def dispatch(self, request: Request) -> Response:
        """The first declared match wins, as in FastAPI; HTTPError becomes its `{"detail"}` answer."""
        try:
            for method, pattern, handler in self.routes:
                match = pattern.match(request.path)
                if match and method == request.method:
                    request.params = {k: unquote(v) for k, v in match.groupdict().items()}
                    answer = handler(request)
                    return answer if isinstance(answer, Response) else json_response(200, answer)
        except HTTPError as exc:
            return json_response(exc.status, {"detail": exc.detail})
        if any(pattern.match(request.path) for _, pattern, _ in self.routes):
            return json_response(405, {"detail": "Method Not Allowed"})
        return json_response(404, {"detail": "Not Found"})

    def _take_fault(self, method: str, path: str) -> Fault | None:
        """Consume one use of the first fault matching this request, if any."""
        with self._lock:
            fault = next(
                (f for f in self.faults if f.method in (None, method) and path.startswith(f.path or "")), None
            )
            if fault is None:
                return None
            if fault.skip:
                fault.skip -= 1
                return None
            fault.remaining -= 1
            if fault.remaining == 0:
                self.faults.remove(fault)
            return fault

    def handle(self, request: Request) -> Response | None:
        """The answer to a request, or None to drop the connection without one."""
        if request.path.startswith("/_stand-in/"):
            return self.dispatch(request)
        entry: dict[str, Any] = {  # logged on arrival; the status is set when answered (None if dropped)
            "method": request.method,
            "path": request.path,
            "query": request.query,
            "status": None,
            "at": dt.datetime.now(dt.UTC).isoformat(timespec="microseconds").replace("+00:00", "Z"),
        }
        self.log.append(entry)
        response = self._answer(request, self._take_fault(request.method, request.path))
        entry["status"] = None if response is None else response.status
        return response

    def _answer(self, request: Request, fault: Fault | None) -> Response | None:
        if fault is None or fault.kind == "delay":
            response = self.dispatch(request)
            if fault is not None:  # it acts at once and answers late: a test's note is in before its end
                time.sleep(fault.seconds)
            return response
        if fault.kind == "status":
            retry = {} if fault.retry_after is None else {"Retry-After": str(fault.retry_after)}
            detail = {"detail": f"Injected fault: status {fault.status}"}
            return json_response(fault.status, detail, headers={"Content-Type": "application/json", **retry})
        if fault.kind == "answer":
            return json_response(fault.status, fault.body)
        if fault.kind == "malformed":
            return Response(200, b'{"detail": "this body is cut sho')
        if fault.kind == "wrong_shape":
            return Response(200, b'{"unexpected": true}')
        return None  # drop


class _RequestHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, like uvicorn
    timeout = 60  # an idle keep-alive connection is closed after this
    disable_nagle_algorithm = True  # headers and body go out in two writes: no 40 ms delayed-ACK stall
    server: Service

    def log_message(self, format: str, *args: Any) -> None:
        pass  # quiet: GET /_stand-in/requests is the record

    def _dispatch(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        parts = urlsplit(self.path)
        query = dict(parse_qsl(parts.query, keep_blank_values=True))
        request = Request(self.server.name, self.command, parts.path, query, body)
        try:
            response = self.server.handle(request)
        except Exception:  # a bug in a stand-in handler: answer like Starlette does, keep serving
            traceback.print_exc()
            response = INTERNAL_ERROR
        if response is None:
            self.close_connection = True
            with suppress(OSError):
                self.connection.shutdown(socket.SHUT_RDWR)
            return
        self.send_response(response.status)
        for name, value in {**response.headers, "Content-Length": str(len(response.body))}.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(response.body)  # unbuffered (wbufsize 0): on the wire before `after` runs
        if response.after is not None:
            response.after()

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _dispatch

"""A stand-in Argo Server for `submit` tests, on 127.0.0.1, as strict as the real one on what submit meets.

Read against Argo's server code (v3.7.18 / v4.1.2):
- every /api/ call needs the token when one is configured (server/auth/gatekeeper.go): 401, code 16;
- create and update validate the object (workflow/validate; here the project's own `workflows.lint`
  stands in for it): 400 with `{"code": 3, "message": ...}`, before the existence check;
- the object's name comes from the body (UpdateCronWorkflow uses req.CronWorkflow.Name), not the path;
- a PUT without metadata.resourceVersion is invalid for Kubernetes (422, mapped to 400, code 3); a stale
  one conflicts (409); a create of an existing name is 409 (server/utils/errors.go maps them);
- with an instance ID (util/instanceid), create labels the object; a WorkflowTemplate update whose
  body lacks the label, and any call on an object without it, is refused (400);
- behind an ingress path (`--base-href`) the API lives under that path; the server answers every
  non-API path with 200 and its HTML page (server/static), and the ingress 404s paths outside it;
- HTTP/1.1 keep-alive (connections are counted) and, with `tls=True`, HTTPS with a self-signed
  certificate made by `openssl` for the test.
"""

from __future__ import annotations

import copy
import json
import re
import ssl
import subprocess
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from workflows import lint

INSTANCE_LABEL = "workflows.argoproj.io/controller-instanceid"
# plural in the API path -> (kind, the request body's field holding the object)
KINDS = {
    "workflow-templates": ("WorkflowTemplate", "template"),
    "cron-workflows": ("CronWorkflow", "cronWorkflow"),
}
_ROUTE = re.compile(r"^/api/v1/(?P<plural>[a-z-]+)/(?P<namespace>[^/]+)(?:/(?P<name>[^/]+))?$")
INDEX_HTML = b'<!doctype html><html><head><base href="/"><title>Argo</title></head><body></body></html>'


@dataclass
class Request:
    method: str
    path: str
    headers: dict[str, str]
    body: Any


@dataclass
class ArgoServer:
    address: str = ""  # host:port, as ARGO_SERVER takes it
    token: str | None = None  # when set, every API call needs `Authorization: Bearer <token>`
    instance_id: str | None = None  # the server's --instanceid
    base_href: str = ""  # behind an ingress at this path, e.g. "/argo"
    argo_version: str = "v3.7.18"  # GET /api/v1/version
    cert_file: Path | None = None  # the self-signed certificate when serving HTTPS
    requests: list[Request] = field(default_factory=list)
    stored: dict[tuple[str, str, str], dict[str, Any]] = field(default_factory=dict)  # (plural, ns, name)
    connections: int = 0
    _version: int = 100
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def api_requests(self) -> list[tuple[str, str]]:
        """(method, path) of the object calls, in order (not the version check)."""
        return [(r.method, r.path) for r in self.requests if _ROUTE.match(self._inner(r.path) or "")]

    def _inner(self, path: str) -> str | None:
        """The path the Argo Server sees behind the ingress; None when the ingress does not route it."""
        path = path.split("?", 1)[0]
        if not self.base_href:
            return path
        return path[len(self.base_href) :] if path.startswith(self.base_href + "/") else None

    def _next_version(self) -> str:
        with self._lock:
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


class _Refused(Exception):
    def __init__(self, status: int, code: int, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def _validate(state: ArgoServer, kind: str, obj: dict[str, Any]) -> None:
    """Argo's validate.CronWorkflow / WorkflowTemplate, played by the project's lint; like the real server,
    it sees the namespace's stored WorkflowTemplates (a workflowTemplateRef resolves against them)."""
    namespace = obj["metadata"]["namespace"]
    templates = [
        {"apiVersion": lint.API_VERSION, "kind": "WorkflowTemplate", **template}
        for (plural, ns, name), template in state.stored.items()
        if plural == "workflow-templates"
        and ns == namespace
        and not (kind == "WorkflowTemplate" and name == obj["metadata"].get("name"))  # not its old self
    ]
    findings = lint.lint_documents([{"apiVersion": lint.API_VERSION, "kind": kind, **obj}, *templates], kind)
    if findings := [finding for finding in findings if finding.is_error]:
        raise _Refused(400, 3, "; ".join(f"{finding.where}: {finding.message}" for finding in findings))


def _check_instance(state: ArgoServer, obj: dict[str, Any]) -> None:
    """util/instanceid Validate: the object carries exactly this server's instance ID (or none, if none)."""
    labels = (obj.get("metadata") or {}).get("labels") or {}
    if labels.get(INSTANCE_LABEL) != state.instance_id:
        raise _Refused(400, 3, f"'{obj['metadata'].get('name')}' is not managed by the current Argo Server")


def _api(state: ArgoServer, method: str, path: str, body: Any) -> dict[str, Any]:
    """The answer to an authorized API call; raises _Refused."""
    if method == "GET" and path == "/api/v1/version":
        return version_answer(state.argo_version)
    route = _ROUTE.match(path)
    if route is None or route["plural"] not in KINDS:
        raise _Refused(404, 5, "Not Found")
    plural, namespace, path_name = route["plural"], route["namespace"], route["name"]
    kind, body_field = KINDS[plural]
    resource = f"{plural.replace('-', '')}.argoproj.io"
    if method == "GET" and path_name:
        current = state.stored.get((plural, namespace, path_name))
        if current is None:
            raise _Refused(404, 5, f'{resource} "{path_name}" not found')
        _check_instance(state, current)
        return current
    if method not in ("POST", "PUT") or (method == "POST") == bool(path_name):
        raise _Refused(405, 12, "Method Not Allowed")
    obj = (body or {}).get(body_field)
    if not isinstance(obj, dict):
        raise _Refused(400, 3, f"{kind} was not found in the request body")
    metadata = obj.setdefault("metadata", {})
    name = metadata.get("name", "")  # from the body: the path's {name} is not used
    if metadata.setdefault("namespace", namespace) != namespace:
        raise _Refused(
            400, 3, "the namespace of the provided object does not match the namespace sent on the request"
        )
    key = (plural, namespace, name)
    if method == "POST":
        labels = metadata.setdefault("labels", {})
        if state.instance_id:
            labels[INSTANCE_LABEL] = state.instance_id
        else:
            labels.pop(INSTANCE_LABEL, None)
        _validate(state, kind, obj)
        if key in state.stored:
            raise _Refused(409, 6, f'{resource} "{name}" already exists')
    else:
        if kind == "WorkflowTemplate":
            _check_instance(state, obj)
        current = state.stored.get(key)
        if current is None:
            raise _Refused(404, 5, f'{resource} "{name}" not found')
        _check_instance(state, current)
        _validate(state, kind, obj)
        given = metadata.get("resourceVersion")
        if not given:
            raise _Refused(
                400,
                3,
                f'{kind} "{name}" is invalid: metadata.resourceVersion: Invalid value: 0x0: '
                "must be specified for an update",
            )
        if given != current["metadata"]["resourceVersion"]:
            raise _Refused(
                409,
                6,
                f'Operation cannot be fulfilled on {resource} "{name}": the object has been '
                "modified; please apply your changes to the latest version and try again",
            )
    metadata["resourceVersion"] = state._next_version()
    state.stored[key] = obj
    return obj


def _handler(state: ArgoServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, as the real server: submit must reuse one connection

        def log_message(self, *args: Any) -> None:  # keep pytest output clean
            pass

        def setup(self) -> None:  # one handler per connection
            super().setup()
            with state._lock:
                state.connections += 1

        def _send(self, status: int, data: bytes, content_type: str) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _handle(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            body = json.loads(raw) if raw else None
            state.requests.append(
                Request(self.command, self.path, dict(self.headers.items()), copy.deepcopy(body))
            )
            inner = state._inner(self.path)
            if inner is None:
                self._send(404, b"default backend - 404", "text/plain")
                return
            if not inner.startswith("/api/"):
                self._send(200, INDEX_HTML, "text/html; charset=utf-8")
                return
            try:
                if state.token and self.headers.get("Authorization") != f"Bearer {state.token}":
                    raise _Refused(
                        401, 16, "token not valid. see https://argo-workflows.readthedocs.io/en/latest/faq/"
                    )
                status, answer = 200, _api(state, self.command, inner, body)
            except _Refused as refused:
                status, answer = refused.status, {"code": refused.code, "message": refused.message}
            self._send(status, json.dumps(answer).encode(), "application/json")

        do_GET = do_POST = do_PUT = do_DELETE = _handle  # http.server's naming

    return Handler


def _self_signed(directory: Path) -> tuple[Path, Path]:
    cert, key = directory / "cert.pem", directory / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
         "-keyout", str(key), "-out", str(cert), "-days", "1", "-subj", "/CN=127.0.0.1",
         "-addext", "subjectAltName=IP:127.0.0.1"],
        check=True, capture_output=True, timeout=60,
    )  # fmt: skip
    return cert, key


@contextmanager
def argo_server(
    token: str | None = None, instance_id: str | None = None, base_href: str = "", tls: bool = False
) -> Iterator[ArgoServer]:
    state = ArgoServer(token=token, instance_id=instance_id, base_href=base_href.rstrip("/"))
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(state))
    with tempfile.TemporaryDirectory() as tmp:
        if tls:
            cert, key = _self_signed(Path(tmp))
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(cert, key)
            server.socket = context.wrap_socket(server.socket, server_side=True)
            state.cert_file = cert
        state.address = f"127.0.0.1:{server.server_address[1]}"
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            yield state
        finally:
            server.shutdown()
            server.server_close()
            thread.join(timeout=5)

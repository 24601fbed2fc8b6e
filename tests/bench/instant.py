"""A chronicle that answers at once: GET 404 (nothing stored), POST 201 after reading the body.

Run beside the stand-in chronicle, it splits the report step's time into the step's own work and
the time the stand-in chronicle takes to validate and store a big note (pure-Python validation of
every task, as the real service's pydantic models do).
"""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _answer(self, status: int, payload: dict[str, Any]) -> None:
        body = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:
        self._answer(404, {"detail": "No daily scrum reports found for the given criteria."})

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self._answer(
            201, {"message": "Daily scrum report recorded successfully", "note_id": str(uuid.uuid4())}
        )


@contextmanager
def instant_chronicle() -> Iterator[str]:
    """Serve on 127.0.0.1 (ephemeral port) for the duration; yields the base URL."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()

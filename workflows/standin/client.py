"""The test-side API of the stand-in services (docs/standin.md): starts `python -m workflows.standin`,
drives its admin API through any service that is up, so faults can be queued for one that is down."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import threading
from pathlib import Path
from typing import IO, Any

import requests

from workflows.standin import SERVICES

REPO_ROOT = Path(__file__).resolve().parents[2]
HTTP_TIMEOUT = 10.0  # seconds, every admin request
START_TIMEOUT = 30.0


class StandInError(RuntimeError):
    """The stand-in could not be started or driven."""


class StandIn:
    """A running `python -m workflows.standin` process and its four service URLs."""

    SERVICES: tuple[str, ...] = tuple(SERVICES)

    def __init__(self, process: subprocess.Popen[str], urls: dict[str, str], stderr: IO[str]) -> None:
        self.process = process
        self.urls: dict[str, str] = urls  # env variable name -> base URL
        self._stderr = stderr
        self._http = requests.Session()
        self._http.trust_env = False  # never send 127.0.0.1 traffic to an HTTP(S)_PROXY

    @classmethod
    def start(
        cls,
        db_path: str | os.PathLike[str] | None = None,
        *,
        timeout: float = START_TIMEOUT,
        fleet: int = 0,
        sprints_to_today: bool = False,
    ) -> StandIn:
        """Launch the stand-in with cwd = repo root and wait for its READY line (`fleet`: the
        number of extra projects FLEET-0001.., `--fleet`; `sprints_to_today`: `--sprints-to-today`)."""
        command = [sys.executable, "-m", "workflows.standin", "--fleet", str(fleet)]
        command += ["--sprints-to-today"] if sprints_to_today else []
        if db_path is not None:
            command += ["--db", str(db_path)]
        # stderr goes to a file: a pipe nobody reads would block the services once full.
        # It lives as long as the process (closed by stop()), hence no `with`.
        stderr = tempfile.TemporaryFile(mode="w+", prefix="stand-in-", suffix=".log")  # noqa: SIM115
        process = subprocess.Popen(
            command, cwd=REPO_ROOT, stdout=subprocess.PIPE, stderr=stderr, stdin=subprocess.DEVNULL, text=True
        )
        assert process.stdout is not None
        urls: dict[str, str] = {}
        timer = threading.Timer(timeout, process.kill)  # a start that hangs ends in EOF below
        timer.start()
        try:
            for line in process.stdout:
                if line == "READY\n":
                    return cls(process, urls, stderr)
                name, _, value = line.rstrip("\n").partition("=")
                urls[name] = value
        finally:
            timer.cancel()
        _terminate(process)
        stderr.seek(0)
        raise StandInError(
            f"`{' '.join(command)}` ended before READY (within {timeout}s); stderr:\n{stderr.read()[-4000:]}"
        )

    def stop(self) -> None:
        """SIGTERM, wait for the clean exit (kill after 10 s)."""
        self._http.close()
        _terminate(self.process)
        self._stderr.close()

    def __enter__(self) -> StandIn:
        return self

    def __exit__(self, *_: object) -> None:
        self.stop()

    def url(self, service: str) -> str:
        """Base URL of "daily-scrum", "sprint", "project" or "chronicle"."""
        if service not in SERVICES:
            raise ValueError(f"unknown service {service!r}; expected one of {', '.join(SERVICES)}")
        return self.urls[SERVICES[service]]

    def env(self) -> dict[str, str]:
        """A copy of os.environ plus the four *_SERVICE_URL variables, for a step subprocess."""
        return {**os.environ, **self.urls}

    # --- admin API --------------------------------------------------------------------------------
    def fault(self, service: str, kind: str, count: int = 1, **kw: Any) -> dict[str, Any]:
        """Make the next `count` matching requests of `service` fail (kinds and options: docs/standin.md)."""
        spec = {"kind": kind, "count": count, **kw}
        return self._admin("POST", f"/services/{service}/faults", json=spec)["fault"]

    def faults(self, service: str) -> list[dict[str, Any]]:
        """The faults still pending for `service`."""
        return self._admin("GET", f"/services/{service}/faults")

    def clear_faults(self, service: str | None = None) -> None:
        """Drop the pending faults of one service, or of all four."""
        for name in [service] if service else self.SERVICES:
            self._admin("DELETE", f"/services/{name}/faults")

    def requests(
        self, service: str, method: str | None = None, path_prefix: str | None = None
    ) -> list[dict[str, Any]]:
        """The non-admin requests `service` got, oldest first: {"method", "path", "query", "status", "at"}."""
        params = {"method": method, "path_prefix": path_prefix}  # requests leaves out the None ones
        return self._admin("GET", f"/services/{service}/requests", params=params)

    def clear_requests(self, service: str | None = None) -> None:
        for name in [service] if service else self.SERVICES:
            self._admin("DELETE", f"/services/{name}/requests")

    def reset(self) -> None:
        """Reseed the database, clear every fault and request log, bring every service up."""
        self._admin("POST", "/reset")

    def notes(self, **query: str) -> list[dict[str, Any]]:
        """The notes the chronicle stored, oldest first, filtered like its GET (project_id=, sprint_id=,
        daily_scrum_date=), each with its `note_id` and `created_at`."""
        return self._admin("GET", "/notes", params=query)

    def states(self) -> dict[str, dict[str, Any]]:
        """{service: {"url", "up"}} as the stand-in sees it."""
        return self._admin("GET", "/services")

    def down(self, service: str) -> None:
        """Close the service's listening socket (and open connections): connection refused."""
        self.url(service)  # ValueError for an unknown name
        if [name for name, state in self.states().items() if state["up"]] == [service]:
            raise StandInError(f"{service} is the last service up; admin requests need one running")
        # Through another service: the answer then comes after the socket is closed.
        self._admin("POST", f"/services/{service}/down", avoid=service)

    def up(self, service: str) -> None:
        """Listen again on the same port."""
        self.url(service)  # ValueError for an unknown name
        self._admin("POST", f"/services/{service}/up")

    stop_service = down
    start_service = up

    def _admin(self, method: str, path: str, avoid: str | None = None, **kw: Any) -> Any:
        """Send an admin request to the first service (but `avoid`) that answers."""
        order = [name for name in self.SERVICES if name != avoid]
        for name in order:
            try:
                answer = self._http.request(
                    method, f"{self.url(name)}/_stand-in{path}", timeout=HTTP_TIMEOUT, **kw
                )
            except requests.ConnectionError:
                continue
            if answer.status_code >= 400:
                raise StandInError(f"{method} /_stand-in{path} -> {answer.status_code}: {answer.text}")
            return answer.json()
        raise StandInError(f"no stand-in service answered {method} /_stand-in{path} (refused: {order})")


def _terminate(process: subprocess.Popen[str]) -> None:
    process.terminate()  # SIGTERM, unless it has already ended
    try:
        process.wait(10.0)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()

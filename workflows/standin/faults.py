"""Fault injection: what a service does to its next N matching requests instead of answering.

Kinds (the failure modes the job's HTTP client must survive or report):
- `status`      answer `status` (default 500) with `{"detail": "Injected fault: ..."}`, and a
                `Retry-After: <retry_after>` header when `retry_after` (seconds) is given
- `delay`       sleep `seconds` (default 1.0), then answer normally (for client timeouts)
- `malformed`   200 with a truncated, invalid JSON body
- `drop`        close the connection without any answer
- `wrong_shape` 200 with valid JSON of the wrong shape: `{"unexpected": true}`
- `answer`      answer `status` with `body` (any JSON), e.g. status=200, body={"sprint_id": "../x"}
A fault may be limited to a path prefix and/or a method, and may first let `skip` matching requests
through (e.g. skip=1: prepare's preflight GET passes, the fetch step's GET of the same path fails).
The first matching fault is consumed.
"""

from __future__ import annotations

import itertools
import threading
from dataclasses import asdict, dataclass
from typing import Any

from workflows.standin import validation as v

KINDS = ("status", "delay", "malformed", "drop", "wrong_shape", "answer")

SPEC = v.model(
    "Fault",
    {
        "kind": v.Field(v.literal(*KINDS)),
        "count": v.Field(v.bounded(v.integer, ge=1), required=False, default=1),
        "status": v.Field(v.bounded(v.integer, ge=100, le=599), required=False, default=500),
        "seconds": v.Field(v.bounded(v.number, ge=0), required=False, default=1.0),
        "path": v.Field(v.optional(v.string), required=False),
        "method": v.Field(v.optional(v.string), required=False),
        "skip": v.Field(v.bounded(v.integer, ge=0), required=False, default=0),
        "retry_after": v.Field(v.optional(v.bounded(v.integer, ge=0)), required=False),
        "body": v.Field(lambda value, loc, errors: value, required=False),  # any JSON, for `answer`
    },
    top_level=True,
    forbid_extra=True,  # a typo ("second") must not silently become a default
)


@dataclass
class Fault:
    id: int
    kind: str
    remaining: int
    status: int
    seconds: float
    path: str | None
    method: str | None
    skip: int  # matching requests still let through before the fault applies
    retry_after: int | None
    body: Any

    def matches(self, method: str, path: str) -> bool:
        return (self.method is None or self.method.upper() == method) and (
            self.path is None or path.startswith(self.path)
        )

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class FaultBook:
    """The pending faults of one service (thread-safe: requests are served concurrently)."""

    def __init__(self) -> None:
        self._faults: list[Fault] = []
        self._lock = threading.Lock()
        self._ids = itertools.count(1)

    def add(self, spec: Any) -> Fault:
        """Validate a fault spec (raises validation.Invalid) and queue it."""
        data = v.validate(SPEC, spec, ("body",))
        fault = Fault(
            id=next(self._ids),
            kind=data["kind"],
            remaining=data["count"],
            status=data["status"],
            seconds=data["seconds"],
            path=data["path"],
            method=data["method"].upper() if data["method"] else None,
            skip=data["skip"],
            retry_after=data["retry_after"],
            body=data["body"],
        )
        with self._lock:
            self._faults.append(fault)
        return fault

    def take(self, method: str, path: str) -> Fault | None:
        """Consume one use of the first fault matching this request, if any."""
        with self._lock:
            for fault in self._faults:
                if fault.matches(method, path):
                    if fault.skip:
                        fault.skip -= 1
                        return None
                    fault.remaining -= 1
                    if fault.remaining == 0:
                        self._faults.remove(fault)
                    return fault
        return None

    def pending(self) -> list[dict[str, Any]]:
        with self._lock:
            return [f.to_dict() for f in self._faults]

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()

"""Fault injection: what a service does to its next N matching requests instead of answering
(the kinds: docs/standin.md, "Admin API")."""

from __future__ import annotations

import itertools
import threading
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, PrivateAttr


class Fault(BaseModel):
    """A fault as posted to /_stand-in/faults; `remaining` is posted as `count`."""

    model_config = ConfigDict(extra="forbid")  # a typo ("second") must not silently become a default

    kind: Literal["status", "delay", "malformed", "drop", "wrong_shape", "answer"]
    remaining: int = Field(1, ge=1, validation_alias="count")
    status: int = Field(500, ge=100, le=599)
    seconds: float = Field(1.0, ge=0)
    path: str | None = None  # a prefix
    method: Annotated[str, AfterValidator(lambda m: m.upper() or None)] | None = None
    skip: int = Field(0, ge=0)  # matching requests still let through before the fault applies
    retry_after: int | None = Field(None, ge=0)
    body: Any = None  # any JSON, for `answer`
    _id: int = PrivateAttr(0)

    def matches(self, method: str, path: str) -> bool:
        return (self.method is None or self.method == method) and (
            self.path is None or path.startswith(self.path)
        )

    def to_dict(self) -> dict[str, Any]:
        return {"id": self._id, **self.model_dump()}


class FaultBook:
    """The pending faults of one service (thread-safe: requests are served concurrently)."""

    def __init__(self) -> None:
        self._faults: list[Fault] = []
        self._lock = threading.Lock()
        self._ids = itertools.count(1)

    def add(self, fault: Fault) -> Fault:
        with self._lock:
            fault._id = next(self._ids)
            self._faults.append(fault)
        return fault

    def take(self, method: str, path: str) -> Fault | None:
        """Consume one use of the first fault matching this request, if any."""
        with self._lock:
            fault = next((f for f in self._faults if f.matches(method, path)), None)
            if fault is None:
                return None
            if fault.skip:
                fault.skip -= 1
                return None
            fault.remaining -= 1
            if fault.remaining == 0:
                self._faults.remove(fault)
            return fault

    def pending(self) -> list[dict[str, Any]]:
        with self._lock:
            return [f.to_dict() for f in self._faults]

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()

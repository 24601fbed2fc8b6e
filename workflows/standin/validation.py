"""Request validation with pydantic, answering FastAPI's 422 (`{"detail": [{"type", "loc", "msg",
"input", "ctx"?}]}`, every error at once, lax mode) as the real services do."""

from __future__ import annotations

import json
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

M = TypeVar("M", bound=BaseModel)


class HTTPError(Exception):
    """Answer `status` with `{"detail": detail}`, like FastAPI's HTTPException (422: the error list)."""

    def __init__(self, status: int, detail: Any) -> None:
        super().__init__(status, detail)
        self.status = status
        self.detail = detail


def parse_json_body(body: bytes) -> Any:
    """The request body as JSON, or the 422 FastAPI answers for a missing or undecodable one."""
    if not body.strip():
        raise HTTPError(422, [{"type": "missing", "loc": ["body"], "msg": "Field required", "input": None}])
    try:
        return json.loads(body)
    except json.JSONDecodeError as exc:
        pos, reason = exc.pos, exc.msg
    except UnicodeDecodeError as exc:
        pos, reason = exc.start, exc.reason
    error = {"type": "json_invalid", "loc": ["body", pos], "msg": "JSON decode error", "input": {}}
    raise HTTPError(422, [{**error, "ctx": {"error": reason}}])


def validate(model: type[M], value: Any, where: str) -> M:
    """`value` as a `model`, validated as FastAPI does (`where`: "body" or "query", the loc's head)."""
    try:
        return model.model_validate(value, from_attributes=True)
    except ValidationError as exc:
        errors = exc.errors(include_url=False)
        raise HTTPError(422, [{**e, "loc": [where, *e["loc"]]} for e in errors]) from None

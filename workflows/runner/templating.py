"""`{{...}}` substitution, with the same simple tags as Argo (expression tags `{{=...}}` are refused).

The manifest builder refuses the variables the runner cannot provide before anything runs (TAG);
the executor uses `substitute()` with a mapping of the values known at that point.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

TAG = re.compile(r"\{\{(.*?)\}\}", re.DOTALL)


class TemplateError(ValueError):
    """A variable that cannot be resolved, or an unsupported tag."""


def substitute(text: str, values: Mapping[str, str], where: str = "") -> str:
    """Replace every tag with its value; a tag without a value is an error (never left in place)."""

    def replace(match: re.Match[str]) -> str:
        inner = match.group(1)
        if inner.startswith("="):
            raise TemplateError(f"expression tag {match.group(0)!r} is not supported locally{_at(where)}")
        name = inner.strip()
        if name not in values:
            raise TemplateError(f"unresolved variable {{{{{name}}}}}{_at(where)}")
        return values[name]

    return TAG.sub(replace, text)


def _at(where: str) -> str:
    return f" at {where}" if where else ""

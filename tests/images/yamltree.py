"""Finding values in a parsed YAML tree (the golden manifest), wherever they sit."""

from __future__ import annotations

from typing import Any


def images_in(node: Any) -> list[str]:
    """Every string under an `image` key anywhere in a YAML tree (containers, scripts, init, sidecars)."""
    found: list[str] = []
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "image" and isinstance(value, str):
                found.append(value)
            else:
                found += images_in(value)
    elif isinstance(node, list):
        for item in node:
            found += images_in(item)
    return found


def find_key(node: Any, key: str) -> list[Any]:
    """Every value under `key` anywhere in a YAML tree."""
    found: list[Any] = []
    if isinstance(node, dict):
        for name, value in node.items():
            found += [value] if name == key else find_key(value, key)
    elif isinstance(node, list):
        for item in node:
            found += find_key(item, key)
    return found

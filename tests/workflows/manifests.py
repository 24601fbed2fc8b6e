"""Helpers shared by the manifest tests: the golden documents and lookups into them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from workflows.render import GOLDEN


def golden_documents(path: Path = GOLDEN) -> list[dict[str, Any]]:
    """The documents of a golden file: by default the main one (Argo 3.7+)."""
    return [doc for doc in yaml.safe_load_all(path.read_text(encoding="utf-8")) if doc is not None]


def templates(document: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {t["name"]: t for t in document["spec"]["workflowSpec"]["templates"]}


def dag_tasks(document: dict[str, Any]) -> dict[str, dict[str, Any]]:
    entry = document["spec"]["workflowSpec"]["entrypoint"]
    return {t["name"]: t for t in templates(document)[entry]["dag"]["tasks"]}


def env(template: dict[str, Any]) -> dict[str, str]:
    return {e["name"]: e["value"] for e in template["container"].get("env", [])}

"""Helpers shared by the manifest tests: the golden documents and lookups into them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from workflows.render import GOLDEN


def golden_documents(path: Path = GOLDEN) -> list[dict[str, Any]]:
    return [doc for doc in yaml.safe_load_all(path.read_text(encoding="utf-8")) if doc is not None]


def by_kind(documents: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [doc for doc in documents if doc["kind"] == kind]


def workflow_template(documents: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    [template] = by_kind(documents if documents is not None else golden_documents(), "WorkflowTemplate")
    return template


def templates(template: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {t["name"]: t for t in template["spec"]["templates"]}


def dag_tasks(template: dict[str, Any]) -> dict[str, dict[str, Any]]:
    entry = template["spec"]["entrypoint"]
    return {t["name"]: t for t in templates(template)[entry]["dag"]["tasks"]}


def env(template: dict[str, Any]) -> dict[str, str]:
    return {e["name"]: e["value"] for e in template["container"].get("env", [])}

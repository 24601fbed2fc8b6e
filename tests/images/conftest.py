"""Shared fixtures of the image tests: the parsed Dockerfile and the golden manifest's images."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from images import DOCKERFILE, REPO_ROOT, dockerfile

MANIFEST = REPO_ROOT / "workflows" / "manifests" / "run-dailyscrum.yaml"


@pytest.fixture(scope="session")
def stages() -> list[dockerfile.Stage]:
    return dockerfile.read(DOCKERFILE)


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


@pytest.fixture(scope="session")
def manifest_images() -> list[str]:
    """The image references the golden manifest pulls. A missing manifest fails: it is part of the repo."""
    path = Path(MANIFEST)
    assert path.is_file(), f"the golden manifest {path} is missing (make render writes it)"
    documents = [doc for doc in yaml.safe_load_all(path.read_text(encoding="utf-8")) if doc]
    refs = [ref for doc in documents for ref in images_in(doc)]
    assert refs, f"{path} names no image at all"
    return refs

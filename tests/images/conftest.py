"""Shared fixtures of the image tests: the parsed Dockerfile and the golden manifest's images."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from images.__main__ import DOCKERFILE, REPO_ROOT
from tests.images import dockerfile
from tests.images.yamltree import images_in

MANIFEST = REPO_ROOT / "workflows" / "cluster" / "manifests" / "dailyscrum.yaml"


@pytest.fixture(scope="session")
def stages() -> list[dockerfile.Stage]:
    return dockerfile.read(DOCKERFILE)


@pytest.fixture(scope="session")
def manifest_documents() -> list[Any]:
    """The golden manifest's documents. A missing manifest fails: it is part of the repository."""
    path = Path(MANIFEST)
    assert path.is_file(), f"the golden manifest {path} is missing (make render writes it)"
    return [doc for doc in yaml.safe_load_all(path.read_text(encoding="utf-8")) if doc]


@pytest.fixture(scope="session")
def manifest_images(manifest_documents: list[Any]) -> list[str]:
    """The image references the golden manifest pulls."""
    refs = [ref for doc in manifest_documents for ref in images_in(doc)]
    assert refs, f"{MANIFEST} names no image at all"
    return refs

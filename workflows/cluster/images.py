"""Image references: the one place where the manifest and `make images` / `make push` agree on names."""

from __future__ import annotations

import tomllib
from importlib.metadata import version
from pathlib import Path

from steps.contract import StepSpec

DEFAULT_REGISTRY = "ghcr.io/dsm-platform"
PYPROJECT = Path(__file__).resolve().parents[2] / "pyproject.toml"


def default_tag() -> str:
    """The package version: pyproject.toml's in a checkout, so neither the golden manifest nor the images
    depend on whether (or how recently) the package was installed; the installed version otherwise."""
    if PYPROJECT.is_file():
        return str(tomllib.loads(PYPROJECT.read_text(encoding="utf-8"))["project"]["version"])
    return version("dsm-dailyscrum")


def image_ref(step: StepSpec, registry: str = DEFAULT_REGISTRY, tag: str | None = None) -> str:
    """`<registry>/<image>:<tag>` for a step; an empty registry gives a bare local name."""
    name = f"{registry.rstrip('/')}/{step.image}" if registry else step.image
    return f"{name}:{tag or default_tag()}"

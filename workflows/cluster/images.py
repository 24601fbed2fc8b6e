"""Image references: the one place where the manifest and `make images` / `make push` agree on names."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

from steps.contract import StepSpec

DEFAULT_REGISTRY = "ghcr.io/dsm-platform"


def default_tag() -> str:
    """The package version: an image built from this checkout is tagged like the manifest it ships with."""
    try:
        return version("dsm-dailyscrum")
    except PackageNotFoundError:  # running from a checkout that was never installed
        return "0.0.0-dev"


def image_ref(step: StepSpec, registry: str = DEFAULT_REGISTRY, tag: str | None = None) -> str:
    """`<registry>/<image>:<tag>` for a step; an empty registry gives a bare local name."""
    name = f"{registry.rstrip('/')}/{step.image}" if registry else step.image
    return f"{name}:{tag or default_tag()}"

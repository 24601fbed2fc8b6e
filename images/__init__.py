"""The step container images: one Dockerfile target per step, only that step's dependencies.

`python -m images build|push` builds and pushes them under the names the manifest uses
(`workflows.cluster.images.image_ref`). The helper modules here (Dockerfile and requirement parsing, the
static import check) are what the tests in tests/images use to prove each image is complete and lean.
"""

from __future__ import annotations

from pathlib import Path

from steps.contract import StepSpec

IMAGES_DIR = Path(__file__).resolve().parent
REPO_ROOT = IMAGES_DIR.parent  # the build context: .dockerignore at its root keeps all but steps/ out
DOCKERFILE = IMAGES_DIR / "Dockerfile"
REQUIREMENTS_BASE = IMAGES_DIR / "requirements-base.txt"
REQUIREMENTS_REPORT = IMAGES_DIR / "requirements-report.txt"


def requirements_file(step: StepSpec) -> Path:
    """The exact pins installed in a step's image: pandas only where the contract says the step needs it."""
    return REQUIREMENTS_REPORT if step.needs_pandas else REQUIREMENTS_BASE

"""The step container images: one Dockerfile target per step, only that step's dependencies.

`python -m images build|push` builds and pushes them under the names the manifest uses
(`workflows.cluster.images.image_ref`). The tests in tests/images prove each image is complete and lean.
"""

from __future__ import annotations

from pathlib import Path

IMAGES_DIR = Path(__file__).resolve().parent
REPO_ROOT = IMAGES_DIR.parent  # the build context: .dockerignore at its root keeps all but steps/ out
DOCKERFILE = IMAGES_DIR / "Dockerfile"

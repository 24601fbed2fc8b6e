"""Benchmark 6: a fleet. 1,000 projects render (target <= 5 s, <= 5 MB) and lint (<= 10 s), each
from a fresh process, as `make render` and `make lint` run them."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.bench import measure, results
from workflows.runner.executor import base_environment

pytestmark = pytest.mark.bench

PROJECTS = 1000
TARGET_RENDER_S, TARGET_RENDER_MB, TARGET_LINT_S = 5.0, 5.0, 10.0


def fleet_file(directory: Path, count: int, top: str = "") -> Path:
    """A projects.toml of `count` projects with only an `id`, as a platform would start one."""
    path = directory / "projects.toml"
    path.write_text(top + "".join(f'[[projects]]\nid = "P{n:04d}"\n' for n in range(count)), encoding="utf-8")
    return path


def test_render_and_lint_a_thousand_projects(tmp_path: Path) -> None:
    config, manifest = fleet_file(tmp_path, PROJECTS), tmp_path / "fleet.yaml"
    env = base_environment()
    render = [measure.PYTHON, "-m", "workflows", "render", "--config", str(config), "-o", str(manifest)]
    renders = measure.repeat(3, lambda: measure.run(render, env))
    assert all(s.code == 0 for s in renders), renders[-1].stderr[-2000:]
    lints = measure.repeat(
        3, lambda: measure.run([measure.PYTHON, "-m", "workflows", "lint", str(manifest)], env)
    )
    assert all(s.code == 0 for s in lints), lints[-1].stdout[-2000:]
    results.record(
        "fleet.render_s",
        f"fleet: render {PROJECTS} projects",
        [s.seconds for s in renders],
        "s",
        TARGET_RENDER_S,
    )
    results.record(
        "fleet.manifest_mb",
        f"fleet: manifest of {PROJECTS} projects",
        manifest.stat().st_size / 1e6,
        "MB",
        TARGET_RENDER_MB,
    )
    results.record(
        "fleet.lint_s", f"fleet: lint {PROJECTS} projects", [s.seconds for s in lints], "s", TARGET_LINT_S
    )

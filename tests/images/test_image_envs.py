"""Each image's dependency set, installed for real: enough to run its step, and nothing more.

Without a Docker engine, the closest thing to an image is a fresh virtual env with exactly that
image's requirement file installed (pip from PyPI) and a directory holding only a copy of steps/,
as the Dockerfile lays it out. The venvs are cached under the temp dir, keyed by the Python version
and a hash of the requirement files, so only the first run pays for the installs.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from images.__main__ import REPO_ROOT
from steps import contract
from steps.contract import STEPS, StepSpec
from tests.images.requirements import (
    REQUIREMENTS_BASE,
    REQUIREMENTS_REPORT,
    content_hash,
    normalize,
    read_pins,
    requirements_file,
)
from workflows.standin.client import StandIn

VENV_ROOT = Path(tempfile.gettempdir()) / "dsm-dailyscrum-image-venvs"
INSTALL_TIMEOUT_S = 600


def image_venv(requirements: Path) -> Path:
    """A venv with exactly `requirements` installed, built once per content and Python version."""
    key = f"py{sys.version_info.major}{sys.version_info.minor}-{content_hash(requirements)[:16]}"
    venv = VENV_ROOT / key
    VENV_ROOT.mkdir(parents=True, exist_ok=True)
    # A lock, not a rename: a venv's scripts hold its absolute path. Two test runs at once wait here.
    with open(VENV_ROOT / f"{key}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        complete = venv / ".complete"
        if not complete.exists():
            shutil.rmtree(venv, ignore_errors=True)
            subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
            subprocess.run(
                [str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet", "--no-input",
                 "--disable-pip-version-check", "-r", str(requirements)],
                check=True, timeout=INSTALL_TIMEOUT_S,
            )  # fmt: skip
            complete.write_text(requirements.name)
    return venv


@pytest.fixture(scope="session")
def venvs() -> dict[Path, Path]:
    return {path: image_venv(path) for path in (REQUIREMENTS_BASE, REQUIREMENTS_REPORT)}


@pytest.fixture(scope="session")
def app_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """What the Dockerfile copies to /app: steps/ and nothing else (no workflows/, no tests/)."""
    app = tmp_path_factory.mktemp("app")
    shutil.copytree(REPO_ROOT / "steps", app / "steps", ignore=shutil.ignore_patterns("__pycache__"))
    return app


def image_env(app: Path, extra: dict[str, str] | None = None) -> dict[str, str]:
    """The container's environment: the Dockerfile's ENV, nothing inherited from the test run."""
    env = {
        "PATH": os.defpath,
        "PYTHONPATH": str(app),
        "PYTHONDONTWRITEBYTECODE": "1",
        "PYTHONUNBUFFERED": "1",
        "PYTHONNOUSERSITE": "1",
        "HOME": str(app),
    }
    env.update(extra or {})
    return env


def run_in_image(
    venvs: dict[Path, Path], app: Path, step: StepSpec, args: list[str], env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    python = venvs[requirements_file(step)] / "bin" / "python"
    command = [str(python), *step.command[1:], *args]  # the ENTRYPOINT, with the venv's python
    return subprocess.run(
        command, cwd=app, env=image_env(app, env), capture_output=True, text=True, timeout=120, check=False
    )


@pytest.mark.parametrize("path", [REQUIREMENTS_BASE, REQUIREMENTS_REPORT], ids=lambda p: p.name)
def test_venv_holds_exactly_the_pins(venvs: dict[Path, Path], path: Path) -> None:
    """The pins are the whole closure: pip installed nothing that the file does not name, and agrees."""
    python = str(venvs[path] / "bin" / "python")
    frozen = subprocess.run(
        [python, "-m", "pip", "freeze", "--disable-pip-version-check"],
        capture_output=True, text=True, check=True, timeout=60,
    ).stdout.split()  # fmt: skip
    installed = {normalize(name) + "==" + version for name, version in (line.split("==") for line in frozen)}
    assert installed == {pin.spec for pin in read_pins(path)}
    check = subprocess.run([python, "-m", "pip", "check"], capture_output=True, text=True, timeout=60)
    assert check.returncode == 0, check.stdout


def test_base_venv_cannot_import_pandas(venvs: dict[Path, Path], app_dir: Path) -> None:
    # The venvs are isolated from the test run's packages, so "enough" below means something.
    python = venvs[REQUIREMENTS_BASE] / "bin" / "python"
    result = subprocess.run(
        [str(python), "-c", "import pandas"], cwd=app_dir, env=image_env(app_dir),
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert result.returncode != 0
    assert "No module named 'pandas'" in result.stderr


@pytest.mark.parametrize("step", STEPS, ids=lambda step: step.image)
def test_step_help_runs_in_its_image(venvs: dict[Path, Path], app_dir: Path, step: StepSpec) -> None:
    result = run_in_image(venvs, app_dir, step, ["--help"])
    assert result.returncode == 0, result.stderr
    outs = (*step.output_artifacts, *step.carried, *step.output_parameters)
    options = [contract.option("in", n) for n in step.inputs] + [contract.option("out", n) for n in outs]
    for option in options:
        assert option in result.stdout


def outputs(step: StepSpec, out: Path) -> list[str]:
    """The step's path options, pointing where the manifest points them (/work/in, /work/out)."""
    args: list[str] = []
    for name in step.inputs:
        args += [contract.option("in", name), str(out / contract.ARTIFACT_FILES[name])]
    for name in (*step.output_artifacts, *step.carried):  # carried: written, none read (a first run)
        args += [contract.option("out", name), str(out / contract.ARTIFACT_FILES[name])]
    for name in step.output_parameters:
        args += [contract.option("out", name), str(out / name)]
    return args


def test_the_daily_scrum_runs_step_by_step_in_the_image_envs(
    venvs: dict[Path, Path], app_dir: Path, stack: StandIn, tmp_path: Path
) -> None:
    """A smoke run of every image against the stand-in services, in DAG order, as the workflow would.

    Every code path a normal run takes is imported and executed in the image's environment, so a
    dependency missing from an image (including one imported lazily) fails here.
    """
    out = tmp_path / "work"
    out.mkdir()
    env = {
        **stack.urls,  # only the service URLs: the container gets no other variable of this run
        contract.ENV_PROJECT_ID: "GEM-001",
        contract.ENV_SPRINT_ID: "GEM-001-S01",
        contract.ENV_REPORT_DATE: "2026-11-27",
        contract.ENV_FORCE: "false",
        contract.ENV_SCHEDULE_TIMEZONE: "Europe/Paris",  # needs a time zone database in the image
        contract.ENV_RUN_CREATED_AT: "2026-11-27T13:00:00Z",
    }
    for step in STEPS:
        result = run_in_image(venvs, app_dir, step, outputs(step, out), env)
        assert result.returncode == 0, f"{step.name} exited {result.returncode}:\n{result.stderr}"
        if step.name == "prepare":
            assert (out / "proceed").read_text().strip() == "true", (out / "reason").read_text()
    report = json.loads((out / contract.ARTIFACT_FILES["report"]).read_text())
    assert report["sprint_id"] == "GEM-001-S01"
    assert (out / "note_id").read_text().strip()
    assert (out / contract.ARTIFACT_FILES["report-html"]).stat().st_size > 0
    assert len(stack.requests("chronicle", method="POST")) == 1

"""`python -m images build|push`: the commands it runs, and its message when no engine is there."""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

from images.__main__ import REPO_ROOT, git, source_url
from steps.contract import STEPS
from workflows.cluster.images import DEFAULT_REGISTRY, default_tag, image_ref


def run_images(*args: str, path: str | None = None) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ)
    if path is not None:
        env["PATH"] = path
    return subprocess.run(
        [sys.executable, "-m", "images", *args],
        cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip


def test_dry_run_builds_every_target_under_the_manifest_names() -> None:
    result = run_images("build", "--dry-run")
    assert result.returncode == 0, result.stderr
    commands = [shlex.split(line) for line in result.stdout.splitlines()]
    assert len(commands) == len(STEPS)
    revision = git("rev-parse", "HEAD")
    assert re.fullmatch(r"[0-9a-f]{40}", revision)
    source = source_url(git("config", "--get", "remote.origin.url"))
    for step, command in zip(STEPS, commands, strict=True):
        ref = image_ref(step, DEFAULT_REGISTRY, default_tag())
        assert command == [
            "docker", "build", "--file", "images/Dockerfile", "--target", step.image,
            "--tag", ref, "--build-arg", f"VERSION={default_tag()}",
            "--build-arg", f"REVISION={revision}", "--build-arg", f"SOURCE={source}", ".",
        ]  # fmt: skip


def test_the_source_label_is_the_remote_as_a_browsable_url(tmp_path: Path) -> None:
    """Taken from the checkout's remote, never guessed; a remote nobody else can open gives none."""
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", "--depth", "1", f"file://{REPO_ROOT}", str(clone)], check=True)
    shutil.copytree(REPO_ROOT / "images", clone / "images", dirs_exist_ok=True)  # the code under test
    for remote, expected in (
        ("git@github.com:dsm-platform/dailyscrum.git", "https://github.com/dsm-platform/dailyscrum"),
        ("ssh://git@gitlab.example.com/dsm/daily-scrum.git", "https://gitlab.example.com/dsm/daily-scrum"),
        ("https://user:token@github.com/dsm/dailyscrum.git/", "https://github.com/dsm/dailyscrum"),
        ("/srv/git/dailyscrum.git", ""),
    ):
        subprocess.run(["git", "-C", str(clone), "remote", "set-url", "origin", remote], check=True)
        result = subprocess.run(
            [sys.executable, "-m", "images", "build", "--dry-run", "--image", "dailyscrum-report"],
            cwd=clone, capture_output=True, text=True, timeout=60, check=False,
        )  # fmt: skip
        assert result.returncode == 0, result.stderr
        assert f"SOURCE={expected}" in shlex.split(result.stdout), remote


def test_dry_run_push_with_registry_and_tag() -> None:
    result = run_images("push", "--registry", "registry.example.com/dsm/", "--tag", "2026.11.30", "--dry-run")
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        f"docker push registry.example.com/dsm/{step.image}:2026.11.30" for step in STEPS
    ]


def test_push_without_a_registry_is_refused() -> None:
    result = run_images("push", "--registry", "", "--dry-run")
    assert result.returncode == 2
    assert "push needs a registry" in result.stderr


def test_without_docker_it_says_so(tmp_path: Path) -> None:
    result = run_images("build", path=str(tmp_path))  # an empty PATH: no docker CLI
    assert result.returncode == 1
    assert "docker was not found on PATH" in result.stderr
    assert "--dry-run" in result.stderr


def fake_docker(directory: Path, engine_up: bool) -> Path:
    """A `docker` that logs its arguments; `docker info` fails like a CLI without a daemon."""
    log = directory / "calls.log"
    script = directory / "docker"
    info = (
        'echo 27.0.0; exit 0'
        if engine_up
        else 'echo "Cannot connect to the Docker daemon at unix:///var/run/docker.sock." >&2; exit 1'
    )
    script.write_text(
        "#!/bin/sh\n"
        f'if [ "$1" = info ]; then {info}; fi\n'
        f'printf "%s\\n" "$*" >> "{log}"\n'
        'case "$*" in *dailyscrum-fetch-tasks*) exit 7;; esac\n'
    )
    script.chmod(0o755)
    return log


def test_a_cli_without_engine_is_reported_before_any_build(tmp_path: Path) -> None:
    log = fake_docker(tmp_path, engine_up=False)
    result = run_images("build", path=f"{tmp_path}{os.pathsep}{os.environ['PATH']}")
    assert result.returncode == 1
    assert "no engine answers: Cannot connect to the Docker daemon" in result.stderr
    assert not log.exists(), "nothing is built when the engine is not there"


def test_builds_in_order_and_stops_at_the_first_failure(tmp_path: Path) -> None:
    log = fake_docker(tmp_path, engine_up=True)
    result = run_images("build", "--tag", "t1", path=f"{tmp_path}{os.pathsep}{os.environ['PATH']}")
    assert result.returncode == 7
    built = [line.split("--target ")[1].split()[0] for line in log.read_text().splitlines()]
    assert built == ["dailyscrum-prepare", "dailyscrum-simulate", "dailyscrum-fetch-tasks"]
    assert "exited 7" in result.stderr

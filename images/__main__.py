"""`python -m images build|push` (`make images`, `make push`): the images, named as the manifest does
(`workflows.cluster.images.image_ref`), so what is built is what the CronWorkflow pulls."""

from __future__ import annotations

import argparse
import re
import shlex
import shutil
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from urllib.parse import urlsplit

from steps.contract import STEPS, StepSpec
from workflows.cluster.images import DEFAULT_REGISTRY, default_tag, image_ref

IMAGES_DIR = Path(__file__).resolve().parent
REPO_ROOT = IMAGES_DIR.parent  # the build context: .dockerignore at its root keeps all but steps/ out
DOCKERFILE = IMAGES_DIR / "Dockerfile"
ENGINE_TIMEOUT_S = 20  # `docker info` answers in well under a second when an engine is there


def git(*args: str) -> str:
    """One line of git's answer about this checkout; "" when git, the repository or the value is missing."""
    try:
        result = subprocess.run(
            ["git", *args], cwd=REPO_ROOT, capture_output=True, text=True, timeout=10, check=False
        )
    except (OSError, subprocess.TimeoutExpired):
        return ""
    return result.stdout.strip() if result.returncode == 0 else ""


def source_url(remote: str) -> str:
    """The browsable https URL of a git remote (OCI `source`): scp-style and ssh:// become https,
    credentials and the .git suffix are dropped."""
    if match := re.fullmatch(r"(?:ssh://)?[\w.-]+@([\w.-]+)[:/](.+?)(?:\.git)?/?", remote):
        return f"https://{match.group(1)}/{match.group(2)}"
    parts = urlsplit(remote)
    if parts.scheme in ("http", "https") and parts.hostname:
        return f"https://{parts.hostname}{parts.path.removesuffix('/').removesuffix('.git')}"
    return ""  # a local path: nothing anyone else could open


def commands(action: str, steps: Sequence[StepSpec], registry: str, tag: str) -> list[list[str]]:
    if action == "push":
        return [["docker", "push", image_ref(step, registry, tag)] for step in steps]
    revision = git("rev-parse", "HEAD")
    source = source_url(git("config", "--get", "remote.origin.url"))
    return [
        [
            "docker", "build",
            "--file", str(DOCKERFILE.relative_to(REPO_ROOT)),
            "--target", step.image,
            "--tag", image_ref(step, registry, tag),
            "--build-arg", f"VERSION={tag}",
            "--build-arg", f"REVISION={revision}",
            "--build-arg", f"SOURCE={source}",
            ".",  # the context is the repository root (REPO_ROOT)
        ]
        for step in steps
    ]  # fmt: skip


def engine_problem() -> str | None:
    """Why docker commands cannot run here, or None when an engine answers."""
    if shutil.which("docker") is None:
        return (
            "docker was not found on PATH: building or pushing the images needs a Docker engine "
            "(install Docker, or run with --dry-run to print the commands)"
        )
    try:
        probe = subprocess.run(
            ["docker", "info", "--format", "{{.ServerVersion}}"],
            capture_output=True, text=True, timeout=ENGINE_TIMEOUT_S, check=False,
        )  # fmt: skip
    except subprocess.TimeoutExpired:
        return f"the docker CLI is installed but no engine answered within {ENGINE_TIMEOUT_S}s"
    if probe.returncode != 0:
        detail = probe.stderr.strip().splitlines()[-1:] or ["no error text"]
        return f"the docker CLI is installed but no engine answers: {detail[0]}"
    return None


def main(argv: Sequence[str] | None = None) -> int:
    description = "Build or push the step images under the names the manifest uses."
    parser = argparse.ArgumentParser(prog="python -m images", description=description)
    add = parser.add_argument
    add("action", choices=("build", "push"))
    add("--registry", default=DEFAULT_REGISTRY,
        help=f"registry and namespace, e.g. registry.example.com/dsm (default {DEFAULT_REGISTRY}; "
        "'' builds bare local names)")
    add("--tag", help="image tag (default: the package version, as in the manifest)")
    add("--image", action="append", choices=[step.image for step in STEPS],
        help="only this image (repeatable; default: all six)")
    add("--dry-run", action="store_true", help="print the docker commands, run nothing")
    args = parser.parse_args(sys.argv[1:] if argv is None else list(argv))
    tag = args.tag or default_tag()
    steps = [step for step in STEPS if not args.image or step.image in args.image]
    if args.action == "push" and not args.registry:  # exits 2, as argparse does for every usage error
        parser.error("push needs a registry: an image without one can only live on this machine")
    planned = commands(args.action, steps, args.registry, tag)
    if args.dry_run:
        for command in planned:
            print(shlex.join(command))
        return 0
    if problem := engine_problem():
        print(f"error: {problem}", file=sys.stderr)
        return 1
    for command in planned:
        print(f"+ {shlex.join(command)}", flush=True)
        result = subprocess.run(command, cwd=REPO_ROOT, check=False)
        if result.returncode != 0:
            print(f"error: `{shlex.join(command)}` exited {result.returncode}", file=sys.stderr)
            return result.returncode
    return 0


if __name__ == "__main__":
    sys.exit(main())

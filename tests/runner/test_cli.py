"""User mistakes get one line naming the path and what is wrong (exit 2), never a traceback, and the
runner creates no directory it was not asked for; what the lint refuses is refused before running."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.runner.builder import container, cron, write
from tests.runner.test_run import ENV
from workflows.runner.cli import LINT_PASSED, REPO_ROOT, _lint_digest, run


@pytest.fixture
def manifest(tmp_path: Path) -> Path:
    return write(tmp_path / "m.yaml", cron([{"name": "t", "template": "quick"}], [container("quick", [])]))


def refused(capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    assert run(list(argv), environ=ENV) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("error: "), err
    return err


def test_a_run_directory_that_cannot_be_one_is_named(
    tmp_path: Path, manifest: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    a_file = write(tmp_path / "a-file", {})
    assert "a-file: is a file, not a directory" in refused(capsys, str(manifest), "--run-dir", str(a_file))
    assert "--run-dir /proc/xx: cannot create it" in refused(capsys, str(manifest), "--run-dir", "/proc/xx")
    deep = tmp_path / "missing" / "run"
    assert f"{deep.parent} does not exist" in refused(capsys, str(manifest), "--run-dir", str(deep))
    assert not deep.parent.exists()  # never created


def test_a_manifest_that_cannot_be_read_is_named(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    locks_before = Path("runs", "locks").exists()  # a `make run` in this checkout may have made them
    not_yaml = tmp_path / "broken.yaml"
    not_yaml.write_text("kind: [CronWorkflow\n")
    assert f"{not_yaml}: not valid YAML at line 2" in refused(capsys, str(not_yaml))
    latin1 = tmp_path / "latin1.yaml"
    latin1.write_bytes("name: caf\xe9\n".encode("latin-1"))
    assert f"{latin1}: not UTF-8 text" in refused(capsys, str(latin1))
    assert f"{tmp_path}: is a directory" in refused(capsys, str(tmp_path))
    assert "no document is a mapping" in refused(capsys, str(write(tmp_path / "list.yaml", [1])))
    mixed = write(tmp_path / "mixed.yaml", {"kind": "ConfigMap"}, [1])
    assert "document 2 is not a mapping" in refused(capsys, str(mixed))
    assert not (tmp_path / "runs").exists() and Path("runs", "locks").exists() == locks_before


def test_what_the_lint_refuses_is_refused_before_anything_runs(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    doc = cron([{"name": "t", "template": "quick"}], [container("quick", [])])
    doc["spec"]["schedules"] = ["0 25 * * *"]  # no hour 25: the cluster would refuse the CronWorkflow
    path = write(tmp_path / "m.yaml", doc)
    assert run([str(path), "--run-dir", str(tmp_path / "run")], environ=ENV) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: the lint refuses the manifest") and "'0 25 * * *'" in err
    assert not (tmp_path / "run").exists()


def test_no_traceback_from_the_command_line(tmp_path: Path, manifest: Path) -> None:
    command = [sys.executable, "-m", "workflows", "run", str(manifest), "--run-dir", "/proc/xx"]
    done = subprocess.run(
        command,
        cwd=tmp_path,
        env={**ENV, "PYTHONPATH": str(REPO_ROOT)},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert (
        done.stderr.startswith("error: --run-dir /proc/xx: cannot create it")
        and "Traceback" not in done.stderr
    )
    assert not (tmp_path / "runs").exists()


def test_a_file_is_linted_again_once_it_changes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    doc = cron([{"name": "t", "template": "quick"}], [container("quick", [])])
    path = write(tmp_path / "m.yaml", doc)
    assert run([str(path), "--run-dir", str(tmp_path / "first")], environ=ENV) == 0
    assert (LINT_PASSED / _lint_digest(path)).exists()  # this file passed: not linted again
    doc["spec"]["schedules"] = ["0 25 * * *"]
    write(path, doc)
    assert run([str(path), "--run-dir", str(tmp_path / "second")], environ=ENV) == 2
    assert "the lint refuses the manifest" in capsys.readouterr().err

"""steps.cli: options from the contract, exit codes from exceptions, one summary line per failure."""

from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path

import pytest

from steps import cli, contract, http
from steps.cli import Step
from steps.validate import InvalidInput

REPO = Path(__file__).resolve().parents[2]


def _argv(spec: contract.StepSpec, tmp_path: Path) -> list[str]:
    argv: list[str] = []
    for name in spec.inputs:
        argv += [contract.option("in", name), str(tmp_path / "in" / contract.ARTIFACT_FILES[name])]
    for name in spec.output_artifacts + spec.carried:
        argv += [contract.option("out", name), str(tmp_path / "out" / contract.ARTIFACT_FILES[name])]
    for name in spec.output_parameters:
        argv += [contract.option("out", name), str(tmp_path / "out" / name)]
    return argv


@pytest.mark.parametrize("spec", contract.STEPS, ids=lambda spec: spec.name)
def test_parser_has_one_required_option_per_file(spec: contract.StepSpec, tmp_path: Path) -> None:
    parser = cli.build_parser(spec)
    namespace = parser.parse_args(_argv(spec, tmp_path))
    # A carried artifact has an optional --in-X (absent here: None) and a required --out-X.
    files = (spec.inputs, spec.output_artifacts, spec.output_parameters, spec.carried, spec.carried)
    expected = sum(map(len, files))
    assert len(vars(namespace)) == expected
    if expected:
        with pytest.raises(SystemExit) as caught:
            parser.parse_args([])
        assert caught.value.code == contract.EXIT_INVALID_INPUT


@pytest.mark.parametrize(
    ("error", "code", "label"),
    [
        (InvalidInput("SPRINT_ID must be ..."), contract.EXIT_INVALID_INPUT, "invalid input"),
        (http.NotSent("x"), contract.EXIT_NOT_SENT, "request not sent"),
        (http.ServiceError("x"), contract.EXIT_SERVICE_ERROR, "service error"),
        (http.NotFound("x"), contract.EXIT_NOT_FOUND, "not found"),
        (RuntimeError("boom"), contract.EXIT_UNEXPECTED, "unexpected error: RuntimeError: boom"),
    ],
)
def test_exceptions_map_to_exit_codes(tmp_path: Path, error: Exception, code: int, label: str) -> None:
    def body(step: Step) -> None:
        raise error

    stream = io.StringIO()
    assert cli.execute(contract.FETCH_TASKS, body, _argv(contract.FETCH_TASKS, tmp_path), {}, stream) == code
    lines = stream.getvalue().splitlines()
    assert any(f" fetch-tasks ERROR {label}" in line for line in lines)
    assert lines[-1].endswith(f"(exit {code})")
    assert ("Traceback" in stream.getvalue()) == (code == contract.EXIT_UNEXPECTED)


def test_step_writes_params_and_artifacts(tmp_path: Path) -> None:
    def body(step: Step) -> None:
        step.write_json("tasks", [])
        step.write_param("task_count", 0)
        step.log.info("Fetching tasks...")

    stream = io.StringIO()
    assert cli.execute(contract.FETCH_TASKS, body, _argv(contract.FETCH_TASKS, tmp_path), {}, stream) == 0
    assert (tmp_path / "out" / "tasks.json").read_text() == "[]\n"
    assert (tmp_path / "out" / "task_count").read_text() == "0"
    line = stream.getvalue().splitlines()[0]
    # 2026-11-29T14:00:03Z fetch-tasks INFO  Fetching tasks...
    stamp, step_name, rest = line.split(" ", 2)
    assert len(stamp) == 20 and stamp.endswith("Z")
    assert step_name == "fetch-tasks"
    assert rest == "INFO  Fetching tasks..."


def test_undeclared_env_or_param_is_a_bug(tmp_path: Path) -> None:
    def reads_undeclared(step: Step) -> None:
        step.env(contract.ENV_PROJECT_ID)  # fetch-tasks does not declare PROJECT_ID

    def writes_undeclared(step: Step) -> None:
        step.write_param("team_size", 1)

    for body in (reads_undeclared, writes_undeclared):
        stream = io.StringIO()
        code = cli.execute(contract.FETCH_TASKS, body, _argv(contract.FETCH_TASKS, tmp_path), {}, stream)
        assert code == contract.EXIT_UNEXPECTED
        assert "contract.py" in stream.getvalue()


def test_bad_timeout_env_is_invalid_input(tmp_path: Path) -> None:
    def body(step: Step) -> None:
        step.service("sprint-service")

    stream = io.StringIO()
    environ = {contract.ENV_SPRINT_SERVICE_URL: "http://127.0.0.1:9", http.ENV_READ_TIMEOUT: "-1"}
    code = cli.execute(contract.FETCH_TASKS, body, _argv(contract.FETCH_TASKS, tmp_path), environ, stream)
    assert code == contract.EXIT_INVALID_INPUT
    assert "HTTP_READ_TIMEOUT" in stream.getvalue()


def test_missing_option_exits_2_from_the_command_line(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "steps.fetch_tasks", "--out-tasks", str(tmp_path / "t.json")],
        cwd=REPO, capture_output=True, text=True, timeout=60,
    )
    assert done.returncode == contract.EXIT_INVALID_INPUT
    assert "--out-task-count" in done.stderr


def test_light_steps_do_not_import_pandas_or_workflows() -> None:
    modules = [spec.module for spec in contract.STEPS if not spec.needs_pandas]
    code = (
        "import sys\n"
        + "".join(f"import {module}\n" for module in modules)
        + "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('pandas', 'numpy', 'workflows'))\n"
        + "print(' '.join(bad))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == ""


def test_a_carried_artifact_may_arrive_as_nothing_an_empty_file_or_an_empty_directory(tmp_path: Path) -> None:
    spec = contract.REPORT
    name = spec.carried[0]
    given = tmp_path / "in-history"

    def read(*extra: str) -> object:
        paths = vars(cli.build_parser(spec).parse_args([*_argv(spec, tmp_path), *extra]))
        return Step(spec, paths, {}, cli.get_logger(spec.name, io.StringIO())).read_carried(name)

    option = contract.option("in", name)
    assert read() is None
    given.mkdir()
    assert read(option, str(given)) is None  # Argo's empty directory for a missing optional input
    given.rmdir()
    given.write_text("", encoding="utf-8")
    assert read(option, str(given)) is None
    given.write_text('{"days": []}', encoding="utf-8")
    assert read(option, str(given)) == {"days": []}
    given.write_text("{not json", encoding="utf-8")
    with pytest.raises(InvalidInput, match=f"carried artifact {name}"):
        read(option, str(given))


@pytest.mark.parametrize(("value", "text"), [(True, "true"), (False, "false"), (7, "7"), (1, "1"), ("", "")])
def test_param_text(tmp_path: Path, value: object, text: str) -> None:
    spec = contract.PREPARE
    paths = vars(cli.build_parser(spec).parse_args(_argv(spec, tmp_path)))
    Step(spec, paths, {}, cli.get_logger(spec.name, io.StringIO())).write_param("reason", value)  # type: ignore[arg-type]
    assert (tmp_path / "out" / "reason").read_text() == text


def test_progress(tmp_path: Path) -> None:
    def step(environ: dict[str, str]) -> Step:
        return Step(contract.PREPARE, {}, environ, cli.get_logger("prepare", io.StringIO()))

    step({}).progress(1, 2)  # no ARGO_PROGRESS_FILE: nothing happens
    progress = tmp_path / "progress"
    step({"ARGO_PROGRESS_FILE": str(progress)}).progress(1, 2)
    assert progress.read_text() == "1/2\n"
    # an unwritable location never fails the step
    step({"ARGO_PROGRESS_FILE": str(tmp_path / "progress" / "x")}).progress(1, 2)

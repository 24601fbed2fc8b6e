"""Benchmarks run only when selected (`make bench`: pytest tests/bench -m bench), never in `make test`.

At the end of a benchmark session the figures are printed as a table and written to
bench-results.json at the repository root. A benchmark test fails only when something it runs
goes wrong; a missed target is a MISS in the table and makes the session's exit status 1.
"""

from __future__ import annotations

import compileall

import pytest

from tests.bench import measure, results


def _selected(config: pytest.Config) -> bool:
    """True when the mark expression asks for the benchmarks (`-m bench`, `-m "bench and ..."`)."""
    expression = config.getoption("markexpr", "") or ""
    return "bench" in expression and "not bench" not in expression


@pytest.fixture(scope="session", autouse=True)
def compiled_steps() -> None:
    """The step programs byte-compiled, as in the images (images/Dockerfile runs compileall on steps/),
    and the runner's package, as pip compiles an installed one.

    Both run with PYTHONDONTWRITEBYTECODE=1 (the runner's environment, like the images'), so
    without this every start would compile their modules from source again (~10 ms for a step,
    ~60 ms for the runner), which no container or installed package pays. Writes the __pycache__
    folders (git-ignored); a changed source is recompiled.
    """
    for package in ("steps", "workflows"):
        assert compileall.compile_dir(measure.REPO_ROOT / package, quiet=1, force=False)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if _selected(config):
        return
    skip = pytest.mark.skip(reason="benchmark: run with `make bench` (pytest tests/bench -m bench)")
    for item in items:
        if "bench" in item.keywords:
            item.add_marker(skip)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter, config: pytest.Config) -> None:
    if not results.FIGURES:
        return
    path = results.save()
    terminalreporter.section("benchmarks")
    for line in results.table().splitlines():
        terminalreporter.write_line(line)
    machine = results.machine()
    terminalreporter.write_line(
        f"machine: {machine['cpus']} CPUs ({machine['cpu']}), {machine['memory_gib']} GiB, "
        f"Python {machine['python']}, load average {machine['load_average_at_end']}"
    )
    terminalreporter.write_line(f"figures written to {path}")
    missed = [f for f in results.FIGURES if not f.passed]
    for figure in missed:
        terminalreporter.write_line(f"MISS: {figure.describe()}", red=True)
    if not missed and any(f.target is not None for f in results.FIGURES):
        terminalreporter.write_line("every target met", green=True)


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if session.exitstatus == pytest.ExitCode.OK and any(not f.passed for f in results.FIGURES):
        session.exitstatus = pytest.ExitCode.TESTS_FAILED

"""Benchmark 2: step start-up. `python -m steps.<light step> --help` imports the whole step program
(its modules, the HTTP client) and exits after argparse prints the usage: the cost of starting the
step before any work. The light steps (simulate and the three fetches) must never import pandas,
checked with `python -X importtime` on the very same command.

Targets: what the light steps' own modules add to `import requests` <= 20 ms (a ratio to the
machine, not an absolute figure: the interpreter and requests alone take 150 ms on a slow CPU),
report --help <= 1 s. The bare interpreter and `import requests` alone are recorded beside them,
so the figures can be read on another machine; they end with os._exit, as every step does.

The steps are byte-compiled first, as in the images (the `compiled_steps` fixture in conftest.py);
they run with the dev venv's interpreter, whose editable-install hook the images do not have
(it adds ~10 ms to the bare interpreter, but next to nothing to a step, which imports the same
standard modules itself).
"""

from __future__ import annotations

import pytest

from steps import contract
from tests.bench import measure, results
from workflows.runner.executor import base_environment

pytestmark = pytest.mark.bench

RUNS = 11
LIGHT = (contract.SIMULATE, contract.FETCH_TASKS, contract.FETCH_SUMMARY, contract.FETCH_TEAM)
TARGET_OVER_REQUESTS_MS, TARGET_REPORT_MS = 20.0, 1000.0
HEAVY_MODULES = ("pandas", "numpy")


def _imported(argv: list[str]) -> set[str]:
    """Every module the command imports, from `python -X importtime` (stderr)."""
    sample = measure.run([argv[0], "-X", "importtime", *argv[1:]], base_environment())
    assert sample.code == 0, sample.stderr[-2000:]
    return {
        line.rsplit("|", 1)[1].strip()
        for line in sample.stderr.splitlines()
        if line.startswith("import time:") and "|" in line
    }


def test_light_steps_never_import_pandas() -> None:
    for spec in (*LIGHT, contract.PREPARE):
        modules = _imported([measure.PYTHON, "-m", spec.module, "--help"])
        heavy = sorted(m for m in modules if m.split(".")[0] in HEAVY_MODULES)
        assert "steps.cli" in modules  # the step program really ran (it runs as __main__)
        assert not heavy, f"{spec.module} imports {heavy[:5]}"


def test_start_up_times() -> None:
    commands = {
        # Ended as the steps end (steps.cli.run_step): os._exit, without the interpreter's teardown.
        "baseline": [measure.PYTHON, "-c", "import os; os._exit(0)"],
        "requests": [measure.PYTHON, "-c", "import os, requests; os._exit(0)"],
        **{spec.name: [measure.PYTHON, "-m", spec.module, "--help"] for spec in (*LIGHT, contract.PREPARE)},
    }
    env = base_environment()  # what the runner gives a step
    # Round-robin, so a burst of load on the machine hits every command alike.
    times: dict[str, list[float]] = {name: [] for name in commands}
    for _ in range(RUNS):
        for name, argv in commands.items():
            times[name] += [
                s.seconds * 1000 for s in measure.repeat(1, lambda argv=argv: measure.run(argv, env))
            ]
    report = [
        s.seconds * 1000
        for s in measure.repeat(
            5, lambda: measure.run([measure.PYTHON, "-m", contract.REPORT.module, "--help"], env)
        )
    ]

    baseline = results.record(
        "startup.baseline_ms", "interpreter: python -c 'os._exit(0)'", times["baseline"], "ms"
    )
    requests_figure = results.record(
        "startup.import_requests_ms", "python -c 'import requests; os._exit(0)'", times["requests"], "ms"
    )
    figures = [
        results.record(
            f"startup.{spec.name}_ms",
            f"start-up: {spec.module} --help",
            times[spec.name],
            "ms",
            None,
            "no pandas",
        )
        for spec in LIGHT
    ]
    results.record(
        f"startup.{contract.PREPARE.name}_ms",
        f"start-up: {contract.PREPARE.module} --help",
        times[contract.PREPARE.name],
        "ms",
        None,
        "no pandas",
    )
    figures.append(
        results.record(
            "startup.report_ms",
            "start-up: steps.report --help",
            report,
            "ms",
            TARGET_REPORT_MS,
            "pandas",
        )
    )
    slowest = max(figures[:-1], key=lambda f: f.value)
    results.record(
        "startup.light_over_baseline_x",
        "slowest light step / interpreter",
        slowest.value / baseline.value,
        "x",
    )
    # What the steps' own code adds to the interpreter and requests: the part this project controls,
    # and the light steps' target (their absolute time is mostly the CPU's).
    results.record(
        "startup.light_over_requests_ms",
        "slowest light step - python -c 'import requests; os._exit(0)'",
        slowest.value - requests_figure.value,
        "ms",
        TARGET_OVER_REQUESTS_MS,
        "the steps' own modules",
    )

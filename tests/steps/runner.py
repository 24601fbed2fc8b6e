"""Run a step as its container does, and read what it wrote.

In-process by default (`steps.cli.execute`, the function behind every step's `__main__`, with the
environment and stderr swapped for the run): a subprocess proves nothing more for most cases and costs
~0.4 s of CPU each. `in_subprocess=True` runs `python -m <module>`: the happy path of each step does, and
the local runner's end-to-end tests run every step that way.
"""

from __future__ import annotations

import contextlib
import importlib
import io
import json
import os
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from steps import cli, contract, http

REPO = Path(__file__).resolve().parents[2]

# Small timeouts and no backoff keep failure tests fast; READ must exceed the stand-in's normal answer time.
FAST_HTTP = {
    http.ENV_CONNECT_TIMEOUT: "1",
    http.ENV_READ_TIMEOUT: "1",
    http.ENV_BACKOFF_FACTOR: "0",
    # requests honours HTTP(S)_PROXY: keep the stand-in's 127.0.0.1 traffic off any proxy of the machine.
    "NO_PROXY": "127.0.0.1,localhost",
    "no_proxy": "127.0.0.1,localhost",
}
# Empty, path traversal, too long, non-ASCII, spaces (the subprocess tests run these) ...
BAD_IDS = ["", "../x", "a" * 65, "GEM-001-S0\u00e9", "GEM 001"]
# ... and more variants for the in-process tests of steps.validate: newline, slash, non-ASCII digits.
MORE_BAD_IDS = [*BAD_IDS, " GEM-001", "GEM-001\n", "a/b", "\u0661\u0662", "GEM-001\x00"]
STEP_ENV_NAMES = sorted({name for spec in contract.STEPS for name in spec.env})


@dataclass
class Ran:
    """What a step run left behind: exit code, log, and its output directory."""

    code: int
    stdout: str
    stderr: str
    out: Path
    spec: contract.StepSpec

    def param(self, name: str) -> str:
        return (self.out / name).read_text(encoding="utf-8")

    def params(self) -> dict[str, str]:
        return {name: self.param(name) for name in self.spec.output_parameters if (self.out / name).exists()}

    def artifact(self, name: str) -> Any:
        return json.loads((self.out / contract.ARTIFACT_FILES[name]).read_text(encoding="utf-8"))

    def written(self) -> list[str]:
        return sorted(p.name for p in self.out.iterdir()) if self.out.exists() else []

    def __str__(self) -> str:  # shown by pytest when an assertion on a run fails
        return f"exit {self.code}\n--- stderr ---\n{self.stderr}\n--- stdout ---\n{self.stdout}"


def run(
    spec: contract.StepSpec,
    base_env: Mapping[str, str],
    workdir: Path,
    env: Mapping[str, str] | None = None,
    inputs: Mapping[str, Path] | None = None,
    timeout: float = 60,
    in_subprocess: bool = False,
) -> Ran:
    """The step `spec` with the contract's options pointing into `workdir/out`.

    Every step variable is set explicitly ("" unless given) so the caller's shell cannot leak in;
    the service URLs come from `base_env` (the stand-in's `stack.env()`).
    """
    out = workdir / "out"
    argv = [sys.executable, "-m", spec.module]
    for name in spec.inputs:
        argv += [contract.option("in", name), str((inputs or {})[name])]
    for name in spec.carried:  # optional: absent on the first run
        if name in (inputs or {}):
            argv += [contract.option("in", name), str((inputs or {})[name])]
    for name in (*spec.output_artifacts, *spec.carried):
        argv += [contract.option("out", name), str(out / contract.ARTIFACT_FILES[name])]
    for name in spec.output_parameters:
        argv += [contract.option("out", name), str(out / name)]
    full_env = dict(base_env)
    for name in STEP_ENV_NAMES:
        if name not in contract.SERVICE_URL_ENV.values():
            full_env[name] = ""
    full_env.update(FAST_HTTP)
    full_env.pop("ARGO_PROGRESS_FILE", None)
    full_env.update(env or {})
    if in_subprocess:
        done = subprocess.run(
            argv, cwd=REPO, env=full_env, capture_output=True, text=True, timeout=timeout, check=False
        )
        return Ran(done.returncode, done.stdout, done.stderr, out, spec)
    return _in_process(spec, argv[3:], full_env, out)


def _in_process(spec: contract.StepSpec, argv: list[str], env: dict[str, str], out: Path) -> Ran:
    body = importlib.import_module(spec.module).main
    stdout, stderr = io.StringIO(), io.StringIO()
    # os.environ too: requests reads its proxy settings there, not from the step's environment.
    saved = dict(os.environ)
    os.environ.clear()
    os.environ.update(env)
    try:
        with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
            try:
                code = cli.execute(spec, body, argv, environ=env, stream=stderr)
            except SystemExit as exc:  # argparse refusing the command line
                code = exc.code if isinstance(exc.code, int) else 2
    finally:
        os.environ.clear()
        os.environ.update(saved)
    return Ran(code, stdout.getvalue(), stderr.getvalue(), out, spec)

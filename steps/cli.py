"""The common entry point of every step program: options from the contract, exceptions to exit codes.

`run_step(contract.FETCH_TASKS, body)` parses the options the spec implies, runs `body(step)` and exits
with the code of its exception (EXIT_CODES; anything else 1, with its traceback) after one ERROR line
that says what happened. Log lines go to stderr, one per event, in UTC:
`2026-11-29T14:00:03Z simulate INFO  Starting daily scrum simulation`.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, NoReturn, TextIO

from steps import artifacts, contract, http, validate


def get_logger(step: str, stream: TextIO | None = None) -> logging.Logger:
    """The logger of one step, writing to `stream` (default: stderr); a second call replaces its handler."""
    formatter = logging.Formatter(f"%(asctime)s {step} %(levelname)-5s %(message)s", "%Y-%m-%dT%H:%M:%SZ")
    formatter.converter = time.gmtime  # UTC, whatever the container's TZ is
    handler = logging.StreamHandler(sys.stderr if stream is None else stream)
    handler.setFormatter(formatter)
    logger = logging.getLogger(f"dsm.steps.{step}")
    logger.handlers = [handler]
    logger.setLevel(logging.INFO)
    logger.propagate = False  # one line per event, not a second copy through the root logger
    return logger


class Step:
    """What a step body works with: its spec, parsed paths, environment, logger and services."""

    def __init__(self, spec: contract.StepSpec, paths: Mapping[str, Path], environ: Mapping[str, str],
                 log: logging.Logger) -> None:
        self.spec = spec
        self.paths = dict(paths)  # option without its leading dashes, e.g. "out-task-count" -> Path
        self.environ = environ
        self.log = log

    def env(self, name: str) -> str:
        """The raw value of an environment variable the spec declares ("" when unset)."""
        if name not in self.spec.env:
            # A programming error: the manifest would not pass this variable to the container.
            raise KeyError(f"step {self.spec.name} reads {name}, which contract.py does not declare")
        return self.environ.get(name, "")  # not stripped: validators decide

    def identifier(self, name: str) -> str:
        """A validated project/sprint ID from the environment."""
        return validate.identifier(name, self.env(name))

    def service(self, service: str) -> http.Service:
        """The client of a DSM service (e.g. "sprint-service"), its URL validated from the environment."""
        env_name = contract.SERVICE_URL_ENV[service]
        base_url = validate.service_url(env_name, self.env(env_name))
        session = http.make_session(self.environ)
        return http.Service(service, base_url, session=session, timeout=http.timeouts(self.environ))

    def _path(self, kind: str, name: str) -> Path:
        return self.paths[contract.option(kind, name)[2:]]

    def read_json(self, artifact: str, loads: Callable[[str], Any]) -> Any:
        """An input artifact's JSON, decoded by `loads`; missing or malformed is InvalidInput (exit 2)."""
        return artifacts.read_json(self._path("in", artifact), f"input artifact {artifact}", loads)

    def read_carried(self, artifact: str) -> Any | None:
        """A carried artifact's JSON, or None on a first run: Argo may hand a missing optional
        input over as nothing, an empty file or an empty directory."""
        path = self.paths.get(contract.option("in", artifact)[2:])
        if path is None or not path.is_file() or path.stat().st_size == 0:
            return None
        return artifacts.read_json(path, f"carried artifact {artifact}")

    def write_json(self, artifact: str, data: Any) -> Path:
        """Write an output artifact as JSON, atomically."""
        return artifacts.write_json(self._path("out", artifact), data)

    def write_bytes(self, artifact: str, data: bytes) -> Path:
        """Write an encoded output artifact (the page; JSON encoded once for a request too), atomically."""
        return artifacts.write_bytes(self._path("out", artifact), data)

    def write_param(self, name: str, value: str | int | bool) -> Path:
        """Write an output parameter file ("true"/"false" for booleans), atomically."""
        if name not in self.spec.output_parameters:
            raise KeyError(f"step {self.spec.name} has no output parameter {name!r} in contract.py")
        text = str(value).lower() if isinstance(value, bool) else str(value)
        # No newline: Argo takes the file as is.
        return artifacts.write_bytes(self._path("out", name), text.encode("utf-8"))

    def progress(self, done: int, total: int) -> None:
        """Tell Argo how far the step is ("done/total") when it set ARGO_PROGRESS_FILE; else nothing."""
        if target := self.environ.get("ARGO_PROGRESS_FILE", ""):
            with contextlib.suppress(OSError):  # progress is cosmetic; never fail a step because of it
                artifacts.write_bytes(target, f"{done}/{total}\n".encode())


def build_parser(spec: contract.StepSpec) -> argparse.ArgumentParser:
    """The argument parser of a step, derived from its spec (one path option per file)."""
    parser = argparse.ArgumentParser(
        prog=f"python -m {spec.module}",
        description=spec.description,
        epilog="Inputs come from the environment: " + ", ".join(spec.env),
    )
    carried_help = "carried artifact {} from the previous run (optional: absent on the first)"
    files = (  # (kind, names, required, help)
        ("in", spec.inputs, True, "input artifact {} (JSON)"),
        ("in", spec.carried, False, carried_help),
        ("out", spec.output_artifacts + spec.carried, True, "where to write output artifact {}"),
        ("out", spec.output_parameters, True, "where to write output parameter {}"),
    )
    for kind, names, required, text in files:
        for name in names:
            option = contract.option(kind, name)
            parser.add_argument(option, dest=option[2:], type=Path, required=required, metavar="PATH",
                                help=text.format(name))
    return parser


# Most specific first: the first matching class decides the exit code.
EXIT_CODES: tuple[tuple[type[BaseException], int, str], ...] = (
    (validate.InvalidInput, contract.EXIT_INVALID_INPUT, "invalid input"),
    (http.NotSent, contract.EXIT_NOT_SENT, "request not sent"),
    (http.NotFound, contract.EXIT_NOT_FOUND, "not found"),
    (http.ServiceError, contract.EXIT_SERVICE_ERROR, "service error"),
)


def execute(spec: contract.StepSpec, body: Callable[[Step], int | None], argv: Sequence[str] | None = None,
            environ: Mapping[str, str] | None = None, stream: TextIO | None = None) -> int:
    """Run `body` as the step `spec` and return the exit code (see the module docstring)."""
    log = get_logger(spec.name, stream)
    given = vars(build_parser(spec).parse_args(argv))  # argparse exits 2 itself on a bad command line
    paths = {option: path for option, path in given.items() if path is not None}  # an absent optional one
    step = Step(spec, paths, os.environ if environ is None else environ, log)
    started = time.monotonic()
    try:
        code = body(step) or contract.EXIT_OK
    except Exception as exc:
        for kind, exit_code, label in EXIT_CODES:
            if isinstance(exc, kind):
                log.error("%s: %s", label, exc)
                code = exit_code
                break
        else:
            log.error("unexpected error: %s: %s", type(exc).__name__, exc, exc_info=True)
            code = contract.EXIT_UNEXPECTED
        log.error("%s failed after %.1f s (exit %d)", spec.name, time.monotonic() - started, code)
        return code
    log.info("%s finished in %.1f s (exit %d)", spec.name, time.monotonic() - started, code)
    return code


def run_step(spec: contract.StepSpec, body: Callable[[Step], int | None]) -> NoReturn:
    """The `if __name__ == "__main__"` of every step: run it and exit with its code."""
    try:
        code = execute(spec, body)
    except SystemExit as exc:  # argparse's, after --help or a bad command line
        code = exc.code if isinstance(exc.code, int) else contract.EXIT_UNEXPECTED
    # Without the interpreter's teardown, which frees every module and object one by one (~0.3 s once
    # pandas is loaded): what the step wrote is closed already, the output is flushed here.
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)

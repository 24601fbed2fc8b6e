"""`python -m workflows <command> ...`: one entry point; each command's module (its `main(argv) -> int`)
is imported only when called, so `render` never pays for the runner's imports and vice versa."""

from __future__ import annotations

import importlib
import os
import sys

COMMANDS: dict[str, tuple[str, str]] = {
    "render": ("workflows.render", "write the WorkflowTemplate, its ConfigMap and the CronWorkflows"),
    "lint": ("workflows.lint", "check manifests offline, like `argo lint --offline`"),
    "submit": ("workflows.submit", "create or update the template and CronWorkflows via the Argo Server"),
    "run": ("workflows.runner.cli", "run a rendered manifest locally, step containers as subprocesses"),
    "report": ("workflows.report_cli", "read a stored daily scrum report back from the chronicle-service"),
}


def usage() -> str:
    lines = ["usage: python -m workflows <command> [options]", "", "commands:"]
    lines += [f"  {name:<8} {help_text}" for name, (_, help_text) in COMMANDS.items()]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if not args or args[0] in {"-h", "--help"}:
        print(usage())
        return 0 if args else 2
    command, rest = args[0], args[1:]
    if command not in COMMANDS:
        print(f"unknown command {command!r}\n\n{usage()}", file=sys.stderr)
        return 2
    module = importlib.import_module(COMMANDS[command][0])
    return int(module.main(rest))


if __name__ == "__main__":
    code = main()
    # Without the interpreter's teardown (~40 ms once the runner's modules are loaded): every file is
    # closed by now (temporary directories too: `with` blocks), the output is flushed here.
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)

"""`python -m workflows.standin [--db PATH] [--fleet N] [--sprints-to-today]`: the four stand-in services.
Prints `<ENV_NAME>=<url>` per service, then `READY`; serves until SIGTERM or SIGINT (docs/standin.md)."""

from __future__ import annotations

import argparse
import datetime as dt
import signal
import sys
import tempfile
from pathlib import Path

STOP_SIGNALS = {signal.SIGTERM, signal.SIGINT}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m workflows.standin", description=__doc__.splitlines()[0])
    add = parser.add_argument
    add("--db", type=Path, help="SQLite file to use (default: a temporary file)")
    add("--host", default="127.0.0.1", help="address to listen on (default: 127.0.0.1)")
    add("--fleet", type=int, default=0, metavar="N", help="add N projects FLEET-0001.. (default: 0)")
    add("--sprints-to-today", action="store_true", help="move the seeded sprints to this week (make run)")
    args = parser.parse_args(argv)
    if args.fleet < 0:
        parser.error(f"--fleet must be 0 or more, got {args.fleet}")

    # Blocked before anything slow (and for every thread started later): an early SIGTERM waits
    # for sigwait() below and still ends in a clean exit.
    signal.pthread_sigmask(signal.SIG_BLOCK, STOP_SIGNALS)
    from workflows.standin.stack import Stack  # imports pydantic, the slow part of the start

    with tempfile.TemporaryDirectory(prefix="dsm-stand-in-") as tmp:
        db_path = args.db if args.db is not None else Path(tmp) / "stand-in.sqlite"
        today = dt.datetime.now(dt.UTC).date() if args.sprints_to_today else None  # the job's default zone
        stack = Stack(db_path, args.host, args.fleet, today)  # serving from here on
        try:
            for env, url in stack.urls().items():
                print(f"{env}={url}")
            print("READY", flush=True)
            signal.sigwait(STOP_SIGNALS)
        finally:
            stack.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())

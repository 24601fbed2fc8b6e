"""A tiny step program for the runner's tests: `python -m tests.runner.stepkit [actions]`.

It does what a test manifest asks, in order: count its calls (a counter file outside the attempt
survives retries), sleep, write files, copy an input to an output, append to a file, record its
start and end, then fail the first N times or exit with the asked code. Real files and a real
process, so the runner is tested end to end.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--stamp", help="append {start, end, pid} as a JSON line to this file")
    parser.add_argument("--sleep", type=float, default=0.0)
    parser.add_argument("--sleep-from-call", type=int, default=1, help="sleep only from this call on")
    parser.add_argument("--counter", help="file counting the calls (kept outside the attempt directory)")
    parser.add_argument("--fail-times", type=int, default=0, help="exit with --fail-code the first N calls")
    parser.add_argument("--fail-code", type=int, default=3)
    parser.add_argument("--write", action="append", default=[], metavar="PATH=TEXT")
    parser.add_argument("--copy", action="append", default=[], metavar="SRC=DST")
    parser.add_argument("--append", action="append", default=[], metavar="PATH=TEXT")
    parser.add_argument("--env", action="append", default=[], metavar="NAME=PATH", help="write $NAME to PATH")
    parser.add_argument("--exit", type=int, default=0)
    parser.add_argument("--barrier", metavar="DIR=N", help="wait until N steps are in DIR at once (max 30 s)")
    parser.add_argument("--wait-for", metavar="PATH", help="wait until PATH exists (max 30 s)")
    args = parser.parse_args(argv)

    start = time.time()
    calls = 0
    if args.counter:
        counter = Path(args.counter)
        calls = int(counter.read_text()) + 1 if counter.exists() else 1
        counter.write_text(str(calls))
    if calls >= args.sleep_from_call or not args.counter:
        time.sleep(args.sleep)
    if args.barrier:  # proves that N steps run at the same time, without guessing how long to sleep
        directory, _, count = args.barrier.partition("=")
        Path(directory).mkdir(parents=True, exist_ok=True)
        (Path(directory) / str(os.getpid())).touch()
        if not _until(lambda: len(os.listdir(directory)) >= int(count)):
            return 9
    if args.wait_for and not _until(Path(args.wait_for).exists):
        return 9
    for item in args.write:
        path, _, text = item.partition("=")
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        Path(path).write_text(text)
    for item in args.copy:  # a missing source copies as "<missing>" (an optional input not given)
        source, _, target = item.partition("=")
        Path(target).parent.mkdir(parents=True, exist_ok=True)
        Path(target).write_text(Path(source).read_text() if Path(source).exists() else "<missing>")
    for item in args.append:
        path, _, text = item.partition("=")
        with open(path, "a") as handle:
            handle.write(text)
    for item in args.env:
        name, _, path = item.partition("=")
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        Path(path).write_text(os.environ.get(name, "<unset>"))
    if args.stamp:
        with open(args.stamp, "a") as handle:
            handle.write(json.dumps({"start": start, "end": time.time(), "argv": sys.argv[1:]}) + "\n")
    print(f"stepkit: call {calls}, args {sys.argv[1:]}")
    if calls and calls <= args.fail_times:
        print(f"stepkit: failing with {args.fail_code}", file=sys.stderr)
        return args.fail_code
    return args.exit


def _until(condition: Callable[[], bool], limit: float = 30.0) -> bool:
    deadline = time.monotonic() + limit
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True


if __name__ == "__main__":
    sys.exit(main())

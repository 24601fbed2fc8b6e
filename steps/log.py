"""Readable log lines for the step programs, on stderr.

    2026-11-29T14:00:03Z simulate INFO  Starting daily scrum simulation for sprint GEM-001-S01

One line per event: UTC time, step name, level, message. Logs go to stderr so that stdout stays
free for a step's result (Argo shows both streams in `argo logs`; the local runner keeps both).
"""

from __future__ import annotations

import logging
import sys
import time
from typing import TextIO

_FORMAT = "%(asctime)s %(step)s %(levelname)-5s %(message)s"


class _StepFormatter(logging.Formatter):
    converter = time.gmtime  # UTC, whatever the container's TZ is

    def __init__(self, step: str) -> None:
        super().__init__(_FORMAT, datefmt="%Y-%m-%dT%H:%M:%SZ")
        self._step = step

    def format(self, record: logging.LogRecord) -> str:
        record.step = self._step
        return super().format(record)


def get_logger(step: str, stream: TextIO | None = None) -> logging.Logger:
    """The logger of one step, writing formatted lines to `stream` (default: stderr).

    Calling it again for the same step replaces the handler, so tests can redirect the stream.
    """
    logger = logging.getLogger(f"dsm.steps.{step}")
    for handler in list(logger.handlers):
        logger.removeHandler(handler)
    handler = logging.StreamHandler(sys.stderr if stream is None else stream)
    handler.setFormatter(_StepFormatter(step))
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.propagate = False  # one line per event, not a second copy through the root logger
    return logger

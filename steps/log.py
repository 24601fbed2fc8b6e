"""Readable log lines for the step programs, on stderr, one per event: UTC time, step, level, message.

    2026-11-29T14:00:03Z simulate INFO  Starting daily scrum simulation for sprint GEM-001-S01

stderr keeps stdout free for a step's result (`argo logs` and the local runner show both).
"""

from __future__ import annotations

import logging
import sys
import time
from typing import TextIO


def get_logger(step: str, stream: TextIO | None = None) -> logging.Logger:
    """The logger of one step, writing to `stream` (default: stderr); a second call replaces the
    handler, so tests can redirect the stream."""
    formatter = logging.Formatter(
        "%(asctime)s %(step)s %(levelname)-5s %(message)s", "%Y-%m-%dT%H:%M:%SZ", defaults={"step": step}
    )
    formatter.converter = time.gmtime  # UTC, whatever the container's TZ is
    handler = logging.StreamHandler(sys.stderr if stream is None else stream)
    handler.setFormatter(formatter)
    logger = logging.getLogger(f"dsm.steps.{step}")
    logger.handlers = [handler]
    logger.setLevel(logging.INFO)
    logger.propagate = False  # one line per event, not a second copy through the root logger
    return logger

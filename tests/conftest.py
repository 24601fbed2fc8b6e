"""Shared fixtures: one stand-in process for the whole session, reset before every test."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

# `tests` is a package and the steps are imported from the checkout: make the repo root importable
# whatever directory pytest was started from.
REPO_ROOT = Path(__file__).resolve().parents[1]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from workflows.standin.client import StandIn  # noqa: E402  (needs the path above)


@pytest.fixture(scope="session")
def stand_in_process() -> Iterator[StandIn]:
    """The four stand-in services, started once (well under a second) and stopped at the end."""
    with StandIn.start() as stand_in:
        yield stand_in


@pytest.fixture
def stack(stand_in_process: StandIn) -> StandIn:
    """The stand-in, back to its seed: database reseeded, no faults, empty logs, all services up."""
    stand_in_process.reset()
    return stand_in_process

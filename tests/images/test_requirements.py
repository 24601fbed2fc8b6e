"""The images' pins: exact, complete, inside pyproject.toml's ranges, and no package an image does not use."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement

from images.__main__ import REPO_ROOT
from steps.contract import STEPS
from tests.images.importcheck import third_party_imports
from tests.images.requirements import (
    REQUIREMENTS_BASE,
    REQUIREMENTS_REPORT,
    Pin,
    normalize,
    read_pins,
    requirements_file,
)

# Direct pins that no step imports, each with the reason it is in an image anyway.
RUNTIME_DATA = {
    "tzdata": "zoneinfo's time zone database when the base OS has none (prepare reads SCHEDULE_TIMEZONE)",
}
# Import names that differ from their distribution's name.
IMPORT_NAMES = {"python-dateutil": "dateutil", "pyyaml": "yaml"}


def project_ranges() -> dict[str, Requirement]:
    data = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    requirements = [Requirement(text) for text in data["project"]["dependencies"]]
    return {normalize(req.name): req for req in requirements}


@pytest.mark.parametrize("path", [REQUIREMENTS_BASE, REQUIREMENTS_REPORT], ids=lambda p: p.name)
def test_pins_are_inside_pyproject_ranges(path: Path) -> None:
    ranges = project_ranges()
    for pin in read_pins(path):
        if pin.name in ranges:
            assert ranges[pin.name].specifier.contains(pin.version, prereleases=True), (
                f"{path.name} pins {pin.spec}, outside pyproject.toml's {ranges[pin.name]}"
            )
    direct = {pin.name for pin in read_pins(path) if pin.direct}
    unranged = direct - set(ranges)
    assert not unranged, f"{path.name} pins {unranged} directly, which pyproject.toml does not list"


def test_report_is_base_plus_pandas_and_msgspec() -> None:
    base = {pin.spec for pin in read_pins(REQUIREMENTS_BASE)}
    report = read_pins(REQUIREMENTS_REPORT)
    assert base <= {pin.spec for pin in report}, "the report image includes the base set unchanged"
    extra_direct = {pin.name for pin in report if pin.spec not in base and pin.direct}
    assert extra_direct == {"pandas", "msgspec"}  # msgspec: the report's 50 MB of JSON in, 20 MB out


def test_only_the_report_image_carries_pandas() -> None:
    for step in STEPS:
        names = {pin.name for pin in read_pins(requirements_file(step))}
        assert ("pandas" in names) == step.needs_pandas, step.name
        assert ("numpy" in names) == step.needs_pandas, step.name


def test_read_pins_refuses_ranges_and_duplicates(tmp_path: Path) -> None:
    ranged = tmp_path / "ranged.txt"
    ranged.write_text("requests>=2\n")
    with pytest.raises(ValueError, match="not an exact pin"):
        read_pins(ranged)
    twice = tmp_path / "twice.txt"
    twice.write_text("-r ranged-ok.txt\nRequests==2.0.0\n")
    (tmp_path / "ranged-ok.txt").write_text("requests==2.0.0  # via nothing\n")
    with pytest.raises(ValueError, match="more than once: requests"):
        read_pins(twice)


def _import_name(pin: Pin) -> str:
    return IMPORT_NAMES.get(pin.name, pin.name.replace("-", "_"))


@pytest.mark.parametrize("path", [REQUIREMENTS_BASE, REQUIREMENTS_REPORT], ids=lambda p: p.name)
def test_no_direct_pin_goes_unused(path: Path) -> None:
    """"No more": every direct pin of a requirement set is imported by a step installed with it."""
    users = [step for step in STEPS if requirements_file(step) == path]
    imported: set[str] = set()
    for step in users:
        imported |= set(third_party_imports(step.module, REPO_ROOT))
    own = {pin.spec for pin in read_pins(path)} - (
        {pin.spec for pin in read_pins(REQUIREMENTS_BASE)} if path != REQUIREMENTS_BASE else set()
    )
    for pin in read_pins(path):
        if not pin.direct or pin.spec not in own or pin.name in RUNTIME_DATA:
            continue
        assert _import_name(pin) in imported, (
            f"{path.name} pins {pin.name}, but none of {[s.name for s in users]} imports it"
        )

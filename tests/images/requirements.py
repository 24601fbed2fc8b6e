"""Read the images' requirement files: exact pins, which of them are direct, and `-r` includes."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

from images.__main__ import IMAGES_DIR
from steps.contract import StepSpec

REQUIREMENTS_BASE = IMAGES_DIR / "requirements-base.txt"
REQUIREMENTS_REPORT = IMAGES_DIR / "requirements-report.txt"
_PIN = re.compile(r"^(?P<name>[A-Za-z0-9][A-Za-z0-9._-]*)==(?P<version>[^\s;#]+)$")
_VIA = re.compile(r"#\s*via\s+(?P<parent>\S+)")


@dataclass(frozen=True)
class Pin:
    name: str  # normalized (PEP 503): lower case, runs of -_. as one dash
    version: str
    direct: bool  # False when a `# via X` comment says it is only here for X
    source: Path  # the file that pins it

    @property
    def spec(self) -> str:
        return f"{self.name}=={self.version}"


def normalize(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def read_pins(path: Path) -> list[Pin]:
    """Every pin of `path` and the files it includes with `-r`, in order.

    Only exact pins are allowed: a range, an URL or an option other than `-r` is an error, since an
    image must install the same set on every rebuild.
    """
    pins: list[Pin] = []
    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("-r "):
            pins += read_pins(path.parent / line[3:].strip())
            continue
        requirement, _, comment = line.partition(" #")
        match = _PIN.match(requirement.strip())
        if not match:
            raise ValueError(f"{path.name}:{number}: not an exact pin (name==version): {line!r}")
        pins.append(Pin(normalize(match["name"]), match["version"], not _VIA.search("#" + comment), path))
    names = [pin.name for pin in pins]
    duplicates = sorted({name for name in names if names.count(name) > 1})
    if duplicates:
        raise ValueError(f"{path.name}: pinned more than once: {', '.join(duplicates)}")
    return pins


def files_of(path: Path) -> list[Path]:
    """`path` and every file it includes, in reading order."""
    files = [path]
    for raw in path.read_text(encoding="utf-8").splitlines():
        if raw.strip().startswith("-r "):
            files += files_of(path.parent / raw.strip()[3:].strip())
    return files


def content_hash(path: Path) -> str:
    """A hash of the requirement file and its includes: the cache key of a venv built from it."""
    digest = hashlib.sha256()
    for file in files_of(path):
        digest.update(file.name.encode() + b"\0" + file.read_bytes() + b"\0")
    return digest.hexdigest()


def requirements_file(step: StepSpec) -> Path:
    """The exact pins installed in a step's image: pandas only where the contract says the step needs it."""
    return REQUIREMENTS_REPORT if step.needs_pandas else REQUIREMENTS_BASE

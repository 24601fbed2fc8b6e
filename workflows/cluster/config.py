"""Which projects get a daily scrum CronWorkflow: `workflows/projects.toml`, read and checked.

A bad entry is refused with a message that names it, before anything is rendered: a typo must never
become a manifest. The keys are described in projects.toml itself.
"""

from __future__ import annotations

import re
import tomllib
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from workflows.checks import name_problem, schedule_problem, timezone_problem

DEFAULT_CONFIG = Path(__file__).with_name("projects.toml")

DEFAULT_SCHEDULE = "0 14 * * 1-5"  # weekdays at 14:00
DEFAULT_TIMEZONE = "UTC"

# The oldest Argo Workflows release the manifest must be valid for. One manifest serves 3.7 (the
# oldest release Argo still supports) and 4.1; the key stays so that existing files still load.
ARGO_VERSIONS = ("3.7", "4.1")
# Runs of the whole fleet at once (the semaphore): each run sends ~10 requests over ~1 minute to
# the four DSM services, a single replica each; 10 runs keep them well under their capacity.
DEFAULT_MAX_PARALLEL_RUNS = 10

# IDs go into URL paths and metric labels: keep them to a safe alphabet (the steps validate the
# exact service formats; this only keeps the manifest sane).
_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")

_TOP_KEYS = {"argo_version", "max_parallel_runs", "spread", "projects"}
_PROJECT_KEYS = {"id", "name", "sprint", "schedule", "timezone", "suspended"}


class ConfigError(ValueError):
    """The configuration file cannot be used; the message names the file and the entry."""


@dataclass(frozen=True)
class ProjectConfig:
    """One CronWorkflow to render."""

    project_id: str
    name: str
    sprint_id: str = ""  # empty: the project's active sprint, resolved at run time
    schedules: tuple[str, ...] = (DEFAULT_SCHEDULE,)
    timezone: str = DEFAULT_TIMEZONE
    suspended: bool = False


@dataclass(frozen=True)
class Config:
    projects: tuple[ProjectConfig, ...]
    max_parallel_runs: int = DEFAULT_MAX_PARALLEL_RUNS


def load(path: str | Path = DEFAULT_CONFIG) -> Config:
    """Read and check a projects file; raises ConfigError naming the file and entry."""
    source = Path(path)
    try:
        data = tomllib.loads(source.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{source}: file not found") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{source}: not valid TOML: {exc}") from None
    return parse(data, str(source))


def parse(data: dict[str, Any], origin: str = "config") -> Config:
    _refuse_unknown(data, _TOP_KEYS, f"{origin}: unknown top-level key(s)")
    if (argo_version := data.get("argo_version", ARGO_VERSIONS[0])) not in ARGO_VERSIONS:
        message = f"argo_version {argo_version!r}: the manifest needs Argo Workflows 3.7 or later"
        raise ConfigError(f"{origin}: {message} (one of {', '.join(ARGO_VERSIONS)})")
    runs = data.get("max_parallel_runs", DEFAULT_MAX_PARALLEL_RUNS)
    if type(runs) is not int or runs < 1:  # a TOML true is a bool, not an int
        raise ConfigError(f"{origin}: max_parallel_runs must be a whole number >= 1, got {runs!r}")
    spread = _spread_minutes(data.get("spread", "0m"), origin)
    entries = data.get("projects")
    if not isinstance(entries, list) or not entries:
        raise ConfigError(f"{origin}: needs at least one [[projects]] entry")
    projects = [_project(entry, f"{origin}: projects[{i}]", spread) for i, entry in enumerate(entries)]
    first_id = {p.project_id: index for index, p in reversed(list(enumerate(projects)))}
    first_name = {p.name: index for index, p in reversed(list(enumerate(projects)))}
    for index, project in enumerate(projects):
        where = f"{origin}: projects[{index}] ({project.project_id})"
        if (first := first_id[project.project_id]) != index:
            raise ConfigError(f"{where}: duplicate project, already listed as projects[{first}]")
        if (first := first_name[project.name]) != index:
            message = f"duplicate CronWorkflow name {project.name!r}, already used by projects[{first}]"
            raise ConfigError(f"{where}: {message}")
    return Config(projects=tuple(projects), max_parallel_runs=runs)


def _spread_minutes(value: Any, origin: str) -> int:
    """`spread = "30m"` (or "1h"): the window, in minutes, the fleet's start times are spread over."""
    match = re.fullmatch(r"(\d+)([mh])", value) if isinstance(value, str) else None
    minutes = int(match[1]) * (60 if match[2] == "h" else 1) if match else -1
    if not 0 <= minutes <= 12 * 60:
        raise ConfigError(
            f'{origin}: spread must be minutes or hours like "30m" (at most 12h), got {value!r}'
        )
    return minutes


def spread_schedule(schedule: str, project_id: str, window: int, where: str) -> str:
    """Move a schedule by the project's stable offset within `window` minutes (crc32 of its ID: the
    same minute every day, whatever the Python process). Only a fixed minute and hour can move, and
    never past midnight, which would change the day the schedule's day fields mean (`where` says so)."""
    if window == 0:
        return schedule
    fields = schedule.split()
    if len(fields) != 5 or not (fields[0].isdigit() and fields[1].isdigit()):
        raise ConfigError(f'{where}: spread needs a fixed minute and hour (like "0 14 * * 1-5")')
    start = int(fields[1]) * 60 + int(fields[0]) + zlib.crc32(project_id.encode()) % window
    if start >= 24 * 60:
        raise ConfigError(f"{where}: spread would move project {project_id} past midnight")
    return " ".join([str(start % 60), str(start // 60), *fields[2:]])


def _project(entry: Any, where: str, spread: int = 0) -> ProjectConfig:
    if not isinstance(entry, dict):
        raise ConfigError(f"{where}: must be a table, got {type(entry).__name__}")
    project_id = entry.get("id")
    if not isinstance(project_id, str) or not _ID.match(project_id):
        raise ConfigError(f"{where}: 'id' must be a project ID like GEM-001, got {project_id!r}")
    where = f"{where} ({project_id})"
    _refuse_unknown(entry, _PROJECT_KEYS, f"{where}: unknown key(s)")

    name = _string(entry, "name", where, f"run-dailyscrum-{project_id.lower()}")
    if problem := name_problem(name):
        raise ConfigError(f"{where}: name {name!r}: {problem}; set `name` to a shorter valid one")

    sprint_id = _string(entry, "sprint", where, "")
    if sprint_id and not _ID.match(sprint_id):
        raise ConfigError(f"{where}: 'sprint' must be a sprint ID like GEM-001-S01, got {sprint_id!r}")

    schedule = entry.get("schedule", DEFAULT_SCHEDULE)
    schedules = [schedule] if isinstance(schedule, str) else schedule
    if not isinstance(schedules, list) or not schedules or not all(isinstance(s, str) for s in schedules):
        raise ConfigError(f"{where}: 'schedule' must be a cron string or a non-empty list of them")
    moved = []
    for item in schedules:
        if problem := schedule_problem(item):
            raise ConfigError(f"{where}: schedule {item!r}: {problem}")
        moved.append(spread_schedule(item, project_id, spread, f"{where}: schedule {item!r}"))

    timezone = _string(entry, "timezone", where, DEFAULT_TIMEZONE)
    if problem := timezone_problem(timezone):
        raise ConfigError(f"{where}: timezone {timezone!r}: {problem}")

    suspended = entry.get("suspended", False)
    if not isinstance(suspended, bool):
        raise ConfigError(f"{where}: 'suspended' must be true or false, got {suspended!r}")

    return ProjectConfig(project_id, name, sprint_id, tuple(moved), timezone, suspended)


def _refuse_unknown(table: dict[str, Any], allowed: set[str], message: str) -> None:
    if unknown := sorted(set(table) - allowed):
        raise ConfigError(f"{message} {', '.join(unknown)}; allowed: {', '.join(sorted(allowed))}")


def _string(entry: dict[str, Any], key: str, where: str, default: str) -> str:
    value = entry.get(key, default)
    if not isinstance(value, str):
        raise ConfigError(f"{where}: {key!r} must be a string, got {value!r}")
    return value


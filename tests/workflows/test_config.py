"""projects.toml: the default is today's single workflow; bad entries are refused, naming the entry."""

from __future__ import annotations

from pathlib import Path

import pytest

from workflows import checks, render
from workflows.cluster import config


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "projects.toml"
    path.write_text(text)
    return path


def test_default_config_is_the_single_gem_001_workflow() -> None:
    loaded = config.load()
    assert loaded.projects == (
        config.ProjectConfig(project_id="GEM-001", name="run-dailyscrum", sprint_id="GEM-001-S01"),
    )


def test_default_name_and_defaults(tmp_path: Path) -> None:
    [project] = config.load(write(tmp_path, '[[projects]]\nid = "GEM-002"\n')).projects
    assert project.name == "run-dailyscrum-gem-002"
    assert (project.sprint_id, project.schedules, project.timezone, project.suspended) == (
        "",
        ("0 14 * * 1-5",),
        "UTC",
        False,
    )


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            '[[projects]]\nid = "GEM-001"\n[[projects]]\nid = "GEM-001"\n',
            "projects[1] (GEM-001): duplicate project, already listed as projects[0]",
        ),
        (
            '[[projects]]\nid = "A-1"\nname = "x"\n[[projects]]\nid = "B-1"\nname = "x"\n',
            "projects[1] (B-1): duplicate CronWorkflow name 'x'",
        ),
        (
            '[[projects]]\nid = "GEM-001"\nname = "' + "a" * 53 + '"\n',
            "projects[0] (GEM-001): name '" + "a" * 53 + "': is 53 characters",
        ),
        (
            '[[projects]]\nid = "A-1"\n[[projects]]\nid = "ABCDEFGHIJKLMNOPQRSTUVWXYZ-0123456789AB"\n',
            "projects[1] (ABCDEFGHIJKLMNOPQRSTUVWXYZ-0123456789AB): name 'run-dailyscrum-abc",
        ),
        (
            '[[projects]]\nid = "GEM_001"\n',
            "projects[0] (GEM_001): name 'run-dailyscrum-gem_001': is not a valid DNS-1123",
        ),
        (
            '[[projects]]\nid = "GEM-001"\nschedule = "0 14 * * 8"\n',
            "projects[0] (GEM-001): schedule '0 14 * * 8': day of week field '8': 8 is outside 0-6",
        ),
        (
            '[[projects]]\nid = "GEM-001"\nschedules = ["0 14 * * 1"]\n',
            "projects[0] (GEM-001): unknown key(s) schedules",
        ),
        (
            '[[projects]]\nid = "GEM-001"\ntimezone = "Berlin"\n',
            "projects[0] (GEM-001): timezone 'Berlin': is not a known IANA time zone",
        ),
        (
            '[[projects]]\nid = "GEM-001"\nsuspended = "yes"\n',
            "projects[0] (GEM-001): 'suspended' must be true or false",
        ),
        ('[[projects]]\nname = "x"\n', "projects[0]: 'id' must be a project ID"),
        (
            '[[projects]]\nid = "GEM-001"\nsprint = "S 1"\n',
            "projects[0] (GEM-001): 'sprint' must be a sprint ID",
        ),
        ("project = []\n", "unknown top-level key(s) project"),
        (
            'argo_version = "3.5"\n[[projects]]\nid = "GEM-001"\n',
            "argo_version '3.5': the manifest needs Argo Workflows 3.7",
        ),
        ("", "needs at least one [[projects]] entry"),
        ("[[projects]\n", "not valid TOML"),
    ],
)
def test_bad_config_is_refused_naming_the_entry(tmp_path: Path, text: str, message: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(config.ConfigError) as raised:
        config.load(path)
    assert str(raised.value).startswith(str(path))
    assert message in str(raised.value)


def test_render_command_refuses_a_bad_config(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    path = write(tmp_path, '[[projects]]\nid = "GEM-001"\ntimezone = "Mars/Base"\n')
    assert render.main(["--config", str(path)]) == 2
    assert "projects[0] (GEM-001): timezone 'Mars/Base'" in capsys.readouterr().err


def test_existing_files_with_argo_version_still_render(tmp_path: Path) -> None:
    path = write(tmp_path, 'argo_version = "3.7"\n[[projects]]\nid = "GEM-001"\n')
    assert render.main(["--config", str(path)]) == 0
    with pytest.raises(config.ConfigError, match=r"needs Argo Workflows 3\.7 or later"):
        config.load(write(tmp_path, 'argo_version = "3.6"\n[[projects]]\nid = "GEM-001"\n'))


@pytest.mark.parametrize(
    ("name", "ok"),
    [
        ("run-dailyscrum", True),
        ("a" * 52, True),
        ("a" * 53, False),
        ("Run", False),
        ("-a", False),
        ("a.b", True),
    ],
)
def test_name_rule(name: str, ok: bool) -> None:
    assert (checks.name_problem(name) is None) is ok

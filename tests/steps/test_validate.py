"""steps.validate: every refusal names the variable and shows the value."""

from __future__ import annotations

import datetime as dt

import pytest

from steps import validate
from steps.validate import InvalidInput
from tests.steps.runner import MORE_BAD_IDS


@pytest.mark.parametrize("value", ["GEM-001", "GEM-001-S01", "a", "A_b-9", "x" * 64])
def test_identifier_accepts(value: str) -> None:
    assert validate.identifier("SPRINT_ID", value) == value


@pytest.mark.parametrize("value", MORE_BAD_IDS)
def test_identifier_refuses_and_names_variable_and_value(value: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        validate.identifier("SPRINT_ID", value)
    assert "SPRINT_ID" in str(caught.value)
    assert repr(value) in str(caught.value)


def test_date() -> None:
    assert validate.date("REPORT_DATE", "2026-11-30") == dt.date(2026, 11, 30)
    bad_dates = ["2026-02-30", "2026-13-01", "30-11-2026", "2026-1-5", "", "2026-11-30T00:00",
                 "\u0662026-11-30"]
    for bad in bad_dates:
        with pytest.raises(InvalidInput, match="REPORT_DATE"):
            validate.date("REPORT_DATE", bad)


def test_timestamp() -> None:
    parsed = validate.timestamp("RUN_CREATED_AT", "2026-11-30T14:00:00Z")
    assert parsed == dt.datetime(2026, 11, 30, 14, tzinfo=dt.UTC)
    for bad in ["2026-11-30T14:00:00", "yesterday", "", "2026-11-30T25:00:00Z"]:
        with pytest.raises(InvalidInput, match="RUN_CREATED_AT"):
            validate.timestamp("RUN_CREATED_AT", bad)


def test_timezone() -> None:
    assert str(validate.timezone("SCHEDULE_TIMEZONE", "Europe/Paris")) == "Europe/Paris"
    for bad in ["Mars/Olympus", "", "../etc/passwd", " UTC", "/etc/localtime"]:
        with pytest.raises(InvalidInput, match="SCHEDULE_TIMEZONE"):
            validate.timezone("SCHEDULE_TIMEZONE", bad)


@pytest.mark.parametrize(("value", "expected"), [("", False), ("false", False), ("FALSE", False),
                                                 ("true", True), ("True", True), (" true ", True)])
def test_flag(value: str, expected: bool) -> None:
    assert validate.flag("FORCE", value) is expected


@pytest.mark.parametrize("value", ["yes", "1", "on", "tru"])
def test_flag_refuses(value: str) -> None:
    with pytest.raises(InvalidInput, match=r"FORCE .*" + repr(value)):
        validate.flag("FORCE", value)


def test_service_url() -> None:
    assert validate.service_url("X_URL", "http://sprint-service.dsm.svc.cluster.local/") == (
        "http://sprint-service.dsm.svc.cluster.local"
    )
    assert validate.service_url("X_URL", "https://127.0.0.1:8080/api") == "https://127.0.0.1:8080/api"
    for bad in ["", "sprint-service", "ftp://host", "http://", "http://host:99999", "http://host?x=1",
                "http://ho st", "file:///etc/passwd", "http://:80"]:
        with pytest.raises(InvalidInput, match="X_URL"):
            validate.service_url("X_URL", bad)


def test_seconds_and_count() -> None:
    assert validate.seconds("T", None, 3.05) == 3.05
    assert validate.seconds("T", "0.5", 3.05) == 0.5
    assert validate.seconds("T", "0", 1.0, allow_zero=True) == 0
    for bad in ["0", "-1", "nan", "inf", "soon"]:
        with pytest.raises(InvalidInput, match="T"):
            validate.seconds("T", bad, 1.0)
    assert validate.count("N", "", 3) == 3
    assert validate.count("N", "0", 3) == 0
    for bad in ["-1", "11", "x"]:
        with pytest.raises(InvalidInput, match="N"):
            validate.count("N", bad, 3)

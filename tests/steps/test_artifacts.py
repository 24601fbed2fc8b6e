"""steps.artifacts: atomic writes and input artifacts."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from steps import artifacts
from steps.validate import InvalidInput


def test_write_json_is_atomic_and_leaves_no_temp_files(tmp_path: Path) -> None:
    target = tmp_path / "out" / "tasks.json"
    artifacts.write_json(target, [{"task_id": "T\u00e9"}])
    artifacts.write_json(target, {"again": True})  # overwrite in place
    assert json.loads(target.read_text(encoding="utf-8")) == {"again": True}
    assert target.read_text(encoding="utf-8").endswith("\n")
    assert [p.name for p in target.parent.iterdir()] == ["tasks.json"]


def test_small_artifacts_are_indented_big_ones_compact(tmp_path: Path) -> None:
    small = [{"id": "T1", "title": "Caf\u00e9"}]
    artifacts.write_json(tmp_path / "small.json", small)
    assert (tmp_path / "small.json").read_text(encoding="utf-8") == (
        '[\n  {\n    "id": "T1",\n    "title": "Caf\u00e9"\n  }\n]\n'
    )
    big = [{"id": f"T{i}", "title": "x" * 20} for i in range(40_000)]  # ~1.3 MB
    artifacts.write_json(tmp_path / "big.json", big)
    text = (tmp_path / "big.json").read_text(encoding="utf-8")
    assert len(text.splitlines()) == 1 and len(text) > artifacts.INDENT_MAX_BYTES
    assert json.loads(text) == big


def test_failed_write_keeps_the_old_file(tmp_path: Path) -> None:
    target = tmp_path / "a.json"
    artifacts.write_json(target, {"old": 1})
    with pytest.raises(TypeError):
        artifacts.write_json(target, {"bad": object()})
    assert json.loads(target.read_text()) == {"old": 1}
    assert [p.name for p in tmp_path.iterdir()] == ["a.json"]


def test_read_json_errors_are_invalid_input(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match=r"input artifact tasks: file .* does not exist"):
        artifacts.read_json(tmp_path / "missing.json", "input artifact tasks")
    (tmp_path / "bad.json").write_text("{not json")
    with pytest.raises(InvalidInput, match="not valid JSON"):
        artifacts.read_json(tmp_path / "bad.json", "input artifact tasks")

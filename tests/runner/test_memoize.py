"""Template memoization as Argo does it, with the runs root's cache directory for the ConfigMap:
only a Succeeded node is recorded; a later node with the same fresh key does not run, its outputs
(parameters and artifacts) are restored and it Succeeds; real step subprocesses throughout."""

from __future__ import annotations

import io
import json
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from tests.runner.builder import (
    config_map,
    container,
    cron,
    in_artifact,
    out_artifact,
    out_param,
    write,
)
from tests.runner.test_run import ENV
from workflows.runner.cli import REPO_ROOT, resolve_parameters
from workflows.runner.executor import Executor
from workflows.runner.manifest import load_plans
from workflows.runner.progress import Reporter
from workflows.runner.rundir import RunDir, utc_now
from workflows.runner.store import MemoCache

CACHE = "dailyscrum-simulations"


def memoized(tmp_path: Path, key: str = "{{inputs.parameters.day}}", fail_times: int = 0) -> dict[str, Any]:
    """`simulate` (memoized, counts its calls) feeds `report` a parameter and an artifact."""
    simulate = container(
        "simulate",
        [
            *("--counter", str(tmp_path / "calls"), "--fail-times", str(fail_times)),
            *("--write", "{{outputs.parameters.result.path}}=moved {{inputs.parameters.day}}"),
            *("--write", "{{outputs.artifacts.snapshot.path}}=before {{inputs.parameters.day}}"),
        ],
        inputs={"parameters": [{"name": "day"}]},
        outputs={"parameters": [out_param("result")], "artifacts": [out_artifact("snapshot")]},
        memoize={"key": key, "maxAge": "36h", "cache": {"configMap": {"name": CACHE}}},
    )
    report = container(
        "report",
        [
            "--copy",
            "{{inputs.artifacts.snapshot.path}}={{outputs.artifacts.seen.path}}",
            "--env",
            "R={{outputs.parameters.result.path}}",
        ],
        inputs={"parameters": [{"name": "result"}], "artifacts": [in_artifact("snapshot")]},
        outputs={"parameters": [out_param("result")], "artifacts": [out_artifact("seen")]},
        env={"R": "{{inputs.parameters.result}}"},
    )
    return cron(
        tasks=[
            {
                "name": "simulate",
                "template": "simulate",
                "arguments": {"parameters": [{"name": "day", "value": "{{workflow.parameters.day}}"}]},
            },
            {
                "name": "report",
                "template": "report",
                "depends": "simulate.Succeeded",
                "arguments": {
                    "parameters": [
                        {"name": "result", "value": "{{tasks.simulate.outputs.parameters.result}}"}
                    ],
                    "artifacts": [
                        {"name": "snapshot", "from": "{{tasks.simulate.outputs.artifacts.snapshot}}"}
                    ],
                },
            },
        ],
        templates=[simulate, report],
        parameters={"day": "2026-12-01"},
    )


def execute(tmp_path: Path, name: str, **parameters: str) -> tuple[int, dict[str, Any], str]:
    """One run in tmp_path/runs/<name> (runs of one runs root share its cache), through the executor:
    the lint refuses any `memoize` today, as Argo 3.7's CRD requires `cache.configMap.key` and
    4.1's refuses it (docs/local-runner.md), so `python -m workflows run` would stop before this."""
    [plan] = load_plans(tmp_path / "m.yaml")
    run_dir = RunDir(tmp_path / "runs" / name)
    run_dir.path.mkdir(parents=True)
    out = io.StringIO()
    executor = Executor(
        plan,
        resolve_parameters(plan, parameters, {}),
        run_dir,
        workflow_name=f"{plan.name}-{name}",
        uid=name,
        created_at=utc_now(),
        manifest="m.yaml",
        reporter=Reporter(out, width=max(map(len, plan.tasks))),
        workdir=REPO_ROOT,
        environ=ENV,
    )
    status = executor.run()
    return (0 if status["phase"] == "Succeeded" else 1), status, out.getvalue()


def calls(tmp_path: Path) -> int:
    counter = tmp_path / "calls"
    return int(counter.read_text()) if counter.exists() else 0


def test_a_second_run_reuses_the_first_ones_result(tmp_path: Path) -> None:
    write(tmp_path / "m.yaml", memoized(tmp_path))
    code, first, out = execute(tmp_path, "first")
    assert code == 0, out
    assert "saved as memoize key 2026-12-01 in cache dailyscrum-simulations" in out
    assert (tmp_path / "runs" / "cache" / CACHE / "2026-12-01" / "entry.json").is_file()

    code, second, out = execute(tmp_path, "second")
    assert code == 0, out
    assert calls(tmp_path) == 1  # the simulation ran once
    simulate = second["tasks"]["simulate"]
    assert (simulate["phase"], simulate["attempts"]) == ("Succeeded", [])
    assert simulate["memoization"] == {"key": "2026-12-01", "cacheName": CACHE, "hit": True}
    assert "simulate  reused the cached result (memoize key 2026-12-01, cache dailyscrum-simulations" in out
    # Its outputs were restored: the report got the parameter and the artifact of the first run.
    report = second["tasks"]["report"]
    assert report["outputs"]["parameters"] == {"result": "moved 2026-12-01"}
    assert (
        tmp_path / "runs" / "second" / report["outputs"]["artifacts"]["seen"]
    ).read_text() == "before 2026-12-01"
    assert first["tasks"]["simulate"]["memoization"]["hit"] is False

    code, _, out = execute(tmp_path, "next-day", day="2026-12-02")
    assert (code, calls(tmp_path)) == (0, 2)  # another key: it runs


def test_only_a_succeeded_node_is_recorded(tmp_path: Path) -> None:
    write(tmp_path / "m.yaml", memoized(tmp_path, fail_times=1))
    code, status, _ = execute(tmp_path, "failed")
    assert (code, status["tasks"]["simulate"]["phase"]) == (1, "Failed")
    assert not (tmp_path / "runs" / "cache" / CACHE / "2026-12-01").exists()
    code, _, _ = execute(tmp_path, "again")
    assert (code, calls(tmp_path)) == (0, 2)  # nothing was reused from the failed run
    execute(tmp_path, "third")
    assert calls(tmp_path) == 2


def test_an_entry_older_than_max_age_is_a_miss(tmp_path: Path) -> None:
    write(tmp_path / "m.yaml", memoized(tmp_path))
    execute(tmp_path, "first")
    cache = MemoCache(tmp_path / "runs", CACHE)
    saved = json.loads((cache.dir / "2026-12-01" / "entry.json").read_text())["creationTimestamp"]
    created = datetime.fromisoformat(saved.replace("Z", "+00:00"))
    assert cache.load("2026-12-01", 36 * 3600, now=created + timedelta(hours=35)) is not None
    assert cache.load("2026-12-01", 36 * 3600, now=created + timedelta(hours=37)) is None


def test_a_key_argo_would_refuse_errors_the_node_before_it_runs(tmp_path: Path) -> None:
    """Argo's cache keys match ^[a-zA-Z0-9][-a-zA-Z0-9]*$: a dotted project.sprint.date key errors."""
    write(tmp_path / "m.yaml", memoized(tmp_path, key="GEM-001.{{inputs.parameters.day}}"))
    code, status, _ = execute(tmp_path, "run")
    simulate = status["tasks"]["simulate"]
    assert (code, simulate["phase"], simulate["message"]) == (
        1,
        "Error",
        "invalid cache key: GEM-001.2026-12-01",
    )
    assert calls(tmp_path) == 0


def test_a_cache_configmap_without_its_label_is_refused(tmp_path: Path) -> None:
    write(tmp_path / "m.yaml", config_map(CACHE), memoized(tmp_path))
    code, status, _ = execute(tmp_path, "run")
    assert status["tasks"]["simulate"]["message"] == (
        "memoization configmap doesn't have workflows.argoproj.io/configmap-type label, refusing to use it"
    )
    write(
        tmp_path / "m.yaml",
        config_map(CACHE, labels={"workflows.argoproj.io/configmap-type": "Cache"}),
        memoized(tmp_path),
    )
    code, status, out = execute(tmp_path, "labelled")
    assert (code, status["tasks"]["simulate"]["phase"]) == (0, "Succeeded"), out

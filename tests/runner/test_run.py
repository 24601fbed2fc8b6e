"""Local runs of small hand-made manifests: real subprocesses (tests.runner.stepkit), real files."""

from __future__ import annotations

import io
import itertools
import json
import os
import re
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from tests.runner.builder import container, cron, in_artifact, out_artifact, out_param, write
from workflows.runner.cli import REPO_ROOT, run

ENV = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "DSM_RUNNER_MAX_BACKOFF_SECONDS": "0.2"}
CONTRACT_RETRY = {
    "limit": 3,
    "retryPolicy": "Always",
    "backoff": {"duration": "5s", "factor": 2, "maxDuration": "1m"},
    "expression": 'lastRetry.status == "Error" || !(asInt(lastRetry.exitCode) in [2, 4])',
}


def execute(
    tmp_path: Path, doc: dict[str, Any], *args: str, environ: dict[str, str] | None = None
) -> tuple[int, dict[str, Any], str]:
    manifest = write(tmp_path / "manifest.yaml", doc)
    out = io.StringIO()
    code = run([str(manifest), "--run-dir", str(tmp_path / "run"), *args], environ=environ or ENV, out=out)
    status = json.loads((tmp_path / "run" / "status.json").read_text())
    return code, status, out.getvalue()


def phases(status: dict[str, Any]) -> dict[str, str]:
    return {name: task["phase"] for name, task in status["tasks"].items()}


def test_independent_tasks_run_in_parallel(tmp_path: Path) -> None:
    stamps = tmp_path / "stamps.jsonl"
    sleeper = container("sleep", ["--sleep", "0.8", "--stamp", str(stamps)])
    doc = cron(
        tasks=[
            {"name": "start", "template": "quick"},
            *({"name": f"fan-{i}", "template": "sleep", "depends": "start.Succeeded"} for i in range(3)),
            {"name": "join", "template": "quick", "depends": "fan-0 && fan-1 && fan-2"},
        ],
        templates=[container("quick", []), sleeper],
    )
    code, status, out = execute(tmp_path, doc)
    assert code == 0, out
    assert set(phases(status).values()) == {"Succeeded"}
    runs = [json.loads(line) for line in stamps.read_text().splitlines()]
    assert len(runs) == 3
    assert max(r["start"] for r in runs) < min(r["end"] for r in runs)  # all three were running at once
    assert max(r["end"] for r in runs) - min(r["start"] for r in runs) < 1.6  # not 3 x 0.8 s
    assert re.search(r"^\d\d:\d\d:\d\d  fan-1 +started$", out, re.MULTILINE)
    assert re.search(r"^\d\d:\d\d:\d\d  join +succeeded \(\d+(\.\d)? s\)$", out, re.MULTILINE)


def test_retries_until_success_with_a_log_per_attempt(tmp_path: Path) -> None:
    counter = tmp_path / "calls"
    flaky = container(
        "flaky", ["--counter", str(counter), "--fail-times", "2", "--fail-code", "3"], retry=CONTRACT_RETRY
    )
    doc = cron(tasks=[{"name": "fetch", "template": "flaky"}], templates=[flaky])
    code, status, out = execute(tmp_path, doc)
    assert code == 0, out
    fetch = status["tasks"]["fetch"]
    attempts = fetch["attempts"]
    for before, after in itertools.pairwise(attempts):  # the 5 s / 10 s backoff capped at 0.2 s
        waited = datetime.fromisoformat(after["started_at"]) - datetime.fromisoformat(before["finished_at"])
        assert waited.total_seconds() < 2.5, attempts
    assert fetch["phase"] == "Succeeded"
    assert [a["exit_code"] for a in fetch["attempts"]] == [3, 3, 0]
    assert "fetch  failed (exit 3), retrying in 0.2 s (attempt 2/4)" in out
    assert "fetch  failed (exit 3), retrying in 0.2 s (attempt 3/4)" in out
    for attempt in (1, 2, 3):
        log = tmp_path / "run" / "fetch" / f"attempt-{attempt}.log"
        assert f"stepkit: call {attempt}," in log.read_text()


def test_retry_expression_stops_retries_and_downstream_is_omitted(tmp_path: Path) -> None:
    counter = tmp_path / "calls"
    bad_input = container(
        "bad", ["--counter", str(counter), "--fail-times", "9", "--fail-code", "2"], retry=CONTRACT_RETRY
    )
    doc = cron(
        tasks=[
            {"name": "fetch", "template": "bad"},
            {"name": "report", "template": "quick", "depends": "fetch.Succeeded"},
        ],
        templates=[bad_input, container("quick", [])],
    )
    code, status, out = execute(tmp_path, doc)
    assert code == 1
    assert counter.read_text() == "1"  # exit 2 is never retried
    assert phases(status) == {"fetch": "Failed", "report": "Omitted"}
    assert status["phase"] == "Failed"
    assert status["tasks"]["fetch"]["exit_code"] == 2
    assert "fetch   failed (exit 2), backoff 0.2 s before Argo decides on a retry" in out  # as Argo waits
    assert "fetch   failed (exit 2); not retried: retryStrategy.expression evaluated to false" in out
    assert "report  omitted" in out
    assert "mini: Failed" in out


def test_retry_policy_decides_between_failed_and_error(tmp_path: Path) -> None:
    """A missing output parameter is an Error (Argo's wait container), a non-zero exit a failure."""
    counter = tmp_path / "calls"
    no_output = container(
        "no-output",
        ["--counter", str(counter)],
        outputs={"parameters": [out_param("n")]},
        retry={"limit": 2, "retryPolicy": "OnFailure"},
    )
    doc = cron(tasks=[{"name": "t", "template": "no-output"}], templates=[no_output])
    code, status, out = execute(tmp_path, doc)
    assert code == 1
    assert status["tasks"]["t"]["phase"] == "Error"
    assert "output parameter 'n'" in status["tasks"]["t"]["message"]
    assert counter.read_text() == "1"
    assert "not retried: retryPolicy OnFailure does not retry a node that ends in Error" in out
    assert status["phase"] == "Error"


def test_when_false_skips_and_what_depends_on_success_is_omitted(tmp_path: Path) -> None:
    decide = container(
        "decide",
        ["--write", "{{outputs.parameters.proceed.path}}=false"],
        outputs={"parameters": [out_param("proceed")]},
    )
    doc = cron(
        tasks=[
            {"name": "prepare", "template": "decide"},
            {
                "name": "simulate",
                "template": "quick",
                "depends": "prepare.Succeeded",
                "when": "{{tasks.prepare.outputs.parameters.proceed}} == true",
            },
            {"name": "fetch", "template": "quick", "depends": "simulate.Succeeded"},
            {"name": "tidy", "template": "quick", "depends": "simulate"},  # bare: Succeeded or Skipped
        ],
        templates=[decide, container("quick", [])],
    )
    code, status, out = execute(tmp_path, doc)
    assert code == 0, out  # as in Argo: a skipped branch is not a failure
    assert phases(status) == {
        "prepare": "Succeeded",
        "simulate": "Skipped",
        "fetch": "Omitted",
        "tidy": "Succeeded",
    }
    assert "simulate  skipped (when 'false == true' false)" in out
    assert "fetch     omitted" in out
    assert status["tasks"]["prepare"]["outputs"]["parameters"] == {"proceed": "false"}


def test_a_failure_handled_downstream_does_not_fail_the_workflow(tmp_path: Path) -> None:
    doc = cron(
        tasks=[
            {"name": "try", "template": "fail"},
            {"name": "fallback", "template": "quick", "depends": "try.Failed"},
        ],
        templates=[container("fail", ["--exit", "3"]), container("quick", [])],
    )
    code, status, _ = execute(tmp_path, doc)
    assert phases(status) == {"try": "Failed", "fallback": "Succeeded"}
    assert (code, status["phase"]) == (0, "Succeeded")


def test_artifacts_and_parameters_pass_between_tasks_as_separate_files(tmp_path: Path) -> None:
    produce = container(
        "produce",
        [
            "--write",
            "{{outputs.artifacts.data.path}}=payload 42",
            "--write",
            "{{outputs.parameters.n.path}}=42\n",
        ],
        outputs={
            "artifacts": [out_artifact("data")],
            "parameters": [out_param("n"), out_param("missing", "dflt")],
        },
    )
    consume = container(
        "consume",
        [
            "--copy",
            "{{inputs.artifacts.data.path}}={{outputs.artifacts.copy.path}}",
            "--env",
            "N={{outputs.parameters.n.path}}",
        ],
        inputs={"parameters": [{"name": "n"}], "artifacts": [in_artifact("data")]},
        outputs={"artifacts": [out_artifact("copy")], "parameters": [out_param("n")]},
        env={"N": "{{inputs.parameters.n}}"},
    )
    doc = cron(
        tasks=[
            {"name": "a", "template": "produce"},
            {
                "name": "b",
                "template": "consume",
                "depends": "a",
                "arguments": {
                    "parameters": [{"name": "n", "value": "{{tasks.a.outputs.parameters.n}}"}],
                    "artifacts": [{"name": "data", "from": "{{tasks.a.outputs.artifacts.data}}"}],
                },
            },
        ],
        templates=[produce, consume],
    )
    code, status, out = execute(tmp_path, doc)
    assert code == 0, out
    run_dir = tmp_path / "run"
    a, b = status["tasks"]["a"], status["tasks"]["b"]
    assert a["outputs"]["parameters"] == {"n": "42", "missing": "dflt"}  # trimmed; default when no file
    assert b["outputs"]["parameters"] == {"n": "42"}
    saved = run_dir / b["outputs"]["artifacts"]["copy"]
    assert saved.read_text() == "payload 42"
    consumer_input = run_dir / "b" / "attempt-1" / "volumes" / "work" / "in" / "data.txt"
    producer_output = run_dir / "a" / "attempt-1" / "volumes" / "work" / "out" / "data.txt"
    assert consumer_input.read_text() == producer_output.read_text() == "payload 42"
    assert not consumer_input.samefile(producer_output)


def test_active_deadline_seconds_stops_a_hanging_step(tmp_path: Path) -> None:
    doc = cron(
        tasks=[{"name": "hang", "template": "hang"}],
        templates=[container("hang", ["--sleep", "30"], deadline=1)],
    )
    started = time.monotonic()
    code, status, _ = execute(tmp_path, doc)
    assert time.monotonic() - started < 10
    assert code == 1
    assert status["tasks"]["hang"]["phase"] == "Failed"
    assert "activeDeadlineSeconds (1 s) exceeded" in status["tasks"]["hang"]["message"]


def test_parameters_defaults_environment_then_p(tmp_path: Path) -> None:
    echo = container(
        "echo",
        [
            "--env",
            "WHO={{outputs.parameters.who.path}}",
            "--env",
            "LEAK={{outputs.parameters.leak.path}}",
            "--env",
            "CREATED={{outputs.parameters.created.path}}",
            "--env",
            "NAME={{outputs.parameters.name.path}}",
        ],
        outputs={
            "parameters": [out_param("who"), out_param("leak"), out_param("created"), out_param("name")]
        },
        env={
            "WHO": "{{workflow.parameters.who}}-{{workflow.parameters.sprint_service_url}}",
            "CREATED": "{{workflow.creationTimestamp}}",
            "NAME": "{{workflow.name}}",
        },
    )
    doc = cron(
        tasks=[{"name": "t", "template": "echo"}],
        templates=[echo],
        parameters={"who": "manifest", "sprint_service_url": "http://sprint"},
    )
    environ = {**ENV, "SPRINT_SERVICE_URL": "http://env", "WHO": "env", "LEAK": "secret"}
    code, status, out = execute(tmp_path, doc, "-p", "who=cli", environ=environ)
    assert code == 0, out
    outputs = status["tasks"]["t"]["outputs"]["parameters"]
    assert outputs["who"] == "cli-http://env"
    assert outputs["leak"] == "<unset>"  # the runner's environment does not leak into steps
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", outputs["created"])
    assert outputs["created"] == status["created_at"]
    assert outputs["name"].startswith("mini-") and outputs["name"] == status["workflow_name"]
    assert status["parameters"] == {"who": "cli", "sprint_service_url": "http://env"}


def test_unknown_parameter_is_refused_by_name(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    doc = cron(
        tasks=[{"name": "t", "template": "quick"}], templates=[container("quick", [])], parameters={"a": "1"}
    )
    manifest = write(tmp_path / "m.yaml", doc)
    assert run([str(manifest), "-p", "sprint=GEM", "--run-dir", str(tmp_path / "run")], environ=ENV) == 2
    assert "unknown parameter(s) sprint" in capsys.readouterr().err
    assert run([str(manifest), "-p", "novalue", "--run-dir", str(tmp_path / "run")], environ=ENV) == 2


def test_concurrent_runs_share_no_files(tmp_path: Path) -> None:
    """Two `python -m workflows run` at once, default run directories: each has its own, both succeed."""
    doc = cron(
        tasks=[{"name": "t", "template": "work"}],
        templates=[
            container(
                "work",
                ["--sleep", "0.5", "--write", "{{outputs.artifacts.data.path}}={{workflow.uid}}"],
                outputs={"artifacts": [out_artifact("data")]},
            )
        ],
    )
    manifest = write(tmp_path / "m.yaml", doc)
    env = {**ENV, "PYTHONPATH": str(REPO_ROOT)}
    command = [sys.executable, "-m", "workflows", "run", str(manifest)]
    procs = [
        subprocess.Popen(command, cwd=tmp_path, env=env, stdout=subprocess.PIPE, text=True) for _ in range(2)
    ]
    outputs = [p.communicate(timeout=60)[0] for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outputs
    run_dirs = sorted(p for p in (tmp_path / "runs").iterdir() if (p / "status.json").exists())
    assert len(run_dirs) == 2 and all(d.name.startswith("mini-") for d in run_dirs)
    uids = set()
    for run_dir in run_dirs:
        status = json.loads((run_dir / "status.json").read_text())
        assert status["phase"] == "Succeeded"
        saved = run_dir / status["tasks"]["t"]["outputs"]["artifacts"]["data"]
        assert saved.read_text() == status["uid"]
        uids.add(status["uid"])
    assert len(uids) == 2


def test_retry_reruns_only_what_failed(tmp_path: Path) -> None:
    first_calls, flaky_calls = tmp_path / "first", tmp_path / "flaky"
    doc = cron(
        tasks=[
            {"name": "first", "template": "first"},
            {
                "name": "flaky",
                "template": "flaky",
                "depends": "first.Succeeded",
                "arguments": {
                    "artifacts": [{"name": "data", "from": "{{tasks.first.outputs.artifacts.data}}"}]
                },
            },
            {"name": "last", "template": "quick", "depends": "flaky.Succeeded"},
        ],
        templates=[
            container(
                "first",
                ["--counter", str(first_calls), "--write", "{{outputs.artifacts.data.path}}=from first"],
                outputs={"artifacts": [out_artifact("data")]},
            ),
            container(
                "flaky",
                [
                    "--counter",
                    str(flaky_calls),
                    "--fail-times",
                    "1",
                    "--copy",
                    "{{inputs.artifacts.data.path}}={{outputs.artifacts.copy.path}}",
                ],
                inputs={"artifacts": [in_artifact("data")]},
                outputs={"artifacts": [out_artifact("copy")]},
            ),
            container("quick", []),
        ],
    )
    code, status, _ = execute(tmp_path, doc)
    assert code == 1
    assert phases(status) == {"first": "Succeeded", "flaky": "Failed", "last": "Omitted"}

    out = io.StringIO()
    assert run(["--retry", str(tmp_path / "run")], environ=ENV, out=out) == 0, out.getvalue()
    status = json.loads((tmp_path / "run" / "status.json").read_text())
    assert phases(status) == {"first": "Succeeded", "flaky": "Succeeded", "last": "Succeeded"}
    assert "retrying in" in out.getvalue() and "flaky, last" in out.getvalue()
    assert first_calls.read_text() == "1"  # its artifact was reused, not made again
    assert flaky_calls.read_text() == "2"
    assert [a["attempt"] for a in status["tasks"]["flaky"]["attempts"]] == [1, 2]
    assert (tmp_path / "run" / "flaky" / "attempt-1.log").exists()
    assert (tmp_path / "run" / "flaky" / "attempt-2.log").exists()
    assert (
        tmp_path / "run" / status["tasks"]["flaky"]["outputs"]["artifacts"]["copy"]
    ).read_text() == "from first"
    assert [h["phase"] for h in status["history"]] == ["Failed", "Succeeded"]
    assert "started" not in [line.split()[-1] for line in out.getvalue().splitlines() if " first " in line]

    # A run that already succeeded has nothing to retry.
    again = io.StringIO()
    assert run(["--retry", str(tmp_path / "run")], environ=ENV, out=again) == 0
    assert "nothing to retry" in again.getvalue()


def test_workflow_active_deadline_is_an_overall_timeout(tmp_path: Path) -> None:
    doc = cron(
        tasks=[
            {"name": "slow", "template": "slow"},
            {"name": "after", "template": "slow", "depends": "slow"},
        ],
        templates=[container("slow", ["--sleep", "30"])],
        activeDeadlineSeconds=1,
    )
    started = time.monotonic()
    code, status, _ = execute(tmp_path, doc)
    assert time.monotonic() - started < 10
    assert code == 1
    assert status["phase"] == "Failed"
    assert "activeDeadlineSeconds (1 s) exceeded" in status["message"]
    assert phases(status) == {"slow": "Failed", "after": "Pending"}


def test_sigterm_stops_the_run_and_records_why(tmp_path: Path) -> None:
    doc = cron(
        tasks=[{"name": "a", "template": "slow"}, {"name": "b", "template": "slow", "depends": "a"}],
        templates=[container("slow", ["--sleep", "30"])],
    )
    manifest = write(tmp_path / "m.yaml", doc)
    run_dir = tmp_path / "run"
    command = [sys.executable, "-m", "workflows", "run", str(manifest), "--run-dir", str(run_dir)]
    process = subprocess.Popen(command, cwd=REPO_ROOT, env={**ENV, "PYTHONPATH": str(REPO_ROOT)}, text=True,
                               stdout=subprocess.PIPE)  # fmt: skip
    log = run_dir / "a" / "attempt-1.log"
    deadline = time.monotonic() + 60  # a loaded machine lints slowly
    while not log.exists() and time.monotonic() < deadline:  # wait until the first step is running
        time.sleep(0.05)
    time.sleep(0.3)
    process.terminate()
    output = process.communicate(timeout=20)[0]
    assert process.returncode == 1, output
    status = json.loads((run_dir / "status.json").read_text())
    assert (status["phase"], status["message"]) == ("Failed", "interrupted")
    assert phases(status) == {"a": "Failed", "b": "Pending"}
    assert status["tasks"]["a"]["message"] == "stopped: interrupted"


def test_the_failure_reason_is_the_programs_own_words(tmp_path: Path) -> None:
    from workflows.runner.executor import failure_reason

    step_log = tmp_path / "step.log"
    step_log.write_text(
        "2026-11-29T14:00:03Z simulate INFO  Starting\n"
        "2026-11-29T14:00:04Z simulate ERROR service error: daily-scrum-service answered 500\n"
        "2026-11-29T14:00:04Z simulate ERROR simulate failed after 1.0 s (exit 3)\n"
    )
    assert failure_reason(step_log) == "service error: daily-scrum-service answered 500"
    traceback = tmp_path / "other.log"
    traceback.write_text('Traceback (most recent call last):\n  File "x", line 1\nValueError: bad\n\n')
    assert failure_reason(traceback) == "ValueError: bad"
    traceback.write_text("x" * 20000 + "\n")
    assert len(failure_reason(traceback)) == 300
    assert failure_reason(tmp_path / "missing.log") == ""

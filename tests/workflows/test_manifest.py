"""The rendered CronWorkflow: golden file in sync, DAG shape, references, every setting issue 3 asks for."""

from __future__ import annotations

import copy
import re
import subprocess
import sys
from pathlib import Path

import pytest

from steps import contract
from tests.workflows.manifests import dag_tasks, env, golden_documents, templates
from workflows import render
from workflows.cluster import config, dailyscrum
from workflows.cluster.images import image_ref

FETCHES = [step.name for step in contract.FETCH_STEPS]


@pytest.fixture(scope="module")
def doc() -> dict:
    [document] = golden_documents()
    return document


GOLDENS = pytest.mark.parametrize(
    ("golden", "argo_version"),
    list(render.GOLDEN_ARGO_VERSIONS.items()),
    ids=[path.name for path in render.GOLDEN_ARGO_VERSIONS],
)


@GOLDENS
def test_golden_file_matches_the_hera_code(golden: Path, argo_version: str | None) -> None:
    assert golden.read_text(encoding="utf-8") == render.render_text(argo_version=argo_version), (
        f"{golden.relative_to(render.REPO_ROOT)} is out of date: run `make render` and commit it"
    )


@GOLDENS
def test_render_command_writes_the_golden_file(
    tmp_path: Path, golden: Path, argo_version: str | None
) -> None:
    out = tmp_path / "m.yaml"
    version = ["--argo-version", argo_version] if argo_version else []
    result = subprocess.run(
        [sys.executable, "-m", "workflows", "render", *version, "--output", str(out)],
        cwd=render.REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert out.read_text() == golden.read_text()


def _make_render(*variables: str) -> subprocess.CompletedProcess[str]:
    # -o: never (re)install the venv from inside a test; PY: this interpreter.
    argv = ["make", "--no-print-directory", "-o", ".venv/.installed", "render", f"PY={sys.executable}"]
    return subprocess.run(
        [*argv, *variables], cwd=render.REPO_ROOT, capture_output=True, text=True, timeout=120
    )


def test_make_render_with_other_images_leaves_the_golden_files_alone(tmp_path: Path) -> None:
    """`make render REGISTRY=.. TAG=..` writes release manifests under build/, not over the goldens."""
    images = ["REGISTRY=registry.local:5000/dsm", "TAG=9.9.9"]
    planned = _make_render("--dry-run", *images)
    assert planned.returncode == 0, planned.stderr
    outputs = re.findall(r"--output (\S+)", planned.stdout)
    assert outputs == [f"build/manifests/{golden.name}" for golden in render.GOLDEN_ARGO_VERSIONS]

    before = {path: path.read_bytes() for path in render.GOLDEN_ARGO_VERSIONS}
    result = _make_render(*images, f"RENDER_DIR={tmp_path}")  # the same commands, into tmp_path
    assert result.returncode == 0, result.stderr
    assert {path: path.read_bytes() for path in before} == before
    for golden in before:
        text = (tmp_path / golden.name).read_text()
        assert "image: registry.local:5000/dsm/dailyscrum-report:9.9.9" in text
        assert "ghcr.io" not in text


def test_cron_settings(doc: dict) -> None:
    assert doc["kind"] == "CronWorkflow" and doc["apiVersion"] == "argoproj.io/v1alpha1"
    assert doc["metadata"]["name"] == "run-dailyscrum" and doc["metadata"]["namespace"] == "dsm"
    spec = doc["spec"]
    assert spec["schedules"] == ["0 14 * * 1-5"] and "schedule" not in spec
    assert spec["timezone"] == "UTC"
    assert spec["concurrencyPolicy"] == "Forbid"
    assert spec["successfulJobsHistoryLimit"] == 3 and spec["failedJobsHistoryLimit"] == 3
    assert spec["startingDeadlineSeconds"] == 600
    assert spec["suspend"] is False


def test_workflow_parameters_exactly(doc: dict) -> None:
    params = {p["name"]: p["value"] for p in doc["spec"]["workflowSpec"]["arguments"]["parameters"]}
    assert params == {
        "project_id": "GEM-001",
        "sprint_id": "GEM-001-S01",
        "report_date": "",
        "force": "false",
        "daily_scrum_service_url": "http://daily-scrum-service.dsm.svc.cluster.local",
        "sprint_service_url": "http://sprint-service.dsm.svc.cluster.local",
        "project_service_url": "http://project-service.dsm.svc.cluster.local",
        "chronicle_service_url": "http://chronicle-service.dsm.svc.cluster.local",
    }


def test_dag_shape_and_dependencies(doc: dict) -> None:
    tasks = dag_tasks(doc)
    assert list(tasks) == [step.name for step in contract.STEPS]
    assert "depends" not in tasks["prepare"]
    assert tasks["simulate"]["depends"] == "prepare.Succeeded"
    assert tasks["simulate"]["when"] == "{{tasks.prepare.outputs.parameters.proceed}} == true"
    for name in FETCHES:
        assert tasks[name]["depends"] == "simulate.Succeeded"
        assert "when" not in tasks[name]
    assert tasks["report"]["depends"] == " && ".join(f"{name}.Succeeded" for name in FETCHES)
    assert all("dependencies" not in task for task in tasks.values())
    assert all(task["template"] == name for name, task in tasks.items())


def test_artifacts_flow_from_their_producers(doc: dict) -> None:
    report = dag_tasks(doc)["report"]
    sources = {a["name"]: a["from"] for a in report["arguments"]["artifacts"]}
    assert sources == {
        "simulation": "{{tasks.simulate.outputs.artifacts.simulation}}",
        "tasks": "{{tasks.fetch-tasks.outputs.artifacts.tasks}}",
        "summary": "{{tasks.fetch-summary.outputs.artifacts.summary}}",
        "team": "{{tasks.fetch-team.outputs.artifacts.team}}",
    }
    by_name = templates(doc)
    for name, source in sources.items():
        producer, artifact = re.fullmatch(
            r"\{\{tasks\.([\w-]+)\.outputs\.artifacts\.([\w-]+)\}\}", source
        ).groups()
        outputs = {a["name"]: a for a in by_name[producer]["outputs"]["artifacts"]}
        assert artifact == name and outputs[name]["archive"] == {"none": {}}
        assert outputs[name]["path"] == f"/work/out/{contract.ARTIFACT_FILES[name]}"
    inputs = {a["name"]: a["path"] for a in by_name["report"]["inputs"]["artifacts"]}
    assert inputs == {name: f"/work/in/{contract.ARTIFACT_FILES[name]}" for name in contract.REPORT.inputs}


def test_resolved_sprint_and_date_come_from_prepare(doc: dict) -> None:
    tasks, by_name = dag_tasks(doc), templates(doc)
    assert env(by_name["prepare"])["SPRINT_ID"] == "{{workflow.parameters.sprint_id}}"
    assert env(by_name["prepare"])["REPORT_DATE"] == "{{workflow.parameters.report_date}}"
    assert env(by_name["prepare"])["RUN_CREATED_AT"] == "{{workflow.creationTimestamp}}"
    assert env(by_name["prepare"])["SCHEDULE_TIMEZONE"] == "UTC"
    for step in contract.STEPS[1:]:
        passed = {p["name"]: p["value"] for p in tasks[step.name].get("arguments", {}).get("parameters", [])}
        for env_name, param in dailyscrum.RESOLVED_BY_PREPARE.items():
            if env_name in step.env:
                assert env(by_name[step.name])[env_name] == f"{{{{inputs.parameters.{param}}}}}"
                assert passed[param] == f"{{{{tasks.prepare.outputs.parameters.{param}}}}}"


@pytest.mark.parametrize("step", contract.STEPS, ids=lambda s: s.name)
def test_container_template_is_derived_from_the_contract(doc: dict, step: contract.StepSpec) -> None:
    template = templates(doc)[step.name]
    container = template["container"]
    assert container["command"] == step.command
    assert container["image"] == image_ref(step, tag=render.package_version())
    assert set(env(template)) == set(step.env)
    args = container["args"]
    pairs = dict(zip(args[::2], args[1::2], strict=True))
    expected = {contract.option("in", a): f"{{{{inputs.artifacts.{a}.path}}}}" for a in step.inputs}
    expected |= {
        contract.option("out", a): f"{{{{outputs.artifacts.{a}.path}}}}" for a in step.output_artifacts
    }
    expected |= {
        contract.option("out", p): f"{{{{outputs.parameters.{p}.path}}}}" for p in step.output_parameters
    }
    assert pairs == expected
    outputs = {p["name"]: p["valueFrom"] for p in template.get("outputs", {}).get("parameters", [])}
    assert set(outputs) == set(step.output_parameters)
    assert all(value["path"] == f"/work/out/{name}" for name, value in outputs.items())
    assert outputs.get("note_id", {}).get("default", "") == ""  # a skipped write must not fail the run


@pytest.mark.parametrize("step", contract.STEPS, ids=lambda s: s.name)
def test_retry_strategy(doc: dict, step: contract.StepSpec) -> None:
    retry = templates(doc)[step.name]["retryStrategy"]
    if step is contract.SIMULATE:
        assert retry == {
            "retryPolicy": "Always",
            "limit": 2,
            "backoff": {"duration": "5s", "factor": 2},
            "expression": "asInt(lastRetry.exitCode) == 75",
        }
    else:
        assert retry == {
            "retryPolicy": "Always",
            "limit": 3,
            "backoff": {"duration": "5s", "factor": 2, "maxDuration": "1m"},
            "expression": 'lastRetry.status == "Error" || !(asInt(lastRetry.exitCode) in [2, 4])',
        }


def test_security_resources_and_lifetimes(doc: dict) -> None:
    spec = doc["spec"]["workflowSpec"]
    assert spec["serviceAccountName"] == "dailyscrum"
    assert spec["securityContext"] == {
        "runAsNonRoot": True,
        "runAsUser": 10001,
        "runAsGroup": 10001,
        "fsGroup": 10001,
        "seccompProfile": {"type": "RuntimeDefault"},
    }
    assert spec["podGC"] == {"strategy": "OnWorkflowSuccess"}
    assert spec["ttlStrategy"]["secondsAfterSuccess"] > 0 and spec["ttlStrategy"]["secondsAfterFailure"] > 0
    assert spec["activeDeadlineSeconds"] > 0
    assert {v["name"]: v for v in spec["volumes"]}.keys() == {"work", "tmp"}
    assert all("emptyDir" in v for v in spec["volumes"])
    memory = {}
    for step in contract.STEPS:
        template = templates(doc)[step.name]
        container = template["container"]
        assert container["securityContext"] == {
            "allowPrivilegeEscalation": False,
            "readOnlyRootFilesystem": True,
            "runAsNonRoot": True,
            "capabilities": {"drop": ["ALL"]},
        }
        assert {m["mountPath"] for m in container["volumeMounts"]} == {"/work", "/tmp"}
        assert template["activeDeadlineSeconds"] > 0
        assert set(container["resources"]) == {"requests", "limits"}
        memory[step.name] = container["resources"]["limits"]["memory"]
    assert memory["report"] == "512Mi" and all(v == "128Mi" for k, v in memory.items() if k != "report")


def test_per_project_mutex(doc: dict) -> None:
    """Per project: an active-sprint run (sprint_id "") and a run naming that sprint must queue too."""
    assert doc["spec"]["workflowSpec"]["synchronization"] == {
        "mutexes": [{"name": "dailyscrum-{{workflow.parameters.project_id}}"}]
    }


def test_title_and_description_on_the_cron_workflow_and_every_run(doc: dict) -> None:
    for metadata in (doc["metadata"], doc["spec"]["workflowMetadata"]):
        annotations = metadata["annotations"]
        assert annotations["workflows.argoproj.io/title"] == "Daily scrum GEM-001"
        description = annotations["workflows.argoproj.io/description"]
        for part in ("`GEM-001`", "`GEM-001-S01`", "**Date**", "`0 14 * * 1-5` UTC"):
            assert part in description


def test_metrics(doc: dict) -> None:
    workflow_metrics = {m["name"]: m for m in doc["spec"]["workflowSpec"]["metrics"]["prometheus"]}
    assert workflow_metrics["dailyscrum_run_duration_seconds"]["gauge"]["value"] == "{{workflow.duration}}"
    failed = workflow_metrics["dailyscrum_failed_runs_total"]
    assert failed["when"] == "{{workflow.status}} == Failed" and failed["counter"] == {"value": "1"}
    summary = {m["name"]: m for m in templates(doc)["fetch-summary"]["metrics"]["prometheus"]}
    for param in ("completed_tasks", "pending_tasks"):
        gauge = summary[f"dailyscrum_{param}"]
        assert gauge["gauge"] == {"realtime": False, "value": f"{{{{outputs.parameters.{param}}}}}"}
        assert {"key": "sprint", "value": "{{inputs.parameters.sprint_id}}"} in gauge["labels"]
    for step in contract.STEPS:
        step_metrics = {m["name"]: m for m in templates(doc)[step.name]["metrics"]["prometheus"]}
        assert step_metrics["dailyscrum_step_failures_total"]["when"] == "{{status}} == Failed"


def test_node_display_names_in_the_golden_manifest(doc: dict) -> None:
    """Argo 3.7+ (the default target) shows each node under its template's display name."""
    assert set(templates(doc)) == {dailyscrum.ENTRYPOINT, *(step.name for step in contract.STEPS)}
    for name, template in templates(doc).items():
        assert template["annotations"] == {
            "workflows.argoproj.io/display-name": dailyscrum.DISPLAY_NAMES[name]
        }
        assert "metadata" not in template  # not on the pod, where Hera puts template annotations


def test_the_argo_3_6_golden_differs_only_by_display_names(doc: dict) -> None:
    [old] = golden_documents(render.GOLDEN_ARGO36)
    assert all("annotations" not in t and "metadata" not in t for t in templates(old).values())
    new = copy.deepcopy(doc)
    for template in templates(new).values():
        template.pop("annotations")
    assert old == new


def test_registry_and_tag_are_chosen_at_render_time() -> None:
    [document] = render.render_documents(config.load(), registry="registry.local:5000/dsm", tag="1.2.3")
    images = {t["container"]["image"] for t in templates(document).values() if "container" in t}
    assert images == {f"registry.local:5000/dsm/{step.image}:1.2.3" for step in contract.STEPS}


def test_an_unwired_environment_variable_is_refused() -> None:
    step = contract.StepSpec(name="x", module="steps.x", image="x", env=("SOMETHING_NEW",))
    with pytest.raises(ValueError, match="SOMETHING_NEW"):
        dailyscrum.env_value(step, "SOMETHING_NEW", "UTC")


def test_what_the_ui_shows_on_each_node(doc: dict) -> None:
    """The output parameters the Argo UI lists on a node, and the report page it shows inline."""
    by_name = templates(doc)
    expected = {
        "prepare": {"sprint_id", "report_date", "proceed", "already_reported", "reason"},
        "simulate": {"tasks_updated"},
        "fetch-summary": {"total_tasks", "completed_tasks", "pending_tasks"},
        "report": {"note_id", "already_reported"},
    }
    for step, names in expected.items():
        declared = {p["name"]: p for p in by_name[step]["outputs"]["parameters"]}
        assert names <= set(declared), step
        assert all(declared[n]["valueFrom"]["path"] == f"/work/out/{n}" for n in names)
    page = {a["name"]: a for a in by_name["report"]["outputs"]["artifacts"]}["report-html"]
    # Not archived: the UI opens a plain .html artifact in its sandboxed frame, a .tgz it cannot.
    assert page["path"].endswith("/report.html") and page["archive"] == {"none": {}}

"""The offline lint: clean on the target layout; each controller rule caught with a failing example.

The documents are built here, small, in the layout the project renders (a WorkflowTemplate, two
ConfigMaps, CronWorkflows referring to the template), so these tests do not follow the golden file.
"""

from __future__ import annotations

import copy
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from workflows import checks, lint
from workflows.render import REPO_ROOT

STEP = {"name": "work", "mountPath": "/work"}


def _step(name: str, inputs: dict | None = None, outputs: dict | None = None, **extra: Any) -> dict:
    template = {
        "name": name,
        "activeDeadlineSeconds": 60,
        "container": {"image": f"ghcr.io/dsm/{name}:1", "command": ["python", "-m", f"steps.{name}"]},
        "retryStrategy": {
            "limit": 2,
            "retryPolicy": "Always",
            "expression": 'lastRetry.status == "Error" || !(asInt(lastRetry.exitCode) in [2, 4])',
            "backoff": {"duration": "5s", "factor": 2, "cap": "20s"},
        },
        "metrics": {
            "prometheus": [
                {
                    "name": "dailyscrum_step_failures_total",
                    "help": "Daily scrum step attempts that failed, by step",
                    "labels": [{"key": "step", "value": name}],
                    "when": "{{status}} != Succeeded",
                    "counter": {"value": "1"},
                }
            ]
        },
        **extra,
    }
    if inputs:
        template["inputs"] = inputs
    if outputs:
        template["outputs"] = outputs
    return template


def workflow_template() -> dict:
    history_key = "dailyscrum/history/{{workflow.parameters.project_id}}/{{inputs.parameters.sprint_id}}.json"
    out = {"valueFrom": {"path": "/work/out/x"}}
    return {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "WorkflowTemplate",
        "metadata": {"name": "dailyscrum", "namespace": "dsm"},
        "spec": {
            "entrypoint": "dailyscrum",
            "serviceAccountName": "dailyscrum",
            "activeDeadlineSeconds": 1800,
            "arguments": {
                "parameters": [
                    {"name": "project_id", "description": "DSM project ID"},
                    {"name": "sprint_id", "value": ""},
                    {"name": "force", "value": "false"},
                ]
            },
            "synchronization": {
                "mutexes": [{"name": "dailyscrum-{{workflow.parameters.project_id}}"}],
                "semaphores": [{"configMapKeyRef": {"name": "dailyscrum-limits", "key": "runs"}}],
            },
            "metrics": {
                "prometheus": [
                    {
                        "name": "dailyscrum_failed_runs_total",
                        "help": "Daily scrum runs that did not succeed",
                        "when": "{{workflow.status}} != Succeeded",
                        "counter": {"value": "1"},
                    },
                    {
                        "name": "dailyscrum_run_duration_seconds",
                        "help": "Duration of the daily scrum run",
                        "gauge": {"realtime": True, "value": "{{workflow.duration}}"},
                    },
                ]
            },
            "volumes": [{"name": "work", "emptyDir": {}}, {"name": "tmp", "emptyDir": {}}],
            "templateDefaults": {
                "container": {
                    "volumeMounts": [STEP, {"name": "tmp", "mountPath": "/tmp"}],
                    "securityContext": {"runAsNonRoot": True, "readOnlyRootFilesystem": True},
                    "resources": {"limits": {"cpu": "500m", "memory": "128Mi"}},
                }
            },
            "templates": [
                {
                    "name": "dailyscrum",
                    "dag": {
                        "tasks": [
                            {"name": "prepare", "template": "prepare"},
                            {
                                "name": "simulate",
                                "template": "simulate",
                                "depends": "prepare.Succeeded",
                                "when": "{{tasks.prepare.outputs.parameters.proceed}} == true",
                                "arguments": {
                                    "parameters": [
                                        {
                                            "name": "sprint_id",
                                            "value": "{{tasks.prepare.outputs.parameters.sprint_id}}",
                                        },
                                    ]
                                },
                            },
                            {
                                "name": "report",
                                "template": "report",
                                "depends": "simulate.Succeeded",
                                "arguments": {
                                    "parameters": [
                                        {
                                            "name": "sprint_id",
                                            "value": "{{tasks.prepare.outputs.parameters.sprint_id}}",
                                        }
                                    ],
                                    "artifacts": [
                                        {
                                            "name": "simulation",
                                            "from": "{{tasks.simulate.outputs.artifacts.simulation}}",
                                        }
                                    ],
                                },
                            },
                        ]
                    },
                },
                _step(
                    "prepare",
                    outputs={"parameters": [{"name": n, **out} for n in ("sprint_id", "proceed")]},
                ),
                _step(
                    "simulate",
                    inputs={"parameters": [{"name": "sprint_id"}]},
                    outputs={"artifacts": [{"name": "simulation", "path": "/work/out/s.json"}]},
                ),
                _step(
                    "report",
                    inputs={
                        "parameters": [{"name": "sprint_id"}],
                        "artifacts": [
                            {"name": "simulation", "path": "/work/in/s.json"},
                            {
                                "name": "history",
                                "path": "/work/in/h.json",
                                "optional": True,
                                "s3": {"key": history_key},
                            },
                        ],
                    },
                    outputs={
                        "artifacts": [
                            {
                                "name": "history",
                                "path": "/work/out/h.json",
                                "archive": {"none": {}},
                                "s3": {"key": history_key},
                            }
                        ]
                    },
                ),
            ],
        },
    }


def configmaps() -> list[dict]:
    return [
        {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": "dailyscrum-limits"},
            "data": {"runs": "5"},
        },
    ]


def cron(name: str = "run-dailyscrum", project: str = "GEM-001") -> dict:
    return {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "CronWorkflow",
        "metadata": {"name": name, "namespace": "dsm", "labels": {"dsm.platform/project": project}},
        "spec": {
            "schedules": ["0 14 * * 1-5"],
            "timezone": "UTC",
            "concurrencyPolicy": "Forbid",
            "startingDeadlineSeconds": 600,
            "workflowMetadata": {"labels": {"dsm.platform/project": project}},
            "workflowSpec": {
                "workflowTemplateRef": {"name": "dailyscrum"},
                "arguments": {"parameters": [{"name": "project_id", "value": project}]},
            },
        },
    }


def layout() -> list[dict]:
    return [workflow_template(), *configmaps(), cron()]


def inline_cron() -> dict:
    """The old single-document form: a CronWorkflow whose workflowSpec is the merged spec itself."""
    resolved = checks.resolve_cron(cron(), checks.workflow_templates(layout()))
    document = cron()
    spec = copy.deepcopy(resolved.spec)
    spec.pop("workflowTemplateRef")
    document["spec"]["workflowSpec"] = spec
    return document


def templates(documents: list[dict]) -> dict[str, dict]:
    return {t["name"]: t for t in documents[0]["spec"]["templates"]}


def tasks(documents: list[dict]) -> dict[str, dict]:
    return {t["name"]: t for t in templates(documents)["dailyscrum"]["dag"]["tasks"]}


V41, V37 = ("v4.1.2",), ("v3.7.18",)


def findings_after(
    change: Callable[[list[dict]], None], *, versions: tuple[str, ...] = V41, errors_only: bool = True
) -> list[str]:
    documents = layout()
    change(documents)
    found = lint.lint_documents(documents, "m.yaml", versions)
    return [str(f) for f in found if f.is_error or not errors_only]


# --- the layout -------------------------------------------------------------------------------------


def test_layout_is_clean_for_each_release() -> None:
    assert lint.lint_documents(layout(), "m.yaml", V41) == []
    assert lint.lint_documents(layout(), "m.yaml", V37) == []


def test_inline_cron_workflow_is_clean_too() -> None:
    document = inline_cron()
    assert lint.lint_documents([document, *configmaps()], "old.yaml", V41) == []


def test_previous_golden_display_names_fail_with_the_regex_named() -> None:
    """The golden manifest before issue 13 carried display names like this one on every template."""
    document = inline_cron()
    prepare = next(t for t in document["spec"]["workflowSpec"]["templates"] if t["name"] == "prepare")
    prepare["annotations"] = {
        "workflows.argoproj.io/display-name": "prepare: inputs, sprint, date, already reported?"
    }
    [finding] = lint.lint_documents([document, *configmaps()], "old.yaml", V41)
    assert "template 'prepare'" in str(finding)
    assert "annotations[workflows.argoproj.io/display-name]" in str(finding)
    assert r"displayName must match the regex ^[a-zA-Z0-9][a-zA-Z0-9-.]{0,61}[a-zA-Z0-9]$" in str(finding)


def test_a_passing_display_name_is_fine() -> None:
    def change(docs: list[dict]) -> None:
        templates(docs)["prepare"]["annotations"] = {"workflows.argoproj.io/display-name": "prepare.inputs"}

    assert findings_after(change) == []


def test_missing_template_is_named() -> None:
    def change(docs: list[dict]) -> None:
        docs[2]["spec"]["workflowSpec"]["workflowTemplateRef"]["name"] = "dailyscrun"

    [finding] = findings_after(change)
    assert "field spec.workflowSpec.workflowTemplateRef.name" in finding
    assert (
        "WorkflowTemplate 'dailyscrun' is not in these documents (WorkflowTemplates: dailyscrum)" in finding
    )


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (
            lambda s: s.__setitem__("synchronization", {"mutexes": [{"name": "x"}]}),
            "synchronization may not be overridden beside workflowTemplateRef",
        ),
        (
            lambda s: s.__setitem__("serviceAccountName", "default"),
            "serviceAccountName may not be overridden",
        ),
        (
            lambda s: s.__setitem__("templates", [{"name": "x", "suspend": {}}]),
            "templates cannot be set beside",
        ),
        (
            lambda s: s["arguments"]["parameters"].append({"name": "sprint", "value": "S1"}),
            "'sprint' is not a parameter of WorkflowTemplate 'dailyscrum'",
        ),
        (lambda s: s["arguments"].pop("parameters"), "parameter 'project_id' has no value"),
    ],
)
def test_cron_workflow_referring_to_the_template(change: Callable[[dict], None], expected: str) -> None:
    findings = findings_after(lambda docs: change(docs[2]["spec"]["workflowSpec"]))
    assert any(expected in f for f in findings), findings


def test_a_cron_override_is_checked_merged() -> None:
    """A CronWorkflow that overrides more than its arguments gets the full check of the merged spec."""

    def change(docs: list[dict]) -> None:
        docs[2]["spec"]["workflowSpec"]["entrypoint"] = "main"

    [finding] = findings_after(change)
    assert "merged with WorkflowTemplate 'dailyscrum'" in finding and "'main' is not a template" in finding


def test_a_thousand_projects_lint_with_one_template_check() -> None:
    """Issue 17: the template is checked once, each CronWorkflow lightly (timing: docs/offline-checks.md)."""
    documents = [workflow_template(), *configmaps()]
    documents += [cron(f"run-dailyscrum-p{i:04d}", f"P-{i:04d}") for i in range(1000)]
    documents[500]["spec"]["timezone"] = "Mars/Olympus"
    documents[700]["spec"]["workflowSpec"]["arguments"]["parameters"][0]["name"] = "project"
    started = time.perf_counter()
    findings = [str(f) for f in lint.lint_documents(documents, "fleet.yaml", V41)]
    elapsed = time.perf_counter() - started
    assert len(findings) == 3, findings  # the time zone; 'project' unknown, project_id then without value
    assert "document 501 (run-dailyscrum-p0498): field spec.timezone" in findings[0]
    assert all("document 701 (run-dailyscrum-p0698)" in f for f in findings[1:])
    print(f"lint of 1,000 CronWorkflows + 1 WorkflowTemplate: {elapsed:.2f} s")


# --- the schema ----------------------------------------------------------------------------------------


def test_unknown_field_is_named_with_its_path_for_both_releases() -> None:
    def change(docs: list[dict]) -> None:
        templates(docs)["report"]["container"]["imagePullPolcy"] = "Always"

    findings = findings_after(change, versions=(*V37, *V41))
    assert (
        "field spec.templates[3].container: unknown field(s) imagePullPolcy "
        "(Argo v3.7.18 and v4.1.2 CRD schema, strict)"
    ) in "\n".join(findings)


def test_singular_schedule_is_gone_in_argo_4() -> None:
    [finding] = findings_after(lambda docs: docs[2]["spec"].__setitem__("schedule", "0 9 * * *"))
    assert "spec: unknown field(s) schedule (Argo v4.1.2 CRD schema" in finding
    [finding] = findings_after(lambda docs: docs[2]["spec"].__setitem__("schedule", "0 9 * * *"), versions=())
    assert "set together with spec.schedules" in finding  # Argo 3.7 takes one or the other


def test_snake_case_field_is_refused() -> None:
    [finding] = findings_after(lambda docs: docs[2]["spec"].__setitem__("starting_deadline_seconds", 60))
    assert "spec: unknown field(s) starting_deadline_seconds" in finding


def test_wrong_type_stops_before_the_rules() -> None:
    [finding] = findings_after(lambda docs: docs[0]["spec"].__setitem__("templates", {"a": 1}))
    assert "document 1 (dailyscrum): field spec.templates: {'a': 1} is not of type 'array'" in finding


def test_a_malformed_template_is_reported_once_wherever_it_stands() -> None:
    documents = layout()
    documents[0]["spec"]["templates"] = {"a": 1}
    findings = [str(f) for f in lint.lint_documents([documents[2], *documents[:2]], "m.yaml", V41)]
    assert len(findings) == 1 and "document 2 (dailyscrum): field spec.templates:" in findings[0], findings


# --- the controller's rules: one failing example each -----------------------------------------------

T = templates
K = tasks


def _set(getter: Callable[[list[dict]], dict], key: str, value: Any) -> Callable[[list[dict]], None]:
    return lambda docs: getter(docs).__setitem__(key, value)


RULES: list[tuple[str, Callable[[list[dict]], None], str]] = [
    ("entrypoint", _set(lambda d: d[0]["spec"], "entrypoint", "main"), "'main' is not a template"),
    (
        "template name",
        _set(lambda d: T(d)["prepare"], "name", "prepare_1"),
        "must match ^[a-zA-Z0-9][-a-zA-Z0-9]*$",
    ),
    ("template name length", _set(lambda d: T(d)["dailyscrum"], "name", "d" * 129), "longer than 128"),
    (
        "duplicate template",
        lambda d: d[0]["spec"]["templates"].append(T(d)["report"]),
        "duplicate template name",
    ),
    (
        "pod name",
        lambda d: (
            _set(lambda d: T(d)["report"], "name", "Report")(d),
            K(d)["report"].update(template="Report"),
        ),
        "must be lowercase",
    ),
    ("task name", _set(lambda d: K(d)["report"], "name", "report.x"), "task name 'report.x' must match"),
    ("duplicate task", lambda d: T(d)["dailyscrum"]["dag"]["tasks"].append(K(d)["report"]), "duplicate task"),
    (
        "expr keyword",
        lambda d: (K(d)["prepare"].update(name="not"), K(d)["simulate"].update(depends="not.Succeeded")),
        "'not' is an expr keyword",
    ),
    (
        "depends result",
        _set(lambda d: K(d)["report"], "depends", "simulate.Done"),
        "'Done' is not a task result",
    ),
    (
        "depends unknown",
        _set(lambda d: K(d)["report"], "depends", "simulte.Succeeded"),
        "unknown task 'simulte'",
    ),
    ("cycle", _set(lambda d: K(d)["prepare"], "depends", "report.Succeeded"), "dependency cycle"),
    (
        "parameter name",
        lambda d: T(d)["report"]["inputs"]["parameters"].append({"name": "sprint id"}),
        "parameter name 'sprint id' must match ^[-a-zA-Z0-9_]+$",
    ),
    (
        "duplicate parameter",
        lambda d: d[0]["spec"]["arguments"]["parameters"].append({"name": "force", "value": "true"}),
        "duplicate parameter name 'force'",
    ),
    (
        "artifact name",
        lambda d: T(d)["simulate"]["outputs"]["artifacts"][0].update(name="sim.json"),
        "artifact name 'sim.json' must match",
    ),
    (
        "input supplied",
        lambda d: K(d)["simulate"].pop("arguments"),
        "input parameter 'sprint_id' of template",
    ),
    (
        "artifact supplied",
        lambda d: K(d)["report"]["arguments"].pop("artifacts"),
        "input artifact 'simulation' of template 'report' is not supplied",
    ),
    (
        "tasks.T only from ancestry",
        lambda d: K(d)["report"].update(depends="prepare.Succeeded"),
        "'simulate' is not upstream",
    ),
    (
        "unknown output",
        lambda d: K(d)["simulate"].update(when="{{tasks.prepare.outputs.parameters.go}} == true"),
        "task 'prepare' has no output parameter 'go'",
    ),
    (
        "workflow parameter",
        lambda d: T(d)["prepare"]["container"].update(args=["{{workflow.parameters.project}}"]),
        "no workflow parameter 'project'",
    ),
    (
        "lastRetry only with a retryStrategy",
        lambda d: (
            T(d)["prepare"].pop("retryStrategy"),
            T(d)["prepare"]["container"].update(args=["{{retries}}"]),
        ),
        "'{{retries}}': unknown variable here",
    ),
    (
        "when: unquoted dash",
        lambda d: K(d)["simulate"].update(when="{{workflow.parameters.force}} == not-forced"),
        "is not a govaluate boolean after substitution",
    ),
    (
        "when: not a bool",
        lambda d: K(d)["simulate"].update(when="{{tasks.prepare.outputs.parameters.proceed}}"),
        "is not a govaluate boolean",
    ),
    (
        "when: == Failed misses Error",
        lambda d: d[0]["spec"]["metrics"]["prometheus"][0].update(when="{{workflow.status}} == Failed"),
        "never counts Error",
    ),
    (
        "task when == Failed",
        lambda d: K(d)["report"].update(when="{{tasks.simulate.status}} == Failed"),
        "never counts Error",
    ),
    (
        "retry expression",
        lambda d: T(d)["prepare"]["retryStrategy"].update(expression="lastRetry.exitcode == 1"),
        "retryStrategy.expression: does not compile: unknown variable 'lastRetry.exitcode'",
    ),
    (
        "retry policy",
        lambda d: T(d)["prepare"]["retryStrategy"].update(retryPolicy="Sometimes"),
        "'Sometimes' is not one of",
    ),
    (
        "backoff duration",
        lambda d: T(d)["prepare"]["retryStrategy"]["backoff"].update(cap="1 minute"),
        "invalid duration '1 minute'",
    ),
    (
        "backoff factor",
        lambda d: T(d)["prepare"]["retryStrategy"]["backoff"].update(factor="1.5"),
        "'1.5' must be a whole number",
    ),
    (
        "backoff without duration",
        lambda d: T(d)["prepare"]["retryStrategy"]["backoff"].pop("duration"),
        "a backoff needs a duration",
    ),
    (
        "maxDuration budget",
        lambda d: T(d)["prepare"]["retryStrategy"]["backoff"].update(maxDuration="1m"),
        "cannot hold the 2 retries promised: waits 5+10s after attempts of up to 60s",
    ),
    (
        "metric name",
        lambda d: T(d)["report"]["metrics"]["prometheus"][0].update(name="dailyscrum:failures"),
        "metric name 'dailyscrum:failures' must match",
    ),
    (
        "built-in metric",
        lambda d: d[0]["spec"]["metrics"]["prometheus"][0].update(name="pods_gauge"),
        "'pods_gauge' is one of the controller's own metrics",
    ),
    (
        "metric help",
        lambda d: T(d)["report"]["metrics"]["prometheus"][0].update(help=""),
        "a metric needs a help text",
    ),
    (
        "metric help kept once",
        lambda d: T(d)["report"]["metrics"]["prometheus"][0].update(help="Report failures"),
        "also defined at spec.templates[1].metrics.prometheus[0] with another help text",
    ),
    (
        "metric label key",
        lambda d: T(d)["report"]["metrics"]["prometheus"][0]["labels"][0].update(key="step-name"),
        "label key 'step-name' must match",
    ),
    (
        "metric value",
        lambda d: T(d)["report"]["metrics"]["prometheus"][0]["counter"].update(value="one"),
        "'one' is not a number",
    ),
    (
        "real-time value",
        lambda d: d[0]["spec"]["metrics"]["prometheus"][1]["gauge"].update(value="{{duration}}"),
        "a real-time gauge value must be exactly {{workflow.duration}}",
    ),
    (
        "duplicate sync item",
        lambda d: d[0]["spec"]["synchronization"]["mutexes"].append(
            {"name": "dailyscrum-{{workflow.parameters.project_id}}"}
        ),
        "duplicate synchronization item",
    ),
    (
        "empty mutex",
        lambda d: d[0]["spec"]["synchronization"]["mutexes"].__setitem__(0, {"name": " "}),
        "a mutex needs a non-empty name",
    ),
    (
        "singular mutex",
        lambda d: d[0]["spec"]["synchronization"].update(mutex={"name": "x"}),
        "Argo 4 dropped mutex",
    ),
    (
        "semaphore key",
        lambda d: d[1].update(data={"limit": "5"}),
        "ConfigMap 'dailyscrum-limits' has no key 'runs'",
    ),
    ("semaphore limit", lambda d: d[1].update(data={"runs": "many"}), "the limit must be an integer >= 1"),
    ("configmap data", lambda d: d[1].update(data={"runs": 5}), "5 is a int; quote it"),
    ("volume name", lambda d: d[0]["spec"]["volumes"][1].update(name="var-run-argo"), "reserved for Argo"),
    (
        "volume DNS-1123",
        lambda d: d[0]["spec"]["volumes"].append({"name": "Work", "emptyDir": {}}),
        "not a DNS-1123",
    ),
    ("volume mount", lambda d: d[0]["spec"]["volumes"].pop(1), "no volume 'tmp' in spec.volumes"),
    (
        "metadata value type",
        lambda d: d[2]["metadata"]["labels"].update(team=5),
        "field metadata.labels.team: 5 is a int; quote it: metadata values are strings",
    ),
    (
        "label value",
        lambda d: d[2]["spec"]["workflowMetadata"]["labels"].update(team="daily scrum"),
        "label value 'daily scrum' is not a valid label value",
    ),
    (
        "from without braces",
        lambda d: K(d)["report"]["arguments"]["artifacts"][0].update(
            {"from": "tasks.simulate.outputs.artifacts.x"}
        ),
        "must be one reference like {{tasks.X.outputs.artifacts.Y}}",
    ),
    (
        "from with two references",
        lambda d: K(d)["report"]["arguments"]["artifacts"][0].update(
            {"from": "{{tasks.simulate.outputs.artifacts.simulation}}{{tasks.prepare.outputs.artifacts.x}}"}
        ),
        "must be one reference",
    ),
    (
        "template type",
        lambda d: T(d)["prepare"].update(script={"image": "x", "source": "y"}),
        "a template needs exactly one of",
    ),
    ("empty dag", lambda d: T(d)["dailyscrum"]["dag"].update(tasks=[]), "a DAG needs at least one task"),
    (
        "depends and dependencies",
        lambda d: K(d)["report"].update(dependencies=["simulate"]),
        "use either depends or dependencies",
    ),
    ("continueOn", lambda d: K(d)["report"].update(continueOn={"failed": True}), "continueOn cannot be used"),
    (
        "digit task name",
        lambda d: (
            K(d)["simulate"].update(depends="1prepare.Succeeded"),
            K(d)["prepare"].update(name="1prepare"),
        ),
        "starts with a digit",
    ),
    (
        "enum",
        lambda d: d[0]["spec"]["arguments"]["parameters"][2].update(enum=["true", "false"], value="maybe"),
        "value 'maybe' is not one of its enum",
    ),
    (
        "duplicate document",
        lambda d: d.append(copy.deepcopy(d[2])),
        "a CronWorkflow of this name is already document 3",
    ),
    (
        "namespace",
        lambda d: d[2]["metadata"].update(namespace="dsm2"),
        "the WorkflowTemplate is in another namespace",
    ),
    (
        "no kind",
        lambda d: d.append({"metadata": {"name": "x"}}),
        "not a Kubernetes object (no kind or apiVersion)",
    ),
    ("configmap field", lambda d: d[1].update(spec={}), "unknown field of a ConfigMap"),
    ("configmap apiVersion", lambda d: d[1].update(apiVersion="v2"), "a ConfigMap is v1"),
    ("apiVersion", lambda d: d[0].update(apiVersion="argoproj.io/v1"), "expected argoproj.io/v1alpha1"),
    ("dag deadline", _set(lambda d: T(d)["dailyscrum"], "activeDeadlineSeconds", 5), "not allowed on a dag"),
    ("cron name", _set(lambda d: d[2]["metadata"], "name", "run-dailyscrum-" + "x" * 40), "at most 52"),
    (
        "template document name",
        _set(lambda d: d[0]["metadata"], "name", "Dailyscrum"),
        "not a valid DNS-1123",
    ),
    ("timezone", _set(lambda d: d[2]["spec"], "timezone", "Europe/Atlantis"), "not a known IANA time zone"),
    ("schedule", _set(lambda d: d[2]["spec"], "schedules", ["0 14 * * 1-7"]), "7 is outside 0-6"),
    (
        "concurrency",
        _set(lambda d: d[2]["spec"], "concurrencyPolicy", "Queue"),
        "not one of Allow, Forbid, Replace",
    ),
]


@pytest.mark.parametrize(("change", "expected"), [r[1:] for r in RULES], ids=[r[0] for r in RULES])
def test_controller_rule(change: Callable[[list[dict]], None], expected: str) -> None:
    findings = findings_after(change, versions=())  # the rule alone: 4.1's schema holds a few of them too
    assert any(expected in f for f in findings), findings


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (
            lambda d: d.pop(1),
            "ConfigMap 'dailyscrum-limits' (key 'runs') is not in this file: it must exist in the cluster",
        ),
        (
            lambda d: T(d)["report"]["outputs"]["artifacts"][0].pop("archive"),
            "warning: key-only artifact 'history' is stored as a tgz",
        ),
        (
            lambda d: d.append({"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "x"}}),
            "warning: 'ServiceAccount' is not checked",
        ),
    ],
    ids=["semaphore ConfigMap elsewhere", "key-only output archive", "other kinds"],
)
def test_warnings_do_not_fail(change: Callable[[list[dict]], None], expected: str) -> None:
    assert findings_after(change) == []
    assert any(expected in f for f in findings_after(change, errors_only=False))


# --- Argo's merge, shared with the runner ----------------------------------------------------------------


def test_resolve_cron_merges_as_argo() -> None:
    documents = layout()
    documents[2]["spec"]["workflowSpec"]["arguments"]["parameters"].append({"name": "force", "value": "true"})
    templates(documents)["report"]["container"]["volumeMounts"] = [
        {"name": "work", "mountPath": "/work", "readOnly": True}
    ]
    resolved = checks.resolve_cron(documents[2], checks.workflow_templates(documents))
    assert resolved.template is documents[0]
    params = resolved.spec["arguments"]["parameters"]
    assert params == [
        {"name": "project_id", "value": "GEM-001"},
        {"name": "sprint_id", "value": ""},
        {"name": "force", "value": "true"},
    ]
    merged = {t["name"]: t for t in resolved.spec["templates"]}
    assert "container" not in merged["dailyscrum"]  # a container default does not touch the dag
    assert merged["prepare"]["container"]["securityContext"]["runAsNonRoot"] is True
    assert merged["report"]["container"][
        "volumeMounts"
    ] == [  # merged by mountPath, the template's fields win
        {"name": "work", "mountPath": "/work", "readOnly": True},
        {"name": "tmp", "mountPath": "/tmp"},
    ]
    assert resolved.spec["synchronization"] == documents[0]["spec"]["synchronization"]


def test_merge_keeps_argo_edges() -> None:
    """util/merge.go: null/empty values never override; a valueless parameter takes the template's;
    `suspend` is the workflow's own."""
    template = {
        "entrypoint": "main",
        "suspend": True,
        "arguments": {"parameters": [{"name": "a", "value": "1", "enum": ["1", "2"]}]},
    }
    workflow = {
        "entrypoint": None,
        "podGC": {},
        "arguments": {"parameters": [{"name": "a", "description": "x"}]},
    }
    merged = checks.merged_workflow_spec(workflow, template)
    assert merged["entrypoint"] == "main" and "podGC" not in merged and "suspend" not in merged
    assert merged["arguments"]["parameters"] == [{"name": "a", "value": "1", "enum": ["1", "2"]}]


def test_resolve_cron_refuses_a_missing_template() -> None:
    with pytest.raises(checks.UnresolvedTemplate, match="'dailyscrum'"):
        checks.resolve_cron(cron(), {})


def test_variable_tag() -> None:
    assert checks.VARIABLE_TAG.findall("a {{ inputs.parameters.x }} b {{=asInt(1)}}") == [
        "inputs.parameters.x",
        "=asInt(1)",
    ]


# --- the command: no traceback on a user's mistake -------------------------------------------------------


def _write(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


@pytest.mark.parametrize(
    ("make", "expected"),
    [
        (
            lambda p: _write(p, "latin1.yaml", "kind: CronWorkflow # café\n".encode("latin-1")),
            "not UTF-8 text (byte 0xe9",
        ),
        (lambda p: p, "is a directory"),
        (lambda p: p / "missing.yaml", "no such file"),
        (lambda p: _write(p, "broken.yaml", b"kind: [unclosed\n"), "not valid YAML at line 2"),
        (lambda p: _write(p, "prose.txt", b"just some words\n"), "not a manifest"),
        (lambda p: _write(p, "empty.yaml", b"---\n"), "no YAML documents"),
    ],
    ids=["latin-1", "directory", "missing", "non-yaml", "not-a-manifest", "empty"],
)
def test_unreadable_files_exit_2_with_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture, make: Callable[[Path], Path], expected: str
) -> None:
    path = make(tmp_path)
    assert lint.main([str(path)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith(f"{path}: ") and expected in err and "\n" not in err, err


def test_cli_end_to_end(tmp_path: Path) -> None:
    """A real subprocess: exit 0 on the layout, 1 with the field's path, 2 and no traceback on Latin-1."""
    good = tmp_path / "good.yaml"
    good.write_text(yaml.safe_dump_all(layout(), sort_keys=False))
    bad_documents = layout()
    templates(bad_documents)["report"]["container"]["imagePullPolcy"] = "Always"
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump_all(bad_documents, sort_keys=False))
    latin = _write(tmp_path, "latin.yaml", "a: é\n".encode("latin-1"))

    def run(path: Path) -> subprocess.CompletedProcess[str]:
        command = [sys.executable, "-m", "workflows", "lint", "--argo-version", "4.1", str(path)]
        return subprocess.run(command, cwd=REPO_ROOT, capture_output=True, text=True, timeout=120)

    ok, failed, unreadable = run(good), run(bad), run(latin)
    assert ok.returncode == 0 and "3 document(s), no errors" in ok.stdout, ok.stdout + ok.stderr
    assert failed.returncode == 1, failed.stdout + failed.stderr
    assert "field spec.templates[3].container: unknown field(s) imagePullPolcy" in failed.stdout
    assert unreadable.returncode == 2 and "Traceback" not in unreadable.stderr
    assert unreadable.stderr.count("\n") == 1 and "not UTF-8" in unreadable.stderr


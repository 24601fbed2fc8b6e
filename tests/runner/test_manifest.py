"""What the runner runs, what it lists as cluster-only, and what it refuses (by name and place).

Whether Argo accepts a manifest is the lint's business (tests/workflows); these are the runner's own
limits, plus how it resolves what a workflow references (WorkflowTemplate, ConfigMaps).
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest

from tests.runner.builder import (
    config_map,
    container,
    cron,
    cron_ref,
    in_artifact,
    out_artifact,
    out_param,
    semaphore,
    workflow_template,
    write,
)
from workflows.runner.cli import DEFAULT_MANIFEST, run
from workflows.runner.manifest import (
    ManifestError,
    UnsupportedFeature,
    build_plan,
    label,
    load_plans,
    select_workflows,
)
from workflows.runner.mutex import Semaphore


def check_workflow(doc: dict[str, Any]) -> Any:
    return build_plan(doc, [doc])


def two_tasks() -> dict[str, Any]:
    return cron(
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
        templates=[
            container(
                "produce",
                ["--write", "{{outputs.parameters.n.path}}=1"],
                outputs={"parameters": [out_param("n")], "artifacts": [out_artifact("data")]},
            ),
            container(
                "consume",
                ["--copy", "{{inputs.artifacts.data.path}}=/dev/null"],
                inputs={"parameters": [{"name": "n"}], "artifacts": [in_artifact("data")]},
            ),
        ],
        parameters={"who": "me"},
    )


def spec(doc: dict[str, Any]) -> dict[str, Any]:
    return doc["spec"]["workflowSpec"]


def template(doc: dict[str, Any], name: str) -> dict[str, Any]:
    return next(t for t in spec(doc)["templates"] if t["name"] == name)


def task(doc: dict[str, Any], name: str) -> dict[str, Any]:
    return next(t for t in template(doc, "main")["dag"]["tasks"] if t["name"] == name)


def test_a_small_manifest_is_accepted_and_cluster_only_fields_are_listed() -> None:
    doc = two_tasks()
    spec(doc)["podGC"] = {"strategy": "OnPodSuccess"}
    template(doc, "produce")["securityContext"] = {"runAsNonRoot": True}
    plan = check_workflow(doc)
    assert list(plan.tasks) == ["a", "b"]
    assert plan.dependencies("b") == ("a",)
    assert plan.templates["consume"].input_artifacts[0].path == "/work/in/data.txt"
    assert "spec.workflowSpec.podGC" in plan.cluster_only
    assert "spec.timezone" in plan.cluster_only
    assert "spec.workflowSpec.templates[name=produce].securityContext" in plan.cluster_only
    assert "spec.workflowSpec.templates[name=produce].container.image" in plan.cluster_only


def mutate_steps(doc: dict[str, Any]) -> None:
    spec(doc)["templates"].append({"name": "s", "steps": [[{"name": "x", "template": "produce"}]]})


def mutate_script(doc: dict[str, Any]) -> None:
    spec(doc)["templates"].append({"name": "s", "script": {"image": "python", "source": "print(1)"}})


def mutate_with_items(doc: dict[str, Any]) -> None:
    task(doc, "a")["withItems"] = [1, 2]


def mutate_on_exit(doc: dict[str, Any]) -> None:
    spec(doc)["onExit"] = "produce"


def mutate_expression_tag(doc: dict[str, Any]) -> None:
    template(doc, "produce")["container"]["args"].append("{{=inputs.parameters.x}}")


def mutate_unknown_variable(doc: dict[str, Any]) -> None:
    template(doc, "produce")["container"]["args"].append("{{pod.name}}")


def mutate_unknown_field(doc: dict[str, Any]) -> None:
    template(doc, "produce")["container"]["lifecycle"] = {}


def mutate_host_path(doc: dict[str, Any]) -> None:
    spec(doc)["volumes"].append({"name": "host", "hostPath": {"path": "/"}})


def mutate_env_from_secret(doc: dict[str, Any]) -> None:
    template(doc, "produce")["container"]["env"].append(
        {"name": "X", "valueFrom": {"secretKeyRef": {"name": "s", "key": "k"}}}
    )


def mutate_literal_path(doc: dict[str, Any]) -> None:
    template(doc, "produce")["container"]["args"].append("/work/out/n")


def mutate_hooks(doc: dict[str, Any]) -> None:
    task(doc, "b")["hooks"] = {"exit": {"template": "produce"}}


def mutate_keyed_output_as_tgz(doc: dict[str, Any]) -> None:
    artifact = template(doc, "produce")["outputs"]["artifacts"][0]
    artifact.pop("archive")
    artifact["s3"] = {"key": "history/{{workflow.parameters.who}}.json"}


def mutate_s3_bucket(doc: dict[str, Any]) -> None:
    template(doc, "consume")["inputs"]["artifacts"][0]["s3"] = {"key": "k", "bucket": "other"}


def mutate_memoize(doc: dict[str, Any]) -> None:
    template(doc, "consume")["memoize"] = {"key": "k", "maxAge": "1h", "cache": {"configMap": {"name": "m"}}}


def mutate_suspend(doc: dict[str, Any]) -> None:
    spec(doc)["templates"].append({"name": "wait", "suspend": {}})


def mutate_global_output(doc: dict[str, Any]) -> None:
    template(doc, "produce")["outputs"]["parameters"][0]["globalName"] = "n"


@pytest.mark.parametrize(
    ("mutate", "feature", "where"),
    [
        (mutate_steps, "steps template", "templates[name=s].steps"),
        (mutate_script, "script template", "templates[name=s].script"),
        (mutate_suspend, "suspend template", "templates[name=wait].suspend"),
        (mutate_with_items, "loop (`withItems`)", "dag.tasks[name=a].withItems"),
        (mutate_on_exit, "exit handler (`onExit`)", "spec.workflowSpec.onExit"),
        (mutate_hooks, "lifecycle hooks", "dag.tasks[name=b].hooks"),
        (mutate_expression_tag, "expression tag", "templates[name=produce].container.args[2]"),
        (mutate_unknown_variable, "variable `{{pod.name}}`", "templates[name=produce].container.args[2]"),
        (mutate_unknown_field, "field `lifecycle`", "templates[name=produce].container.lifecycle"),
        (mutate_host_path, "volume other than emptyDir", "spec.workflowSpec.volumes[1]"),
        (mutate_env_from_secret, "`valueFrom`", "container.env[0].valueFrom"),
        (mutate_literal_path, "literal container path '/work/out/n'", "container.args[2]"),
        (mutate_keyed_output_as_tgz, "without `archive: {none: {}}`", "outputs.artifacts[0]"),
        (mutate_s3_bucket, "s3 artifact with more than a key", "inputs.artifacts[0].s3"),
        (mutate_memoize, "memoization (`memoize`) is not supported by the local runner", "consume].memoize"),
        (mutate_global_output, "global output (`globalName`)", "outputs.parameters[name=n].globalName"),
    ],
)
def test_unsupported_features_are_refused_by_name_and_place(mutate: Any, feature: str, where: str) -> None:
    doc = copy.deepcopy(two_tasks())
    mutate(doc)
    with pytest.raises(UnsupportedFeature) as error:
        check_workflow(doc)
    message = str(error.value)
    assert feature in message and "is not supported by the local runner" in message
    place = message[: message.index(feature)]  # the place comes first, then what is refused
    assert where in place and place.startswith("CronWorkflow/mini: ")


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda d: task(d, "b").update(depends="a.AnySucceeded"), "unsupported task result"),
        (lambda d: template(d, "consume").update(retryStrategy={"retryPolicy": "Always"}), "without `limit`"),
    ],
)
def test_inconsistent_manifests_are_refused(mutate: Any, message: str) -> None:
    doc = two_tasks()
    mutate(doc)
    with pytest.raises(
        ManifestError, match=message.replace("(", r"\(").replace(")", r"\)").replace("`", ".")
    ):
        check_workflow(doc)


def lint_errors(documents: list[dict[str, Any]]) -> str:
    from workflows.lint import lint_documents

    return "\n".join(str(f) for f in lint_documents(documents) if f.is_error)


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda d: task(d, "a").update(depends="b"), "dependency cycle"),
        (
            lambda d: template(d, "consume").update(retryStrategy={"limit": 1, "backoff": {"factor": 2}}),
            "a backoff needs a duration",
        ),
        (
            lambda d: template(d, "consume").update(retryStrategy={"limit": 1, "retryPolicy": "Never"}),
            "'Never'",
        ),
        (
            lambda d: template(d, "produce")["container"]["volumeMounts"][0].update(name="nope"),
            "no volume 'nope'",
        ),
    ],
)
def test_what_argo_refuses_the_lint_refuses_before_the_runner_sees_it(mutate: Any, message: str) -> None:
    doc = two_tasks()
    assert lint_errors([doc]) == ""
    mutate(doc)
    assert message in lint_errors([doc])


def test_refused_manifest_exits_2_and_names_the_feature(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    doc = two_tasks()
    mutate_with_items(doc)
    path = write(tmp_path / "m.yaml", doc)
    assert run([str(path), "--run-dir", str(tmp_path / "run")], environ={}) == 2
    err = capsys.readouterr().err
    assert "withItems" in err and "dag.tasks[name=a]" in err
    assert not (tmp_path / "run").exists()  # refused before anything ran


def test_multi_document_manifest_selects_workflows(tmp_path: Path) -> None:
    first, second = two_tasks(), two_tasks()
    second["metadata"]["name"] = "other"
    rbac = {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "sa"}}
    path = write(tmp_path / "m.yaml", rbac, first, second)
    assert [p.name for p in load_plans(path)] == ["mini", "other"]
    assert [p.name for p in load_plans(path, "other")] == ["other"]
    with pytest.raises(
        ManifestError, match=r"no workflow named .ghost..*CronWorkflow/mini, CronWorkflow/other"
    ):
        load_plans(path, "ghost")


def test_the_golden_manifest_is_runnable() -> None:
    """Every field of the rendered manifest is supported or knowingly cluster-only."""
    plans = load_plans(DEFAULT_MANIFEST)
    assert plans
    for plan in plans:
        assert {"prepare", "simulate", "fetch-tasks", "fetch-summary", "fetch-team", "report"} <= set(
            plan.tasks
        )
        assert all(t.command[:2] == ("python", "-m") for t in plan.templates.values())


def fleet() -> list[dict[str, Any]]:
    """The fleet layout: a WorkflowTemplate with templateDefaults and a semaphore, and two crons."""
    tmpl = workflow_template(
        tasks=[{"name": "a", "template": "echo"}],
        templates=[
            {
                "name": "echo",
                "container": {
                    "image": "example/echo",
                    "command": ["python", "-m", "tests.runner.stepkit"],
                    "env": [{"name": "A", "value": "own"}],
                },
            }
        ],
        parameters={"project_id": None, "sprint_id": "S1", "report_date": ""},
        name="dailyscrum",
        templateDefaults={
            "container": {
                "volumeMounts": [{"name": "work", "mountPath": "/work"}],
                "env": [{"name": "A", "value": "default"}, {"name": "B", "value": "default"}],
                "resources": {"limits": {"memory": "64Mi"}},
            },
            "dag": {"failFast": True},  # a type's defaults apply to that type only
        },
        synchronization=semaphore(),
    )
    tmpl["spec"]["arguments"]["parameters"][1]["enum"] = ["S1", "S2"]
    return [
        config_map("limits", {"runs": "3"}),
        tmpl,
        cron_ref("run-p1", "dailyscrum", {"project_id": "P1", "sprint_id": "S9"}),
        cron_ref("run-p2", "dailyscrum", {"project_id": "P2"}),
    ]


def test_a_workflow_template_ref_is_merged_as_argo_merges_it() -> None:
    documents = fleet()
    plan = build_plan(documents[2], documents)
    # Parameters by name, the cron's whole parameter wins (so the template's enum is gone with S9).
    assert [(p.name, p.value, p.enum) for p in plan.parameters] == [
        ("project_id", "P1", ()),
        ("sprint_id", "S9", ()),
        ("report_date", "", ()),
    ]
    other = build_plan(documents[3], documents)
    assert [(p.name, p.value, p.enum) for p in other.parameters][1] == ("sprint_id", "S1", ("S1", "S2"))
    echo = plan.templates["echo"]
    assert echo.mounts == (("work", "/work"),)  # from templateDefaults.container
    assert echo.env == (("A", "own"), ("B", "default"))  # env merged by name, the template's own wins
    assert "spec.templates[name=echo].container.resources" in plan.cluster_only
    assert "spec.templates[name=main].dag.failFast" in plan.cluster_only  # the dag got the dag's defaults
    assert plan.semaphores == (Semaphore("dsm", "limits", "runs", 3),)
    assert [label(d) for d in plan.documents] == [
        "ConfigMap/limits",
        "WorkflowTemplate/dailyscrum",
        "CronWorkflow/run-p1",
    ]


def test_what_a_workflow_refers_to_must_be_in_the_manifest() -> None:
    documents = fleet()
    missing = r"CronWorkflow/x: spec.workflowSpec.workflowTemplateRef: WorkflowTemplate 'nope' is not in"
    with pytest.raises(ManifestError, match=missing + r" these documents \(WorkflowTemplates: dailyscrum\)"):
        build_plan(cron_ref("x", "nope"), documents)
    without_limits = documents[1:]
    with pytest.raises(ManifestError, match=r"semaphores\[0\]: no ConfigMap 'limits'"):
        build_plan(documents[2], without_limits)
    # A ConfigMap without the key or with a bad limit: the lint refuses it, as the controller would.
    linted = copy.deepcopy(without_limits)
    del linted[0]["spec"]["templateDefaults"]["dag"]  # a partial dag default the CRD schema refuses
    assert lint_errors([config_map("limits", {"runs": "3"}), *linted]) == ""
    for data, message in (
        ({}, "has no key 'runs'"),
        ({"runs": "0"}, "the limit must be an integer >= 1"),
        ({"runs": "x"}, "'x'"),
    ):
        assert message in lint_errors([config_map("limits", data), *linted])


def test_the_workflow_is_chosen_by_name_or_kind_and_name() -> None:
    documents = fleet()
    assert [label(d) for d in select_workflows(documents)] == ["CronWorkflow/run-p1", "CronWorkflow/run-p2"]
    assert [label(d) for d in select_workflows(documents, "run-p2")] == ["CronWorkflow/run-p2"]
    assert [label(d) for d in select_workflows(documents, "wftmpl/dailyscrum")] == [
        "WorkflowTemplate/dailyscrum"
    ]
    assert [label(d) for d in select_workflows(documents[:2])] == ["WorkflowTemplate/dailyscrum"]
    with pytest.raises(ManifestError, match="unknown kind 'pod'"):
        select_workflows(documents, "pod/x")
    twins = [*documents, cron_ref("dailyscrum", "dailyscrum")]
    with pytest.raises(ManifestError, match=r"ambiguous .*give kind/name"):
        select_workflows(twins, "dailyscrum")


def test_a_shape_the_lint_refuses_is_an_error_not_a_traceback() -> None:
    doc = two_tasks()
    spec(doc)["templates"].append({"container": {}})  # no name
    with pytest.raises(ManifestError, match=r"CronWorkflow/mini: malformed \(KeyError: 'name'\)"):
        check_workflow(doc)
    cycle = two_tasks()
    task(cycle, "a").update(depends="b")  # the lint refuses it; unlinted, it is one line, no traceback
    with pytest.raises(ManifestError, match=r"CronWorkflow/mini: malformed \(CycleError"):
        check_workflow(cycle)

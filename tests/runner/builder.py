"""Small hand-made manifests for the runner's tests, built as dicts and written as YAML.

Their containers run `python -m tests.runner.stepkit` (cwd = repo root), with an emptyDir at /work
like the real steps, so paths reach the program only through Argo variables. `cron` builds the
inline layout (a CronWorkflow with its whole workflowSpec); `workflow_template`, `cron_ref` and
`config_map` build the fleet layout (one WorkflowTemplate, CronWorkflows that reference it, and the
ConfigMap of its semaphore).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

STEPKIT = ["python", "-m", "tests.runner.stepkit"]


def container(
    name: str,
    args: list[str],
    *,
    inputs: dict[str, Any] | None = None,
    outputs: dict[str, Any] | None = None,
    retry: dict[str, Any] | None = None,
    env: dict[str, str] | None = None,
    deadline: int | None = None,
    **extra: Any,
) -> dict[str, Any]:
    template: dict[str, Any] = {
        "name": name,
        "container": {
            "image": f"example/{name}:test",
            "command": STEPKIT,
            "args": args,
            "env": [{"name": key, "value": value} for key, value in (env or {}).items()],
            "volumeMounts": [{"name": "work", "mountPath": "/work"}],
        },
    }
    if inputs:
        template["inputs"] = inputs
    if outputs:
        template["outputs"] = outputs
    if retry:
        template["retryStrategy"] = retry
    if deadline is not None:
        template["activeDeadlineSeconds"] = deadline
    template.update(extra)
    return template


def out_param(name: str, default: str | None = None) -> dict[str, Any]:
    value_from: dict[str, Any] = {"path": f"/work/out/{name}"}
    if default is not None:
        value_from["default"] = default
    return {"name": name, "valueFrom": value_from}


def out_artifact(name: str) -> dict[str, Any]:
    return {"name": name, "path": f"/work/out/{name}.txt", "archive": {"none": {}}}


def in_artifact(name: str) -> dict[str, Any]:
    return {"name": name, "path": f"/work/in/{name}.txt"}


def cron(
    tasks: list[dict[str, Any]],
    templates: list[dict[str, Any]],
    parameters: dict[str, str] | None = None,
    name: str = "mini",
    **workflow_spec: Any,
) -> dict[str, Any]:
    return {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "CronWorkflow",
        "metadata": {"name": name, "namespace": "dsm"},
        "spec": {
            "schedules": ["0 14 * * 1-5"],
            "timezone": "UTC",
            "concurrencyPolicy": "Forbid",
            "workflowSpec": {
                "entrypoint": "main",
                "arguments": {"parameters": [{"name": k, "value": v} for k, v in (parameters or {}).items()]},
                "volumes": [{"name": "work", "emptyDir": {}}],
                "templates": [{"name": "main", "dag": {"tasks": tasks}}, *templates],
                **workflow_spec,
            },
        },
    }


def workflow_template(
    tasks: list[dict[str, Any]],
    templates: list[dict[str, Any]],
    parameters: dict[str, str | None] | None = None,
    name: str = "mini",
    **spec: Any,
) -> dict[str, Any]:
    """A WorkflowTemplate; a parameter whose value is None has no default (it must be given)."""
    return {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "WorkflowTemplate",
        "metadata": {"name": name, "namespace": "dsm"},
        "spec": {
            "entrypoint": "main",
            "arguments": {
                "parameters": [
                    {"name": k} if v is None else {"name": k, "value": v}
                    for k, v in (parameters or {}).items()
                ]
            },
            "volumes": [{"name": "work", "emptyDir": {}}],
            "templates": [{"name": "main", "dag": {"tasks": tasks}}, *templates],
            **spec,
        },
    }


def cron_ref(
    name: str, template: str, parameters: dict[str, str] | None = None, **spec: Any
) -> dict[str, Any]:
    """A CronWorkflow that runs the WorkflowTemplate `template` with its own parameter values."""
    workflow_spec: dict[str, Any] = {"workflowTemplateRef": {"name": template}, **spec}
    if parameters:
        workflow_spec["arguments"] = {"parameters": [{"name": k, "value": v} for k, v in parameters.items()]}
    return {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "CronWorkflow",
        "metadata": {"name": name, "namespace": "dsm"},
        "spec": {"schedules": ["0 14 * * 1-5"], "timezone": "UTC", "workflowSpec": workflow_spec},
    }


def config_map(name: str, data: dict[str, str] | None = None) -> dict:
    metadata: dict[str, Any] = {"name": name, "namespace": "dsm"}
    document: dict[str, Any] = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": metadata}
    if data is not None:
        document["data"] = data
    return document


def semaphore(config: str = "limits", key: str = "runs") -> dict[str, Any]:
    return {"semaphores": [{"configMapKeyRef": {"name": config, "key": key}}]}


def write(path: Path, *documents: dict[str, Any]) -> Path:
    path.write_text(yaml.safe_dump_all(documents, sort_keys=False))
    return path

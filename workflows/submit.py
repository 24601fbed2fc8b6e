"""`python -m workflows submit`: create or update each CronWorkflow of a manifest through the Argo Server.

Configured like the argo CLI: ARGO_SERVER (host:port), ARGO_TOKEN (with or without "Bearer "),
ARGO_NAMESPACE (default dsm), ARGO_SECURE (default true: HTTPS), ARGO_INSECURE_SKIP_VERIFY
(default false), each also a flag. A CronWorkflow that exists already (409) is updated: its
resourceVersion is read first, then the new spec is PUT. `--dry-run` prints what would be sent
and sends nothing. The token is never printed.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pydantic
import requests
import yaml
from hera.exceptions import AlreadyExists, HeraException
from hera.workflows import WorkflowsService
from hera.workflows.models import CreateCronWorkflowRequest, UpdateCronWorkflowRequest
from hera.workflows.models import CronWorkflow as CronWorkflowModel

from workflows import lint
from workflows.render import GOLDEN, GOLDEN_ARGO36, REPO_ROOT

DEFAULT_NAMESPACE = "dsm"
TIMEOUT_SECONDS = 30.0  # Hera's service sets none; an unanswered Argo Server must not hang `make submit`
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


class SubmitError(Exception):
    """Submission cannot go on; the message says why (never containing the token)."""


@dataclass(frozen=True)
class Connection:
    host: str  # with scheme, e.g. https://argo.example:2746
    token: str | None
    namespace: str
    verify_tls: bool

    @property
    def auth_shown(self) -> str:
        return (
            "Authorization: Bearer <redacted>" if self.token else "no Authorization header (ARGO_TOKEN unset)"
        )


def _flag(env: Mapping[str, str], name: str, default: bool) -> bool:
    raw = env.get(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise SubmitError(f"{name}={raw!r} is not true or false")


def connection(args: argparse.Namespace, env: Mapping[str, str]) -> Connection:
    server = args.argo_server or env.get("ARGO_SERVER", "")
    secure = args.secure if args.secure is not None else _flag(env, "ARGO_SECURE", True)
    skip_verify = args.insecure_skip_verify or _flag(env, "ARGO_INSECURE_SKIP_VERIFY", False)
    if server and "://" not in server:
        server = f"{'https' if secure else 'http'}://{server}"
    token = env.get("ARGO_TOKEN", "").strip() or None
    namespace = args.namespace or env.get("ARGO_NAMESPACE") or DEFAULT_NAMESPACE
    return Connection(host=server.rstrip("/"), token=token, namespace=namespace, verify_tls=not skip_verify)


class _TimeoutSession(requests.Session):
    """A session whose every request has a timeout (Hera passes none)."""

    def __init__(self, timeout: float) -> None:
        super().__init__()
        self.timeout = timeout

    def request(self, method: str | bytes, url: str | bytes, *args: Any, **kwargs: Any) -> requests.Response:
        kwargs.setdefault("timeout", self.timeout)
        return super().request(method, url, *args, **kwargs)


def load_documents(path: Path) -> list[dict[str, Any]]:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise SubmitError(f"{path}: cannot read: {exc.strerror}") from None
    _, findings = lint.lint_text(text, str(path))
    if findings:  # never send what `lint` refuses
        details = "\n".join(f"  {finding}" for finding in findings)
        raise SubmitError(f"{path}: {len(findings)} lint finding(s), nothing sent:\n{details}")
    return [doc for doc in yaml.safe_load_all(text) if doc is not None]


def prepare(document: dict[str, Any], namespace: str) -> CronWorkflowModel:
    """The model to send: the document's namespace must be the one submitted to (or unset)."""
    metadata = document.setdefault("metadata", {})
    name = metadata.get("name")
    if metadata.get("namespace", namespace) != namespace:
        raise SubmitError(
            f"CronWorkflow {name}: metadata.namespace is {metadata['namespace']!r} but the target namespace "
            f"is {namespace!r} (ARGO_NAMESPACE / --namespace)"
        )
    metadata["namespace"] = namespace
    for key in ("resourceVersion", "uid", "creationTimestamp", "generation", "managedFields"):
        metadata.pop(key, None)  # server-owned; a copy of a live object must not carry them
    document.pop("status", None)
    return CronWorkflowModel.model_validate(document)


def request_body(model: CronWorkflowModel) -> str:
    """The JSON Hera's WorkflowsService sends for a create (the same for an update)."""
    return CreateCronWorkflowRequest(cron_workflow=model).model_dump_json(
        exclude_none=True, by_alias=True, exclude_unset=True, exclude_defaults=True
    )


def describe(model: CronWorkflowModel, conn: Connection) -> str:
    host = conn.host or "<ARGO_SERVER unset>"
    base = f"{host}/api/v1/cron-workflows/{conn.namespace}"
    body = json.dumps(json.loads(request_body(model)), indent=2)
    return (
        f"would POST {base}   ({conn.auth_shown}, TLS verify {'on' if conn.verify_tls else 'off'})\n"
        f"  and if it exists (409): GET {base}/{model.metadata.name} for its resourceVersion, "
        f"then PUT {base}/{model.metadata.name}\n{body}"
    )


def needs_argo_3_7(documents: list[dict[str, Any]]) -> bool:
    """Template-level `annotations` (node display names) exist from Argo 3.7 on."""
    return any(
        "annotations" in template
        for doc in documents
        for template in (doc.get("spec", {}).get("workflowSpec", {}).get("templates") or [])
    )


def server_version(service: WorkflowsService) -> tuple[str, tuple[int, int] | None]:
    """The Argo Server's version ("v3.6.19", (3, 6)); ("", None) when it cannot be read."""
    try:
        version = str(service.get_version().version or "")
    except (HeraException, requests.RequestException, ValueError, pydantic.ValidationError):
        return "", None
    match = re.match(r"v?(\d+)\.(\d+)", version)
    return version, (int(match.group(1)), int(match.group(2))) if match else None


def check_server_version(service: WorkflowsService, documents: list[dict[str, Any]]) -> None:
    """Refuse, before anything is sent, a manifest the server's Argo release does not have fields for."""
    if not needs_argo_3_7(documents):
        return
    version, minor = server_version(service)
    if minor is None:
        print(
            f"submit: note: the Argo Server's version is unknown ({version or 'no answer'}); "
            "this manifest needs Argo 3.7+",
            file=sys.stderr,
        )
    elif minor < (3, 7):
        raise SubmitError(
            f"the Argo Server runs {version}, and this manifest needs Argo 3.7+ (node display names: "
            f"template `annotations`); nothing sent. Submit the Argo 3.6 variant: "
            f"--file {GOLDEN_ARGO36.relative_to(REPO_ROOT)}"
        )


def create_or_update(service: WorkflowsService, model: CronWorkflowModel, namespace: str) -> str:
    """'created' or 'updated'; raises HeraException / requests errors from the server exchange."""
    try:
        service.create_cron_workflow(CreateCronWorkflowRequest(cron_workflow=model), namespace=namespace)
        return "created"
    except AlreadyExists:
        pass
    name = str(model.metadata.name)
    current = service.get_cron_workflow(name, namespace=namespace)
    model.metadata.resource_version = current.metadata.resource_version
    service.update_cron_workflow(name, UpdateCronWorkflowRequest(cron_workflow=model), namespace=namespace)
    return "updated"


def main(argv: list[str], env: Mapping[str, str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m workflows submit", description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--file", "-f", default=str(GOLDEN), help=f"manifest (default {GOLDEN.name}, the golden file)"
    )
    parser.add_argument("--dry-run", action="store_true", help="print what would be sent; send nothing")
    parser.add_argument("--argo-server", help="host:port of the Argo Server (default: ARGO_SERVER)")
    parser.add_argument(
        "--namespace", "-n", help=f"target namespace (default: ARGO_NAMESPACE, else {DEFAULT_NAMESPACE})"
    )
    parser.add_argument(
        "--secure",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="HTTPS (default: ARGO_SECURE, else true)",
    )
    parser.add_argument(
        "--insecure-skip-verify", "-k", action="store_true", help="do not verify the server's TLS certificate"
    )
    args = parser.parse_args(argv)
    env = os.environ if env is None else env
    try:
        conn = connection(args, env)
        documents = load_documents(Path(args.file))
        models = [prepare(doc, conn.namespace) for doc in documents]
        if args.dry_run:
            for model in models:
                print(describe(model, conn))
            print(f"dry run: {len(models)} CronWorkflow(s), nothing sent")
            return 0
        if not conn.host:
            raise SubmitError("ARGO_SERVER is not set (host:port of the Argo Server), nor --argo-server")
        return _send(models, documents, conn)
    except SubmitError as exc:
        print(f"submit: {exc}", file=sys.stderr)
        return 1
    except pydantic.ValidationError as exc:
        print(f"submit: the manifest does not fit Hera's CronWorkflow model: {exc}", file=sys.stderr)
        return 1


def _send(models: list[CronWorkflowModel], documents: list[dict[str, Any]], conn: Connection) -> int:
    failures = 0
    session = _TimeoutSession(TIMEOUT_SECONDS)
    with WorkflowsService(
        host=conn.host,
        token=conn.token,
        namespace=conn.namespace,
        verify_ssl=conn.verify_tls,
        session=session,
    ) as service:
        check_server_version(service, documents)
        for model in models:
            where = f"cronworkflow {conn.namespace}/{model.metadata.name}"
            try:
                outcome = create_or_update(service, model, conn.namespace)
                print(f"{outcome} {where} on {conn.host}")
            except HeraException as exc:
                failures += 1
                print(f"submit: {where}: the Argo Server refused it: {exc}", file=sys.stderr)
            except requests.RequestException as exc:
                failures += 1
                print(
                    f"submit: {where}: cannot reach the Argo Server at {conn.host}: {type(exc).__name__}",
                    file=sys.stderr,
                )
            except (KeyError, ValueError) as exc:  # an answer that is not Argo's JSON
                failures += 1
                print(f"submit: {where}: unexpected answer from {conn.host}: {exc}", file=sys.stderr)
    return 1 if failures else 0

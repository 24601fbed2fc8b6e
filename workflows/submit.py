"""`python -m workflows submit`: create or update a manifest's WorkflowTemplates, then its CronWorkflows,
through the Argo Server.

Configured as the argo CLI is (cmd/argo/commands/client/conn.go); see docs/submit.md."""

# One plain requests.Session rather than Hera's WorkflowsService: it keeps one connection for every call,
# sends the manifest's JSON unchanged (no model round trip), and lets each HTTP status (401, 400, 409)
# and each transport failure be told apart; the server's API is four calls per kind.

from __future__ import annotations

import argparse
import copy
import json
import os
import re
import socket
import ssl
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests
import urllib3

from workflows import lint
from workflows.lint import name_of
from workflows.render import GOLDEN as DEFAULT_MANIFEST  # the one place naming the default manifest

DEFAULT_NAMESPACE = "dsm"
TIMEOUT = (5.0, 30.0)  # (connect, read) seconds, on every call: an unanswered server must not hang submit
PROGRESS_EVERY = 100  # above this many objects of a kind, a progress line every so many, not one per object
MIN_ARGO = (3, 7)
# kind -> (path segment of its Argo Server endpoints, the request body's field holding the object),
# in the order they are sent: a CronWorkflow references the WorkflowTemplate (workflowTemplateRef).
KINDS = {
    "WorkflowTemplate": ("workflow-templates", "template"),
    "CronWorkflow": ("cron-workflows", "cronWorkflow"),
}
PORT_FORWARD = "kubectl -n argo port-forward svc/argo-server 2746:2746"
SERVER_OWNED = ("resourceVersion", "uid", "creationTimestamp", "generation", "managedFields")


class SubmitError(Exception):
    """Submission cannot go on; the message says why (never containing the token)."""


def note(message: str) -> None:
    print(f"submit: note: {message}", file=sys.stderr)


@dataclass(frozen=True)
class Connection:
    url: str  # scheme://host:port[/base-href], no trailing slash
    authorization: str | None
    namespace: str
    verify_tls: bool
    headers: dict[str, str]

    def endpoint(self, kind: str, name: str | None = None) -> str:
        return f"{self.url}/api/v1/{KINDS[kind][0]}/{self.namespace}" + (f"/{name}" if name else "")


def _headers(items: Iterable[str]) -> dict[str, str]:
    """`Name: value` items, each possibly comma-separated, as the argo CLI's repeatable --header."""
    headers: dict[str, str] = {}
    for item in (part for raw in items for part in raw.split(",") if part.strip()):
        name, colon, value = item.partition(":")
        if not colon or not name.strip():
            raise SubmitError(f"header {item.strip()!r} is not 'Name: value' (ARGO_HEADER / --header)")
        headers[name.strip()] = value.strip()
    return headers


def connection(args: argparse.Namespace, env: Mapping[str, str]) -> Connection:
    server = args.argo_server or env.get("ARGO_SERVER", "")
    if "://" in server:
        raise SubmitError(
            f"ARGO_SERVER={server!r}: give host:port without a scheme, as for the argo CLI "
            "(HTTPS unless ARGO_SECURE=false)"
        )
    # The CLI's own tests of the variables: anything but "false" is secure, only "true" skips verification.
    secure = args.secure if args.secure is not None else env.get("ARGO_SECURE") != "false"
    skip_verify = args.insecure_skip_verify or env.get("ARGO_INSECURE_SKIP_VERIFY") == "true"
    base_href = args.argo_base_href if args.argo_base_href is not None else env.get("ARGO_BASE_HREF", "")
    url = f"{'https' if secure else 'http'}://{server.rstrip('/')}/{base_href.strip('/')}".rstrip("/")
    token = env.get("ARGO_TOKEN", "").strip()
    if token and not token.startswith(("Bearer ", "Basic ")):
        token = f"Bearer {token}"
    raw_headers = args.header or ([env["ARGO_HEADER"]] if env.get("ARGO_HEADER") else [])
    namespace = args.namespace or env.get("ARGO_NAMESPACE") or DEFAULT_NAMESPACE
    return Connection(url if server else "", token or None, namespace, not skip_verify, _headers(raw_headers))


def select(documents: list[Any], path: Path, namespace: str) -> list[dict[str, Any]]:
    """The objects submit sends, ready to send; none if lint refuses the file. Other kinds get one note."""
    findings = lint.lint_documents(documents, str(path))  # the whole file, as `make lint` checks it
    for warning in (finding for finding in findings if not finding.is_error):
        note(str(warning))
    if errors := [finding for finding in findings if finding.is_error]:
        details = "\n".join(f"  {finding}" for finding in errors)
        raise SubmitError(f"{path}: {len(errors)} lint error(s), nothing sent:\n{details}")
    skipped = [f"{doc['kind']} {name_of(doc)}" for doc in documents if doc["kind"] not in KINDS]
    if skipped:
        note(
            f"skipped {len(skipped)} object(s) the Argo Server does not take "
            f"({', '.join(skipped)}): apply them with `kubectl apply -k {path.parent}`"
        )
    chosen = [doc for doc in documents if doc["kind"] in KINDS]  # send() orders them by kind
    if not chosen:
        raise SubmitError(f"{path}: no WorkflowTemplate or CronWorkflow to submit")
    return [prepare(doc, namespace) for doc in chosen]


def prepare(document: dict[str, Any], namespace: str) -> dict[str, Any]:
    """A copy to send, in the target namespace (the manifest's or unset), without server-owned fields."""
    document = copy.deepcopy(document)
    metadata = document.setdefault("metadata", {})
    if metadata.get("namespace", namespace) != namespace:
        raise SubmitError(
            f"{document['kind']} {metadata.get('name')}: metadata.namespace is {metadata['namespace']!r} "
            f"but the target namespace is {namespace!r} (ARGO_NAMESPACE / --namespace)"
        )
    metadata["namespace"] = namespace
    for key in SERVER_OWNED:
        metadata.pop(key, None)  # a copy of a live object must not carry them
    document.pop("status", None)
    return document


class Refused(SubmitError):
    """The server answered, with an error status."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(f"{status}: {message}")
        self.status = status


def unreachable(exc: requests.RequestException, conn: Connection) -> SubmitError:
    """One line: the URL, what kind of failure, and what to try."""
    # requests -> urllib3 -> socket/ssl: each raised while handling (or from) the one it wraps
    chain: list[BaseException] = [exc]
    while (inner := chain[-1].__cause__ or chain[-1].__context__) is not None:
        chain.append(inner)

    def found(kinds: type[BaseException] | tuple[type[BaseException], ...]) -> bool:
        return any(isinstance(e, kinds) for e in chain)

    hint = f"is the server up, and ARGO_SERVER right? From outside the cluster: {PORT_FORWARD}"
    if certificate := next((e for e in chain if isinstance(e, ssl.SSLCertVerificationError)), None):
        kind = f"TLS: the certificate is not trusted ({certificate.verify_message})"
        hint = "a self-signed certificate: ARGO_INSECURE_SKIP_VERIFY=true, or "
        hint += "REQUESTS_CA_BUNDLE=<its CA file>"
    elif found(ssl.SSLError):
        kind = "TLS handshake failed"
        hint = "if the server speaks plain HTTP (argo server --secure=false), set ARGO_SECURE=false"
    elif found(socket.gaierror):
        kind = "DNS: the host name does not resolve"
    elif found(ConnectionRefusedError):
        kind = "connection refused"
    elif isinstance(exc, requests.Timeout):
        kind = f"no answer within {TIMEOUT[0]:g} s to connect / {TIMEOUT[1]:g} s to answer (timeout)"
    elif found((ConnectionResetError, urllib3.exceptions.ProtocolError)):
        kind = "the server closed the connection"
        if conn.url.startswith("http://"):
            hint = "if the server speaks HTTPS, do not set ARGO_SECURE=false"
    else:
        kind = type(exc).__name__
    return SubmitError(f"cannot reach the Argo Server at {conn.url}: {kind}; {hint}")


class Server:
    """The Argo Server's HTTP API over one session: one connection for every call, a timeout on each."""

    def __init__(self, conn: Connection, session: requests.Session) -> None:
        self.conn, self.session = conn, session
        session.headers.update(conn.headers)
        if conn.authorization:  # after the extra headers: the token wins, as in the argo CLI
            session.headers["Authorization"] = conn.authorization
        if not conn.verify_tls:
            urllib3.disable_warnings(urllib3.exceptions.InsecureRequestWarning)  # said once, below

    def call(self, method: str, url: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        try:
            # verify per call: a session-level False loses to REQUESTS_CA_BUNDLE (requests merges it in)
            response = self.session.request(
                method, url, json=body, timeout=TIMEOUT, verify=self.conn.verify_tls
            )
        except requests.RequestException as exc:
            raise unreachable(exc, self.conn) from None
        try:
            answer = response.json()
        except ValueError:
            answer = None
        if not isinstance(answer, dict):
            what = "an HTML page" if "html" in response.headers.get("Content-Type", "") else "no JSON"
            raise SubmitError(
                f"{method} {url} answered {response.status_code} with {what}, not the Argo API: "
                "check ARGO_SERVER and ARGO_BASE_HREF (the ingress path, if any)"
            )
        if response.status_code == 401:
            raise SubmitError(
                f"the Argo Server at {self.conn.url} refused the token (401: {answer.get('message', '')}); "
                "set ARGO_TOKEN to a valid one ('Bearer ...', e.g. from `argo auth token`)"
            )
        if response.status_code != 200:
            raise Refused(response.status_code, str(answer.get("message", answer)))
        return answer

    def check_version(self) -> None:
        """Refuse a formal release older than 3.7; send to an untagged build (major 0: Argo's own test)."""
        url = f"{self.conn.url}/api/v1/version"
        try:
            version = str(self.call("GET", url).get("version", ""))
        except Refused as refused:
            raise SubmitError(
                f"GET {url} answered {refused}: not the Argo API? Check ARGO_SERVER and ARGO_BASE_HREF"
            ) from None
        match = re.match(r"^v(\d+)\.(\d+)\.(\d+)", version)  # Version.MajorMinorPatch
        if match is None or match[1] == "0":
            note(f"the Argo Server's version {version!r} is not a formal release: not checked")
        elif (int(match[1]), int(match[2])) < MIN_ARGO:
            raise SubmitError(
                f"the Argo Server runs {version}; this project needs Argo 3.7 or later: nothing sent"
            )

    def create_or_update(self, obj: dict[str, Any]) -> str:
        """'created' or 'updated'. An update keeps what the server keeps on the live object and the
        manifest does not set: the instance-ID label create added, any other label or annotation."""
        kind, url = obj["kind"], self.conn.endpoint(obj["kind"], name_of(obj))
        body = {"namespace": self.conn.namespace, KINDS[kind][1]: obj}  # the PUT's too, obj as updated below
        try:
            self.call("POST", self.conn.endpoint(kind), body)
            return "created"
        except Refused as refused:
            if refused.status != 409:
                raise
        live_metadata = self.call("GET", url).get("metadata") or {}
        metadata = obj["metadata"] = dict(obj["metadata"])
        for key in ("labels", "annotations"):
            merged = {**(live_metadata.get(key) or {}), **(metadata.get(key) or {})}
            if merged:
                metadata[key] = merged
        metadata["resourceVersion"] = live_metadata.get("resourceVersion")
        self.call("PUT", url, body)
        return "updated"


def send(objects: list[dict[str, Any]], conn: Connection) -> int:
    if not conn.verify_tls and conn.url.startswith("https://"):
        note("the server's TLS certificate is not verified (ARGO_INSECURE_SKIP_VERIFY)")
    with requests.Session() as session:
        server = Server(conn, session)
        server.check_version()
        for kind in KINDS:
            failures = send_kind(server, kind, [obj for obj in objects if obj["kind"] == kind])
            if failures and kind == "WorkflowTemplate":
                raise SubmitError("the CronWorkflows reference the WorkflowTemplate(s) that failed: not sent")
            if failures:
                return 1
    return 0


def send_kind(server: Server, kind: str, batch: list[dict[str, Any]]) -> int:
    """Create or update each object of one kind; the number that the server refused."""
    counts = {"created": 0, "updated": 0, "refused": 0}
    for done, obj in enumerate(batch, start=1):
        named = f"{kind} {server.conn.namespace}/{name_of(obj)}"
        try:
            outcome = server.create_or_update(obj)
        except Refused as refused:
            outcome = "refused"
            print(f"submit: {named}: the Argo Server refused it ({refused})", file=sys.stderr)
        counts[outcome] += 1
        if len(batch) <= PROGRESS_EVERY:
            if outcome != "refused":
                print(f"{outcome} {named} on {server.conn.url}")
        elif done % PROGRESS_EVERY == 0 or done == len(batch):
            summary = ", ".join(f"{count} {what}" for what, count in counts.items() if count)
            print(f"{kind}s in {server.conn.namespace} on {server.conn.url}: {done}/{len(batch)} ({summary})")
    return counts["refused"]


def describe(obj: dict[str, Any], conn: Connection) -> str:
    url = conn.endpoint(obj["kind"]) if conn.url else f"<ARGO_SERVER unset>/api/v1/{KINDS[obj['kind']][0]}"
    unset = "no Authorization header (ARGO_TOKEN unset)"
    auth = "Authorization: Bearer <redacted>" if conn.authorization else unset
    body = json.dumps({"namespace": conn.namespace, KINDS[obj["kind"]][1]: obj}, indent=2)
    return (
        f"would POST {url}   ({auth}, TLS verify {'on' if conn.verify_tls else 'off'})\n"
        f"  and if it exists (409): GET {url}/{name_of(obj)}, then PUT there with its resourceVersion\n{body}"
    )


def parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m workflows submit", description=__doc__.split("\n\n")[0])
    add = parser.add_argument
    add("--file", "-f", type=Path, default=DEFAULT_MANIFEST,
        help=f"manifest (default {DEFAULT_MANIFEST.name})")
    add("--dry-run", action="store_true", help="print what would be sent; send nothing")
    add("--argo-server", "-s", help="host:port of the Argo Server (default: ARGO_SERVER)")
    add("--argo-base-href", help="path of a server behind an ingress (default: ARGO_BASE_HREF)")
    add("--namespace", "-n", help=f"target namespace (default: ARGO_NAMESPACE, else {DEFAULT_NAMESPACE})")
    add("--secure", "-e", action=argparse.BooleanOptionalAction,
        help="HTTPS (default: unless ARGO_SECURE=false)")
    add("--insecure-skip-verify", "-k", action="store_true",
        help="do not verify the server's TLS certificate (default: ARGO_INSECURE_SKIP_VERIFY=true)")
    add("--header", "-H", action="append", metavar="'NAME: VALUE'",
        help="extra header on every request, repeatable or comma-separated (default: ARGO_HEADER)")
    return parser


def main(argv: list[str], env: Mapping[str, str] | None = None) -> int:
    args = parser().parse_args(argv)
    env = os.environ if env is None else env
    try:
        conn = connection(args, env)
        # lint_documents refuses a document that is not a Kubernetes object, before select reads its kind
        objects = select(lint.load_manifest(args.file), args.file, conn.namespace)
        if args.dry_run:
            for obj in objects:
                print(describe(obj, conn))
            print(f"dry run: {len(objects)} object(s), nothing sent")
            return 0
        if not conn.url:
            raise SubmitError("ARGO_SERVER is not set (host:port of the Argo Server), nor --argo-server")
        return send(objects, conn)
    except (SubmitError, lint.ManifestFileError) as exc:  # each one line, never the token
        print(f"submit: {exc}", file=sys.stderr)
        return 1

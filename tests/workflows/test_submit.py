"""`submit` against a stand-in Argo Server as strict as the real one: auth, validation, resourceVersion,
instance ID, base path, TLS, one connection; and the errors a user meets, each one line."""

from __future__ import annotations

import copy
import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
import yaml

from tests.workflows.argo_server import INSTANCE_LABEL, ArgoServer, argo_server
from workflows import submit
from workflows.render import REPO_ROOT

TOKEN = "s3cr3t-t0ken"


@pytest.fixture(autouse=True)
def no_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    """requests honours HTTP(S)_PROXY: keep the stand-in's 127.0.0.1 traffic off any proxy of the machine."""
    for name in ("no_proxy", "NO_PROXY"):
        monkeypatch.setenv(name, "127.0.0.1,localhost")


@pytest.fixture
def server() -> Iterator[ArgoServer]:
    with argo_server(token=TOKEN) as state:
        yield state


def env_for(server: ArgoServer, **extra: str) -> dict[str, str]:
    return {"ARGO_SERVER": server.address, "ARGO_SECURE": "false", "ARGO_TOKEN": f"Bearer {TOKEN}", **extra}


def error_lines(err: str) -> list[str]:
    """stderr without the notes (e.g. the ConfigMap left to `kubectl apply -k`)."""
    return [line for line in err.splitlines() if not line.startswith("submit: note:")]


def golden() -> list[dict[str, Any]]:
    return [doc for doc in yaml.safe_load_all(submit.DEFAULT_MANIFEST.read_text()) if doc]


def fleet(tmp_path: Path, crons: int = 2) -> Path:
    """A manifest in the target layout: a ConfigMap, `crons` CronWorkflows, then the WorkflowTemplate last
    in the file (submit must still send it first)."""
    documents = golden()
    [cron, *_] = [doc for doc in documents if doc["kind"] == "CronWorkflow"]
    # Until the golden file holds the WorkflowTemplate (issue 17), one is made from the cron's own spec.
    templates = [doc for doc in documents if doc["kind"] == "WorkflowTemplate"] or [
        {
            "apiVersion": cron["apiVersion"],
            "kind": "WorkflowTemplate",
            "metadata": {"name": "dailyscrum", "namespace": "dsm"},
            "spec": cron["spec"]["workflowSpec"],
        }
    ]
    limits = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "dailyscrum-limits"},
        "data": {"runs": "5"},
    }
    copies = []
    for index in range(crons):
        copy_ = copy.deepcopy(cron)
        copy_["metadata"]["name"] = f"run-dailyscrum-{index:04d}"
        copies.append(copy_)
    path = tmp_path / "dailyscrum.yaml"
    path.write_text(yaml.safe_dump_all([limits, *copies, *templates], sort_keys=False))
    return path


def test_default_manifest_from_a_subprocess_configured_by_environment(server: ArgoServer) -> None:
    env = {**os.environ, **env_for(server, ARGO_TOKEN=TOKEN)}  # a bare token gets "Bearer "
    env.pop("ARGO_NAMESPACE", None)
    result = subprocess.run(
        [sys.executable, "-m", "workflows", "submit"],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert "created CronWorkflow dsm/run-dailyscrum" in result.stdout
    assert TOKEN not in result.stdout + result.stderr
    sent = [doc for doc in golden() if doc["kind"] in submit.KINDS]
    assert [r.body for r in server.requests[1:]] == [
        {"namespace": "dsm", submit.KINDS[doc["kind"]][1]: doc}
        for doc in sorted(sent, key=lambda doc: doc["kind"] != "WorkflowTemplate")
    ]
    assert all(r.headers["Authorization"] == f"Bearer {TOKEN}" for r in server.requests)


def test_templates_go_first_other_kinds_are_skipped_and_one_connection_serves_all(
    server: ArgoServer, tmp_path: Path, capsys: pytest.CaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(submit, "PROGRESS_EVERY", 2)  # 5 CronWorkflows: progress at 2, 4 and the last
    manifest = fleet(tmp_path, crons=5)
    assert submit.main(["--file", str(manifest)], env=env_for(server)) == 0
    out, err = capsys.readouterr()
    assert [path for _, path in server.api_requests()] == [
        "/api/v1/workflow-templates/dsm",
        *["/api/v1/cron-workflows/dsm"] * 5,
    ]
    assert server.connections == 1
    assert "skipped 1 object(s) the Argo Server does not take (ConfigMap dailyscrum-limits)" in err
    assert f"kubectl apply -k {tmp_path}" in err
    assert [line.split(": ")[1] for line in out.splitlines() if line.startswith("CronWorkflows")] == [
        "2/5 (2 created)",
        "4/5 (4 created)",
        "5/5 (5 created)",
    ]


def test_update_keeps_the_instance_id_label_and_what_the_server_added() -> None:
    with argo_server(instance_id="dsm-argo") as server:
        env = env_for(server, ARGO_TOKEN="")
        assert submit.main([], env=env) == 0
        cron_key = ("cron-workflows", "dsm", "run-dailyscrum")
        server.stored[cron_key]["metadata"].setdefault("annotations", {})["added-by"] = "kubectl annotate"
        versions = {key: obj["metadata"]["resourceVersion"] for key, obj in server.stored.items()}
        server.requests.clear()

        # A WorkflowTemplate's PUT is refused outright without the label: this also proves it is carried.
        assert submit.main([], env=env) == 0
        assert [method for method, _ in server.api_requests()] == ["POST", "GET", "PUT"] * len(versions)
        for key, obj in server.stored.items():
            assert obj["metadata"]["labels"][INSTANCE_LABEL] == "dsm-argo"
            assert int(obj["metadata"]["resourceVersion"]) > int(versions[key])
        assert server.stored[cron_key]["metadata"]["annotations"]["added-by"] == "kubectl annotate"


def test_a_schedule_the_server_refuses(server: ArgoServer, capsys: pytest.CaptureFixture) -> None:
    # The server's validation can be stricter than the project's lint: send() skips the lint to show
    # how a refusal is reported. Argo validates before it looks for the name: 400 for a new or existing one.
    [template, cron] = [doc for doc in golden() if doc["kind"] in submit.KINDS]
    conn = submit.connection(submit.parser().parse_args([]), env_for(server))
    assert submit.send([submit.prepare(template, "dsm")], conn) == 0  # what the cron references
    bad = copy.deepcopy(cron)
    bad["spec"]["schedules"] = ["0 25 * * 1-5"]
    for _ in ("create", "update"):
        assert submit.send([bad], conn) == 1
        err = capsys.readouterr().err
        assert "CronWorkflow dsm/run-dailyscrum: the Argo Server refused it (400: " in err
        assert "hour field '25'" in err
        assert submit.send([submit.prepare(cron, "dsm")], conn) == 0


def test_the_stand_in_is_as_strict_as_argo_on_updates(server: ArgoServer) -> None:
    """What submit must get right, refused by the stand-in as by Argo (a kinder fake hid each before)."""
    [template, cron] = [doc for doc in golden() if doc["kind"] in submit.KINDS]
    base = f"http://{server.address}/api/v1/cron-workflows/dsm"
    auth = {"Authorization": f"Bearer {TOKEN}"}
    templates = f"http://{server.address}/api/v1/workflow-templates/dsm"
    assert requests.post(templates, json={"template": template}, headers=auth, timeout=10).status_code == 200
    assert requests.post(base, json={"cronWorkflow": cron}, timeout=10).status_code == 401
    assert requests.post(base, json={"cronWorkflow": cron}, headers=auth, timeout=10).status_code == 200
    current = server.stored[("cron-workflows", "dsm", cron["metadata"]["name"])]["metadata"][
        "resourceVersion"
    ]

    def put(spec: dict[str, Any] = cron["spec"], **metadata: str) -> requests.Response:
        return requests.put(
            f"{base}/not-the-name",  # Argo takes the name from the body
            json={"cronWorkflow": {**cron, "metadata": {**cron["metadata"], **metadata}, "spec": spec}},
            headers=auth,
            timeout=10,
        )

    assert (put().status_code, put().json()["code"]) == (400, 3)  # no resourceVersion
    assert put(resourceVersion="1").status_code == 409  # stale
    refused = put({**cron["spec"], "schedules": ["0 25 * * *"]}, resourceVersion=current)
    assert (refused.status_code, refused.json()["code"]) == (400, 3)  # validated on update too
    assert put(resourceVersion=current).status_code == 200


def test_a_bad_token_is_one_line_and_nothing_is_sent(
    server: ArgoServer, capsys: pytest.CaptureFixture
) -> None:
    assert submit.main([], env=env_for(server, ARGO_TOKEN="Bearer wrong")) == 1
    err = capsys.readouterr().err
    assert len(error_lines(err)) == 1 and "refused the token (401: token not valid" in err
    assert "wrong" not in err and server.api_requests() == []


@pytest.mark.parametrize("href", ["/dsm/argo", "dsm/argo/"])
def test_a_server_under_a_base_path(href: str) -> None:
    with argo_server(base_href="/dsm/argo") as server:
        assert submit.main([], env=env_for(server, ARGO_BASE_HREF=href)) == 0
        assert server.requests[0].path == "/dsm/argo/api/v1/version"
        assert "/dsm/argo/api/v1/cron-workflows/dsm" in {path for _, path in server.api_requests()}


def test_a_wrong_base_path_gets_the_ui_page_and_says_so(server: ArgoServer, capsys) -> None:
    # The real server answers every non-API path with 200 and its HTML page.
    assert submit.main([], env=env_for(server, ARGO_BASE_HREF="/argo")) == 1
    err = capsys.readouterr().err
    assert "answered 200 with an HTML page, not the Argo API: check ARGO_SERVER and ARGO_BASE_HREF" in err


def test_tls_with_verification_skipped_and_failing(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    with argo_server(token=TOKEN, tls=True) as server:
        env = env_for(server, ARGO_SECURE="")  # empty is secure, as for the argo CLI
        assert submit.main([], env=env) == 1
        err = capsys.readouterr().err
        assert (
            f"cannot reach the Argo Server at https://{server.address}: TLS: the certificate is not trusted"
            in err
        )
        assert "ARGO_INSECURE_SKIP_VERIFY=true" in err and server.requests == []

        assert submit.main([], env={**env, "ARGO_INSECURE_SKIP_VERIFY": "true"}) == 0
        assert "certificate is not verified" in capsys.readouterr().err
        assert server.api_requests()


def test_the_token_never_goes_out_over_plain_http_unless_asked(server: ArgoServer, capsys) -> None:
    for secure in ("", "0", "no"):  # only "false" means plain HTTP
        assert submit.main([], env=env_for(server, ARGO_SECURE=secure)) == 1
        assert "TLS handshake failed" in capsys.readouterr().err
    assert server.requests == []


def test_unreachable_servers_are_one_line_naming_url_and_cause(
    capsys: pytest.CaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(submit, "TIMEOUT", (0.5, 0.5))
    with socket.socket() as silent:  # listens, never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        with socket.socket() as closed:
            closed.bind(("127.0.0.1", 0))
            closed_port = closed.getsockname()[1]
        cases = {
            f"127.0.0.1:{closed_port}": "connection refused",
            "argo-server.invalid:2746": "DNS: the host name does not resolve",
            f"127.0.0.1:{silent.getsockname()[1]}": "(timeout)",
        }
        for address, cause in cases.items():
            assert submit.main([], env={"ARGO_SERVER": address, "ARGO_SECURE": "false"}) == 1
            err = capsys.readouterr().err
            assert f"cannot reach the Argo Server at http://{address}: " in err and cause in err, err
            assert submit.PORT_FORWARD in err and len(error_lines(err)) == 1 and "version" not in err


@pytest.mark.parametrize(
    ("version", "sent"), [("v3.6.19", False), ("v0.0.0+unknown", True), ("untagged", True), ("v4.1.2", True)]
)
def test_server_version(version: str, sent: bool, server: ArgoServer, capsys: pytest.CaptureFixture) -> None:
    server.argo_version = version
    assert submit.main([], env=env_for(server)) == (0 if sent else 1)
    assert bool(server.api_requests()) is sent
    err = capsys.readouterr().err
    if not sent:
        assert "the Argo Server runs v3.6.19; this project needs Argo 3.7 or later: nothing sent" in err
    elif not version.startswith("v4"):
        assert "is not a formal release: not checked" in err


def test_user_mistakes_are_one_line(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    not_a_manifest = tmp_path / "list.yaml"
    not_a_manifest.write_text("- a\n- b\n")
    cases = {
        "/bin/ls": "/bin/ls: not UTF-8 text",
        str(tmp_path / "missing.yaml"): "missing.yaml: no such file",
        str(tmp_path): f"{tmp_path}: is a directory, not a manifest file",
        str(REPO_ROOT / "pyproject.toml"): "pyproject.toml: not valid YAML at line 2",
        str(not_a_manifest): "list.yaml: not a manifest (no document is a mapping with a kind)",
    }
    for file, message in cases.items():
        assert submit.main(["--dry-run", "--file", file], env={}) == 1
        err = capsys.readouterr().err
        assert message in err and err.count("\n") == 1, err
    for env, message in [
        ({"ARGO_SERVER": "https://argo:2746"}, "give host:port without a scheme"),
        ({"ARGO_HEADER": "X-Tenant"}, "header 'X-Tenant' is not 'Name: value'"),
        ({"ARGO_NAMESPACE": "other"}, "metadata.namespace is 'dsm' but the target namespace is 'other'"),
        ({}, "ARGO_SERVER is not set"),
    ]:
        assert submit.main([], env=env) == 1
        assert message in capsys.readouterr().err


def test_a_manifest_that_fails_lint_is_not_sent(server: ArgoServer, tmp_path: Path, capsys) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(submit.DEFAULT_MANIFEST.read_text().replace("0 14 * * 1-5", "0 25 * * 1-5"))
    assert submit.main(["--file", str(bad)], env=env_for(server)) == 1
    assert "hour field '25'" in capsys.readouterr().err
    assert server.requests == []


def test_dry_run_sends_nothing_and_hides_the_token(server: ArgoServer, capsys: pytest.CaptureFixture) -> None:
    assert submit.main(["--dry-run"], env=env_for(server, ARGO_BASE_HREF="/argo")) == 0
    out = capsys.readouterr().out
    assert server.requests == [] and TOKEN not in out and "Bearer <redacted>" in out
    assert f"POST http://{server.address}/argo/api/v1/cron-workflows/dsm" in out


def test_extra_headers_go_on_every_request_and_the_token_wins(server: ArgoServer) -> None:
    argv = ["-H", "X-Tenant: dsm,Authorization: Bearer other", "--header", "X-Trace:1"]
    assert submit.main(argv, env=env_for(server)) == 0
    assert all(
        (r.headers["X-Tenant"], r.headers["X-Trace"], r.headers["Authorization"])
        == ("dsm", "1", f"Bearer {TOKEN}")
        for r in server.requests
    )

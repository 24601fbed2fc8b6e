"""`submit` against a stand-in Argo Server: paths, methods, bodies, the bearer token, create vs update."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from tests.workflows.argo_server import ArgoServer, argo_server
from workflows import submit
from workflows.render import GOLDEN, GOLDEN_ARGO36, REPO_ROOT, render_text

TOKEN = "s3cr3t-t0ken"
# Hera 7.1's service calls pydantic's deprecated `.json()`; not ours to fix.
pytestmark = pytest.mark.filterwarnings("ignore:The `json` method is deprecated:DeprecationWarning")


@pytest.fixture(autouse=True)
def no_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    """requests honours HTTP(S)_PROXY: keep the stand-in's 127.0.0.1 traffic off any proxy of the machine."""
    for name in ("no_proxy", "NO_PROXY"):
        monkeypatch.setenv(name, "127.0.0.1,localhost")


@pytest.fixture
def server() -> Iterator[ArgoServer]:
    with argo_server() as state:
        yield state


def env_for(server: ArgoServer, **extra: str) -> dict[str, str]:
    return {"ARGO_SERVER": server.address, "ARGO_SECURE": "false", "ARGO_TOKEN": TOKEN, **extra}


def golden_documents(path: Path = GOLDEN) -> list[dict]:
    return [doc for doc in yaml.safe_load_all(path.read_text()) if doc]


def test_create_sends_the_manifest_with_the_bearer_token(
    server: ArgoServer, capfd: pytest.CaptureFixture
) -> None:
    # A real subprocess, configured by environment only, as `make submit` runs it.
    env = {**os.environ, **env_for(server)}
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
    assert "created cronworkflow dsm/run-dailyscrum" in result.stdout
    assert TOKEN not in result.stdout + result.stderr
    assert (server.requests[0].method, server.requests[0].path) == ("GET", "/api/v1/version")
    [request] = server.cron_requests()
    assert (request.method, request.path) == ("POST", "/api/v1/cron-workflows/dsm")
    assert request.headers["Authorization"] == f"Bearer {TOKEN}"
    assert request.headers["Content-Type"] == "application/json"
    assert request.body == {"cronWorkflow": golden_documents()[0]}


def test_existing_cron_workflow_is_updated_with_its_resource_version(server: ArgoServer) -> None:
    assert submit.main([], env=env_for(server)) == 0
    version = server.stored[("dsm", "run-dailyscrum")]["metadata"]["resourceVersion"]
    server.requests.clear()

    assert submit.main([], env=env_for(server, ARGO_TOKEN=f"Bearer {TOKEN}")) == 0

    methods = [(r.method, r.path) for r in server.cron_requests()]
    assert methods == [
        ("POST", "/api/v1/cron-workflows/dsm"),  # 409: exists
        ("GET", "/api/v1/cron-workflows/dsm/run-dailyscrum"),
        ("PUT", "/api/v1/cron-workflows/dsm/run-dailyscrum"),
    ]
    assert all(
        r.headers["Authorization"] == f"Bearer {TOKEN}" for r in server.requests
    )  # not "Bearer Bearer"
    put = server.cron_requests()[-1].body["cronWorkflow"]
    assert put["metadata"]["resourceVersion"] == version
    expected = golden_documents()[0]
    put["metadata"].pop("resourceVersion")
    assert put == expected


def test_dry_run_sends_nothing_and_hides_the_token(server: ArgoServer, capsys: pytest.CaptureFixture) -> None:
    assert submit.main(["--dry-run"], env=env_for(server)) == 0
    out = capsys.readouterr().out
    assert server.requests == []
    assert TOKEN not in out
    assert f"POST http://{server.address}/api/v1/cron-workflows/dsm" in out
    assert "Bearer <redacted>" in out
    assert '"name": "run-dailyscrum"' in out


def test_every_document_of_a_multi_project_manifest_is_sent(server: ArgoServer, tmp_path: Path) -> None:
    config = tmp_path / "projects.toml"
    config.write_text(
        '[[projects]]\nid = "GEM-001"\n\n[[projects]]\nid = "GEM-002"\nsprint = "GEM-002-S03"\n'
    )
    manifest = tmp_path / "manifest.yaml"
    manifest.write_text(render_text(config))
    assert submit.main(["--file", str(manifest)], env=env_for(server)) == 0
    assert sorted(server.stored) == [("dsm", "run-dailyscrum-gem-001"), ("dsm", "run-dailyscrum-gem-002")]


def test_namespace_comes_from_argo_namespace_and_must_match_the_manifest(
    server: ArgoServer, capsys: pytest.CaptureFixture
) -> None:
    assert submit.main([], env=env_for(server, ARGO_NAMESPACE="other")) == 1
    assert "metadata.namespace is 'dsm' but the target namespace is 'other'" in capsys.readouterr().err
    assert server.requests == []


def test_server_refusal_and_unreachable_server_fail_clearly(
    server: ArgoServer, capsys: pytest.CaptureFixture
) -> None:
    server.fail_with = 403
    assert submit.main([], env=env_for(server)) == 1
    err = capsys.readouterr().err
    assert "refused it" in err and "403" in err and TOKEN not in err

    assert submit.main([], env=env_for(server, ARGO_SERVER="127.0.0.1:1")) == 1
    assert "cannot reach the Argo Server at http://127.0.0.1:1" in capsys.readouterr().err


def test_a_manifest_that_fails_lint_is_not_sent(server: ArgoServer, tmp_path: Path, capsys) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(GOLDEN.read_text().replace("0 14 * * 1-5", "0 25 * * 1-5"))
    assert submit.main(["--file", str(bad)], env=env_for(server)) == 1
    assert "hour field '25'" in capsys.readouterr().err
    assert server.requests == []


def test_an_argo_3_6_server_gets_nothing_it_has_no_fields_for(
    server: ArgoServer, capsys: pytest.CaptureFixture
) -> None:
    server.argo_version = "v3.6.19"
    assert submit.main([], env=env_for(server)) == 1
    err = capsys.readouterr().err
    assert "the Argo Server runs v3.6.19, and this manifest needs Argo 3.7+" in err
    assert "--file workflows/cluster/manifests/run-dailyscrum.argo36.yaml" in err
    assert server.cron_requests() == []

    assert submit.main(["--file", str(GOLDEN_ARGO36)], env=env_for(server)) == 0
    [request] = server.cron_requests()
    assert request.body == {"cronWorkflow": golden_documents(GOLDEN_ARGO36)[0]}


def test_a_server_that_does_not_say_its_version_is_sent_to_with_a_note(
    server: ArgoServer, capsys: pytest.CaptureFixture
) -> None:
    server.argo_version = None  # 404
    assert submit.main([], env=env_for(server)) == 0
    assert "version is unknown" in capsys.readouterr().err
    assert [r.method for r in server.cron_requests()] == ["POST"]


def test_connection_settings_follow_the_argo_cli() -> None:
    args = lambda *argv: submit.argparse.Namespace(  # noqa: E731 - a tiny local factory
        argo_server=None, namespace=None, secure=None, insecure_skip_verify=False
    )
    conn = submit.connection(args(), {"ARGO_SERVER": "argo.example:2746"})
    assert (conn.host, conn.namespace, conn.verify_tls, conn.token) == (
        "https://argo.example:2746",
        "dsm",
        True,
        None,
    )
    conn = submit.connection(
        args(), {"ARGO_SERVER": "a:1", "ARGO_SECURE": "false", "ARGO_INSECURE_SKIP_VERIFY": "true"}
    )
    assert (conn.host, conn.verify_tls) == ("http://a:1", False)
    with pytest.raises(submit.SubmitError, match="ARGO_SECURE='maybe'"):
        submit.connection(args(), {"ARGO_SERVER": "a:1", "ARGO_SECURE": "maybe"})

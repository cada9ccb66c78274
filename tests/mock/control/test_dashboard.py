"""The dashboard's server side: the control token, the store view, the page's headers, the CLI's
announcements, and the HTML reports' escaping. The page itself runs in test_dashboard_browser.py."""

from __future__ import annotations

import io
import json
import re
from pathlib import Path

import httpx
import pytest

from contracts.cli import main as contracts_main
from contracts.verify.report import Finding, VerifyResult, write_html
from mockserver import create_app
from mockserver.config import MockConfig
from mockserver.pytest_plugin import PortkeyMock
from tests.support.inprocess import store_config
from tests.support.served import ServedProcess

TOKEN = "control-token-0123456789"
API_KEY = "pk-dashboard-0123456789"
PROVIDER_SECRET = "sk-dashboard-secret-0123456789"
HOSTILE = "<img src=x onerror=alert(1)>"


def control_routes(app) -> list[tuple[str, str]]:
    """Every (method, path) the app serves under /__mock/, read from its control plane's URL map."""
    routes = []
    for rule in app.control.url_map.iter_rules():
        if rule.rule.startswith("/__mock/"):
            path = rule.rule.replace("<path:filename>", "dashboard.js")
            routes += [(method, path) for method in sorted(rule.methods - {"HEAD", "OPTIONS"})]
    return routes


def test_with_a_token_every_control_route_but_health_and_the_page_shell_answers_401_without_it():
    app = create_app(MockConfig(control_token=TOKEN))
    client = app.test_client()
    routes = control_routes(app)
    assert {("GET", "/__mock/journal"), ("GET", "/__mock/store"), ("PUT", "/__mock/faults")} <= set(routes)
    open_ = {("GET", "/__mock/health"), ("GET", "/__mock/"), ("GET", "/__mock/static/dashboard.js")}
    for method, path in routes:
        for sent in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": TOKEN}):
            answer = client.open(path, method=method, headers=sent)
            if (method, path) in open_:
                assert answer.status_code == 200, (method, path)
                continue
            if path.startswith("/__mock/log-exports/"):  # a signed URL: no such file, but no token asked
                assert answer.status_code == 404, (method, path)
                continue
            assert answer.status_code == 401, (method, path, sent)
            assert answer.json["success"] is False and answer.json["data"]["errorCode"] == "AB05"
            assert "Bearer" in answer.json["data"]["message"]
    locked = client.get("/__mock/journal", headers={"Authorization": f"Bearer {TOKEN}"})
    assert locked.status_code == 200
    assert client.post("/__mock/reset", headers={"Authorization": f"Bearer {TOKEN}"}).status_code == 200
    # The API itself does not ask for the control token.
    assert client.get("/v1/virtual-keys", headers={"x-portkey-api-key": API_KEY}).status_code == 200


def test_without_a_token_the_control_plane_stays_open():
    client = create_app().test_client()
    assert client.get("/__mock/journal").status_code == 200
    assert client.get("/__mock/store").status_code == 200


@pytest.mark.parametrize("kind", ["memory", "redis"])
def test_the_store_view_lists_keys_per_workspace_masked_with_hostile_values_as_data(request, kind):
    client = create_app(store_config(request, kind)).test_client()
    for api_key, name in ((API_KEY, HOSTILE), ("pk-other-key-0123456789", "second")):
        created = client.post(
            "/v1/virtual-keys",
            json={"name": name, "provider": "openai", "key": PROVIDER_SECRET, "note": "<script>"},
            headers={"x-portkey-api-key": api_key},
        )
        assert created.status_code == 200
    answer = client.get("/__mock/store")
    assert answer.status_code == 200 and answer.mimetype == "application/json"
    workspaces = answer.json["workspaces"]
    assert len(workspaces) == 2 and all(w["total"] == 1 for w in workspaces)
    names = sorted(w["virtual_keys"][0]["name"] for w in workspaces)
    assert names == sorted([HOSTILE, "second"])
    assert {w["virtual_keys"][0]["masked_api_key"] for w in workspaces} == {"sk*****789"}
    assert PROVIDER_SECRET not in answer.get_data(as_text=True)
    client.post("/__mock/reset")
    assert client.get("/__mock/store").json["workspaces"] == []


@pytest.mark.parametrize("kind", ["memory", "redis"])
def test_the_store_view_lists_integrations_per_organisation_masked(request, kind):
    client = create_app(store_config(request, kind)).test_client()
    created = client.post(
        "/v1/integrations",
        json={"name": HOSTILE, "ai_provider_id": "openai", "key": PROVIDER_SECRET},
        headers={"x-portkey-api-key": API_KEY},
    )
    assert created.status_code == 200, created.json
    answer = client.get("/__mock/store")
    [organisation] = answer.json["organisations"]
    [integration] = organisation["integrations"]
    assert (organisation["total"], integration["name"]) == (1, HOSTILE)
    assert integration["masked_key"] == "sk*****789"
    assert PROVIDER_SECRET not in answer.get_data(as_text=True)
    client.post("/__mock/reset")
    assert client.get("/__mock/store").json["organisations"] == []


@pytest.mark.parametrize("kind", ["memory", "redis"])
def test_the_store_view_lists_every_declared_resources_records_masked(request, kind):
    client = create_app(store_config(request, kind)).test_client()
    headers = {"x-portkey-api-key": API_KEY}
    config = {"name": HOSTILE, "config": {"retry": {"attempts": 3}}}
    assert client.post("/v1/configs", json=config, headers=headers).status_code == 200
    auth = {"vault_addr": "https://vault.example", "vault_auth_type": "token", "vault_token": PROVIDER_SECRET}
    reference = {"name": "vault", "slug": "vault", "manager_type": "hashicorp_vault", "auth_config": auth}
    reference |= {"secret_path": "team/openai", "allow_all_workspaces": True}
    assert client.post("/v1/secret-references", json=reference, headers=headers).status_code == 200
    service_key = {"name": "ci", "scopes": []}
    issued = client.post("/v1/api-keys/organisation/service", json=service_key, headers=headers)
    assert issued.status_code == 200, issued.json
    answer = client.get("/__mock/store")
    groups = {group["resource"]: group for group in answer.json["resources"]}
    assert set(groups) == {"config", "secret-reference", "api-key"}  # keys and providers: `workspaces`
    assert [record["name"] for record in groups["config"]["records"]] == [HOSTILE]
    assert groups["config"]["under"] is not None and groups["secret-reference"]["under"] is None
    [stored_reference] = groups["secret-reference"]["records"]
    assert stored_reference["auth_config"]["vault_token"] == "sk*****789"
    [stored_key] = groups["api-key"]["records"]
    assert stored_key["key"].startswith("pk") and "*****" in stored_key["key"]
    assert "key_sha256" not in stored_key  # a private field: no answer shows it
    text = answer.get_data(as_text=True)
    assert PROVIDER_SECRET not in text and issued.json["key"] not in text
    client.post("/__mock/reset")
    assert client.get("/__mock/store").json["resources"] == []


def test_with_a_keys_file_the_store_names_each_workspaces_api_keys_masked(tmp_path):
    keys = tmp_path / "keys.json"
    keys.write_text(json.dumps({"api_keys": [{"key": API_KEY, "workspace_id": "ws-one"}]}))
    client = create_app(MockConfig(keys_path=keys)).test_client()
    client.post(
        "/v1/virtual-keys",
        json={"name": "k", "provider": "openai", "key": PROVIDER_SECRET},
        headers={"x-portkey-api-key": API_KEY},
    )
    text = client.get("/__mock/store").get_data(as_text=True)
    [workspace] = json.loads(text)["workspaces"]
    assert workspace["workspace_id"] == "ws-one" and workspace["api_keys"] == ["pk*****789"]
    assert API_KEY not in text


@pytest.mark.parametrize("kind", ["memory", "redis"])
def test_fault_counters_count_each_rules_matches(request, kind):
    client = create_app(store_config(request, kind)).test_client()
    plan = {
        "rules": [
            {"operation": "listVirtualKeys", "status": 503, "times": 1},
            {"operation": "createVirtualKey", "status": 503},
        ]
    }
    assert client.put("/__mock/faults", json=plan).status_code == 200
    for _ in range(3):
        client.get("/v1/virtual-keys", headers={"x-portkey-api-key": API_KEY})
    assert client.get("/__mock/faults/counters").json == {"matches": {"0": 3}}
    client.put("/__mock/faults", json=plan)  # a new plan starts its counters afresh
    assert client.get("/__mock/faults/counters").json == {"matches": {}}


def test_the_page_is_escaped_and_locked_down_by_its_content_security_policy():
    answer = create_app().test_client().get("/__mock/")
    assert answer.status_code == 200 and answer.mimetype == "text/html"
    policy = answer.headers["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "default-src 'none'" in policy and "unsafe-inline" not in policy
    page = answer.get_data(as_text=True)
    scripts = re.findall(r"<script[^>]*>", page)
    assert scripts and all('src="/__mock/static/' in tag for tag in scripts)  # no inline script
    assert "http://" not in page and "https://" not in page  # nothing from the network


def test_serve_prints_the_dashboard_url_next_to_the_base_url():
    server = ServedProcess("--server", "waitress")
    try:
        line = server.process.stdout.readline()
        assert line.strip() == f"dashboard: {server.root_url}/__mock/"
        assert httpx.get(f"{server.root_url}/__mock/").status_code == 200
    finally:
        server.stop()


def test_serving_beyond_loopback_without_a_token_warns_what_anyone_could_do():
    from mockserver.cli import _announce, _parser

    args = _parser().parse_args(["serve", "--host", "0.0.0.0"])
    err = io.StringIO()
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("sys.stderr", err)
        _announce("http://0.0.0.0:8787/v1", args)
    warning = err.getvalue()
    assert (
        "without a control token" in warning and "reset the mock" in warning and "--control-token" in warning
    )
    for argv in (["serve", "--host", "0.0.0.0", "--control-token", TOKEN], ["serve"]):
        err = io.StringIO()
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr("sys.stderr", err)
            _announce("http://x/v1", _parser().parse_args(argv))
        assert err.getvalue() == ""


def test_the_token_comes_from_the_environment_and_locks_a_served_mock(monkeypatch):
    monkeypatch.setenv("MOCK_CONTROL_TOKEN", TOKEN)
    server = ServedProcess("--server", "waitress")
    try:
        assert httpx.get(f"{server.root_url}/__mock/journal").status_code == 401
        assert httpx.get(f"{server.root_url}/__mock/health").status_code == 200
        mock = PortkeyMock.external(server.base_url, control_token=TOKEN)
        mock.reset()
        # A client that sends the token to /v1 too: the journal masks the Authorization header.
        sent = {"x-portkey-api-key": API_KEY, "Authorization": f"Bearer {TOKEN}"}
        httpx.get(f"{server.base_url}/virtual-keys", headers=sent)
        [entry] = mock.verify("listVirtualKeys", 1)
        assert entry["headers"]["authorization"] == "Be*****789"
        assert TOKEN not in json.dumps(mock.journal)
    finally:
        server.stop()


def test_check_traffic_reads_a_locked_mocks_journal_with_the_token(capsys):
    server = ServedProcess("--server", "waitress", "--control-token", TOKEN)
    try:
        httpx.get(f"{server.base_url}/virtual-keys", headers={"x-portkey-api-key": API_KEY})
        assert contracts_main(["check-traffic", server.root_url]) == 2
        assert "control token" in capsys.readouterr().err
        assert contracts_main(["check-traffic", server.root_url, "--control-token", TOKEN]) == 0
        assert "0 of 1 requests break the contract" in capsys.readouterr().out
    finally:
        server.stop()


def test_the_verify_html_report_shows_every_value_as_text_and_runs_only_its_own_script(tmp_path):
    result = VerifyResult("http://127.0.0.1:1/v1", "run-1", 42)
    result.requests["POST /virtual-keys"] = 1
    result.checks_failed["response_conforms"] = 1
    result.findings.append(
        Finding(
            "response_conforms",
            "POST /virtual-keys",
            f"the response's name is {HOSTILE}",
            "examples",
            "curl -X POST http://127.0.0.1:1/v1/virtual-keys",
            request='POST http://127.0.0.1:1/v1/virtual-keys\n\n{"key": "<secret>"}',
            response=f"200\n\n<script>alert(1)</script>{HOSTILE}",
        )
    )
    report = tmp_path / "report.html"
    write_html(result, report)
    page = report.read_text()
    assert HOSTILE not in page and "<script>alert" not in page
    assert "&lt;img src=x onerror=alert(1)&gt;" in page and "&lt;secret&gt;" in page
    assert "run-1" in page and ">42<" in page and "does NOT conform" in page
    urls = re.findall(r"https?://[^\s\"'<]+", page)
    assert urls and all(url.startswith("http://127.0.0.1:1/") for url in urls)  # nothing from the network
    [policy] = re.findall(r'http-equiv="Content-Security-Policy" content="([^"]+)"', page)
    assert "default-src 'none'" in policy and "unsafe-inline" not in policy
    assert len(re.findall(r"<script>", page)) == 1 and "script-src 'sha256-" in policy


def test_check_traffic_html_masks_a_har_files_secrets(tmp_path: Path):
    har = {
        "log": {
            "entries": [
                {
                    "request": {
                        "method": "POST",
                        "url": "https://api.portkey.ai/v1/virtual-keys",
                        "headers": [{"name": "x-portkey-api-key", "value": API_KEY}],
                        "postData": {
                            "mimeType": "application/json",
                            "text": json.dumps(
                                {"name": HOSTILE, "provider": "openai", "key": PROVIDER_SECRET}
                            ),
                        },
                    },
                    "response": {
                        "status": 200,
                        "headers": [{"name": "content-type", "value": "application/json"}],
                        "content": {"text": json.dumps({"success": True, "echo": PROVIDER_SECRET})},
                    },
                }
            ]
        }
    }
    source = tmp_path / "traffic.har"
    source.write_text(json.dumps(har))
    report = tmp_path / "traffic.html"
    assert contracts_main(["check-traffic", str(source), "--html", str(report)]) == 1
    page = report.read_text()
    assert PROVIDER_SECRET not in page and API_KEY not in page and HOSTILE not in page
    assert "curl -X POST https://api.portkey.ai/v1/virtual-keys" in page
    assert "&#34;key&#34;: &#34;&lt;secret&gt;&#34;" in page


@pytest.mark.parametrize("kind", ["memory", "redis"])
def test_the_store_view_shows_inserted_logs_and_feedback_per_workspace_masked(request, kind):
    client = create_app(store_config(request, kind)).test_client()
    headers = {"x-portkey-api-key": API_KEY}
    call = {"url": "https://api.openai.com/v1/chat/completions", "body": {"model": "gpt-4o"}}
    call["headers"] = {"Authorization": f"Bearer {PROVIDER_SECRET}"}
    answer = {"status": 200, "headers": {}, "body": {"model": "gpt-4o"}, "response_time": 120}
    log = {"request": call, "response": answer, "metadata": {"trace_id": HOSTILE}}
    inserted = client.post("/v1/logs", json=log, headers=headers)
    assert inserted.status_code == 200, inserted.json
    [log_id] = inserted.json["log_ids"]
    given = client.post("/v1/feedback", json={"trace_id": HOSTILE, "value": 3}, headers=headers)
    assert given.status_code == 200, given.json
    shown = client.get("/__mock/store")
    groups = {group["resource"]: group for group in shown.json["resources"]}
    assert set(groups) == {"log", "feedback"}
    [kept_log] = groups["log"]["records"]
    assert kept_log == client.get(f"/v1/logs/{log_id}", headers=headers).json  # as the API answers it
    assert groups["log"]["under"] == kept_log["workspace_id"] and groups["log"]["total"] == 1
    [feedback] = groups["feedback"]["records"]
    assert (feedback["trace_id"], feedback["value"]) == (HOSTILE, 3)
    assert PROVIDER_SECRET not in shown.get_data(as_text=True)
    client.post("/__mock/reset")
    assert client.get("/__mock/store").json["resources"] == []

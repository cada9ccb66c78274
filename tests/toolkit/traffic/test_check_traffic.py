"""`contracts check-traffic`: recorded traffic judged against a contract, ours or a published one."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from portkey_ai import Portkey

from contracts.cli import main
from tests.clients.test_analytics_sdks import window, write_logs_and_feedback
from tests.support.paths import DATA

DRIFTS = DATA / "published_drifts.yaml"
RATE_LIMITS = [{"type": "requests", "unit": "rpm", "value": 60}]


@pytest.fixture
def sdk_journal(portkey_mock, tmp_path) -> Path:
    """The Python SDK's traffic for one key's lifecycle, saved as a journal file."""
    client = Portkey(api_key=portkey_mock.api_key, base_url=portkey_mock.base_url)
    slug = client.virtual_keys.create(
        name="openai", provider="openai", key="sk-live-0000000000abcd", rate_limits=RATE_LIMITS
    ).data["slug"]
    client.virtual_keys.list()
    client.virtual_keys.retrieve(slug=slug)
    client.virtual_keys.update(slug=slug, note=None)
    client.virtual_keys.delete(slug=slug)
    path = tmp_path / "journal.json"
    path.write_text(json.dumps({"entries": portkey_mock.journal}), encoding="utf-8")
    return path


def test_sdk_traffic_conforms_to_our_contract(sdk_journal, capsys):
    assert main(["check-traffic", str(sdk_journal)]) == 0
    out = capsys.readouterr().out
    assert "createVirtualKey" in out and "0 of 5 requests break the contract." in out
    assert "query: is a bare '?' with no parameters after it" in out
    assert "body.note: is null" in out


def test_sdk_traffic_reveals_the_published_specs_drifts(sdk_journal, capsys):
    assert main(["check-traffic", str(sdk_journal), "--contract", str(DRIFTS)]) == 1
    out = capsys.readouterr().out
    assert "#2 GET /v1/virtual-keys? (GET /virtual-keys)\n      query.current_page: is required" in out
    assert "query.page_size: is required" in out
    assert (
        "#1 POST /v1/virtual-keys (POST /virtual-keys)\n      body.rate_limits: must be of type object" in out
    )
    assert "2 of 5 requests break the contract." in out
    assert "sk-live-0000000000abcd" not in out


def test_a_running_mocks_journal_is_read_from_its_url(portkey_mock, capsys):
    Portkey(api_key=portkey_mock.api_key, base_url=portkey_mock.base_url).virtual_keys.list()
    assert main(["check-traffic", portkey_mock.base_url]) == 0
    assert "listVirtualKeys         1        1        0         1" in capsys.readouterr().out


def test_a_journal_entry_that_broke_the_contract_fails_the_check(portkey_mock, tmp_path, capsys):
    import httpx

    headers = {"x-portkey-api-key": portkey_mock.api_key}
    httpx.post(
        f"{portkey_mock.base_url}/virtual-keys", json={"name": "x", "provider": "openai"}, headers=headers
    )
    httpx.post(f"{portkey_mock.base_url}/virtual-keys", content=b"{not json", headers=headers)
    path = tmp_path / "journal.json"
    path.write_text(json.dumps(portkey_mock.journal), encoding="utf-8")
    assert main(["check-traffic", str(path)]) == 1
    out = capsys.readouterr().out
    assert "body.key: is required (for a provider with an API key)" in out
    assert "#2 POST /v1/virtual-keys (createVirtualKey)\n      body: was not kept by the journal" in out
    assert "2 of 2 requests break the contract." in out


def har(
    url: str, method: str = "GET", body: dict | None = None, status: int = 200, answer: object = None
) -> dict:
    request = {"method": method, "url": url, "headers": [{"name": "x-portkey-api-key", "value": "pk-har"}]}
    if body is not None:
        request["postData"] = {"mimeType": "application/json", "text": json.dumps(body)}
    response = {"status": status, "headers": [{"name": "Content-Type", "value": "application/json"}]}
    response["content"] = {"mimeType": "application/json", "text": json.dumps(answer or {})}
    return {"request": request, "response": response}


def test_har_files_are_judged_requests_and_responses(tmp_path, capsys):
    entries = [
        har("https://api.portkey.ai/v1/virtual-keys?", answer={"object": "list", "total": 0, "data": []}),
        har(
            "https://api.portkey.ai/v1/virtual-keys",
            "POST",
            {"name": "n", "provider": "openai", "key": "sk-har-0000000000wxyz"},
            answer={"slug": "n-000000"},
        ),
    ]
    path = tmp_path / "traffic.har"
    path.write_text(json.dumps({"log": {"version": "1.2", "entries": entries}}), encoding="utf-8")
    assert main(["check-traffic", str(path)]) == 1
    out = capsys.readouterr().out
    service_part = out[out.index("Responses that break the contract (the service's fault):") :]
    assert "#2 POST /v1/virtual-keys (createVirtualKey)\n      response.body.success: is required" in (
        service_part
    )
    assert "0 of 2 requests break the contract.\n1 of 2 responses break the contract." in out


@pytest.mark.parametrize(
    ("arguments", "complaint"),
    [
        (["missing.json"], "cannot read missing.json"),
        (["{source}", "--contract", "missing.yaml"], "cannot read the contract missing.yaml"),
        (["http://127.0.0.1:9/v1"], "cannot read the journal at http://127.0.0.1:9/__mock/journal"),
    ],
)
def test_bad_usage_exits_2_with_a_reason(arguments, complaint, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "journal.json").write_text("[]", encoding="utf-8")
    arguments = [a.replace("{source}", "journal.json") for a in arguments]
    assert main(["check-traffic", *arguments]) == 2
    assert complaint in capsys.readouterr().err


def test_a_file_that_is_neither_journal_nor_har_is_bad_usage(tmp_path, capsys):
    path = tmp_path / "other.json"
    path.write_text('{"hello": 1}', encoding="utf-8")
    assert main(["check-traffic", str(path)]) == 2
    assert "neither a journal" in capsys.readouterr().err


def test_a_missing_source_is_bad_usage():
    with pytest.raises(SystemExit) as exit_:
        main(["check-traffic"])
    assert exit_.value.code == 2


def test_model_catalog_traffic_is_judged_with_its_warnings_and_no_secret(portkey_mock, capsys):
    client = Portkey(api_key=portkey_mock.api_key, base_url=portkey_mock.base_url)
    secret = "sk-traffic-000000000wxyz"
    client.integrations.create(name="t", ai_provider_id="openai", key=secret, slug="t-int")
    client.integrations.workspaces.update(
        slug="t-int", workspaces=[{"id": "ws-t", "enabled": True}], override_existing_workspaces_access=False
    )
    rate_limit = {"type": "requests", "unit": "rpm", "value": 5}
    client.providers.create(name="t", integration_id="t-int", workspace_id="ws-t", rate_limits=rate_limit)

    assert main(["check-traffic", portkey_mock.base_url]) == 0
    out = capsys.readouterr().out
    for operation in ("createIntegration", "updateIntegrationWorkspaces", "createProvider"):
        assert operation in out
    assert "body.override_existing_workspaces_access" in out and "body.rate_limits" in out
    assert secret not in out


def test_logs_feedback_and_analytics_traffic_is_judged_operation_by_operation(portkey_mock, capsys):
    write_logs_and_feedback(portkey_mock, "traffic")
    portkey = Portkey(api_key=portkey_mock.api_key, base_url=portkey_mock.base_url)
    portkey.analytics.graphs.requests(**window())
    portkey.analytics.groups.users(**window())
    assert main(["check-traffic", portkey_mock.base_url]) == 0
    out = capsys.readouterr().out
    for operation, count in (
        ("insertLogs", 10),
        ("createFeedback", 2),
        ("getRequestsGraph", 1),
        ("getUsersGroup", 1),
    ):
        assert re.search(rf"^\s*{operation}\s+{count}\s+{count}\s+0\s", out, re.M), out
    assert "0 of 14 requests break the contract." in out

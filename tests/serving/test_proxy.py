"""The validating proxy: real traffic passes unchanged, both sides are judged and journaled.

A second local mock stands in for the real service; a variant of it answers off-contract.
"""

from __future__ import annotations

import json
import re
import socket
from collections import Counter
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from portkey_ai import Portkey

from mockserver import MockServer, create_app
from mockserver.cli import main as mockserver_main
from mockserver.pytest_plugin import PortkeyMock
from mockserver.serving.ports import free_port
from mockserver.serving.proxy import create_proxy_app
from tests.clients.test_analytics_sdks import as_dict, window, write_logs_and_feedback
from tests.support.broken_services import rewriting
from tests.support.served import ServedProcess

SECRET = "sk-live-0000000000abcd"


def off_contract_app():
    """A mock whose retrieve answers name the provider `provider`, as list items do: a service drift."""

    def rename(method: str, path: str, sent: Any, status: int, body: Any) -> tuple[int, Any]:
        if status == 200 and isinstance(body, dict) and "ai_provider_name" in body:
            body["provider"] = body.pop("ai_provider_name")
        return status, body

    return rewriting(create_app(), rename)


@pytest.fixture(scope="module")
def upstream() -> Iterator[MockServer]:
    server = MockServer(create_app()).start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def proxy(upstream) -> Iterator[PortkeyMock]:
    server = MockServer(create_proxy_app(upstream.base_url)).start()
    yield PortkeyMock(server.root_url, api_key="pk-proxy-client", server=server)
    server.stop()


@pytest.fixture
def proxied(proxy) -> PortkeyMock:
    proxy.reset()
    return proxy


def serve_proxy(upstream_url: str, timeout: float = 5.0) -> MockServer:
    return MockServer(create_proxy_app(upstream_url, timeout=timeout)).start()


def test_sdk_traffic_passes_through_unchanged_and_both_sides_conform(proxied, upstream):
    client = Portkey(api_key=proxied.api_key, base_url=proxied.base_url)
    slug = client.virtual_keys.create(name="openai", provider="openai", key=SECRET).data["slug"]
    assert client.virtual_keys.list().total == 1
    assert client.virtual_keys.retrieve(slug=slug).masked_api_key == "sk*****bcd"
    client.virtual_keys.update(slug=slug, name="renamed")
    direct = httpx.get(
        f"{upstream.base_url}/virtual-keys/{slug}", headers={"x-portkey-api-key": proxied.api_key}
    )
    assert direct.json()["name"] == "renamed"  # the upstream did the work
    client.virtual_keys.delete(slug=slug)

    entries = proxied.journal
    assert [e["operation"] for e in entries] == [
        "createVirtualKey",
        "listVirtualKeys",
        "retrieveVirtualKey",
        "updateVirtualKey",
        "deleteVirtualKey",
    ]
    assert {e["source"] for e in entries} == {"proxy"}
    assert all(e["response_violations"] == [] for e in entries)
    proxied.assert_all_requests_conform()
    proxied.assert_all_responses_conform()
    assert SECRET not in json.dumps(entries) and proxied.api_key not in json.dumps(entries)


def test_an_off_contract_request_is_forwarded_and_journaled_as_a_violation(proxied):
    headers = {"x-portkey-api-key": proxied.api_key}
    body = {"name": "limited", "provider": "openai", "key": SECRET, "rate_limits": "60 a minute"}
    answer = httpx.post(f"{proxied.base_url}/virtual-keys", json=body, headers=headers)
    assert answer.status_code == 400 and answer.json()["data"]["errorCode"] == "AB01"  # the upstream's answer
    with pytest.raises(AssertionError, match=re.escape("body.rate_limits: must be of type array or object")):
        proxied.assert_all_requests_conform()
    proxied.assert_all_responses_conform()  # the 400 envelope is on-contract


def test_an_off_contract_response_is_returned_unchanged_and_journaled():
    upstream = MockServer(off_contract_app()).start()
    proxy = serve_proxy(upstream.base_url)
    try:
        client = Portkey(api_key="pk-drift", base_url=proxy.base_url)
        slug = client.virtual_keys.create(name="openai", provider="openai", key=SECRET).data["slug"]
        retrieved = client.virtual_keys.retrieve(slug=slug)
        assert retrieved.provider == "openai"  # the client saw exactly what the service sent
        mock = PortkeyMock(proxy.root_url)
        mock.assert_all_requests_conform()
        with pytest.raises(AssertionError) as failure:
            mock.assert_all_responses_conform()
        assert "request #2 GET /v1/virtual-keys/" in str(failure.value)
        assert "response.body.ai_provider_name: is required" in str(failure.value)
    finally:
        proxy.stop()
        upstream.stop()


def test_a_refused_connection_answers_502_in_the_envelope():
    proxy = serve_proxy(f"http://127.0.0.1:{free_port()}/v1")
    try:
        answer = httpx.get(f"{proxy.base_url}/virtual-keys", headers={"x-portkey-api-key": "pk-a"})
        assert answer.status_code == 502
        assert answer.json() == {
            "success": False,
            "data": {"message": "upstream unreachable (ConnectError)", "errorCode": "AB04"},
        }
        [entry] = PortkeyMock(proxy.root_url).journal
        assert entry["status"] == 502 and entry["valid"] is True
    finally:
        proxy.stop()


def test_an_upstream_that_never_answers_gets_504_after_the_timeout():
    with socket.socket() as silent:  # accepts connections (backlog) and never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        proxy = serve_proxy(f"http://127.0.0.1:{silent.getsockname()[1]}/v1", timeout=0.5)
        try:
            answer = httpx.get(
                f"{proxy.base_url}/virtual-keys", headers={"x-portkey-api-key": "pk-a"}, timeout=10
            )
            assert answer.status_code == 504
            assert answer.json()["data"] == {
                "message": "upstream did not answer within 0.5 s",
                "errorCode": "AB04",
            }
        finally:
            proxy.stop()


def test_the_proxy_command_refuses_a_bad_upstream(capsys):
    assert mockserver_main(["proxy", "--upstream", "staging.example/v1", "--port", "0"]) == 2
    assert "--upstream must be an http:// or https:// URL" in capsys.readouterr().err


@pytest.mark.slow
def test_the_proxy_command_started_as_a_user_would_forwards_its_first_request(upstream):
    served = ServedProcess("--upstream", upstream.base_url, command="proxy")
    try:
        headers = {"x-portkey-api-key": "pk-proxy-command"}
        body = {"name": "via the command", "provider": "openai", "key": SECRET}
        created = httpx.post(f"{served.base_url}/virtual-keys", json=body, headers=headers)
        assert created.status_code == 200
        slug = created.json()["data"]["slug"]
        direct = httpx.get(f"{upstream.base_url}/virtual-keys/{slug}", headers=headers)
        assert direct.json()["name"] == "via the command"  # forwarded to the upstream, which stored it
        [entry] = httpx.get(f"{served.root_url}/__mock/journal").json()["entries"]
        assert (entry["source"], entry["operation"], entry["status"]) == ("proxy", "createVirtualKey", 200)
    finally:
        served.stop()
    assert "Traceback" not in served.output


def test_model_catalog_traffic_passes_through_and_both_sides_conform(proxied):
    client = Portkey(api_key=proxied.api_key, base_url=proxied.base_url)
    secret = "sk-proxy-catalog-0000wxyz"
    client.integrations.create(name="p", ai_provider_id="openai", key=secret, slug="proxied-int")
    client.integrations.workspaces.update(slug="proxied-int", workspaces=[{"id": "ws-p", "enabled": True}])
    made = client.providers.create(name="p", integration_id="proxied-int", workspace_id="ws-p")
    assert client.providers.retrieve(slug=made.slug, workspace_id="ws-p").integration_id == "proxied-int"
    assert client.integrations.retrieve(slug="proxied-int").masked_key == "sk*****xyz"
    proxied.assert_all_requests_conform()
    proxied.assert_all_responses_conform()
    assert secret not in json.dumps(proxied.journal)


def test_logs_feedback_analytics_and_the_audit_log_pass_through_and_both_sides_conform(proxied):
    """Traffic of the admin surface beyond the catalog (a log's insert, computed reads) is judged on
    both sides, and the audit log read through the proxy names the writes sent through it."""
    write_logs_and_feedback(proxied, "proxied")
    portkey = Portkey(api_key=proxied.api_key, base_url=proxied.base_url)
    assert as_dict(portkey.analytics.graphs.requests(**window()))["summary"]["total"] == 10
    headers = {"x-portkey-api-key": proxied.api_key}
    call = {"url": "https://api.openai.com/v1/chat/completions", "body": {}}
    made = httpx.post(
        f"{proxied.base_url}/logs",
        headers=headers,
        json={"request": call, "response": {"status": 200, "body": {}}},
    )
    [log_id] = made.json()["log_ids"]
    log = httpx.get(f"{proxied.base_url}/logs/{log_id}", headers=headers).json()
    start, end = window().values()
    query = {"start_time": start, "end_time": end, "organisation_id": log["organisation_id"]}
    audit = httpx.get(f"{proxied.base_url}/audit-logs", headers=headers, params=query)
    assert audit.status_code == 200, audit.text
    done = Counter((entry["resource_type"], entry["action"]) for entry in audit.json()["records"])
    mine = {kind: count for kind, count in done.items() if kind[0] in ("logs", "feedback")}
    assert mine == {("logs", "insert"): 11, ("feedback", "create"): 2}  # the rest: other tests' writes
    proxied.assert_all_requests_conform()
    proxied.assert_all_responses_conform()
    operations = {entry["operation"] for entry in proxied.journal}
    assert {"insertLogs", "createFeedback", "getRequestsGraph", "getLog", "listAuditLogs"} <= operations

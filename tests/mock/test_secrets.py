"""Canary secrets: sent through every endpoint and error path, they must surface nowhere but masked."""

from __future__ import annotations

import json
import logging
import uuid

import httpx
import pytest

from contracts.cli import main as contracts_main
from mockserver import MockServer, create_app
from mockserver.serving.proxy import create_proxy_app
from tests.support.served import ServedProcess


def canary(label: str) -> str:
    return f"CANARY-{label}-{uuid.uuid4().hex}"


def middle(secret: str) -> str:
    """What a mask never shows: all but the first 2 and last 3 characters."""
    return secret[2:-3]


@pytest.fixture
def server():
    running = MockServer(create_app()).start()
    yield running
    running.stop()


def provider_bodies(secrets: dict[str, str]) -> list[dict]:
    deployment = [{"apiVersion": "2024-08-01-preview", "deploymentName": "d"}]
    service_account = {"type": "service_account", "private_key": secrets["sa"], "client_email": "x@y.z"}
    return [
        {"name": "openai", "provider": "openai", "key": secrets["openai"]},
        {
            "name": "azure",
            "provider": "azure-openai",
            "key": secrets["azure"],
            "resourceName": "r",
            "deploymentConfig": deployment,
        },
        {
            "name": "entra",
            "provider": "azure-openai",
            "azureAuthMode": "entra",
            "resourceName": "r",
            "deploymentConfig": deployment,
            "azureEntraClientId": "c",
            "azureEntraTenantId": "t",
            "azureEntraClientSecret": secrets["entra"],
        },
        {
            "name": "entra-node",
            "provider": "azure-openai",
            "azure_auth_mode": "entra",
            "resource_name": "r",
            "deployment_config": deployment,
            "azure_entra_client_id": "c",
            "azure_entra_tenant_id": "t",
            "azure_entra_client_secret": secrets["entra_snake"],
        },
        {
            "name": "bedrock",
            "provider": "bedrock",
            "awsAccessKeyId": "AKIA",
            "awsRegion": "us-east-1",
            "awsSecretAccessKey": secrets["aws"],
        },
        {
            "name": "vertex",
            "provider": "vertex-ai",
            "vertexProjectId": "p",
            "vertexRegion": "r",
            "vertexServiceAccountJson": service_account,
        },
        {"name": "workers", "provider": "workers-ai", "workersAiAccountId": "a", "key": secrets["workers"]},
    ]


def test_canary_secrets_appear_nowhere_but_masked(server, caplog):
    caplog.set_level(logging.DEBUG)
    secrets = {
        label: canary(label)
        for label in (
            "openai",
            "azure",
            "entra",
            "entra_snake",
            "aws",
            "sa",
            "workers",
            "rotated",
            "invalid",
            "seed",
        )
    }
    echo = canary("echo")
    seen: list[str] = []
    with httpx.Client(base_url=server.base_url, headers={"x-portkey-api-key": "pk-canary"}) as http:

        def call(method: str, path: str, **kwargs) -> httpx.Response:
            response = http.request(method, path, **kwargs)
            seen.append(f"{response.status_code} {dict(response.headers)} {response.text}")
            return response

        slugs = [
            call("POST", "/virtual-keys", json=b).json()["data"]["slug"] for b in provider_bodies(secrets)
        ]
        for slug in slugs:
            call("GET", f"/virtual-keys/{slug}")
        call("GET", "/virtual-keys")
        call("PUT", f"/virtual-keys/{slugs[0]}", json={"key": secrets["rotated"]})
        call("GET", f"/virtual-keys/{slugs[0]}")
        # Error paths: a secret where secrets go, and a marked value in every other position a
        # validator might quote. The journal keeps what was sent, so only the secret is masked there.
        bad, key = echo, secrets["invalid"]
        truncated = {"content": f'{{"key": "{key}"'.encode(), "headers": {"content-type": "application/json"}}
        pk = {"name": "x", "provider": "openai", "key": key}
        rejected = [
            ("POST", "/virtual-keys", {"json": {"name": "x", "provider": bad, "key": key}}, 400),
            ("POST", "/virtual-keys", {"json": {**pk, "usage_limits": {"credit_limit": bad}}}, 400),
            ("POST", "/virtual-keys", {"json": {**pk, "awsSecretAccessKey": {"x": key}, "u": bad}}, 400),
            ("PUT", f"/virtual-keys/{slugs[0]}", {"json": {"key": 42, "name": bad * 10}}, 400),
            ("PUT", f"/virtual-keys/{slugs[0]}", truncated, 400),
            ("PUT", f"/virtual-keys/{slugs[0]}", {"content": f'{{"key": "{key}"}}'.encode()}, 415),
            ("PUT", "/virtual-keys/missing-000000", {"json": {"key": key}}, 404),
        ]  # fmt: skip
        for method, path, request, status in rejected:
            assert call(method, path, **request).status_code == status, (method, path)
        seed = {
            "workspaces": [
                {
                    "api_key": "pk-canary",
                    "virtual_keys": [
                        {"name": "seeded", "provider": "openai", "key": secrets["seed"]},
                        {"name": "bad", "provider": "openai", "key": key, "rate_limits": bad},
                    ],
                }
            ]
        }
        seed_response = httpx.post(f"{server.root_url}/__mock/seed", json=seed)
        seen.append(seed_response.text)
        call("GET", "/virtual-keys")

    journal = httpx.get(f"{server.root_url}/__mock/journal").text  # what every request sent, as kept
    assert journal.count('"operation"') > len(rejected)
    answers_and_logs = "\n".join(seen) + "\n" + caplog.text
    everything = answers_and_logs + "\n" + journal
    for label, secret in secrets.items():
        assert middle(secret) not in everything, f"the {label} secret leaked"
    assert middle(echo) not in answers_and_logs, "a rejected value was echoed"
    assert "CA*****" in everything  # and the masks are there


def credential_headers() -> dict[str, str]:
    """Credentials a client may send besides the API key: each value a canary of its own."""
    return {
        "Authorization": f"Bearer {canary('authorization')}",
        "Cookie": f"session={canary('cookie')}",
        "x-session-token": canary("token"),
    }


def send_with_credentials(base_url: str, headers: dict[str, str]) -> None:
    """A create, a retrieve, a list and a refused create, each carrying the credential headers."""
    with httpx.Client(base_url=base_url, headers={"x-portkey-api-key": "pk-canary", **headers}) as http:
        slug = http.post("/virtual-keys", json={"name": "c", "provider": "openai", "key": "sk-1"}).json()
        http.get(f"/virtual-keys/{slug['data']['slug']}")
        http.get("/virtual-keys")
        assert http.post("/virtual-keys", json={"name": "c"}).status_code == 400


def assert_no_credential_in(texts: dict[str, str], headers: dict[str, str]) -> None:
    for where, text in texts.items():
        for name, value in headers.items():
            assert middle(value) not in text, f"the {name} header leaked into {where}"


def test_credential_headers_never_reach_the_journal_the_logs_or_the_report(caplog, capsys, tmp_path):
    caplog.set_level(logging.DEBUG)
    headers = credential_headers()
    upstream = MockServer(create_app()).start()
    proxy = MockServer(create_proxy_app(upstream.base_url)).start()
    try:
        send_with_credentials(proxy.base_url, headers)  # through the proxy to the mock behind it
        journals = {
            "the mock's journal": httpx.get(f"{upstream.root_url}/__mock/journal").text,
            "the proxy's journal": httpx.get(f"{proxy.root_url}/__mock/journal").text,
        }
    finally:
        proxy.stop()
        upstream.stop()
    for journal in journals.values():
        entries = json.loads(journal)["entries"]
        assert [entry["operation"] for entry in entries].count("createVirtualKey") == 2
        assert all(entry["headers"]["authorization"].startswith("Be*****") for entry in entries)  # masked
    recorded = tmp_path / "journal.json"
    recorded.write_text(journals["the proxy's journal"], encoding="utf-8")
    html = tmp_path / "report.html"
    assert contracts_main(["check-traffic", str(recorded), "--html", str(html)]) == 1  # the refused create
    report = capsys.readouterr()
    texts = {**journals, "the logs": caplog.text, "the check-traffic report": report.out + report.err}
    texts["the HTML report"] = html.read_text(encoding="utf-8")
    assert_no_credential_in(texts, headers)


def test_credential_headers_never_reach_the_served_commands_output():
    headers = credential_headers()
    served = ServedProcess()
    try:
        send_with_credentials(served.base_url, headers)
        journal = httpx.get(f"{served.root_url}/__mock/journal").json()
    finally:
        served.stop()
    assert all(entry["headers"]["x-session-token"].startswith("CA*****") for entry in journal["entries"])
    texts = {"the journal": json.dumps(journal), "the command's output": served.output}
    assert_no_credential_in(texts, headers)

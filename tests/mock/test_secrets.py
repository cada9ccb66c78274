"""Canary secrets: sent through every endpoint and error path, they must surface nowhere but masked."""

from __future__ import annotations

import json
import logging
import uuid

import httpx
import pytest

from contracts.cli import main as contracts_main
from mockserver import MockServer, create_app
from mockserver.contract.secrets import is_credential_header
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


CREDENTIAL_HEADER_NAMES = (
    "X-Apikey",
    "X-Api-Keys",
    "X-Auth",
    "Authentication",
    "X-Access-Tokens",
    "X-Passwd",
    "X-Secrets",
    "X-Credential",
    "X-Session-Id",
    "Proxy-Authorization",
    "X-Client-Password",
)
"""Spellings a word list missed: a header is a credential when its name says so, in any spelling."""


def credential_headers() -> dict[str, str]:
    """Credentials a client may send besides the API key: each value a canary of its own."""
    return {
        "Authorization": f"Bearer {canary('authorization')}",
        "Cookie": f"session={canary('cookie')}",
        "x-session-token": canary("token"),
        **{name: canary(name.lower()) for name in CREDENTIAL_HEADER_NAMES},
    }


@pytest.mark.parametrize("name", [*CREDENTIAL_HEADER_NAMES, "x-portkey-api-key", "Set-Cookie", "X_API_KEY"])
def test_a_header_named_like_a_credential_is_one(name):
    assert is_credential_header(name)


@pytest.mark.parametrize(
    "name",
    ["Content-Type", "User-Agent", "Accept", "Host", "x-portkey-workspace", "X-Request-Id", "Keep-Alive"],
)
def test_a_header_named_otherwise_is_shown(name):
    assert not is_credential_header(name)


def test_credential_headers_in_any_spelling_are_masked_in_the_journal_of_each_store(api):
    headers = {name: value for name, value in credential_headers().items() if name != "Cookie"}  # a jar's
    answer = api.client.get(
        "/v1/virtual-keys", headers={"x-portkey-api-key": api.api_key, "X-Request-Id": "req-1", **headers}
    )
    assert answer.status_code == 200
    journal = api.client.get("/__mock/journal")
    [entry] = journal.json["entries"]
    assert entry["headers"]["x-request-id"] == "req-1"
    for name, value in headers.items():
        assert entry["headers"][name.lower()] == value[:2] + "*****" + value[-3:]
    assert_no_credential_in({"the journal": journal.get_data(as_text=True)}, headers)


def test_custom_header_values_are_masked_wherever_they_are_read(api):
    """A key's `customHeaders` and an integration's and a model's `custom_headers` carry upstream
    credentials: their values never come back, in any answer, page or journal entry."""
    upstream = {"Authorization": f"Bearer {canary('upstream')}", "X-Org": canary("org")}
    slug = api.create_slug(name="custom", provider="openai", key="sk-0123456789", customHeaders=upstream)
    integration = api.call(
        "POST",
        "/v1/integrations",
        json={
            "name": "custom",
            "ai_provider_id": "openai",
            "key": "sk-0123456789",
            "configurations": {"custom_headers": upstream},
        },
    ).json["slug"]
    model = {"slug": "m", "enabled": True, "configurations": {"custom_headers": upstream}}
    assert (
        api.call("PUT", f"/v1/integrations/{integration}/models", json={"models": [model]}).status_code == 200
    )
    reads = [
        f"/v1/virtual-keys/{slug}",
        "/v1/virtual-keys",
        f"/v1/providers/{slug}",
        "/v1/providers",
        f"/v1/integrations/{integration}",
        f"/v1/integrations/{integration}/models",
    ]
    texts = {path: api.call("GET", path).get_data(as_text=True) for path in reads}
    texts |= {
        path: api.client.get(path).get_data(as_text=True) for path in ("/__mock/store", "/__mock/journal")
    }
    assert_no_credential_in(texts, upstream)
    retrieved = api.retrieve(slug).json["model_config"]["customHeaders"]
    assert retrieved == {name: value[:2] + "*****" + value[-3:] for name, value in upstream.items()}


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

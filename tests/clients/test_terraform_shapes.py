"""Policies and secret references through the requests Portkey's Terraform provider makes.

Neither SDK has methods for these resources (docs/admin-policies-and-secrets.md), so the client here
is plain HTTP sending what the provider's client sends (its acceptance tests run against the live
service) and reading what it reads: create answers `{id}` (a secret reference `{id, slug, object}`),
an update answers an empty object and is read again, a list's `data`. The journal must be clean.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.support.clean_journal import assert_clean

pytestmark = pytest.mark.slow  # a served mock and a real HTTP client

CONDITIONS = [{"key": "workspace_id", "value": "workspace-123"}]


def _client(portkey_mock) -> httpx.Client:
    return httpx.Client(base_url=portkey_mock.base_url, headers={"x-portkey-api-key": portkey_mock.api_key})


def _ok(response: httpx.Response) -> Any:
    assert response.status_code == 200, response.text
    return response.json()


def _assert_clean_but(portkey_mock, refused: dict[str, Any], *operations: str) -> None:
    """Every request but `refused` conformed, every answer did, and `operations` were called."""
    others = [entry for entry in portkey_mock.journal if entry != refused]
    assert not [entry for entry in others if entry["violations"]], others
    portkey_mock.assert_all_responses_conform()
    assert set(operations) <= {entry["operation"] for entry in others}


@pytest.mark.parametrize(
    ("path", "body", "update", "operations"),
    [
        (
            "/policies/usage-limits",
            {"name": "Monthly", "conditions": CONDITIONS, "group_by": [{"key": "api_key"}], "type": "cost"}
            | {"credit_limit": 100.0, "alert_threshold": 80.0, "periodic_reset": "monthly"},
            {"credit_limit": 200.0},
            ("createUsageLimitsPolicy", "getUsageLimitsPolicy", "updateUsageLimitsPolicy"),
        ),
        (
            "/policies/rate-limits",
            {"name": "RPM", "conditions": CONDITIONS, "group_by": [{"key": "api_key"}], "type": "requests"}
            | {"unit": "rpm", "value": 100},
            {"unit": "rph", "value": 1000},
            ("createRateLimitsPolicy", "getRateLimitsPolicy", "updateRateLimitsPolicy"),
        ),
    ],
)
def test_a_policy_lives_as_the_terraform_provider_drives_it(portkey_mock, path, body, update, operations):
    with _client(portkey_mock) as client:
        created = _ok(client.post(path, json=body))
        assert set(created) == {"id", "object"}
        read = _ok(client.get(f"{path}/{created['id']}"))
        assert {name: read[name] for name in body} == body and read["status"] == "active"
        assert _ok(client.put(f"{path}/{created['id']}", json=update)) == {}
        after = _ok(client.get(f"{path}/{created['id']}"))  # the provider reads again after an update
        assert {name: after[name] for name in update} == update
        assert [p["id"] for p in _ok(client.get(path))["data"]] == [created["id"]]
        assert _ok(client.delete(f"{path}/{created['id']}")) == {}
        assert client.get(f"{path}/{created['id']}").status_code == 404
    assert_clean(portkey_mock, *operations)


def test_a_secret_reference_and_the_integration_mapping_it(portkey_mock):
    auth = {"aws_auth_type": "accessKey", "aws_access_key_id": "AKIAEXAMPLE0000000000"}
    auth |= {"aws_secret_access_key": "wJalrXUtnFEMI-example-secret-key", "aws_region": "us-east-1"}
    with _client(portkey_mock) as client:
        made = _ok(
            client.post(
                "/secret-references",
                json={"name": "openai key", "slug": "openai-key", "manager_type": "aws_sm"}
                | {"auth_config": auth, "secret_path": "prod/openai", "allow_all_workspaces": True},
            )
        )
        assert made["slug"] == "openai-key" and made["object"] == "secret-reference"
        read = _ok(client.get("/secret-references/openai-key"))
        assert read["id"] == made["id"] and read["auth_config"]["aws_secret_access_key"] == "wJ*****key"
        mapping = [{"target_field": "key", "secret_reference_id": "openai-key"}]
        integration = {"name": "mapped", "ai_provider_id": "openai", "secret_mappings": mapping}
        integration["create_default_provider"] = False
        slug = _ok(client.post("/integrations", json=integration))["slug"]
        assert client.delete(f"/secret-references/{made['id']}").status_code == 400  # in use
        [refused] = portkey_mock.requests("deleteSecretReference")  # a violation of a stated rule
        assert [v["location"] for v in refused["violations"]] == ["path.secretReferenceId"]
        _assert_clean_but(
            portkey_mock, refused, "createSecretReference", "getSecretReference", "createIntegration"
        )
        assert "wJalrXUtnFEMI" not in str(portkey_mock.journal)  # the create that sent it is in this half
        portkey_mock.clear_journal()
        _ok(client.put(f"/integrations/{slug}", json={"secret_mappings": []}))
        assert _ok(client.put("/secret-references/openai-key", json={"secret_path": "prod/v2"})) == {}
        assert _ok(client.get(f"/secret-references/{made['id']}"))["secret_path"] == "prod/v2"
        assert _ok(client.delete("/secret-references/openai-key")) == {}
    assert_clean(portkey_mock, "updateSecretReference", "getSecretReference", "deleteSecretReference")
    assert "wJalrXUtnFEMI" not in str(portkey_mock.journal)

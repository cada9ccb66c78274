"""Portkey's Model Catalog in the mock: `/v1/providers` and `/v1/integrations`, on the virtual-key records.

Every answer is also checked against the contract (`Api.call`), on both stores.
"""

from __future__ import annotations

import json

import pytest

from mockserver.contract.document import Contract
from mockserver.resources.integrations import DEFAULT_PROVIDER_NOTE
from tests.support.inprocess import OPENAI, Api, error_of, make_api

SECRET = "sk-integration-000000000wxyz"
AWS_SECRET = "aws-secret-0000000000000000abcd"
BEDROCK = {
    "name": "Bedrock prod",
    "slug": "bedrock-prod",
    "ai_provider_id": "bedrock",
    "configurations": {
        "aws_auth_type": "accessKey",
        "aws_region": "us-east-1",
        "aws_access_key_id": "AKIA000000000000",
        "aws_secret_access_key": AWS_SECRET,
    },
}
LIMIT = {"type": "requests", "unit": "rpm", "value": 60}


def journal(api: Api) -> list[dict]:
    return api.client.get("/__mock/journal").json["entries"]


def integration(api: Api, **body) -> str:
    body = {"name": "Prod OpenAI", "ai_provider_id": "openai", "key": SECRET, **body}
    response = api.call("POST", "/v1/integrations", json=body)
    assert response.status_code == 200, response.json
    assert set(response.json) >= {"id", "slug"}
    return response.json["slug"]


def grant(api: Api, slug: str, *workspaces: str, **body) -> object:
    body = {"workspaces": [{"id": w, "enabled": True} for w in workspaces], **body}
    return api.call("PUT", f"/v1/integrations/{slug}/workspaces", json=body)


def provider(api: Api, workspace: str, **body) -> object:
    return api.call(
        "POST", "/v1/providers", json={"name": "team provider", "workspace_id": workspace, **body}
    )


# --- one store, two views -------------------------------------------------------------------------


def test_a_virtual_key_is_a_provider_and_a_provider_is_a_virtual_key(api: Api):
    from_vk = api.create_slug(**OPENAI)
    slug = integration(api, slug="open-ai")
    grant(api, slug, "ws-team")
    default = api.call("GET", "/v1/providers?workspace_id=ws-team").json["data"][0]["slug"]

    listed = api.call("GET", "/v1/providers").json["data"]
    assert [p["slug"] for p in listed] == [from_vk] and listed[0]["object"] == "provider"
    assert api.call("GET", f"/v1/providers/{from_vk}").json["ai_provider_name"] == "openai"
    via_vk = api.call("GET", f"/v1/virtual-keys/{default}?workspace_id=ws-team").json
    assert (via_vk["object"], via_vk["integration_id"], via_vk["masked_api_key"]) == (
        "virtual-key",
        "open-ai",
        "sk*****xyz",
    )

    assert api.call("PUT", f"/v1/providers/{from_vk}", json={"note": "via providers"}).json["slug"] == from_vk
    assert api.retrieve(from_vk).json["note"] == "via providers"
    api.update(default, note="via virtual keys", workspace_id="ws-team")
    assert api.call("GET", f"/v1/providers/{default}?workspace_id=ws-team").json["note"] == "via virtual keys"

    assert api.call("DELETE", f"/v1/providers/{from_vk}").status_code == 200
    error_of(api.retrieve(from_vk), 404, "AB08")
    assert api.delete(default).status_code == 404  # it lives in ws-team, not the key's own workspace
    api.call("DELETE", f"/v1/virtual-keys/{default}?workspace_id=ws-team")
    error_of(api.call("GET", f"/v1/providers/{default}?workspace_id=ws-team"), 404, "AB08")


def test_a_provider_path_takes_the_id_as_well_as_the_slug(api: Api):
    slug = integration(api)
    grant(api, slug, "ws-team")
    created = provider(api, "ws-team", integration_id=slug).json
    got = api.call("GET", f"/v1/providers/{created['id']}?workspace_id=ws-team").json
    assert got["slug"] == created["slug"] and got["workspace_id"] == "ws-team"


def test_a_provider_needs_an_integration_enabled_for_its_workspace(api: Api):
    slug = integration(api)
    message = error_of(provider(api, "ws-team", integration_id=slug), 400, "AB01")
    assert message == "body.integration_id: names an integration not enabled for this workspace"
    error_of(provider(api, "ws-team", integration_id="no-such-integration"), 404, "AB08")
    grant(api, slug, "ws-team", create_default_provider=False)
    created = provider(api, "ws-team", integration_id=slug, slug="team-openai")
    assert created.json["slug"] == "team-openai"
    assert api.call("GET", "/v1/providers?workspace_id=ws-team").json["total"] == 1  # no default made
    error_of(provider(api, "ws-other", integration_id=slug), 400, "AB01")
    grant(api, slug, "ws-team", workspaces=[{"id": "ws-team", "enabled": False}])
    error_of(provider(api, "ws-team", integration_id=slug), 400, "AB01")


def test_a_provider_slug_is_unique_in_its_workspace(api: Api):
    slug = integration(api)
    grant(api, slug, "ws-team", create_default_provider=False)
    provider(api, "ws-team", integration_id=slug, slug="taken")
    message = error_of(provider(api, "ws-team", integration_id=slug, slug="taken"), 409, "AB07")
    assert message == "body.slug: is already taken in this workspace"


def test_a_refused_provider_create_is_journaled_with_the_status_it_answered(api: Api):
    """A provider's create rides its insert's trip to Redis, its integration read apart from it: a
    read that found the integration must not journal the request before the insert is refused."""
    slug = integration(api)
    grant(api, slug, "ws-team", create_default_provider=False)
    provider(api, "ws-team", integration_id=slug, slug="taken")
    api.client.delete("/__mock/journal")
    error_of(provider(api, "ws-team", integration_id=slug, slug="taken"), 409, "AB07")
    error_of(provider(api, "ws-team", integration_id="no-such-integration"), 404, "AB08")
    assert provider(api, "ws-team", integration_id=slug).status_code == 200
    assert [entry["status"] for entry in journal(api)] == [409, 404, 200]


# --- integrations ---------------------------------------------------------------------------------


def test_an_integration_answers_its_secrets_masked_only(api: Api):
    slug = integration(api, **BEDROCK, description="aws")
    got = api.call("GET", f"/v1/integrations/{slug}").json
    assert got["configurations"] == {
        "aws_auth_type": "accessKey",
        "aws_region": "us-east-1",
        "aws_access_key_id": "AKIA000000000000",
        "masked_aws_secret_access_key": "aw*****bcd",
    }
    assert got["masked_key"] == "sk*****xyz" and got["type"] == "organisation"
    everything = json.dumps([got, api.call("GET", "/v1/integrations").json, journal(api)])
    assert SECRET not in everything and AWS_SECRET not in everything


def test_an_integration_is_updated_and_deleted(api: Api):
    slug = integration(api)
    body = {"name": "Renamed", "key": "sk-rotated-00000000000abc", "description": "d"}
    assert api.call("PUT", f"/v1/integrations/{slug}", json=body).status_code == 200
    got = api.call("GET", f"/v1/integrations/{slug}").json
    assert (got["name"], got["masked_key"], got["description"]) == ("Renamed", "sk*****abc", "d")
    assert got["last_updated_at"] is not None
    error_of(api.call("PUT", f"/v1/integrations/{slug}", json={"slug": "other"}), 400, "AB01")
    assert api.call("DELETE", f"/v1/integrations/{slug}").status_code == 200
    error_of(api.call("GET", f"/v1/integrations/{slug}"), 404, "AB08")


def test_an_integration_slug_is_generated_or_refused_when_taken(api: Api):
    generated = integration(api, name="My OpenAI")
    assert generated.startswith("my-openai-")
    integration(api, slug="mine")
    response = api.call(
        "POST", "/v1/integrations", json={"name": "x", "ai_provider_id": "openai", "slug": "mine"}
    )
    assert error_of(response, 409, "AB07") == "body.slug: is already taken in this organisation"


def test_provider_settings_the_contract_requires_are_enforced(api: Api):
    body = {"name": "az", "ai_provider_id": "azure-openai", "configurations": {"azure_auth_mode": "default"}}
    error_of(api.call("POST", "/v1/integrations", json=body), 400, "AB01")
    body = {"name": "x", "ai_provider_id": "openai", "configurations": {"azure_resourcename": "typo"}}
    assert "azure_resourcename" in error_of(api.call("POST", "/v1/integrations", json=body), 400, "AB01")


def test_a_grant_creates_the_default_provider(api: Api):
    slug = integration(api, slug="open-ai")
    assert grant(api, slug, "ws-a").json == {}
    grant(api, slug, "ws-b", default_provider_slug="openai-b")
    [in_a] = api.call("GET", "/v1/providers?workspace_id=ws-a").json["data"]
    assert (in_a["slug"], in_a["name"], in_a["integration_id"], in_a["provider"], in_a["note"]) == (
        "open-ai",
        "open-ai",
        "open-ai",
        "openai",
        DEFAULT_PROVIDER_NOTE,
    )
    assert [p["slug"] for p in api.call("GET", "/v1/providers?workspace_id=ws-b").json["data"]] == [
        "openai-b"
    ]
    listed = api.call("GET", f"/v1/integrations/{slug}/workspaces").json
    assert [(w["id"], w["enabled"]) for w in listed["workspaces"]] == [("ws-a", True), ("ws-b", True)]
    assert api.call("GET", f"/v1/integrations/{slug}").json["workspace_count"] == 2


def test_a_grant_whose_default_provider_slug_is_taken_changes_nothing(api: Api):
    slug = integration(api, slug="open-ai")
    taken = api.create(**OPENAI, workspace_id="ws-a")
    taken_slug = taken.json["data"]["slug"]
    response = grant(api, slug, "ws-a", default_provider_slug=taken_slug)
    assert (
        error_of(response, 400, "AB01")
        == "body.default_provider_slug: is already taken by a provider in that workspace"
    )
    assert api.call("GET", f"/v1/integrations/{slug}/workspaces").json["workspaces"] == []


def test_grants_carry_limits_and_can_be_replaced(api: Api):
    slug = integration(api)
    usage = {"credit_limit": 100, "type": "cost"}
    grant(
        api,
        slug,
        workspaces=[{"id": "ws-a", "enabled": True, "usage_limits": [usage], "rate_limits": [LIMIT]}],
    )
    grant(api, slug, "ws-b", override_existing_workspace_access=True)
    [only] = api.call("GET", f"/v1/integrations/{slug}/workspaces").json["workspaces"]
    assert only["id"] == "ws-b"
    too_many = [{"id": "ws-c", "enabled": True, "rate_limits": [LIMIT, LIMIT]}]
    error_of(grant(api, slug, workspaces=too_many), 400, "AB01")


def test_a_workspace_integration_creates_its_provider_and_is_refused_on_a_clash(api: Api):
    slug = integration(api, slug="team-openai", workspace_id="ws-a")
    got = api.call("GET", f"/v1/integrations/{slug}").json
    assert (got["type"], got["workspace_id"]) == ("workspace", "ws-a")
    assert api.call("GET", "/v1/providers/team-openai?workspace_id=ws-a").status_code == 200
    body = {
        "name": "again",
        "ai_provider_id": "openai",
        "workspace_id": "ws-a",
        "default_provider_slug": "team-openai",
    }
    error_of(api.call("POST", "/v1/integrations", json={**body, "slug": "again"}), 400, "AB01")
    error_of(api.call("GET", "/v1/integrations/again"), 404, "AB08")  # nothing half-made


def test_integrations_are_listed_with_filters(api: Api):
    org = integration(api, slug="org-wide")
    integration(api, slug="team-only", workspace_id="ws-a")
    integration(api, slug="granted")
    grant(api, "granted", "ws-b")

    def slugs(query: str = "") -> list[str]:
        return [i["slug"] for i in api.call("GET", f"/v1/integrations{query}").json["data"]]

    assert slugs() == ["granted", "team-only", org]
    assert slugs("?type=organisation") == ["granted", org]
    assert slugs("?type=workspace") == ["team-only"]
    assert slugs("?workspace_id=ws-a") == ["team-only"]
    assert slugs("?workspace_id=ws-b") == ["granted"]
    assert slugs("?page_size=1&current_page=1") == ["team-only"]
    assert api.call("GET", "/v1/integrations?page_size=1").json["total"] == 3


def test_the_model_allow_list(api: Api):
    slug = integration(api)
    models = [
        {"slug": "gpt-4o", "enabled": True},
        {"slug": "my-ft", "enabled": True, "is_custom": True, "base_model_slug": "gpt-4o"},
        {"slug": "my-other", "enabled": False, "is_custom": True},
    ]
    body = {"models": models, "allow_all_models": False}
    assert api.call("PUT", f"/v1/integrations/{slug}/models", json=body).status_code == 200
    listed = api.call("GET", f"/v1/integrations/{slug}/models").json
    assert listed["allow_all_models"] is False and listed["total"] == 3
    assert [(m["slug"], m["enabled"], m["is_custom"]) for m in listed["models"]] == [
        ("gpt-4o", True, False),
        ("my-ft", True, True),
        ("my-other", False, True),
    ]
    error_of(api.call("DELETE", f"/v1/integrations/{slug}/models?slugs=gpt-4o"), 400, "AB01")
    assert api.call("DELETE", f"/v1/integrations/{slug}/models?slugs=no-such-model").status_code == 200
    error_of(api.call("DELETE", f"/v1/integrations/{slug}/models"), 400, "AB01")
    assert api.call("DELETE", f"/v1/integrations/{slug}/models?slugs=my-ft").status_code == 200
    assert (
        api.call("DELETE", f"/v1/integrations/{slug}/models", json={"models": ["my-other"]}).status_code
        == 200
    )
    assert [m["slug"] for m in api.call("GET", f"/v1/integrations/{slug}/models").json["models"]] == [
        "gpt-4o"
    ]


def test_deleting_models_names_them_in_the_query_or_the_body_and_the_journal_says_which(api: Api):
    """The contract requires one of `?slugs=` and a body (`x-portkey-requires-one-of`): the mock
    refuses neither, its journal calls that a violation, and `?slugs=` naming no model is refused too."""
    slug = integration(api)
    message = error_of(api.call("DELETE", f"/v1/integrations/{slug}/models"), 400, "AB01")
    assert message == "query.slugs: is required unless body is sent"
    assert journal(api)[-1]["violations"] == [{"location": "query.slugs", "rule": message.split(": ")[1]}]
    for empty in (",", "%20,%20", "%1f"):
        message = error_of(api.call("DELETE", f"/v1/integrations/{slug}/models?slugs={empty}"), 400, "AB01")
        assert message == "query.slugs: names no model"


def test_a_state_rule_is_answered_in_the_words_the_contract_states(api: Api):
    """A schema-valid request can break a rule about what the mock holds (`x-portkey-state-rule`);
    the answer is 400 with the contract's own words for it, which is what checks expect."""
    stated = {
        operation.operation_id: operation.state_rules for operation in Contract.load().operations.values()
    }
    slug = integration(api)
    models = {"models": [{"slug": "gpt-4o", "enabled": True}]}
    assert api.call("PUT", f"/v1/integrations/{slug}/models", json=models).status_code == 200

    refused = error_of(provider(api, "ws-team", integration_id=slug), 400, "AB01")
    assert refused == f"body.integration_id: {stated['createProvider']['body.integration_id']}"
    refused = error_of(api.call("DELETE", f"/v1/integrations/{slug}/models?slugs=gpt-4o"), 400, "AB01")
    assert refused == f"query.slugs: {stated['deleteIntegrationModels']['query.slugs']}"
    named = {"models": ["gpt-4o"]}
    refused = error_of(api.call("DELETE", f"/v1/integrations/{slug}/models", json=named), 400, "AB01")
    assert refused == f"body.models: {stated['deleteIntegrationModels']['body.models']}"


# --- spellings and placements clients use: accepted, warned ---------------------------------------


def _warnings(api: Api) -> dict[str, str]:
    return {w["location"]: w["rule"] for e in journal(api) for w in e["warnings"]}


def test_known_client_forms_are_accepted_and_reported_as_warnings(api: Api):
    slug = integration(api)
    grant(api, slug, "ws-a", override_existing_workspaces_access=False)
    created = provider(api, "ws-a", integration_id=slug, rate_limits=LIMIT).json["slug"]
    api.call("PUT", f"/v1/providers/{created}", json={"workspace_id": "ws-a", "rate_limits": LIMIT})
    api.call(
        "PUT",
        f"/v1/integrations/{slug}/models",
        json={"models": [{"slug": "c", "enabled": True, "is_custom": True}]},
    )
    api.call("DELETE", f"/v1/integrations/{slug}/models", json={"models": ["c"]})

    assert api.call("GET", f"/v1/providers/{created}?workspace_id=ws-a").json["rate_limits"] == [LIMIT]
    warned = _warnings(api)
    assert set(warned) == {
        "body.override_existing_workspaces_access",
        "body.rate_limits",
        "body.workspace_id",
        "body",
    }
    assert "override_existing_workspace_access" in warned["body.override_existing_workspaces_access"]
    assert all(e["valid"] and e["status"] == 200 for e in journal(api))


def test_the_published_forms_raise_no_warning(api: Api):
    slug = integration(api)
    grant(api, slug, "ws-a", override_existing_workspace_access=False)
    created = provider(api, "ws-a", integration_id=slug, rate_limits=[LIMIT]).json["slug"]
    api.call("PUT", f"/v1/providers/{created}?workspace_id=ws-a", json={"rate_limits": [LIMIT]})
    assert _warnings(api) == {}


# --- auth: scopes and workspaces ------------------------------------------------------------------


@pytest.fixture
def catalog_keys(tmp_path):
    path = tmp_path / "keys.yaml"
    path.write_text(
        "api_keys:\n"
        "  - {key: pk-admin}\n"
        "  - {key: pk-team, workspace_id: ws-a}\n"
        "  - {key: pk-vk-only, workspace_id: ws-a, scopes: [virtual_keys.list, virtual_keys.read]}\n"
        "  - {key: pk-org-reader, scopes: [organisation_integrations.read, organisation_integrations.list]}\n"
    )
    return path


def test_scopes_are_per_resource(catalog_keys):
    api = make_api(keys_path=catalog_keys)
    admin = api.as_key("pk-admin")
    slug = integration(admin, slug="org-openai")
    grant(admin, slug, "ws-a")
    vk_only = api.as_key("pk-vk-only")
    assert vk_only.list().json["total"] == 1
    assert (
        error_of(vk_only.call("GET", "/v1/providers"), 403, "AB03")
        == "API key lacks the scope providers.list"
    )
    reader = api.as_key("pk-org-reader")
    assert reader.call("GET", f"/v1/integrations/{slug}").status_code == 200
    error_of(reader.call("PUT", f"/v1/integrations/{slug}", json={"name": "x"}), 403, "AB03")


def test_an_integration_needs_the_scope_of_its_type_to_be_read_or_listed(tmp_path):
    """`workspace_integrations.read` reads a workspace's own integration, not an organisation's one
    granted to it (that needs `organisation_integrations.read`); a list keeps the types it may list."""
    path = tmp_path / "keys.yaml"
    path.write_text(
        "api_keys:\n  - {key: pk-admin}\n"
        "  - {key: pk-ws-reader, workspace_id: ws-a, scopes: [workspace_integrations.read,"
        " workspace_integrations.list, workspace_integrations.create]}\n"
    )
    api = make_api(keys_path=path)
    admin, reader = api.as_key("pk-admin"), api.as_key("pk-ws-reader")
    shared = integration(admin, slug="org-wide")
    grant(admin, shared, "ws-a")
    own = integration(reader, slug="ws-own")
    assert reader.call("GET", f"/v1/integrations/{own}").status_code == 200
    message = error_of(reader.call("GET", f"/v1/integrations/{shared}"), 403, "AB03")
    assert message == "API key lacks the scope organisation_integrations.read"
    assert [i["slug"] for i in reader.call("GET", "/v1/integrations").json["data"]] == ["ws-own"]


def test_a_workspace_key_is_pinned_and_an_organisation_key_names_the_workspace(catalog_keys):
    api = make_api(keys_path=catalog_keys)
    admin, team = api.as_key("pk-admin"), api.as_key("pk-team")
    hidden = integration(admin, slug="not-granted")
    shared = integration(admin, slug="granted")
    grant(admin, shared, "ws-a")
    assert [i["slug"] for i in team.call("GET", "/v1/integrations").json["data"]] == ["granted"]
    error_of(team.call("GET", f"/v1/integrations/{hidden}"), 404, "AB08")
    error_of(team.call("PUT", f"/v1/integrations/{shared}", json={"name": "x"}), 403, "AB03")
    error_of(team.call("GET", "/v1/providers?workspace_id=ws-b"), 403, "AB03")
    assert [p["slug"] for p in team.call("GET", "/v1/providers").json["data"]] == ["granted"]

    message = error_of(admin.call("GET", "/v1/providers"), 400, "AB01")
    assert message == "query.workspace_id: is required for organisation admin API keys"
    assert admin.call("GET", "/v1/providers?workspace_id=ws-a").json["total"] == 1
    own = integration(team, slug="team-own")
    assert team.call("GET", f"/v1/integrations/{own}").json["type"] == "workspace"


def test_a_keys_file_with_an_unknown_scope_is_refused(tmp_path):
    path = tmp_path / "keys.yaml"
    path.write_text("api_keys:\n  - {key: k, scopes: [integrations.read]}\n")
    with pytest.raises(ValueError, match="unknown scopes"):
        make_api(keys_path=path)


def test_a_fault_replaces_a_catalog_operation_and_changes_nothing(api: Api):
    slug = integration(api)
    grant(api, slug, "ws-a", create_default_provider=False)
    plan = {"rules": [{"operation": "createProvider", "status": 503}]}
    assert api.client.put("/__mock/faults", json=plan).status_code == 200
    error_of(provider(api, "ws-a", integration_id=slug), 503, "AB04")
    assert api.call("GET", "/v1/providers?workspace_id=ws-a").json["total"] == 0
    assert [e["operation"] for e in journal(api)][-2:] == ["createProvider", "listProviders"]


# --- a resource is declared: the handler table -----------------------------------------------------


class _Declared:
    def __init__(self, *operations: str) -> None:
        self.operations = operations

    def handlers(self) -> dict:
        return {operation: (lambda call: {}) for operation in self.operations}


def test_every_operation_needs_exactly_one_resource_to_serve_it(contract):
    from mockserver.resources import handler_table

    everything = _Declared(*contract.operations, "anOperationOfAnotherContract")
    assert set(handler_table(contract, [everything])) == set(contract.operations)
    missing = sorted(contract.operations)[0]
    with pytest.raises(ValueError, match=f"cannot serve: \\['{missing}'\\]"):
        handler_table(contract, [_Declared(*sorted(contract.operations)[1:])])
    with pytest.raises(ValueError, match="two resources serve listProviders"):
        handler_table(contract, [everything, _Declared("listProviders")])

"""`contracts.strategies`: valid bodies are accepted by the mock, invalid ones refused, per case and kind."""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import example, given, settings
from hypothesis import strategies as st

from contracts import strategies
from mockserver import create_app
from mockserver.contract.document import Contract

FEW = settings(max_examples=5)


@pytest.fixture(scope="module")
def client():
    client = create_app().test_client()
    for api_key in ("pk-strategies", "pk-strategies-catalog", "pk-strategies-providers"):
        headers = {"x-portkey-api-key": api_key}  # generated mappings name this secret reference
        made = client.post("/v1/secret-references", json=strategies.secret_reference_body(), headers=headers)
        assert made.status_code == 200, made.json
    return client


def create(client, body):
    return client.post("/v1/virtual-keys", json=body, headers={"x-portkey-api-key": "pk-strategies"})


@pytest.mark.parametrize("case", sorted(strategies.PROVIDER_CASES))
def test_each_provider_case_gives_bodies_the_service_stores(client, case):
    @FEW
    @given(strategies.create_bodies(case))
    def stored(body):
        answer = create(client, body)
        assert answer.status_code == 200, answer.json
        slug = answer.json["data"]["slug"]
        retrieved = client.get(f"/v1/virtual-keys/{slug}", headers={"x-portkey-api-key": "pk-strategies"})
        assert retrieved.json["ai_provider_name"] == body["provider"]

    stored()


@given(strategies.create_bodies("openai"))
def test_the_openai_case_always_names_openai_and_sends_a_key(body):
    # The key may be empty: Portkey's published spec gives it no minimum length.
    assert body["provider"] == "openai" and isinstance(body["key"], str)


@pytest.mark.parametrize("kind", strategies.INVALID_CREATE_KINDS)
def test_invalid_create_bodies_are_refused_with_the_field_named(client, kind):
    @FEW
    @given(strategies.invalid_create_bodies(kind))
    def refused(body):
        answer = create(client, body)
        assert answer.status_code == 400
        assert answer.json["data"]["errorCode"] == "AB01" and "body." in answer.json["data"]["message"]

    refused()


@pytest.mark.parametrize("provider", ["azure-openai", "openai"])
def test_update_bodies_are_accepted_for_a_key_of_their_provider(client, provider):
    case = "azure-default" if provider == "azure-openai" else "openai"
    body = {"name": "target", "provider": provider, "key": "sk-target-0000000000"}
    if case == "azure-default":
        body |= {"resourceName": "r", "deploymentConfig": [{"apiVersion": "v1", "deploymentName": "d"}]}
    slug = create(client, body).json["data"]["slug"]

    @FEW
    @given(strategies.update_bodies(provider))
    def accepted(update):
        answer = client.put(
            f"/v1/virtual-keys/{slug}", json=update, headers={"x-portkey-api-key": "pk-strategies"}
        )
        assert answer.status_code == 200, answer.json

    accepted()


@FEW
@given(strategies.invalid_update_bodies())
def test_invalid_update_bodies_are_refused(client, update):
    slug = create(client, {"name": "target", "provider": "openai", "key": "sk-0000000000"}).json["data"][
        "slug"
    ]
    answer = client.put(
        f"/v1/virtual-keys/{slug}", json=update, headers={"x-portkey-api-key": "pk-strategies"}
    )
    assert answer.status_code == 400


def test_kept_service_rules_make_inconsistent_limits_consistent():
    body = {
        "usage_limits": {
            "credit_limit": 5,
            "alert_threshold": 9,
            "periodic_reset": "weekly",
            "periodic_reset_days": 3,
        }
    }
    assert strategies.keep_service_rules(body)["usage_limits"] == {
        "credit_limit": 5,
        "alert_threshold": 5,
        "periodic_reset": "weekly",
    }


def test_kept_service_rules_repair_a_usage_limits_policy_whose_limits_sit_at_the_top():
    """A usage-limits policy keeps the rules of a key's usage_limits on its own fields (stock
    schemathesis's hook failed on one with no repair)."""
    body = {"name": "p", "credit_limit": 5, "alert_threshold": 9, "periodic_reset": "monthly"}
    body["periodic_reset_days"] = 3
    kept = strategies.keep_service_rules(body)
    assert (kept["alert_threshold"], "periodic_reset_days" in kept) == (5, False)


def test_kept_service_rules_mend_usage_limits_wherever_a_body_holds_them():
    """A workspace's limits and an integration grant's are items of arrays; the same rules hold there."""
    wrong = {"credit_limit": 5, "alert_threshold": 9, "periodic_reset": "weekly", "periodic_reset_days": 3}
    mended = {"credit_limit": 5, "alert_threshold": 5, "periodic_reset": "weekly"}
    body = {
        "workspaces": [{"id": "ws-a", "enabled": True, "usage_limits": [dict(wrong)]}],
        "global_workspace_access": {"enabled": True, "usage_limits": [dict(wrong)]},
    }
    kept = strategies.keep_service_rules(body)
    assert kept["workspaces"][0]["usage_limits"] == [mended]
    assert kept["global_workspace_access"]["usage_limits"] == [mended]


def test_kept_service_rules_move_a_date_time_the_service_cannot_write_into_range(client):
    """The date-time format admits moments that fall outside years 1 to 9999 in UTC; the service
    refuses them, so a body meant to be valid must not hold one, at any depth."""
    body = {
        "name": "n",
        "provider": "openai",
        "key": "sk-0123456789",
        "expires_at": "9999-12-31T23:00:00-05:00",
        "usage_limits": {"credit_limit": 5, "next_usage_reset_at": "0001-01-01T00:00:00+00:02"},
    }
    assert create(client, body).status_code == 400
    kept = strategies.keep_service_rules(body)
    assert kept["expires_at"] == "9999-12-30T00:00:00Z"
    assert kept["usage_limits"]["next_usage_reset_at"] == "0001-01-02T00:00:00Z"
    assert create(client, kept).status_code == 200


def test_unknown_case_or_kind_is_refused_by_name():
    with pytest.raises(ValueError, match="azure-entra"):
        strategies.create_bodies("azure")
    with pytest.raises(ValueError, match="wrong-type"):
        strategies.invalid_create_bodies("typo")


@pytest.mark.parametrize("case", sorted(strategies.INTEGRATION_CASES))
def test_each_integration_case_gives_bodies_the_service_stores_masked(client, case):
    headers = {"x-portkey-api-key": "pk-strategies-catalog"}

    @FEW
    @given(strategies.integration_bodies(case))
    def stored(body):
        body = {**body, "create_default_provider": False}
        body.pop("slug", None)  # a drawn slug may repeat across examples; let the service make one
        answer = client.post("/v1/integrations", json=body, headers=headers)
        assert answer.status_code == 200, answer.json
        got = client.get(f"/v1/integrations/{answer.json['slug']}", headers=headers).json
        assert got["ai_provider_id"] == strategies.INTEGRATION_CASES[case][1]
        for secret in ("aws_secret_access_key", "azure_entra_client_secret", "vertex_service_account_json"):
            assert secret not in got["configurations"]

    stored()


def test_provider_bodies_create_providers_on_an_enabled_integration(client):
    headers = {"x-portkey-api-key": "pk-strategies-providers"}
    made = client.post("/v1/integrations", json={"name": "p", "ai_provider_id": "openai"}, headers=headers)
    integration = made.json["slug"]
    grant = {"global_workspace_access": {"enabled": True}}
    assert (
        client.put(f"/v1/integrations/{integration}/workspaces", json=grant, headers=headers).status_code
        == 200
    )

    @FEW
    @given(strategies.provider_bodies())
    def created(body):
        body = {**body, "integration_id": integration}
        body.pop("slug", None)
        answer = client.post("/v1/providers", json=body, headers=headers)
        assert answer.status_code == 200, answer.json
        got = client.get(f"/v1/providers/{answer.json['slug']}", headers=headers).json
        assert isinstance(got["rate_limits"], list)  # an object sent is answered as an array

    created()


def test_an_unknown_integration_case_is_refused_by_name():
    with pytest.raises(ValueError, match="unknown integration case 'openia'"):
        strategies.integration_bodies("openia")


def test_a_request_meant_to_be_valid_gets_the_part_its_operation_requires_one_of(client):
    """`DELETE /integrations/{slug}/models` needs `?slugs=` or a body (`x-portkey-requires-one-of`):
    a case with neither gets the query parameter's contract example, which the mock accepts."""
    operation = schemathesis.openapi.from_dict(Contract.load().document)["/integrations/{slug}/models"][
        "DELETE"
    ]
    headers = {"x-portkey-api-key": "pk-strategies"}
    made = client.post(
        "/v1/integrations", json={"name": "i", "ai_provider_id": "openai", "key": "sk-x"}, headers=headers
    )
    slug = made.json["slug"]
    bare = operation.Case(path_parameters={"slug": slug})
    assert client.delete(f"/v1/integrations/{slug}/models", headers=headers).status_code == 400
    strategies.keep_required_parts(bare)
    assert bare.query == {"slugs": "my-custom-model"}
    answer = client.delete(f"/v1/integrations/{slug}/models", query_string=bare.query, headers=headers)
    assert answer.status_code == 200, answer.json

    named = operation.Case(path_parameters={"slug": slug}, body={"models": ["mine"]})
    strategies.keep_required_parts(named)
    assert not named.query  # it sends a body: nothing to add


def _property_names(node, found):
    """Every property name the contract's schemas declare, at any depth."""
    if isinstance(node, dict):
        found.update(name for name in node.get("properties", {}) if isinstance(node["properties"], dict))
        for value in node.values():
            _property_names(value, found)
    elif isinstance(node, list):
        for value in node:
            _property_names(value, found)
    return found


_NAMES = sorted(_property_names(Contract().document, set()))
_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=5),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.sampled_from(_NAMES), inner, max_size=3),
    max_leaves=8,
)


@settings(max_examples=300)
@given(st.dictionaries(st.sampled_from(_NAMES), _JSON, max_size=6))
@example({"secret_mappings": 5})  # what verify's 50-example run generated
@example({"secret_mappings": True, "usage_limits": [7], "workspaces": [{"usage_limits": "x"}]})
def test_kept_service_rules_take_any_json_body_without_raising(body):
    """Verify's guard and the stock `map_body` hook pass bodies meant to be invalid through the
    repair too: `secret_mappings: 5` raised "'int' object is not iterable", a Hook Error in verify."""
    kept = strategies.keep_service_rules(body)
    assert isinstance(kept, dict) and set(kept) <= set(body)

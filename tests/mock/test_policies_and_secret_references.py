"""Secret references and the rules they set on other resources, and what is particular to
usage-limits policies, on both stores.

A secret mapping of a virtual key or an integration must name a secret reference of the caller's
organisation that its workspace may use; a secret reference a mapping names is not deleted; a
secret reference's credentials are never answered or journaled in clear. The lifecycle itself is
`tests/mock/test_declared_resources.py`'s.
"""

from __future__ import annotations

import json
from typing import Any

from contracts.strategies import SECRET_REFERENCE, secret_reference_body
from mockserver.contract.document import Contract
from tests.support.inprocess import Api, error_of

CONTRACT = Contract.load()
MISSING = CONTRACT.operations["createVirtualKey"].state_rules["body.secret_mappings"]
IN_USE = CONTRACT.operations["deleteSecretReference"].state_rules["path.secretReferenceId"]
SECRET = secret_reference_body()["auth_config"]["aws_secret_access_key"]
OPENAI = {"name": "mapped", "provider": "openai"}


def mapping(ref: str) -> list[dict[str, Any]]:
    return [{"target_field": "key", "secret_reference_id": ref}]


def journal(api: Api) -> list[dict[str, Any]]:
    return api.client.get("/__mock/journal").json["entries"]


def integration(api: Api, ref: str) -> Any:
    body = {"name": "mapped", "ai_provider_id": "openai", "secret_mappings": mapping(ref)}
    return api.call("POST", "/v1/integrations", json={**body, "create_default_provider": False})


def test_a_key_mapping_a_secret_reference_that_does_not_exist_is_refused_naming_the_field(api: Api):
    response = api.create(**OPENAI, secret_mappings=mapping("nowhere"))
    assert error_of(response, 400, "AB01") == f"body.secret_mappings: {MISSING}"
    [entry] = journal(api)  # the refusal journaled as answered (on Redis too: not as a 404)
    assert entry["status"] == 400 and entry["path"] == "/v1/virtual-keys"
    # what the mock refuses for a rule the contract states, its journal calls a violation
    assert entry["valid"] is False
    assert entry["violations"] == [{"location": "body.secret_mappings", "rule": MISSING}]
    assert api.list().json["total"] == 0


def test_a_key_may_map_a_secret_reference_by_its_slug_or_its_id(api: Api):
    ref_id = api.secret_reference()
    for ref in (SECRET_REFERENCE, ref_id):
        response = api.create(**OPENAI, secret_mappings=mapping(ref))
        assert response.status_code == 200, response.json
    assert api.list().json["total"] == 2


def test_an_update_mapping_a_missing_secret_reference_changes_nothing(api: Api):
    api.secret_reference()
    slug = api.create_slug(**OPENAI, secret_mappings=mapping(SECRET_REFERENCE))
    response = api.update(slug, name="renamed", secret_mappings=mapping("nowhere"))
    assert error_of(response, 400, "AB01") == f"body.secret_mappings: {MISSING}"
    kept = api.retrieve(slug).json
    assert kept["name"] == "mapped" and kept["secret_mappings"] == mapping(SECRET_REFERENCE)


def test_a_secret_reference_of_another_organisation_cannot_be_mapped(api: Api):
    api.as_key("pk-another-organisation").secret_reference()
    response = api.create(**OPENAI, secret_mappings=mapping(SECRET_REFERENCE))
    assert error_of(response, 400, "AB01") == f"body.secret_mappings: {MISSING}"


def test_a_secret_reference_kept_to_other_workspaces_cannot_be_mapped_until_opened(api: Api):
    api.secret_reference(allowed_workspaces=["another-workspace"])
    assert api.call("GET", f"/v1/secret-references/{SECRET_REFERENCE}").json["allow_all_workspaces"] is False
    response = api.create(**OPENAI, secret_mappings=mapping(SECRET_REFERENCE))
    assert error_of(response, 400, "AB01") == f"body.secret_mappings: {MISSING}"
    opened = api.call("PUT", f"/v1/secret-references/{SECRET_REFERENCE}", json={"allow_all_workspaces": True})
    assert opened.status_code == 200
    assert api.create(**OPENAI, secret_mappings=mapping(SECRET_REFERENCE)).status_code == 200


def test_an_integration_mapping_must_name_an_existing_secret_reference(api: Api):
    assert error_of(integration(api, "nowhere"), 400, "AB01") == f"body.secret_mappings: {MISSING}"
    api.secret_reference()
    assert integration(api, SECRET_REFERENCE).status_code == 200


def test_a_secret_reference_a_key_maps_is_not_deleted_until_the_mapping_goes(api: Api):
    ref_id = api.secret_reference()
    slug = api.create_slug(**OPENAI, secret_mappings=mapping(ref_id))
    for ref in (SECRET_REFERENCE, ref_id):
        refused = api.call("DELETE", f"/v1/secret-references/{ref}")
        assert error_of(refused, 400, "AB01") == f"path.secretReferenceId: {IN_USE}"
    assert api.call("GET", f"/v1/secret-references/{ref_id}").status_code == 200
    assert api.update(slug, secret_mappings=[]).status_code == 200
    assert api.call("DELETE", f"/v1/secret-references/{ref_id}").status_code == 200


def test_a_secret_reference_an_integration_maps_is_not_deleted(api: Api):
    api.secret_reference()
    assert integration(api, SECRET_REFERENCE).status_code == 200
    refused = api.call("DELETE", f"/v1/secret-references/{SECRET_REFERENCE}")
    assert error_of(refused, 400, "AB01") == f"path.secretReferenceId: {IN_USE}"


def test_a_mapping_in_another_organisation_does_not_hold_a_secret_reference(api: Api):
    other = api.as_key("pk-another-organisation")
    other.secret_reference()
    assert other.create(**OPENAI, secret_mappings=mapping(SECRET_REFERENCE)).status_code == 200
    api.secret_reference()
    assert api.call("DELETE", f"/v1/secret-references/{SECRET_REFERENCE}").status_code == 200


def test_a_secret_references_credentials_are_never_answered_or_journaled_in_clear(api: Api):
    api.secret_reference()
    auth = secret_reference_body()["auth_config"]
    update = {"auth_config": {**auth, "aws_secret_access_key": SECRET + "2"}}
    assert api.call("PUT", f"/v1/secret-references/{SECRET_REFERENCE}", json=update).status_code == 200
    retrieved = api.call("GET", f"/v1/secret-references/{SECRET_REFERENCE}").json
    assert retrieved["auth_config"]["aws_secret_access_key"] == SECRET[:2] + "*****" + "002"
    assert retrieved["auth_config"]["aws_access_key_id"] == auth["aws_access_key_id"]  # not a secret
    listed = api.call("GET", "/v1/secret-references").json["data"]
    assert "auth_config" not in listed[0]
    everything = json.dumps(journal(api)) + api.client.get("/__mock/store").get_data(as_text=True)
    assert SECRET not in everything and json.dumps(retrieved).count("*****") == 1


def test_a_taken_slug_is_refused_naming_it(api: Api):
    api.secret_reference()
    body = {**secret_reference_body(), "slug": SECRET_REFERENCE}
    response = api.call("POST", "/v1/secret-references", json=body)
    assert error_of(response, 400, "AB01") == "body.slug: is already taken in this organisation"


# --- usage-limits policies: entities and their reset ------------------------------------------------


def test_a_policy_has_no_entities_in_the_mock_and_resetting_one_is_not_found(api: Api):
    example = CONTRACT.document["paths"]["/policies/usage-limits"]["post"]["requestBody"]
    body = example["content"]["application/json"]["example"]
    policy = api.call("POST", "/v1/policies/usage-limits", json=body).json["id"]
    entities = api.call("GET", f"/v1/policies/usage-limits/{policy}/entities")
    assert entities.json == {"object": "list", "total": 0, "data": []}
    reset = api.call("PUT", f"/v1/policies/usage-limits/{policy}/entities/api-key-1/reset")
    assert error_of(reset, 404, "AB08") == "Usage limits policy entity not found: api-key-1"
    gone = api.call("GET", "/v1/policies/usage-limits/not-a-policy/entities")
    assert error_of(gone, 404, "AB08") == "Policy usage limits not found: not-a-policy"


def test_a_policy_alert_threshold_above_its_credit_limit_is_refused_as_for_a_key(api: Api):
    example = CONTRACT.document["paths"]["/policies/usage-limits"]["post"]["requestBody"]
    body = {**example["content"]["application/json"]["example"], "credit_limit": 10, "alert_threshold": 11}
    refused = api.call("POST", "/v1/policies/usage-limits", json=body)
    assert error_of(refused, 400, "AB01") == "body.alert_threshold: must not be above credit_limit"
    assert (
        api.call("POST", "/v1/policies/usage-limits", json={**body, "alert_threshold": 10}).status_code == 200
    )


def test_a_secret_managers_address_must_be_a_uri_and_a_form_takes_no_field_of_another(api: Api):
    vault = {"vault_auth_type": "token", "vault_addr": "vault at port 8200", "vault_token": "hvs.secret"}
    body = {"name": "vault", "manager_type": "hashicorp_vault", "auth_config": vault, "secret_path": "kv/a"}
    refused = api.call("POST", "/v1/secret-references", json=body)
    assert error_of(refused, 400, "AB01").startswith("body.auth_config.vault_addr: must be a valid uri")
    aws = {"aws_auth_type": "serviceRole", "aws_region": "us-east-1", "vault_addr": "https://vault.example"}
    mixed = api.call(
        "POST", "/v1/secret-references", json={**body, "manager_type": "aws_sm", "auth_config": aws}
    )
    assert (
        error_of(mixed, 400, "AB01") == "body.auth_config.vault_addr: is not a field the contract allows here"
    )
    vault["vault_addr"] = "https://vault.example:8200"
    made = api.call("POST", "/v1/secret-references", json=body)
    assert made.status_code == 200
    read = api.call("GET", f"/v1/secret-references/{made.json['id']}")
    for answer in (refused, mixed, made, read):
        assert "hvs.secret" not in answer.get_data(as_text=True)
    assert "hvs.secret" not in json.dumps(journal(api))

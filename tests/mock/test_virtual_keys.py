"""Behaviour of the mock's /v1 API, in process. Each answer is also checked against the contract."""

from __future__ import annotations

import json

import pytest

from tests.support.inprocess import OPENAI, Api, error_of, make_api

DEPLOYMENT = {"apiVersion": "2024-08-01-preview", "deploymentName": "gpt4o", "is_default": True}
AZURE = {
    "name": "azure",
    "provider": "azure-openai",
    "key": "azure-secret-000111222333",
    "resourceName": "res",
    "deploymentConfig": [DEPLOYMENT],
}


# --- auth and workspaces -------------------------------------------------------------------------


@pytest.mark.parametrize("headers", [{}, {"x-portkey-api-key": ""}, {"x-portkey-api-key": "   "}])
def test_missing_or_empty_api_key_is_unauthorised(api: Api, headers):
    response = api.call("GET", "/v1/virtual-keys", headers=headers)
    assert error_of(response, 401, "AB05") == "Unauthorised Request"


def test_any_api_key_is_accepted_by_default(api: Api):
    assert api.as_key("anything-at-all").list().status_code == 200


def test_keys_of_one_api_key_are_invisible_to_another(api: Api):
    slug = api.create_slug(**OPENAI)
    other = api.as_key("pk-other")
    assert other.list().json["total"] == 0
    error_of(other.retrieve(slug), 404, "AB08")
    error_of(other.update(slug, note="x"), 404, "AB08")
    error_of(other.delete(slug), 404, "AB08")
    assert api.retrieve(slug).status_code == 200


def test_workspace_id_selects_another_workspace_of_the_same_api_key(api: Api):
    api.create_slug(**OPENAI)
    in_team = api.create(**OPENAI, workspace_id="team-b").json["data"]["slug"]
    assert [k["slug"] for k in api.list("?workspace_id=team-b").json["data"]] == [in_team]
    assert api.list("?workspace_id=team-b").json["data"][0]["workspace_id"] == "team-b"
    assert api.list().json["total"] == 1


@pytest.fixture
def keys_file(tmp_path):
    path = tmp_path / "keys.yaml"
    path.write_text(
        "api_keys:\n"
        "  - {key: pk-full, workspace_id: ws-a}\n"
        "  - {key: pk-reader, workspace_id: ws-a, scopes: [virtual_keys.read, virtual_keys.list]}\n"
        "  - {key: pk-admin}\n"
    )
    return path


def test_keys_file_rejects_unknown_api_keys(keys_file):
    error_of(make_api(keys_path=keys_file).as_key("pk-stranger").list(), 401, "AB05")


def test_keys_file_scopes_are_enforced(keys_file):
    full = make_api(keys_path=keys_file).as_key("pk-full")
    reader = full.as_key("pk-reader")
    slug = full.create_slug(**OPENAI)
    assert reader.retrieve(slug).status_code == 200
    assert reader.list().json["total"] == 1
    assert "virtual_keys.create" in error_of(reader.create(**OPENAI), 403, "AB03")
    assert "virtual_keys.update" in error_of(reader.update(slug, note="x"), 403, "AB03")
    assert "virtual_keys.delete" in error_of(reader.delete(slug), 403, "AB03")
    assert full.retrieve(slug).json["note"] is None


def test_a_workspace_key_cannot_reach_another_workspace(keys_file):
    full = make_api(keys_path=keys_file).as_key("pk-full")
    error_of(full.list("?workspace_id=ws-b"), 403, "AB03")
    assert full.list("?workspace_id=ws-a").status_code == 200


def test_an_organisation_key_must_name_its_workspace(keys_file):
    admin = make_api(keys_path=keys_file).as_key("pk-admin")
    assert (
        error_of(admin.list(), 400, "AB01")
        == "query.workspace_id: is required for organisation admin API keys"
    )
    full = admin.as_key("pk-full")
    slug = full.create_slug(**OPENAI)
    assert admin.retrieve(f"{slug}?workspace_id=ws-a").status_code == 200
    assert admin.create(**OPENAI, workspace_id="ws-a").status_code == 200
    assert full.list().json["total"] == 2


# --- not found ----------------------------------------------------------------------------------


def test_unknown_slug_is_not_found_for_each_operation(api: Api):
    for response in (
        api.retrieve("nope-000000"),
        api.update("nope-000000", note="x"),
        api.delete("nope-000000"),
    ):
        assert error_of(response, 404, "AB08") == "Virtual key not found: nope-000000"


def test_not_found_can_answer_403_as_some_portkey_endpoints_do():
    api = make_api(not_found_status=403)
    error_of(api.retrieve("nope-000000"), 403, "AB03")


def test_a_deleted_key_is_gone_for_retrieve_update_delete_and_list(api: Api):
    slug = api.create_slug(**OPENAI)
    assert api.delete(slug).json == {}
    error_of(api.retrieve(slug), 404, "AB08")
    error_of(api.update(slug, note="x"), 404, "AB08")
    error_of(api.delete(slug), 404, "AB08")
    assert api.list().json["total"] == 0


# --- provider rules from the contract -----------------------------------------------------------

PROVIDER_CASES = {
    "openai": (OPENAI, "key", "a provider with an API key"),
    "azure default": (AZURE, "resourceName", "azure-openai with default auth"),
    "azure entra": (
        {
            "name": "e",
            "provider": "azure-openai",
            "azureAuthMode": "entra",
            "resourceName": "r",
            "deploymentConfig": [DEPLOYMENT],
            "azureEntraClientId": "c",
            "azureEntraClientSecret": "s3cr3t-entra-value",
            "azureEntraTenantId": "t",
        },
        "azureEntraClientSecret",
        "azure-openai with Entra ID auth",
    ),
    "azure managed": (
        {
            "name": "m",
            "provider": "azure-openai",
            "azureAuthMode": "managed",
            "resourceName": "r",
            "deploymentConfig": [DEPLOYMENT],
        },
        "deploymentConfig",
        "azure-openai with managed identity",
    ),
    "bedrock access key": (
        {
            "name": "b",
            "provider": "bedrock",
            "awsAccessKeyId": "AKIAEXAMPLE",
            "awsSecretAccessKey": "aws-secret-0123456789",
            "awsRegion": "us-east-1",
        },
        "awsSecretAccessKey",
        "bedrock with an access key",
    ),
    "bedrock assumed role": (
        {
            "name": "b",
            "provider": "bedrock",
            "awsAuthType": "assumedRole",
            "awsRoleArn": "arn:aws:iam::1:role/r",
            "awsRegion": "us-east-1",
        },
        "awsRoleArn",
        "bedrock with an assumed role",
    ),
    "vertex key": (
        {
            "name": "v",
            "provider": "vertex-ai",
            "vertexProjectId": "p",
            "vertexRegion": "us-central1",
            "key": "vertex-api-key-0123456",
        },
        "vertexRegion",
        "vertex-ai with an API key",
    ),
    "workers ai": (
        {"name": "w", "provider": "workers-ai", "workersAiAccountId": "acc", "key": "cf-token-0123456789"},
        "workersAiAccountId",
        "workers-ai",
    ),
}


@pytest.mark.parametrize("case", sorted(PROVIDER_CASES))
def test_provider_case_is_accepted_when_complete(api: Api, case):
    body, _, _ = PROVIDER_CASES[case]
    assert api.create(**body).status_code == 200


@pytest.mark.parametrize("case", sorted(PROVIDER_CASES))
def test_provider_case_names_the_missing_field_and_the_case(api: Api, case):
    body, field, title = PROVIDER_CASES[case]
    incomplete = {name: value for name, value in body.items() if name != field}
    message = error_of(api.create(**incomplete), 400, "AB01")
    assert f"body.{field}: is required (for {title})" in message
    assert api.list().json["total"] == 0


def test_vertex_accepts_a_service_account_instead_of_a_key(api: Api):
    body = {
        "name": "v",
        "provider": "vertex-ai",
        "vertexProjectId": "p",
        "vertexRegion": "r",
        "vertexServiceAccountJson": {"private_key": "-----BEGIN PRIVATE KEY-----secret"},
    }
    slug = api.create_slug(**body)
    config = api.retrieve(slug).json["model_config"]
    assert "vertexServiceAccountJson" not in config and config["vertexProjectId"] == "p"


def test_a_secret_mapping_of_key_replaces_the_key(api: Api):
    api.secret_reference("ref-1")
    mapping = [{"target_field": "key", "secret_reference_id": "ref-1"}]
    slug = api.create_slug(name="mapped", provider="anthropic", secret_mappings=mapping)
    assert api.retrieve(slug).json["masked_api_key"] is None


def test_a_deployment_without_api_version_is_located_exactly(api: Api):
    body = {**AZURE, "deploymentConfig": [{"deploymentName": "d"}]}
    assert error_of(api.create(**body), 400, "AB01") == "body.deploymentConfig[0].apiVersion: is required"


def test_unknown_provider_and_unknown_fields_are_named(api: Api):
    message = error_of(api.create(**OPENAI, provider_typo=1, provider_x=None), 400, "AB01")
    assert "body.provider_typo: is not a field the contract allows here" in message
    assert "body.provider_x: is not a field the contract allows here" in message
    message = error_of(api.create(**{**OPENAI, "provider": "not-a-provider"}), 400, "AB01")
    assert message.startswith("body.provider: must be one of: ")


def test_rate_limits_must_be_limits(api: Api):
    message = error_of(api.create(**OPENAI, rate_limits="60 a minute"), 400, "AB01")
    assert message == "body.rate_limits: must be of type array or object"


def test_a_rejected_value_is_never_echoed(api: Api):
    secret = "sk-live-SECRET-never-echo-me"
    response = api.create(
        name="x",
        provider="openai",
        key=secret,
        usage_limits={"credit_limit": secret},
        rate_limits=[{"type": secret, "unit": "rpm", "value": 1}],
    )
    assert error_of(response, 400, "AB01")
    assert secret not in response.get_data(as_text=True)


# --- rules only the domain can check ------------------------------------------------------------


@pytest.mark.parametrize(("threshold", "accepted"), [(100, True), (101, False)])
def test_alert_threshold_not_above_credit_limit(api: Api, threshold, accepted):
    response = api.create(
        **OPENAI, usage_limits={"credit_limit": 100, "alert_threshold": threshold, "type": "cost"}
    )
    if accepted:
        assert response.status_code == 200
    else:
        message = error_of(response, 400, "AB01")
        assert message == "body.usage_limits.alert_threshold: must not be above usage_limits.credit_limit"


@pytest.mark.parametrize(("periodic_reset", "accepted"), [(None, True), ("monthly", False)])
def test_periodic_reset_is_exclusive_with_reset_days(api: Api, periodic_reset, accepted):
    limits = {"credit_limit": 10, "periodic_reset": periodic_reset, "periodic_reset_days": 30}
    response = api.create(**OPENAI, usage_limits=limits)
    if accepted:
        assert response.status_code == 200
    else:
        assert "body.usage_limits.periodic_reset_days: cannot be set together" in error_of(
            response, 400, "AB01"
        )


@pytest.mark.parametrize(("second_target", "accepted"), [("model_config.awsRoleArn", True), ("key", False)])
def test_secret_mapping_targets_are_unique(api: Api, second_target, accepted):
    api.secret_reference("a")
    api.secret_reference("b")
    mappings = [
        {"target_field": "key", "secret_reference_id": "a"},
        {"target_field": second_target, "secret_reference_id": "b"},
    ]
    response = api.create(**OPENAI, secret_mappings=mappings)
    if accepted:
        assert response.status_code == 200
    else:
        assert (
            error_of(response, 400, "AB01")
            == "body.secret_mappings[1].target_field: repeats key; each must be unique"
        )


@pytest.mark.parametrize("field", ["provider", "slug"])
def test_provider_and_slug_cannot_change(api: Api, field):
    slug = api.create_slug(**OPENAI)
    response = api.call("PUT", f"/v1/virtual-keys/{slug}", json={field: "anthropic"})
    assert error_of(response, 400, "AB01") == f"body.{field}: cannot change after creation"
    assert api.retrieve(slug).json["ai_provider_name"] == "openai"


def test_an_update_replaces_the_deployments_and_keeps_other_provider_fields(api: Api):
    azure = api.create_slug(**AZURE)
    new = [{**DEPLOYMENT, "deploymentName": "other"}]
    assert api.update(azure, deploymentConfig=new).status_code == 200
    assert api.retrieve(azure).json["model_config"] == {"resourceName": "res", "deploymentConfig": new}


def test_a_failed_update_changes_nothing(api: Api):
    slug = api.create_slug(**OPENAI, note="kept")
    before = api.retrieve(slug).json
    bad_limits = {"credit_limit": 1, "alert_threshold": 5}
    error_of(api.update(slug, name="new name", key="sk-new-0123456789", usage_limits=bad_limits), 400, "AB01")
    error_of(api.update(slug, name="n" * 256, note=None), 400, "AB01")
    assert api.retrieve(slug).json == before


# --- snake_case spellings of the Node SDK ------------------------------------------------------


def test_snake_case_fields_are_stored_as_camel_case(api: Api):
    body = {
        "name": "node",
        "provider": "azure-openai",
        "key": "azure-secret-000111222333",
        "resource_name": "res",
        "deployment_config": [DEPLOYMENT],
        "azure_auth_mode": "default",
    }
    slug = api.create_slug(**body)
    config = api.retrieve(slug).json["model_config"]
    assert config == {"resourceName": "res", "deploymentConfig": [DEPLOYMENT], "azureAuthMode": "default"}


def test_both_spellings_of_one_field_are_rejected(api: Api):
    message = error_of(api.create(**AZURE, resource_name="other"), 400, "AB01")
    assert message == "body.resource_name: is sent together with body.resourceName; send one"


# --- retrieve, masking and list shapes ----------------------------------------------------------


def test_retrieve_masks_the_key_as_the_live_service_does(api: Api):
    slug = api.create_slug(name="g", provider="google", key="AIzaSyExampleKey0Pw")
    body = api.retrieve(slug).json
    assert (body["key"], body["masked_api_key"]) == ("", "AI*****0Pw")
    assert "AIzaSyExampleKey0Pw" not in json.dumps(body)


def test_a_short_key_is_masked_whole(api: Api):
    slug = api.create_slug(name="g", provider="google", key="short")
    assert api.retrieve(slug).json["masked_api_key"] == "*****"


@pytest.mark.parametrize(
    ("key", "masked"),
    [("sk-abcdef", "*****"), ("sk-abcdefg", "sk*****efg"), ("sk-abcdefgh", "sk*****fgh")],
    ids=["9 characters", "10 characters", "11 characters"],
)
def test_a_key_of_ten_characters_or_more_shows_its_ends_and_a_shorter_one_nothing(api: Api, key, masked):
    slug = api.create_slug(name="g", provider="openai", key=key)
    assert api.retrieve(slug).json["masked_api_key"] == masked


def test_an_empty_key_has_no_mask_on_create_or_update(api: Api):
    """An empty `key` is no secret: kept as none (`masked_api_key: null`), not masked as one."""
    slug = api.create_slug(name="g", provider="openai", key="")
    assert api.retrieve(slug).json["masked_api_key"] is None
    api.update(slug, key="sk-abcdefgh")
    api.update(slug, key="")
    assert api.retrieve(slug).json["masked_api_key"] is None


def test_rotating_to_a_short_key_hides_the_old_keys_ends(api: Api):
    slug = api.create_slug(name="g", provider="openai", key="sk-abcdefg")
    api.update(slug, key="sk-xyz123")
    assert api.retrieve(slug).json["masked_api_key"] == "*****"


def test_secrets_inside_model_config_are_masked(api: Api):
    body, _, _ = PROVIDER_CASES["azure entra"]
    slug = api.create_slug(**body)
    config = api.retrieve(slug).json["model_config"]
    assert config["azureEntraClientSecret"] == "s3*****lue"
    assert config["azureEntraClientId"] == "c" and config["resourceName"] == "r"
    bedrock, _, _ = PROVIDER_CASES["bedrock access key"]
    slug = api.create_slug(**bedrock)
    assert api.retrieve(slug).json["model_config"]["awsSecretAccessKey"] == "aw*****789"


def test_retrieve_has_the_live_shape(api: Api):
    slug = api.create_slug(**OPENAI)
    body = api.retrieve(slug).json
    assert list(body) == [
        "id",
        "ai_provider_name",
        "model_config",
        "key",
        "masked_api_key",
        "slug",
        "name",
        "usage_limits",
        "status",
        "note",
        "created_at",
        "expires_at",
        "last_reset_at",
        "rate_limits",
        "integration_id",
        "tags",
        "object",
    ]
    assert (body["model_config"], body["rate_limits"], body["status"]) == ({}, [], "active")
    assert body["created_at"].endswith("Z") and len(body["created_at"]) == 24


def test_list_items_have_the_live_shape_and_no_key(api: Api):
    api.create_slug(**OPENAI)
    item = api.list().json["data"][0]
    assert "key" not in item and "masked_api_key" not in item
    assert (item["provider"], item["model_config"], item["rate_limits"], item["object"]) == (
        "openai",
        None,
        None,
        "virtual-key",
    )
    assert item["workspace_name"] == "Default"


def test_a_key_past_its_expiry_is_expired(api: Api):
    slug = api.create_slug(**OPENAI, expires_at="2020-01-01T00:00:00.000Z")
    assert api.retrieve(slug).json["status"] == "expired"
    assert api.list().json["data"][0]["status"] == "expired"


# --- slugs --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "prefix"),
    [
        ("OPENAI_API_KEY", "openai-api-key-"),
        ("ANTHROPIC_API_KEY", "anthropic-api-k-"),
        ("Azure-Virtual-Default", "azure-virtual-d-"),
        ("openaiVKey", "openaivkey-"),
        ("Ключ", "vk-"),
    ],
)
def test_slug_is_derived_from_the_name(api: Api, name, prefix):
    slug = api.create_slug(**{**OPENAI, "name": name})
    assert slug.startswith(prefix) and len(slug) == len(prefix) + 6
    int(slug[-6:], 16)


# --- pagination and order ------------------------------------------------------------------------


def test_list_is_newest_first_and_paginates(api: Api):
    slugs = [api.create_slug(**{**OPENAI, "name": f"key {i}"}) for i in range(5)]
    newest_first = slugs[::-1]
    assert [k["slug"] for k in api.list().json["data"]] == newest_first
    page = api.list("?current_page=1&page_size=2").json
    assert page["total"] == 5 and [k["slug"] for k in page["data"]] == newest_first[2:4]
    assert [k["slug"] for k in api.list("?current_page=2&page_size=2").json["data"]] == newest_first[4:]
    assert api.list("?current_page=9&page_size=2").json == {"object": "list", "total": 5, "data": []}


def test_a_bare_trailing_question_mark_lists(api: Api):
    api.create_slug(**OPENAI)
    assert api.list("?").json["total"] == 1


def test_bad_paging_values_are_named(api: Api):
    assert error_of(api.list("?current_page=-1"), 400, "AB01") == "query.current_page: must be at least 0"
    assert error_of(api.list("?page_size=-1"), 400, "AB01") == "query.page_size: must be at least 0"
    assert error_of(api.list("?current_page=x"), 400, "AB01") == "query.current_page: must be of type integer"
    assert error_of(api.list("?workspace_id="), 400, "AB01") == "query.workspace_id: must not be empty"


# --- updates ------------------------------------------------------------------------------------


def test_update_is_partial(api: Api):
    slug = api.create_slug(
        **OPENAI, note="a note", rate_limits=[{"type": "requests", "unit": "rpm", "value": 5}]
    )
    assert api.update(slug, name="renamed").json == {}
    body = api.retrieve(slug).json
    assert (body["name"], body["note"], body["rate_limits"]) == (
        "renamed",
        "a note",
        [{"type": "requests", "unit": "rpm", "value": 5}],
    )


def test_null_note_clears_it_and_a_new_key_rotates_the_mask(api: Api):
    slug = api.create_slug(**OPENAI, note="a note")
    api.update(slug, note=None, key="sk-rotated-99999999abc")
    body = api.retrieve(slug).json
    assert (body["note"], body["masked_api_key"]) == (None, "sk*****abc")


def test_update_sets_limits_and_expiry(api: Api):
    slug = api.create_slug(**OPENAI)
    limits = {"credit_limit": 50, "type": "tokens", "alert_threshold": 40, "periodic_reset": "weekly"}
    api.update(
        slug,
        usage_limits=limits,
        rate_limits=[{"type": "tokens", "unit": "rpd", "value": 0}],
        expires_at="2999-01-01T00:00:00.000Z",
    )
    body = api.retrieve(slug).json
    assert body["usage_limits"] == limits and body["expires_at"] == "2999-01-01T00:00:00.000Z"
    api.update(slug, usage_limits=None, expires_at=None)
    assert api.retrieve(slug).json["usage_limits"] is None


# --- transport ----------------------------------------------------------------------------------


def test_malformed_json_is_a_clear_400(api: Api):
    response = api.call("POST", "/v1/virtual-keys", data=b'{"name": ', content_type="application/json")
    assert error_of(response, 400, "AB01").startswith("body: is not valid JSON (")


def test_a_body_that_is_not_utf8_is_a_clear_400(api: Api):
    response = api.call("POST", "/v1/virtual-keys", data=b'{"name": "\xff"}', content_type="application/json")
    assert error_of(response, 400, "AB01") == "body: is not valid UTF-8 (byte 10)"


def test_a_json_array_is_not_a_body(api: Api):
    response = api.call("POST", "/v1/virtual-keys", data=b"[]", content_type="application/json")
    assert error_of(response, 400, "AB01") == "body: must be a JSON object"


@pytest.mark.parametrize(
    "content_type", ["text/plain", "application/x-www-form-urlencoded", "application/json; charset=latin-1"]
)
def test_a_wrong_content_type_is_415(api: Api, content_type):
    response = api.call("POST", "/v1/virtual-keys", data=json.dumps(OPENAI), content_type=content_type)
    assert error_of(response, 415, "AB01").startswith("header.Content-Type:")
    assert api.list().json["total"] == 0


def test_a_body_over_the_limit_is_413():
    api = make_api(max_body_bytes=1000)
    response = api.call(
        "POST",
        "/v1/virtual-keys",
        data=json.dumps({**OPENAI, "note": "x" * 2000}),
        content_type="application/json",
    )
    assert error_of(response, 413, "AB01") == "body: larger than the limit of 1000 bytes"


def test_unknown_paths_and_methods_answer_in_the_envelope(api: Api):
    response = api.client.get("/v1/nothing-here", headers={"x-portkey-api-key": "k"})
    assert error_of(response, 404, "AB08") == "No such endpoint"
    response = api.client.patch("/v1/virtual-keys", headers={"x-portkey-api-key": "k"})
    error_of(response, 405, "AB01")
    assert set(response.headers["Allow"].split(", ")) >= {"GET", "POST"}


# --- control plane ------------------------------------------------------------------------------


def test_health_answers_ok(api: Api):
    assert api.client.get("/__mock/health").json["status"] == "ok"


def test_reset_empties_the_store(api: Api):
    api.create_slug(**OPENAI)
    assert api.client.post("/__mock/reset").status_code == 200
    assert api.list().json["total"] == 0


def test_seed_endpoint_and_seed_file_preload_keys(api: Api, tmp_path):
    document = {
        "workspaces": [{"api_key": "pk-test-key", "virtual_keys": [{**OPENAI, "slug": "fixed-000001"}]}]
    }
    assert api.client.post("/__mock/seed", json=document).json == {"slugs": ["fixed-000001"]}
    assert api.retrieve("fixed-000001").json["masked_api_key"] == "sk*****XYZ"
    path = tmp_path / "seed.json"
    path.write_text(json.dumps(document))
    assert make_api(seed_path=path).retrieve("fixed-000001").status_code == 200


def test_an_invalid_seed_entry_is_located(api: Api):
    document = {"workspaces": [{"api_key": "k", "virtual_keys": [{"name": "x", "provider": "openai"}]}]}
    response = api.client.post("/__mock/seed", json=document)
    assert error_of(response, 400, "AB01") == (
        "workspaces[0].virtual_keys[0].key: is required (for a provider with an API key)"
    )


def test_a_seeded_slug_that_is_taken_is_located_in_the_seed_document(api: Api):
    key = {**OPENAI, "slug": "fixed-000001"}
    document = {"workspaces": [{"api_key": "k", "virtual_keys": [key, key]}]}
    response = api.client.post("/__mock/seed", json=document)
    assert error_of(response, 400, "AB01") == (
        "workspaces[0].virtual_keys[1].slug: is already taken in this workspace"
    )


def test_answers_given_before_an_update_are_never_given_after_it(api: Api):
    """Retrieve answers and list items are made once per stored version of a key and reused."""
    slug = api.create_slug(**OPENAI, note="first")
    for _ in range(2):  # the second answers come ready-made
        assert api.retrieve(slug).json["note"] == "first"
        assert [item["note"] for item in api.list().json["data"]] == ["first"]
    api.update(slug, note="second")
    assert api.retrieve(slug).json["note"] == "second"
    assert [item["note"] for item in api.list().json["data"]] == ["second"]

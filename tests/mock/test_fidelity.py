"""Faithful to what Portkey accepts: requests its published spec, its gateway and its clients send are
taken, answers keep Portkey's types, and the journal agrees with every answer (issue 11)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from contracts import strategies
from mockserver import create_app
from mockserver.config import MockConfig
from mockserver.contract.compiled import FastValidator
from mockserver.contract.document import Contract
from mockserver.contract.secrets import HEADER_VALUE_FIELDS, masked_header_values
from mockserver.contract.validation import IncomingRequest, RequestValidator
from tests.support.inprocess import Api, error_of

OPENAI = {"name": "n", "provider": "openai", "key": "sk-test-0000000000abcd"}
MAPPING = {"target_field": "key", "secret_reference_id": "my-aws-secret"}

# --- 1. null where Portkey's published spec allows it ----------------------------------------------

# Derived from Portkey's published spec (Portkey-AI/openapi, openapi.yaml at commit a2191f4 of
# 2026-06-12, read on 2026-11-29): every property marked `nullable: true` in the request bodies of
# POST /virtual-keys and PUT /virtual-keys/{slug}, following `$ref`s into UsageLimits and
# SecretMapping. `[]` is an item of the array.
NULLABLE_ON_CREATE = [
    "note",
    "apiVersion",
    "resourceName",
    "deploymentName",
    "usage_limits.periodic_reset",
    "usage_limits.periodic_reset_days",
    "usage_limits.next_usage_reset_at",
    "secret_mappings[].secret_key",
    "secret_mappings[].value_format",
]
NULLABLE_ON_UPDATE = [
    "note",
    "usage_limits.periodic_reset",
    "usage_limits.periodic_reset_days",
    "usage_limits.next_usage_reset_at",
    "secret_mappings[].secret_key",
    "secret_mappings[].value_format",
]


def with_null(body: dict[str, Any], field: str) -> dict[str, Any]:
    """`body` with `field` (`usage_limits.periodic_reset`, `secret_mappings[].secret_key`) set to null."""
    head, _, rest = field.partition(".")
    if not rest:
        return {**body, head: None}
    if head.endswith("[]"):
        name = head[:-2]
        return {**body, name: [with_null(MAPPING, rest)]}
    return {**body, head: with_null({"credit_limit": 10}, rest)}


@pytest.mark.parametrize("field", NULLABLE_ON_CREATE)
def test_create_takes_null_where_portkeys_spec_allows_it(api: Api, field):
    api.secret_reference()  # the one MAPPING names
    response = api.create(**with_null(OPENAI, field))
    assert response.status_code == 200, response.json


@pytest.mark.parametrize("field", NULLABLE_ON_UPDATE)
def test_update_takes_null_where_portkeys_spec_allows_it(api: Api, field):
    api.secret_reference()
    slug = api.create_slug(**OPENAI)
    response = api.update(slug, **with_null({}, field))
    assert response.status_code == 200, response.json


# --- 2. the fields Portkey's gateway reads from model_config -------------------------------------

GATEWAY_FIELDS = [
    ("openai", {"openaiOrganization": "org-1", "openaiProject": "proj-1"}),
    ("anthropic", {"customHost": "https://llm.internal/v1", "customHeaders": {"x-team": "a"}}),
    ("vertex-ai", {"vertexProjectId": "p", "vertexRegion": "r", "vertexSkipPtuCostAttribution": True}),
    ("vertex-ai", {"vertexProjectId": "p", "vertexRegion": "r", "vertexAuthType": "serviceAccount"}),
    (
        "azure-ai",
        {
            "azureFoundryUrl": "https://x.services.ai.azure.com/models",
            "azureApiVersion": "2024-05-01-preview",
        },
    ),
    (
        "azure-ai",
        {
            "azureDeploymentName": "d",
            "azureDeploymentType": "serverless",
            "azureEndpointName": "e",
            "azureRegion": "eastus",
        },
    ),
    (
        "azure-openai",
        {"resourceName": "r", "aiModelName": "gpt-4o", "deploymentName": "d", "apiVersion": "v"},
    ),
    (
        "sagemaker",
        {
            "awsRegion": "us-east-1",
            "awsAccessKeyId": "AKIA0000",
            "amznSagemakerTargetModel": "m.tar.gz",
            "amznSagemakerEnableExplanations": "`true`",
            "amznSagemakerInferenceComponent": "ic",
        },
    ),
    ("bedrock", {"awsAuthType": "serviceRole", "awsRegion": "us-east-1"}),
    (
        "bedrock",
        {
            "awsAuthType": "assumedRole",
            "awsRegion": "us-east-1",
            "awsRoleArn": "arn:aws:iam::1:role/r",
            "awsExternalId": "x",
        },
    ),
    ("workers-ai", {"workersAiAccountId": "acc"}),
    (
        "oracle",
        {
            "oracleRegion": "us-ashburn-1",
            "oracleVersion": "20231130",
            "oracleCompartmentId": "ocid1.compartment.oc1..a",
            "oracleTenancy": "ocid1.tenancy.oc1..a",
            "oracleUser": "ocid1.user.oc1..a",
            "oracleFingerprint": "12:34",
        },
    ),
]


@pytest.mark.parametrize(("provider", "fields"), GATEWAY_FIELDS)
def test_gateway_fields_are_stored_in_model_config(api: Api, provider, fields):
    slug = api.create_slug(name="gw", provider=provider, key="provider-secret-0000wxyz", **fields)
    model_config = api.retrieve(slug).json["model_config"]
    kept = {name: masked_header_values(v) if name in HEADER_VALUE_FIELDS else v for name, v in fields.items()}
    assert {name: model_config.get(name) for name in fields} == kept  # custom headers' values masked


@pytest.mark.parametrize(
    ("provider", "field", "secret"),
    [
        ("oracle", "oraclePrivateKey", "-----BEGIN RSA PRIVATE KEY-----MIIEpAIBAAKCAQEA"),
        ("azure-ai", "azureEntraClientSecret", "entra-secret-000000000xyz"),
        ("sagemaker", "awsSecretAccessKey", "aws-secret-000000000000xyz"),
    ],
)
def test_gateway_secrets_are_masked(api: Api, provider, field, secret):
    slug = api.create_slug(name="gw", provider=provider, key="provider-secret-0000wxyz", **{field: secret})
    for answer in (api.retrieve(slug), api.list()):
        assert secret not in answer.get_data(as_text=True)
    assert api.retrieve(slug).json["model_config"][field].count("*") == 5


@pytest.mark.parametrize(
    ("provider", "field", "owner"),
    [
        ("openai", "vertexSkipPtuCostAttribution", "vertex-ai"),
        ("openai", "oraclePrivateKey", "oracle"),
        ("vertex-ai", "openaiProject", "openai"),
        ("anthropic", "awsRoleArn", "bedrock or sagemaker"),
    ],
)
def test_a_field_of_another_provider_is_refused_naming_its_provider(api: Api, provider, field, owner):
    value = True if field == "vertexSkipPtuCostAttribution" else "arn:aws:iam::1:role/r"
    extra = {"vertexProjectId": "p", "vertexRegion": "r"} if provider == "vertex-ai" else {}
    response = api.create(
        name="x", provider=provider, key="provider-secret-0000wxyz", **extra, **{field: value}
    )
    assert response.status_code == 400
    assert f"body.{field}: belongs to provider {owner}" in response.json["data"]["message"]


# --- 3 and 4. integers ------------------------------------------------------------------------------

LIMITS = {"credit_limit": 10.0, "alert_threshold": 8.0, "periodic_reset_days": 30.0}
RATES = [{"type": "requests", "unit": "rpm", "value": 60.0}]


def floats_in(value: Any) -> list[Any]:
    if isinstance(value, dict):
        return [f for inner in value.values() for f in floats_in(inner)]
    if isinstance(value, list):
        return [f for inner in value for f in floats_in(inner)]
    return [value] if isinstance(value, float) else []


def test_whole_number_floats_are_stored_and_answered_as_integers(api: Api):
    slug = api.create_slug(**OPENAI, usage_limits=LIMITS, rate_limits=RATES)
    retrieved, listed = api.retrieve(slug).json, api.list().json["data"][0]
    for answer in (retrieved, listed):
        assert floats_in(answer) == []
        assert answer["usage_limits"] == {"credit_limit": 10, "alert_threshold": 8, "periodic_reset_days": 30}
        assert answer["rate_limits"] == [{"type": "requests", "unit": "rpm", "value": 60}]
    api.update(slug, usage_limits={"credit_limit": 20.0}, rate_limits=[{**RATES[0], "value": 5.0}])
    assert floats_in(api.retrieve(slug).json) == []


@settings(max_examples=20, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(body=strategies.create_bodies())
def test_no_answer_carries_a_float(body):
    api = Api(create_app(MockConfig()).test_client())
    body = json.loads(json.dumps(body), parse_int=float)  # every integer sent as a whole-number float
    response = api.create(**body)
    assert response.status_code == 200, response.json
    slug = response.json["data"]["slug"]
    assert floats_in(api.retrieve(slug).json) == []
    assert floats_in(api.list().json) == []


@pytest.mark.parametrize(
    ("body", "where"),
    [
        ({"usage_limits": {"credit_limit": int("9" * 401)}}, "body.usage_limits.credit_limit"),
        ({"usage_limits": {"credit_limit": 2**53}}, "body.usage_limits.credit_limit"),
        ({"usage_limits": {"credit_limit": 1e300}}, "body.usage_limits.credit_limit"),
        ({"usage_limits": {"alert_threshold": 0}}, "body.usage_limits.alert_threshold"),
        ({"rate_limits": [{"type": "requests", "unit": "rpm", "value": 2**60}]}, "body.rate_limits[0].value"),
        ({"rate_limits": [{"type": "requests", "unit": "rpm", "value": -1}]}, "body.rate_limits[0].value"),
    ],
)
def test_integers_a_json_client_cannot_read_exactly_are_refused(api: Api, body, where):
    response = api.call(
        "POST", "/v1/virtual-keys", data=json.dumps({**OPENAI, **body}), content_type="application/json"
    )
    assert response.status_code == 400
    assert response.json["data"]["message"].startswith(f"{where}: must be at")
    assert api.list().json["total"] == 0


def test_the_largest_exact_integer_is_taken(api: Api):
    slug = api.create_slug(**OPENAI, usage_limits={"credit_limit": 2**53 - 1})
    assert api.retrieve(slug).json["usage_limits"]["credit_limit"] == 2**53 - 1


# --- 5. an object where the contract allows an object or null ------------------------------------


def test_an_object_for_object_or_null_is_explained_by_its_fields(api: Api):
    slug = api.create_slug(**OPENAI)
    response = api.update(slug, usage_limits={"credit_limit": "10", "alert_threshold": "5"})
    message = response.json["data"]["message"]
    assert "body.usage_limits.credit_limit: must be of type integer" in message
    assert "body.usage_limits.alert_threshold: must be of type integer" in message
    assert "type null" not in message


def test_neither_object_nor_null_says_both(api: Api):
    slug = api.create_slug(**OPENAI)
    response = api.update(slug, usage_limits="monthly")
    assert "body.usage_limits: must be of type object or null" in response.json["data"]["message"]


# --- 6. the journal agrees with the answer ---------------------------------------------------------


@pytest.fixture
def journaled() -> Api:
    return Api(create_app(MockConfig()).test_client())


def journal(api: Api) -> list[dict[str, Any]]:
    return api.client.get("/__mock/journal").json["entries"]


@pytest.mark.parametrize(
    "body",
    [
        {**OPENAI, "usage_limits": {"credit_limit": 5, "alert_threshold": 8}},
        {
            **OPENAI,
            "usage_limits": {"credit_limit": 5, "periodic_reset": "monthly", "periodic_reset_days": 3},
        },
        {**OPENAI, "secret_mappings": [MAPPING, MAPPING]},
        {**OPENAI, "resourceName": "r", "resource_name": "r"},
    ],
)
def test_a_request_refused_for_a_prose_rule_is_journaled_invalid(journaled: Api, body):
    response = journaled.create(**body)
    assert response.status_code == 400
    [entry] = journal(journaled)
    assert entry["valid"] is False
    answered = response.json["data"]["message"]
    for violation in entry["violations"]:
        assert f"{violation['location']}: {violation['rule']}" in answered


def requests() -> st.SearchStrategy[tuple[str, dict[str, Any]]]:
    return st.one_of(
        strategies.create_bodies().map(lambda b: ("create", b)),
        strategies.invalid_create_bodies().map(lambda b: ("create", b)),
        strategies.update_bodies().map(lambda b: ("update", b)),
        strategies.invalid_update_bodies().map(lambda b: ("update", b)),
    )


@settings(max_examples=40, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(sent=requests())
def test_the_journal_says_valid_exactly_when_the_mock_did_not_refuse_the_content(sent):
    api = Api(create_app(MockConfig()).test_client())
    api.secret_reference()  # the one generated mappings name
    api.client.delete("/__mock/journal")
    kind, body = sent
    if kind == "create":
        response = api.create(**body)
    else:
        slug = api.create_slug(**OPENAI)
        api.client.delete("/__mock/journal")
        response = api.update(slug, **body)
    [entry] = journal(api)
    assert entry["valid"] is (response.status_code != 400), (response.json, entry["violations"])


# --- 7. secret_mappings on read ------------------------------------------------------------------


def test_secret_mappings_are_answered_when_the_key_has_some(api: Api):
    api.secret_reference()
    mappings = [{**MAPPING, "secret_key": "api_key", "value_format": "string"}]
    with_mappings = api.create_slug(name="m", provider="openai", secret_mappings=mappings)
    without = api.create_slug(**OPENAI)
    assert api.retrieve(with_mappings).json["secret_mappings"] == mappings
    assert "secret_mappings" not in api.retrieve(without).json
    listed = {item["slug"]: item for item in api.list().json["data"]}
    assert listed[with_mappings]["secret_mappings"] == mappings
    assert "secret_mappings" not in listed[without]
    api.update(with_mappings, secret_mappings=[])
    assert "secret_mappings" not in api.retrieve(with_mappings).json


# --- 8. no stricter than Portkey's spec ------------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        {"name": "", "provider": "openai", "key": "sk-test-0000000000abcd"},
        {"name": "n", "provider": "openai", "key": ""},
        {**OPENAI, "workspace_id": ""},
        {"name": "a", "provider": "azure-openai", "key": "k", "resourceName": "", "deploymentConfig": []},
        {
            "name": "a",
            "provider": "azure-openai",
            "key": "k",
            "resourceName": "r",
            "deploymentName": "",
            "apiVersion": "",
        },
    ],
)
def test_what_portkeys_spec_allows_is_taken(api: Api, body):
    response = api.create(**body)
    assert response.status_code == 200, response.json


def test_an_empty_secret_reference_id_keeps_the_schema_but_names_no_secret_reference(api: Api):
    """Portkey's spec allows the empty id; no secret reference has it, so only the state rule refuses."""
    api.secret_reference()
    body = {**OPENAI, "secret_mappings": [{"target_field": "model_config.x", "secret_reference_id": ""}]}
    rule = Contract.load().operations["createVirtualKey"].state_rules["body.secret_mappings"]
    assert error_of(api.create(**body), 400, "AB01") == f"body.secret_mappings: {rule}"


def test_portkeys_generic_example_is_taken_in_the_callers_workspace(api: Api):
    example = {
        "name": "My first virtual key",
        "provider": "openai",
        "key": "sk-example-0000000000000000",
        "note": "Virtual key description",
        "usage_limits": {"credit_limit": 10, "periodic_reset": "monthly", "alert_threshold": 9},
        "workspace_id": "",
    }
    slug = api.create_slug(**example)
    assert [item["slug"] for item in api.list().json["data"]] == [slug]


def test_a_page_of_size_zero_is_empty_but_counts_the_keys(api: Api):
    api.create_slug(**OPENAI)
    page = api.list("?current_page=0&page_size=0").json
    assert (page["total"], page["data"]) == (1, [])


def test_an_empty_field_of_another_provider_sets_nothing(api: Api):
    # Portkey's published spec lets any key carry deploymentConfig; the Python SDK sends unused
    # named arguments (resourceName, apiVersion, deploymentName) as null.
    slug = api.create_slug(**OPENAI, deploymentConfig=[], resourceName=None)
    assert api.retrieve(slug).status_code == 200


@pytest.mark.parametrize("value", [2**53, int("9" * 401), 1e300])
def test_both_validators_refuse_an_integer_beyond_2_to_the_53(value):
    contract = Contract.load()
    operation = contract.operations["createVirtualKey"]
    body = {**OPENAI, "usage_limits": {"credit_limit": value}}
    assert FastValidator(contract).accept(operation, {}, {}, {}, body) is None
    request = IncomingRequest(
        "POST", operation.path, body=json.dumps(body).encode(), content_type="application/json"
    )
    violations = RequestValidator(contract, strict=True).check(operation, request).violations
    assert [str(v) for v in violations] == [
        "body.usage_limits.credit_limit: must be at most 9007199254740991"
    ]

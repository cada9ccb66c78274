"""The compiled validators agree with openapi-core, the reference, and keep the mock's messages.

The differential properties run schemathesis's generated requests, valid and invalid, for every
operation through both: both accept or both reject, an accepted request decodes to the same
parameters, and a rejected one is located at the same fields.
"""

from __future__ import annotations

import copy
import json
from dataclasses import replace
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode

from mockserver import Contract
from mockserver.contract.exchange import Exchange, ExchangeJudge
from mockserver.contract.rules import conditional_violations, missing_parts, rule_violations
from mockserver.contract.validation import (
    IncomingRequest,
    RequestValidator,
    decode_json_object,
    normalise_spellings,
)
from tests.support.inprocess import make_api
from tests.support.seed_examples import SEED_EXAMPLES

CONTRACT = Contract()
SCHEMA = schemathesis.openapi.from_dict(CONTRACT.document)
FAST = RequestValidator(CONTRACT)
REFERENCE = RequestValidator(CONTRACT, strict=True)
JUDGE = ExchangeJudge(CONTRACT)
REFERENCE_JUDGE = ExchangeJudge(CONTRACT, strict=True)
"""Judges every answer with openapi-core: the reference the compiled response schemas must agree with."""
OPERATIONS = {(op.method, op.path.removeprefix("/v1")): op for op in CONTRACT.operations.values()}
LENIENT = settings(suppress_health_check=list(HealthCheck), deadline=None)
NOTHING_TO_BREAK = {("get", "/model-configs/pricing/{provider}/{model}")}
"""Operations no request can break: no body, no query, only path segments any text fills (a segment
is never empty on the wire), so schemathesis has no negative case to draw."""


def _wire(value: Any) -> str:
    """A generated query value as it travels in a URL."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return ""
    return value if isinstance(value, str) else json.dumps(value)


def _incoming(case: Any) -> IncomingRequest | None:
    """The generated case as the mock receives it; None for a body that is not a JSON object.

    Such bodies are answered by the decoding step, before either schema check runs.
    """
    operation = OPERATIONS[(case.method.lower(), case.path)]
    query = {
        name: [_wire(v) for v in value] if isinstance(value, list) else [_wire(value)]
        for name, value in (case.query or {}).items()
    }
    path_params = {name: str(value) for name, value in (case.path_parameters or {}).items()}
    if operation.has_body and not isinstance(case.body, dict):
        return None
    body = json.dumps(case.body).encode() if operation.has_body else b""
    return IncomingRequest(
        method=case.method,
        path=operation.path,
        query=query,
        headers={"x-portkey-api-key": "pk-differential"},
        body=body,
        content_type="application/json" if operation.has_body else None,
        path_params=path_params,
    )


def _under(location: str, prefix: str) -> bool:
    return location == prefix or location.startswith((prefix + ".", prefix + "["))


def assert_agree(request: IncomingRequest) -> None:
    """Both validators reach the same verdict on `request`, at the same fields."""
    operation = CONTRACT.operation_for(request.method, request.path)
    assert operation is not None
    reference = REFERENCE.check(operation, request)
    assert FAST.accepts(operation, request) == (not reference.violations)  # the verdict without words
    assert FAST.check(operation, request).violations == reference.violations  # and the same words
    body = decode_json_object(request.body) if request.body else None
    if body is not None:
        body, _, alias_violations = normalise_spellings(operation, body)
        if alias_violations:
            return  # rejected before either schema check runs
    prose = rule_violations(body, operation.field_providers) if body is not None else []
    prose += missing_parts(operation.requires_one_of, request.query, bool(request.body))
    prose += conditional_violations(operation.required_when, request.path_params, body)
    schema_violations = [v for v in reference.violations if v not in prose]  # the schema's verdict
    accepted = FAST.fast.accept(operation, request.query, request.path_params, request.headers, body)
    reference_locations = [v.location for v in schema_violations]
    assert (accepted is not None) == (not schema_violations), reference_locations
    if accepted is not None:
        assert accepted == reference.request.query
        return
    fast_locations = FAST.fast.located(operation, request.query, request.path_params, request.headers, body)
    for where in reference_locations:
        assert any(_under(where, found) for found in fast_locations), (where, fast_locations)
    for found in fast_locations:
        assert any(_under(where, found) for where in reference_locations), (found, reference_locations)


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE], ids=lambda m: m.value)
@pytest.mark.parametrize("key", sorted(OPERATIONS), ids=lambda k: f"{k[0]} {k[1]}")
def test_fast_path_agrees_with_openapi_core(key, mode):
    method, path = key
    if mode is GenerationMode.NEGATIVE and key in NOTHING_TO_BREAK:
        pytest.skip("no request to this operation breaks the contract")

    @LENIENT
    @given(SCHEMA[path][method.upper()].as_strategy(generation_mode=mode))
    def agree(case: Any) -> None:
        request = _incoming(case)
        if request is not None:
            assert_agree(request)

    agree()


def _create(body: dict[str, Any]) -> IncomingRequest:
    return IncomingRequest(
        "POST", "/v1/virtual-keys", body=json.dumps(body).encode(), content_type="application/json"
    )


def _list(**query: str) -> IncomingRequest:
    return IncomingRequest("GET", "/v1/virtual-keys", query={k: [v] for k, v in query.items()})


OPENAI = SEED_EXAMPLES["openai"]


def _rate(value: Any) -> IncomingRequest:
    return _create({**OPENAI, "rate_limits": [{"type": "requests", "unit": "rpm", "value": value}]})


EDGE_CASES = {
    "timestamp with offset": _create({**OPENAI, "expires_at": "2030-01-01T00:00:00+02:00"}),
    "timestamp lower-case t and z": _create({**OPENAI, "expires_at": "2030-01-01t00:00:00z"}),
    "timestamp without zone": _create({**OPENAI, "expires_at": "2030-01-01T00:00:00"}),
    "timestamp leap second": _create({**OPENAI, "expires_at": "2030-12-31T23:59:60Z"}),
    "date only": _create({**OPENAI, "expires_at": "2030-01-01"}),
    "integer written as 1.0": _rate(1.0),
    "boolean for an integer": _rate(True),
    "huge integer": _rate(10**30),
    "name of 255 astral characters": _create({**OPENAI, "name": "\U0001f511" * 255}),
    "name of 256 characters": _create({**OPENAI, "name": "n" * 256}),
    "role arn pattern": _create({**SEED_EXAMPLES["bedrock-assumed-role"], "awsRoleArn": "role/x"}),
    "secret mapping target": _create(
        {**OPENAI, "secret_mappings": [{"target_field": "model_config.9x", "secret_reference_id": "s"}]}
    ),
    "azure without resource": _create(
        {k: v for k, v in SEED_EXAMPLES["azure-default"].items() if k != "resourceName"}
    ),
    "snake_case spelling": _create({**SEED_EXAMPLES["azure-managed"], "resource_name": "r"}),
    "page size with a plus": _list(page_size="+3"),
    "page size with underscores": _list(page_size="1_0"),
    "page size with spaces": _list(page_size=" 7 "),
    "page size in Arabic digits": _list(page_size="\u0663"),
    "page size as a float": _list(page_size="1.0"),
    "page size empty": _list(page_size=""),
    "page zero size": _list(page_size="0"),
    "empty workspace": _list(workspace_id=""),
}


@pytest.mark.parametrize("name", sorted(EDGE_CASES))
def test_fast_path_agrees_on_edge_cases(name):
    assert_agree(EDGE_CASES[name])


def test_a_rejected_create_names_the_field_and_the_closest_provider_form():
    fields = {k: v for k, v in SEED_EXAMPLES["azure-default"].items() if k != "resourceName"}
    response = make_api().create(**fields)
    assert response.status_code == 400
    assert response.json["data"] == {
        "message": "body.resourceName: is required (for azure-openai with default auth)",
        "errorCode": "AB01",
    }


def test_strict_mode_gives_the_same_answers():
    fast, strict = make_api(), make_api(strict=True)
    bad = {**OPENAI, "rate_limits": [{"type": "requests", "unit": "rpm", "value": -1}]}
    assert fast.create(**bad).json == strict.create(**bad).json
    assert fast.list("?page_size=0").json == strict.list("?page_size=0").json
    assert strict.create(**OPENAI).status_code == 200
    assert strict.list("?page_size=2").json["total"] == 1


def test_a_rejected_secret_is_never_echoed():
    secret = "sk-live-do-not-echo-1234567890"
    response = make_api().create(name="n", provider="openai", key=secret, rate_limits=[{"value": secret}])
    assert response.status_code == 400
    assert secret not in response.get_data(as_text=True)


def test_the_reference_judges_requests_without_an_api_key():
    """Seeding and the conformance checker validate requests that carry no API key."""
    create = CONTRACT.operations["createVirtualKey"]
    checked = FAST.check(create, _create({"name": "n", "provider": "openai"}))
    assert [str(v) for v in checked.violations] == ["body.key: is required (for a provider with an API key)"]


# --- answers: the compiled response schemas agree with openapi-core ----------------------------


@pytest.fixture(scope="module")
def answers() -> list[Exchange]:
    """The mock's real answers to every operation: successes, long lists and refusals."""
    client = make_api().client
    headers = {"x-portkey-api-key": "pk-answers"}
    sent: list[Exchange] = []

    def send(method: str, path: str, **kwargs: Any) -> Any:
        kwargs.setdefault("headers", headers)
        response = client.open(path, method=method, **kwargs)
        sent.append(
            Exchange.from_url(
                method,
                path,
                kwargs["headers"],
                status=response.status_code,
                response_headers=dict(response.headers),
                response_body=response.get_data(),
            )
        )
        return response

    for name, body in sorted(SEED_EXAMPLES.items()):
        slug = send("POST", "/v1/virtual-keys", json={**body, "name": name}).json["data"]["slug"]
        send("GET", f"/v1/virtual-keys/{slug}")
        send("PUT", f"/v1/virtual-keys/{slug}", json={"note": "n", "usage_limits": {"credit_limit": 5}})
    send("GET", "/v1/virtual-keys?page_size=100")
    send("GET", "/v1/providers?page_size=100")
    integration = send("POST", "/v1/integrations", json={"name": "i", "ai_provider_id": "openai", "key": "k"})
    slug = integration.json["slug"]
    send("PUT", f"/v1/integrations/{slug}/models", json={"models": [{"slug": "m", "enabled": True}]})
    for path in ("", "/models", "/workspaces"):
        send("GET", f"/v1/integrations/{slug}{path}")
    send("GET", "/v1/integrations")
    send("PUT", f"/v1/integrations/{slug}/workspaces", json={"global_workspace_access": {"enabled": True}})
    provider = send("POST", "/v1/providers", json={"name": "p", "integration_id": slug}).json["slug"]
    send("GET", f"/v1/providers/{provider}")
    send("PUT", f"/v1/providers/{provider}", json={"note": None})
    send("DELETE", f"/v1/providers/{provider}")
    send("DELETE", f"/v1/integrations/{slug}/models?slugs=m")
    send("PUT", f"/v1/integrations/{slug}", json={"name": "j"})
    send("DELETE", f"/v1/integrations/{slug}")
    send("POST", "/v1/virtual-keys", json={"name": "n"})  # 400
    send("GET", "/v1/virtual-keys/absent")  # 404
    send("GET", "/v1/virtual-keys", headers={})  # 401
    send("POST", "/v1/virtual-keys", data=b"x", content_type="text/plain")  # 415
    send("POST", "/v1/providers", json={"name": "p", "integration_id": "absent"})  # 404
    return sent


def reference_violations(exchange: Exchange) -> Any:
    return REFERENCE_JUDGE.judge(exchange).response_violations


def compiled_statuses(operation: Any) -> Any:
    compiled = FAST.fast._compiled(operation)
    return compiled.responses if compiled is not None else {}


def assert_answer_judged_alike(exchange: Exchange, body: Any) -> None:
    operation = CONTRACT.operation_for(exchange.request.method, exchange.request.path)
    assert operation is not None
    fast = FAST.fast.accepts_response(operation, exchange.status, body)
    sent = replace(exchange, response_body=json.dumps(body).encode())
    reference = reference_violations(sent)
    assert JUDGE.judge(sent).response_violations == reference  # what the toolkit and the tests use
    assert JUDGE.judge_response(sent) == reference  # the answer alone, as verify's response check judges it
    if exchange.status in compiled_statuses(operation):
        assert fast == (not reference), (exchange.describe(), reference)
    else:
        assert not fast  # a status the fast path does not judge goes to the reference


def test_the_compiled_response_schemas_accept_every_answer_of_the_mock(answers):
    statuses = {exchange.status for exchange in answers}
    assert {200, 400, 401, 404, 415} <= statuses
    for exchange in answers:
        assert_answer_judged_alike(exchange, json.loads(exchange.response_body))
        assert reference_violations(exchange) == ()


def _paths(value: Any, at: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [at]
    if isinstance(value, dict):
        for name, inner in value.items():
            found += _paths(inner, (*at, name))
    elif isinstance(value, list):
        for index, inner in enumerate(value):
            found += _paths(inner, (*at, index))
    return found


_BROKEN_VALUES = [None, 7, -1, 1.5, True, "x", "", [], {}, "2030-13-01T00:00:00Z", "not-a-uuid"]


def _broken(body: Any, at: tuple[Any, ...], how: str, value: Any) -> Any:
    body = copy.deepcopy(body)
    if not at:
        return value if how == "replace" else body
    parent = body
    for part in at[:-1]:
        parent = parent[part]
    last = at[-1]
    if how == "drop" and isinstance(parent, dict):
        del parent[last]
    elif how == "add" and isinstance(parent[last], dict):
        parent[last]["unexpected_field"] = value
    else:
        parent[last] = value
    return body


@settings(suppress_health_check=list(HealthCheck), deadline=None)
@given(data=st.data())
def test_the_compiled_response_schemas_refuse_what_openapi_core_refuses(answers, data):
    exchange = data.draw(st.sampled_from(answers))
    body = json.loads(exchange.response_body)
    at = data.draw(st.sampled_from(_paths(body)))
    how = data.draw(st.sampled_from(["drop", "replace", "add"]))
    broken = _broken(body, at, how, data.draw(st.sampled_from(_BROKEN_VALUES)))
    assert_answer_judged_alike(exchange, broken)

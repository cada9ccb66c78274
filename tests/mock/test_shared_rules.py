"""Rules shared across resources: each holds the same way for every resource that shares it.

Each test is a table over the resources the contract says share the rule, derived from
`openapi.yaml` where it can be (the schema a field refers to, where a usage-limits object sits, which
text fields a read answer may leave out): a resource added to the contract with the same field is
in the table with no code here, or, where it needs a way to be made, fails the table's own check
until it has one. The rules and their evidence: docs/contract.md, "Rules shared across resources".
Every answer is also judged against the contract (`Api.call`), on both stores.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from mockserver.contract.document import Contract
from tests.mock.test_declared_resources import DECLARED, _create_path, _example, _paths, _ref
from tests.support.inprocess import OPENAI, Api, error_of

CONTRACT = Contract.load()
LIMIT = {"type": "requests", "unit": "rpm", "value": 60}
SENT_RATE_LIMITS = "#/components/schemas/SentRateLimits"
USAGE_LIMITS = "#/components/schemas/UsageLimits"


def _journal(api: Api) -> list[dict[str, Any]]:
    return api.client.get("/__mock/journal").json["entries"]


def _integration(api: Api) -> str:
    """An integration every workspace may use, so a provider can be made on it in the key's own."""
    body = {"name": "shared rules", "ai_provider_id": "openai", "key": "sk-shared-0000000000wxyz"}
    slug = api.call("POST", "/v1/integrations", json=body).json["slug"]
    access = {"global_workspace_access": {"enabled": True}}
    assert api.call("PUT", f"/v1/integrations/{slug}/workspaces", json=access).status_code == 200
    return str(slug)


# --- rate_limits: an array; one object taken with a warning, kept as a one-item array -------------


def _operations_referring_to(schema_ref: str, field: str) -> set[str]:
    return {
        op.operation_id
        for op in CONTRACT.operations.values()
        if (op.body_schema or {}).get("properties", {}).get(field) == {"$ref": schema_ref}
    }


def _vk_create(api: Api, limits: Any) -> tuple[Any, str]:
    response = api.create(**OPENAI, rate_limits=limits)
    return response, response.json["data"]["slug"] if response.status_code == 200 else ""


def _vk_update(api: Api, limits: Any) -> tuple[Any, str]:
    slug = api.create_slug(**OPENAI)
    return api.update(slug, rate_limits=limits), slug


def _provider_create(api: Api, limits: Any) -> tuple[Any, str]:
    body = {"name": "limited", "integration_id": _integration(api), "rate_limits": limits}
    response = api.call("POST", "/v1/providers", json=body)
    return response, response.json.get("slug", "")


def _provider_update(api: Api, limits: Any) -> tuple[Any, str]:
    body = {"name": "limited", "integration_id": _integration(api)}
    slug = api.call("POST", "/v1/providers", json=body).json["slug"]
    return api.call("PUT", f"/v1/providers/{slug}", json={"rate_limits": limits}), slug


SENDS_RATE_LIMITS: dict[str, Callable[[Api, Any], tuple[Any, str]]] = {
    "createVirtualKey": _vk_create,
    "updateVirtualKey": _vk_update,
    "createProvider": _provider_create,
    "updateProvider": _provider_update,
}
"""How each operation whose body takes `SentRateLimits` writes a record's rate limits; the answer and
the record's slug."""


def test_every_operation_taking_sent_rate_limits_is_in_the_table():
    assert _operations_referring_to(SENT_RATE_LIMITS, "rate_limits") == set(SENDS_RATE_LIMITS)


def _rate_limits_read(api: Api, slug: str) -> Iterator[tuple[str, Any]]:
    """The record's rate limits through every read of the records: both retrieves and both lists."""
    for path in ("/v1/virtual-keys", "/v1/providers"):
        yield f"GET {path}/{{slug}}", api.call("GET", f"{path}/{slug}").json["rate_limits"]
        [item] = [i for i in api.call("GET", path).json["data"] if i["slug"] == slug]
        yield f"GET {path}", item["rate_limits"]


@pytest.mark.parametrize("operation", sorted(SENDS_RATE_LIMITS))
@pytest.mark.parametrize(("sent", "warned"), [(LIMIT, True), ([LIMIT], False)], ids=["one-object", "array"])
def test_rate_limits_are_kept_and_answered_as_an_array_whatever_the_operation(
    api: Api, operation: str, sent: Any, warned: bool
):
    response, slug = SENDS_RATE_LIMITS[operation](api, sent)
    assert response.status_code == 200, response.json
    for read, answered in _rate_limits_read(api, slug):
        assert answered == [LIMIT], (operation, read)
    [entry] = [e for e in _journal(api) if e["operation"] == operation]
    warnings = [w for w in entry["warnings"] if w["location"] == "body.rate_limits"]
    assert entry["valid"] and len(warnings) == int(warned), entry["warnings"]
    if warned:
        assert "one rate-limit object" in warnings[0]["rule"]


@pytest.mark.parametrize("operation", sorted(SENDS_RATE_LIMITS))
def test_rate_limits_that_are_neither_are_refused_in_the_same_words_everywhere(api: Api, operation: str):
    response, _ = SENDS_RATE_LIMITS[operation](api, "60 a minute")
    assert error_of(response, 400, "AB01") == "body.rate_limits: must be of type array or object"


def _response_schema(operation_id: str) -> dict[str, Any]:
    operation = CONTRACT.operations[operation_id]
    spec = CONTRACT.document["paths"][operation.template][operation.method]
    content = CONTRACT.resolve(spec["responses"]["200"])["content"]["application/json"]
    return _flattened(content["schema"])


def _flattened(schema: Any) -> dict[str, Any]:
    """A schema's properties and required list, through `$ref` and `allOf`."""
    schema = CONTRACT.resolve(schema)
    properties = dict(schema.get("properties", {}))
    required = list(schema.get("required", []))
    for part in schema.get("allOf", ()):
        inner = _flattened(part)
        properties |= inner["properties"]
        required += inner["required"]
    return {"properties": properties, "required": required}


def _read_schemas() -> Iterator[tuple[str, dict[str, Any]]]:
    """The record schema of every retrieve and list answer of the contract (a list's item)."""
    for op in CONTRACT.operations.values():
        if op.method != "get":
            continue
        schema = _response_schema(op.operation_id)
        data = schema["properties"].get("data")
        if data is not None and CONTRACT.resolve(data).get("type") == "array":
            yield op.operation_id, _flattened(CONTRACT.resolve(data)["items"])
        else:
            yield op.operation_id, schema


def test_no_read_schema_of_the_contract_types_rate_limits_as_one_object():
    """Whatever a request may send, every read schema keeping rate limits declares an array (or
    null); what the mock answers is checked against these schemas in the tests above."""
    for operation, schema in _read_schemas():
        answered = schema["properties"].get("rate_limits")
        if answered is not None:
            types = CONTRACT.resolve(answered).get("type")
            assert "array" in types and "object" not in types, (operation, answered)


# --- usage limits: the same rules in every usage-limits object, wherever a body holds one ----------


def _usage_limits_places(schema: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    """Where a body schema holds a usage-limits object: a path of field names, with 0 for an array's
    first item (`("workspaces", 0, "usage_limits", 0)`)."""
    if isinstance(schema, dict) and schema.get("$ref") == USAGE_LIMITS:
        yield path
        return
    schema = CONTRACT.resolve(schema)
    if not isinstance(schema, dict):
        return
    for name, inner in schema.get("properties", {}).items():
        yield from _usage_limits_places(inner, (*path, name))
    if "items" in schema:
        yield from _usage_limits_places(schema["items"], (*path, 0))
    for keyword in ("anyOf", "oneOf", "allOf"):
        for branch in schema.get(keyword, ()):
            yield from _usage_limits_places(branch, path)


USAGE_LIMITS_PLACES = sorted(
    {
        (op.operation_id, place)
        for op in CONTRACT.operations.values()
        for place in _usage_limits_places(op.body_schema)
    }
)


def _placed(body: dict[str, Any], place: tuple[Any, ...], value: Any) -> dict[str, Any]:
    """`body` with `value` at `place`, the objects and one-item arrays on the way made as needed."""
    holder: Any = body
    for step, following in itertools.pairwise(place):
        fresh: Any = [] if isinstance(following, int) else {}
        if isinstance(step, int):
            if not holder:
                holder.append(fresh)
            holder = holder[0]
        else:
            holder = holder.setdefault(step, fresh)
    if isinstance(place[-1], int):
        holder[:] = [value]
    else:
        holder[place[-1]] = value
    return body


def _where(place: tuple[Any, ...]) -> str:
    return "".join(f"[{step}]" if isinstance(step, int) else f".{step}" for step in place).lstrip(".")


def _path_of(operation_id: str) -> str:
    """The operation's path with each parameter filled (the contract's example, else a made-up one)."""
    operation = CONTRACT.operations[operation_id]
    return CONTRACT.example_path(operation) or re.sub(r"\{[^}]+\}", "made-up", operation.path)


def test_the_usage_limits_table_finds_every_kind_of_place():
    """The places are derived from the contract; this keeps the derivation honest."""
    found = {(operation, _where(place)) for operation, place in USAGE_LIMITS_PLACES}
    assert {
        ("createVirtualKey", "usage_limits"),
        ("updateProvider", "usage_limits"),
        ("createApiKey", "usage_limits"),
        ("createWorkspace", "usage_limits[0]"),
        ("updateIntegrationWorkspaces", "workspaces[0].usage_limits[0]"),
        ("updateIntegrationWorkspaces", "global_workspace_access.usage_limits[0]"),
    } <= found


@pytest.mark.parametrize(
    ("operation", "place"), USAGE_LIMITS_PLACES, ids=lambda v: _where(v) if isinstance(v, tuple) else v
)
@pytest.mark.parametrize(
    ("limits", "field", "rule"),
    [
        ({"credit_limit": 5, "alert_threshold": 6}, "alert_threshold", "must not be above {}.credit_limit"),
        (
            {"credit_limit": 5, "periodic_reset": "monthly", "periodic_reset_days": 7},
            "periodic_reset_days",
            "cannot be set together with {}.periodic_reset",
        ),
    ],
    ids=["alert-above-credit", "two-resets"],
)
def test_usage_limits_rules_hold_wherever_a_body_holds_usage_limits(
    api: Api, operation: str, place: tuple[Any, ...], limits: dict[str, Any], field: str, rule: str
):
    op = CONTRACT.operations[operation]
    body = _placed(dict(CONTRACT.body_example(op) or {}), place, limits)
    response = api.call(op.method.upper(), _path_of(operation), json=body)
    where = _where(place)
    assert f"body.{where}.{field}: {rule.format(where)}" in error_of(response, 400, "AB01").split("; ")


def test_a_document_a_body_carries_is_not_searched_for_usage_limits(api: Api):
    """The rules hold where the contract puts usage limits; a service-account key file is the
    client's own document, whatever its keys are called."""
    document = {"type": "service_account", "usage_limits": {"credit_limit": 5, "alert_threshold": 9}}
    document["private_key"] = "-----BEGIN PRIVATE KEY-----shared-rules-never-shown"
    body = {"name": "vertex", "provider": "vertex-ai", "vertexProjectId": "p", "vertexRegion": "us-east1"}
    made = api.call("POST", "/v1/virtual-keys", json={**body, "vertexServiceAccountJson": document})
    assert made.status_code == 200, made.json
    read = api.call("GET", f"/v1/virtual-keys/{made.json['data']['slug']}")
    for shown in (made.get_data(as_text=True), read.get_data(as_text=True), str(_journal(api))):
        assert "shared-rules-never-shown" not in shown


# --- unset text: null where Portkey's read schema is nullable, else left out -----------------------


def _free_text(schema: Any) -> bool:
    """A plain text field: a string (or null), no enum, format or pattern, not a secret."""
    schema = CONTRACT.resolve(schema)
    types = schema.get("type")
    types = [types] if isinstance(types, str) else types or []
    keyed = {"enum", "format", "pattern", "writeOnly", "const"} & set(schema)
    return "string" in types and set(types) <= {"string", "null"} and not keyed


def _optional_text_fields(operation_id: str) -> list[str]:
    schema = CONTRACT.operations[operation_id].body_schema or {}
    required = set(schema.get("required", ()))
    return [
        name
        for name, prop in schema.get("properties", {}).items()
        if name not in required and name not in {"name", "slug"} and not name.endswith("_id")
        if _free_text(prop)
    ]


READS: dict[str, tuple[str, str]] = {
    "createVirtualKey": ("listVirtualKeys", "retrieveVirtualKey"),
    "createProvider": ("listProviders", "retrieveProvider"),
    "createIntegration": ("listIntegrations", "retrieveIntegration"),
    **{
        d.operations["create"]: (d.operations["list"], d.operations["retrieve"])
        for d in DECLARED.values()
        if "create" in d.operations and "retrieve" in d.operations
    },
}
"""Each create operation's list and retrieve (a declared resource's from its marker; a SCIM mapping
has no retrieve, and no optional text field a read answers)."""


def _made_vk(api: Api, extra: dict[str, Any]) -> str:
    return api.create_slug(**OPENAI, **extra)


def _made_provider(api: Api, extra: dict[str, Any]) -> str:
    body = {"name": "plain", "integration_id": _integration(api), **extra}
    return str(api.call("POST", "/v1/providers", json=body).json["slug"])


def _made_integration(api: Api, extra: dict[str, Any]) -> str:
    body = {"name": "plain", "ai_provider_id": "openai", "key": "sk-plain-0000000000wxyz", **extra}
    return str(api.call("POST", "/v1/integrations", json=body).json["slug"])


def _made_declared(name: str) -> Callable[[Api, dict[str, Any]], str]:
    def made(api: Api, extra: dict[str, Any]) -> str:
        declaration = DECLARED[name]
        create = declaration.operations["create"]
        texts = set(_optional_text_fields(create))
        body = {k: v for k, v in _example(declaration).items() if k not in texts} | extra
        response = api.call("POST", _create_path(declaration, _paths(api, declaration)[0]), json=body)
        assert response.status_code == 200, response.json
        created = response.json["data"] if declaration.create_wrapped else response.json
        return _ref(declaration, created)

    return made


def _made_mcp_server(api: Api, extra: dict[str, Any]) -> str:
    """An MCP server names an MCP integration its workspace may use: one every workspace may."""
    sent = {"name": "plain", "url": "https://mcp.example.com/mcp", "auth_type": "none", "transport": "http"}
    integration = api.call("POST", "/v1/mcp-integrations", json=sent).json["id"]
    everyone = {"workspaces": [], "global_workspace_access": {"enabled": True}}
    api.call("PUT", f"/v1/mcp-integrations/{integration}/workspaces", json=everyone)
    body = {"name": "plain", "mcp_integration_id": integration, **extra}
    return str(api.call("POST", "/v1/mcp-servers", json=body).json["id"])


MAKERS: dict[str, Callable[[Api, dict[str, Any]], str]] = {
    "createVirtualKey": _made_vk,
    "createMcpServer": _made_mcp_server,
    "createProvider": _made_provider,
    "createIntegration": _made_integration,
}
MAKERS = {  # a declared resource is made from its example unless it needs more (a provider, an integration)
    **{
        d.operations["create"]: _made_declared(name)
        for name, d in DECLARED.items()
        if d.operations.get("create") in READS
    },
    **MAKERS,
}
"""How a record of each create operation is made, from its contract example without the optional text
fields and with the given ones; what its item path names it by."""


def _answered(operation: str, field: str) -> list[tuple[str, dict[str, Any]]]:
    """The read operations of `operation`'s records whose schema has `field`, with that schema."""
    schemas = dict(_read_schemas())
    return [(read, schemas[read]) for read in READS[operation] if field in schemas[read]["properties"]]


UNSET_TEXT = sorted(
    (operation, field)
    for operation in READS
    for field in _optional_text_fields(operation)
    if _answered(operation, field)
)
"""Each optional text field a create takes and a read answers, from the contract."""

LEFT_OUT = "left out"
UNSET_ANSWERED: dict[tuple[str, str], str | None] = {
    # null: Portkey's published VirtualKeys and Providers schemas make `note` nullable, and live
    # virtual-key retrieves and lists answer `note: null`
    ("createVirtualKey", "note"): None,
    ("createProvider", "note"): None,
    # null: the published Workspace schema makes `description` nullable, its example is null
    ("createWorkspace", "description"): None,
    # null: the published secret reference detail makes `description` and `secret_key` nullable
    ("createSecretReference", "description"): None,
    ("createSecretReference", "secret_key"): None,
    # left out: the published IntegrationList and ApiKeyObject type `description` as a string, never
    # null; the Terraform provider and the Python SDK read it as optional
    ("createIntegration", "description"): LEFT_OUT,
    ("createApiKey", "description"): LEFT_OUT,
    # left out: the published Label schema types `description` and `color_code` as strings, never null
    ("createLabel", "description"): LEFT_OUT,
    ("createLabel", "color_code"): LEFT_OUT,
    # null: the published McpIntegration and its list item make `description` nullable
    ("createMcpIntegration", "description"): None,
    # null: the published McpServer and its list item make `description` nullable
    ("createMcpServer", "description"): None,
    # left out: the published ExportItem types `description` as a string, never null
    ("createLogExport", "description"): LEFT_OUT,
}
"""What a read answers for an unset text field, and the evidence: one entry for each the contract has."""


def test_every_unset_text_field_has_its_evidence_and_the_contract_agrees():
    assert set(UNSET_TEXT) == set(UNSET_ANSWERED)
    for (operation, field), expected in UNSET_ANSWERED.items():
        for read, schema in _answered(operation, field):
            nullable = "null" in (CONTRACT.resolve(schema["properties"][field]).get("type") or [])
            assert nullable == (expected is None), (read, field)
            assert (field in schema["required"]) == (expected is None), (read, field)


def _path(operation_id: str, ref: str = "") -> str:
    """A read's path, its one parameter naming `ref`."""
    return re.sub(r"\{[^}]+\}", ref, CONTRACT.operations[operation_id].path)


@pytest.mark.parametrize(("operation", "field"), UNSET_TEXT)
def test_an_unset_text_field_is_null_or_left_out_as_portkey_answers_it(api: Api, operation: str, field: str):
    """The same rule for a key's note as for an integration's description: what Portkey's published
    read schema types (`UNSET_ANSWERED`), on retrieve and in the list alike."""
    ref = MAKERS[operation](api, {})
    list_op, retrieve_op = READS[operation]
    retrieved = api.call("GET", _path(retrieve_op, ref)).json
    listed = [i for i in api.call("GET", _path(list_op)).json["data"] if i["id"] == retrieved["id"]]
    answers = {retrieve_op: retrieved, list_op: listed[0]}
    expected = UNSET_ANSWERED[(operation, field)]
    for read, _ in _answered(operation, field):
        if expected is None:
            assert field in answers[read] and answers[read][field] is None, (read, field)
        else:
            assert field not in answers[read], (read, field, answers[read].get(field))


# --- workspace_id in a body: empty means the caller's workspace, wherever a body names one --------

BODY_WORKSPACE_ID = {"$ref": "#/components/schemas/BodyWorkspaceId"}
PATH_NAMES_IT = {"deleteWorkspace", "addWorkspaceMembers"}
"""Bodies whose `workspace_id` the SDKs repeat but the path decides (taken, never used)."""
NAMES_ITS_SUBJECT = {"createScimWorkspaceMapping"}
"""Bodies whose `workspace_id` is what the record is about (the workspace a SCIM group maps to), not
where the call acts: it must name a workspace of the organisation, never empty."""


def _names_workspace(operation_id: str) -> bool:
    schema = (CONTRACT.operations[operation_id].body_schema or {}).get("properties", {}).get("workspace_id")
    refused = schema is not None and "not" in schema  # cannot change after creation
    return schema is not None and not refused and operation_id not in PATH_NAMES_IT | NAMES_ITS_SUBJECT


BODY_WORKSPACE_OPS = sorted(op for op in CONTRACT.operations if _names_workspace(op))


def test_every_body_naming_a_workspace_takes_the_same_workspace_id():
    for operation in BODY_WORKSPACE_OPS:
        schema = CONTRACT.operations[operation].body_schema["properties"]["workspace_id"]
        assert BODY_WORKSPACE_ID in (schema, *schema.get("allOf", ())), operation


UPDATES = {"createVirtualKey": "updateVirtualKey", "createProvider": "updateProvider"} | {
    d.operations["create"]: d.operations["update"]
    for d in DECLARED.values()
    if "create" in d.operations and "update" in d.operations
}


@pytest.mark.parametrize("operation", sorted(set(BODY_WORKSPACE_OPS) & set(MAKERS)))
def test_an_empty_body_workspace_id_means_the_callers_workspace(api: Api, operation: str):
    """Portkey's own create examples for virtual keys, providers and configs send `workspace_id: ""`."""
    ref = MAKERS[operation](api, {"workspace_id": ""})
    item = _path(READS[operation][1], ref)
    assert api.call("GET", item).status_code == 200  # no workspace named: the caller's
    update = UPDATES.get(operation)
    named = update is not None and "name" in CONTRACT.operations[update].body_schema["properties"]
    if update in BODY_WORKSPACE_OPS and named:  # a logs export has no name: test_log_exports.py
        renamed = api.call("PUT", item, json={"workspace_id": "", "name": "renamed"})
        assert renamed.status_code == 200, renamed.json
        assert api.call("GET", item).json["name"] == "renamed"

"""Hypothesis strategies for virtual-key, integration and provider request bodies, from the contract.

Each provider case is one `anyOf` branch of the contract's create schema, found by its title.
Schemathesis generates from that branch alone, so field names, types and enums are read from
`openapi.yaml` and written nowhere else. Bodies also keep the rules the contract states in prose
(limits consistent, `target_field` unique), so a valid body here is one the service must accept.

    from hypothesis import given
    from contracts import strategies

    @given(strategies.create_bodies("azure-entra"))
    def test_my_client_stores_entra_keys(body): ...

    @given(strategies.integration_bodies("bedrock"), strategies.provider_bodies())
    def test_my_client_provisions_bedrock(integration, provider): ...
"""

from __future__ import annotations

import copy
import json
import re
from dataclasses import dataclass, field
from functools import cache
from typing import Any

import schemathesis
from hypothesis import strategies as st
from schemathesis.core import NotSet
from schemathesis.core.parameters import ParameterLocation

from mockserver.contract import date_times
from mockserver.contract.document import Contract
from mockserver.contract.rules import ONE_OF_EXTENSION, conditional_violations, missing_parts, rule_violations
from mockserver.contract.validation import IncomingRequest, RequestValidator
from mockserver.resources.virtual_keys import TOP_LEVEL_FIELDS

CREATE_SCHEMA = "CreateVirtualKeyRequest"
UPDATE_SCHEMA = "UpdateVirtualKeyRequest"

SECRET_REFERENCE = "my-aws-secret"
"""The slug of the secret reference every generated secret mapping names (the published spec's
example). A mapping must name a secret reference that exists, so create it first:
`secret_reference_body()` is its create body, for `POST /secret-references`."""

COMMON_FIELDS = TOP_LEVEL_FIELDS - {"key", "provider", "workspace_id", "secret_mappings"}
"""Optional fields every case may carry; `workspace_id` is left out so keys stay in the caller's workspace."""


@dataclass(frozen=True)
class ProviderCase:
    """A way to create a key: the contract branch it follows, plus what the branch leaves open."""

    branch: str
    """The `title` of the create schema's `anyOf` branch."""
    pins: dict[str, Any] = field(default_factory=dict)
    """Fields fixed to one value (`provider: openai`)."""
    extras: tuple[str, ...] = ()
    """Optional provider fields of this case that the branch does not name."""


PROVIDER_CASES: dict[str, ProviderCase] = {
    "openai": ProviderCase(
        "a provider with an API key",
        pins={"provider": "openai"},
        extras=("openaiOrganization", "openaiProject"),
    ),
    "plain-provider": ProviderCase("a provider with an API key"),
    "custom-host": ProviderCase("a provider with an API key", extras=("customHost", "customHeaders")),
    "azure-default": ProviderCase("azure-openai with default auth", extras=("aiModelName",)),
    "azure-entra": ProviderCase("azure-openai with Entra ID auth"),
    "azure-managed": ProviderCase("azure-openai with managed identity", extras=("azureManagedClientId",)),
    "azure-ai-foundry": ProviderCase(
        "a provider with an API key",
        pins={"provider": "azure-ai"},
        extras=("azureFoundryUrl", "azureApiVersion"),
    ),
    "azure-ai-entra": ProviderCase(
        "azure-ai with Entra ID or managed identity",
        extras=("azureDeploymentName", "azureEndpointName", "azureRegion", "azureEntraClientId"),
    ),
    "bedrock-access-key": ProviderCase("bedrock with an access key", pins={"provider": "bedrock"}),
    "bedrock-assumed-role": ProviderCase(
        "bedrock with an assumed role", pins={"provider": "bedrock"}, extras=("awsExternalId",)
    ),
    "bedrock-service-role": ProviderCase("bedrock with a service role", pins={"provider": "bedrock"}),
    "sagemaker": ProviderCase(
        "bedrock with an access key",
        pins={"provider": "sagemaker"},
        extras=(
            "amznSagemakerTargetModel",
            "amznSagemakerInferenceComponent",
            "amznSagemakerCustomAttributes",
        ),
    ),
    "vertex-key": ProviderCase("vertex-ai with an API key", extras=("vertexSkipPtuCostAttribution",)),
    "vertex-service-account": ProviderCase("vertex-ai with a service account"),
    "workers-ai": ProviderCase("workers-ai"),
    "oracle": ProviderCase("oracle with an API signing key", extras=("oracleCompartmentId", "oracleVersion")),
}

INTEGRATION_SCHEMA = "CreateIntegrationRequest"
PROVIDER_SCHEMA = "CreateProviderRequest"
INTEGRATION_CASES: dict[str, tuple[str, str]] = {
    "openai": ("any other provider", "openai"),
    "anthropic": ("any other provider", "anthropic"),
    "azure-openai": ("azure-openai", "azure-openai"),
    "azure-ai": ("azure-ai", "azure-ai"),
    "bedrock": ("bedrock or sagemaker", "bedrock"),
    "sagemaker": ("bedrock or sagemaker", "sagemaker"),
    "vertex-ai": ("vertex-ai", "vertex-ai"),
    "workers-ai": ("workers-ai", "workers-ai"),
    "cortex": ("cortex", "cortex"),
}
"""Integration cases: the `title` of the create schema's `anyOf` branch, and the `ai_provider_id`."""

INVALID_CREATE_KINDS = ("missing-required", "wrong-type", "provider-rule", "limits-inconsistent")
INVALID_UPDATE_KINDS = ("wrong-type", "limits-inconsistent")
_WRONG_VALUES = {
    "string": 12345,
    "integer": "12",
    "number": "1.5",
    "array": {},
    "object": [],
    "boolean": "yes",
}


@cache
def create_bodies(
    case: str | None = None, *, empty_strings: bool = True
) -> st.SearchStrategy[dict[str, Any]]:
    """Valid create bodies for one provider case (see `PROVIDER_CASES`), or for any case.

    `empty_strings=False` turns every empty string into `-`: the Python SDK drops empty strings
    (at any depth) before sending, so a body with one is not what the service receives.
    """
    if case is None:
        cases = st.sampled_from(sorted(PROVIDER_CASES))
        return cases.flatmap(lambda name: create_bodies(name, empty_strings=empty_strings))
    if case not in PROVIDER_CASES:
        raise ValueError(f"unknown provider case {case!r}; known: {', '.join(PROVIDER_CASES)}")
    bodies = _body_strategy(CREATE_SCHEMA, "/virtual-keys", "POST", case).map(keep_service_rules)
    return bodies if empty_strings else bodies.map(_no_empty_strings)


@cache
def update_bodies(
    provider: str | None = None, *, empty_strings: bool = True
) -> st.SearchStrategy[dict[str, Any]]:
    """Valid update bodies for a key of `provider`; deployments (an Azure notion) only for `azure-openai`."""
    bodies = _body_strategy(UPDATE_SCHEMA, "/virtual-keys/{slug}", "PUT", provider == "azure-openai")
    bodies = bodies.map(keep_service_rules)
    return bodies if empty_strings else bodies.map(_no_empty_strings)


def _no_empty_strings(value: Any) -> Any:
    if isinstance(value, dict):
        return {name: _no_empty_strings(inner) for name, inner in value.items()}
    if isinstance(value, list):
        return [_no_empty_strings(inner) for inner in value]
    return "-" if value == "" else value


@cache
def invalid_create_bodies(kind: str | None = None) -> st.SearchStrategy[dict[str, Any]]:
    """Create bodies the service must refuse with 400, broken in one way (`INVALID_CREATE_KINDS`)."""
    if kind is None:
        return st.sampled_from(INVALID_CREATE_KINDS).flatmap(invalid_create_bodies)
    if kind == "limits-inconsistent":
        return st.tuples(create_bodies(), _inconsistent_limits()).map(lambda pair: {**pair[0], **pair[1]})
    if kind == "missing-required":
        required = _contract().document["components"]["schemas"][CREATE_SCHEMA]["required"]
        broken = create_bodies().flatmap(
            lambda body: st.sampled_from(required).map(lambda f: _without(body, f))
        )
    elif kind == "wrong-type":
        broken = create_bodies().flatmap(lambda body: _with_wrong_type(CREATE_SCHEMA, body))
    elif kind == "provider-rule":
        broken = st.sampled_from(sorted(PROVIDER_CASES)).flatmap(_missing_provider_field)
    else:
        raise ValueError(f"unknown kind {kind!r}; known: {', '.join(INVALID_CREATE_KINDS)}")
    return broken.filter(lambda body: breaks_contract("createVirtualKey", body))


@cache
def invalid_update_bodies(kind: str | None = None) -> st.SearchStrategy[dict[str, Any]]:
    """Update bodies the service must refuse with 400, broken in one way (`INVALID_UPDATE_KINDS`)."""
    if kind is None:
        return st.sampled_from(INVALID_UPDATE_KINDS).flatmap(invalid_update_bodies)
    if kind == "limits-inconsistent":
        return _inconsistent_limits()
    if kind == "wrong-type":
        broken = update_bodies().filter(bool).flatmap(lambda body: _with_wrong_type(UPDATE_SCHEMA, body))
        return broken.filter(lambda body: breaks_contract("updateVirtualKey", body))
    raise ValueError(f"unknown kind {kind!r}; known: {', '.join(INVALID_UPDATE_KINDS)}")


def integration_bodies(provider: str | None = None) -> st.SearchStrategy[dict[str, Any]]:
    """Valid integration create bodies for one `ai_provider_id` (see `INTEGRATION_CASES`), with the
    `configurations` that provider requires; no `workspace_id`, so they stay where the caller is."""
    if provider is None:
        return st.sampled_from(sorted(INTEGRATION_CASES)).flatmap(integration_bodies)
    if provider not in INTEGRATION_CASES:
        raise ValueError(f"unknown integration case {provider!r}; known: {', '.join(INTEGRATION_CASES)}")
    return _catalog_strategy(INTEGRATION_SCHEMA, "/integrations", provider).map(keep_service_rules)


def provider_bodies() -> st.SearchStrategy[dict[str, Any]]:
    """Valid provider create bodies (`integration_id` is any string: set it to your integration's
    slug); no `workspace_id`. `rate_limits` comes as an array or as the one object clients send."""
    return _catalog_strategy(PROVIDER_SCHEMA, "/providers", None).map(keep_service_rules)


def keep_service_rules(body: dict[str, Any]) -> dict[str, Any]:
    """`body` repaired to keep the rules the contract states in prose only.

    Any JSON object is taken, a body meant to be invalid too (verify's guard and a stock run's
    `map_body` hook pass those through here): what is not the shape a rule reads is left as it is.

    What is broken comes from the service's own rule check (`rule_violations`), so the rules are
    written once; a rule without a repair here raises, rather than letting bad bodies through.
    """
    body = copy.deepcopy(body)
    repeats = []
    for violation in rule_violations(body, _contract().operations["createVirtualKey"].field_providers):
        if violation.rule.startswith("belongs to provider"):
            del body[violation.location.removeprefix("body.")]  # a field of another provider
        elif violation.location.endswith(".alert_threshold"):  # in any usage-limits object
            limits = _holder(body, violation.location)
            limits["alert_threshold"] = limits["credit_limit"]
        elif violation.location.endswith(".periodic_reset_days"):
            del _holder(body, violation.location)["periodic_reset_days"]
        elif match := re.fullmatch(r"body\.secret_mappings\[(\d+)\]\.target_field", violation.location):
            repeats.append(int(match.group(1)))  # a repeated target: the repeat is dropped
        else:
            raise ValueError(f"no repair for the service rule at {violation.location}")
    for index in sorted(repeats, reverse=True):
        del body["secret_mappings"][index]
    mappings = body.get("secret_mappings")
    for mapping in mappings if isinstance(mappings, list) else ():  # one meant to be invalid: anything
        if isinstance(mapping, dict) and "secret_reference_id" in mapping:
            mapping["secret_reference_id"] = SECRET_REFERENCE  # one that exists (`x-portkey-state-rule`)
    return _in_range_date_times(body)


def _holder(body: dict[str, Any], where: str) -> Any:
    """The object holding the field at `where` (`body.workspaces[0].usage_limits[0].alert_threshold`)."""
    held: Any = body
    parts = re.findall(r"\.([^.\[]+)|\[(\d+)\]", where.removeprefix("body"))[:-1]
    for name, index in parts:
        held = held[int(index)] if index else held[name]
    return held


def _in_range_date_times(body: dict[str, Any]) -> dict[str, Any]:
    """`body` with each date-time whose UTC moment falls outside years 1 to 9999 (the format admits
    `0001-01-01T00:00:00+00:02`; the service refuses it) moved to the nearest one it takes."""
    for path in _date_time_paths():
        body = _in_range_at(body, path)
    return body


def _in_range_at(value: Any, path: date_times.Path) -> Any:
    if path:
        head, rest = path[0], path[1:]
        if head is None and isinstance(value, list):
            return [_in_range_at(item, rest) for item in value]
        if isinstance(head, str) and isinstance(value, dict) and head in value:
            return {**value, head: _in_range_at(value[head], rest)}
        return value
    if not isinstance(value, str):
        return value
    try:
        date_times.canonical(value)  # raises for a moment it cannot write
    except date_times.OutOfRange:
        return "0001-01-02T00:00:00Z" if value.startswith("0001") else "9999-12-30T00:00:00Z"
    return value


@cache
def _date_time_paths() -> tuple[date_times.Path, ...]:
    """Where any write body of the contract holds a date-time."""
    contract = _contract()
    found: list[date_times.Path] = []
    for operation in contract.operations.values():
        found += date_times.date_time_paths(operation.body_schema, contract.resolve)
    return tuple(dict.fromkeys(found))


def secret_reference_body() -> dict[str, Any]:
    """The create body of the secret reference generated mappings name (`SECRET_REFERENCE`): the
    contract's example, with that slug."""
    post = _contract().document["paths"]["/secret-references"]["post"]
    example = post["requestBody"]["content"]["application/json"]["example"]
    return {**copy.deepcopy(example), "slug": SECRET_REFERENCE}


def keep_required_parts(case: Any) -> None:
    """A schemathesis `case` completed, in place, to send one of the parts its operation requires
    one of (`x-portkey-requires-one-of`): the first query parameter named, with the contract's
    `example` for it. The rule is found by the service's own check (`missing_parts`)."""
    one_of = case.operation.definition.raw.get(ONE_OF_EXTENSION) or ()
    has_body = case.body is not None and not isinstance(case.body, NotSet)
    if not missing_parts(one_of, case.query or {}, has_body):
        return
    examples = {
        f"query.{parameter.name}": parameter.definition.get("example")
        for parameter in case.operation.iter_parameters()
        if parameter.location == ParameterLocation.QUERY
    }
    fillable = [part for part in one_of if examples.get(part) is not None]
    if not fillable:
        raise ValueError(f"no query parameter with an example among {', '.join(one_of)} to send")
    case.query = {**(case.query or {}), fillable[0].removeprefix("query."): examples[fillable[0]]}


def keep_required_when(case: Any) -> None:
    """A schemathesis `case` completed, in place, to keep its operation's `x-portkey-requires-when`
    rules: a part that must have one value gets it, a body field that must be sent gets the
    contract's `example` for it. The rules are found by the service's own check."""
    operation = _contract().operations.get(case.operation.definition.raw.get("operationId", ""))
    if operation is None or not operation.required_when:
        return
    body = case.body if isinstance(case.body, dict) else None
    for broken in conditional_violations(operation.required_when, case.path_parameters or {}, body):
        kind, _, name = broken.location.partition(".")
        rule = next(rule for rule in operation.required_when if rule.requires == broken.location)
        if kind == "path" and rule.equal is not None:
            case.path_parameters = {**(case.path_parameters or {}), name: rule.equal}
        elif kind == "body" and body is not None:
            properties = (operation.body_schema or {}).get("properties", {})
            body[name] = _contract().resolve(properties.get(name, {})).get("example")


def breaks_contract(operation_id: str, body: dict[str, Any], contract: Contract | None = None) -> bool:
    """Whether the contract's own validator (the mock's) finds a violation in `body`, sent to
    `operation_id` of `contract` (the project's by default)."""
    contract = contract or _contract()
    operation = contract.operations[operation_id]
    path = operation.path.replace("{slug}", "any-slug")
    request = IncomingRequest(
        operation.method.upper(),
        path,
        headers={contract.require_api_key_header(): "any"},  # openapi-core checks security first
        body=json.dumps(body).encode(),
        content_type="application/json",
        path_params={"slug": "any-slug"},
    )
    return not _validator(contract).accepts(operation, request)


@cache
def _contract() -> Contract:
    return Contract()


@cache
def _validator(contract: Contract) -> RequestValidator:
    return RequestValidator(contract)


@cache
def _body_strategy(schema_name: str, path: str, method: str, variant: Any) -> st.SearchStrategy[Any]:
    """Schemathesis's positive generation for one operation whose body schema is narrowed."""
    document = copy.deepcopy(_contract().document)
    schemas = document["components"]["schemas"]
    if schema_name == CREATE_SCHEMA:
        schemas[CREATE_SCHEMA] = _case_schema(schemas[CREATE_SCHEMA], PROVIDER_CASES[variant])
    else:
        _narrow_update(schemas[UPDATE_SCHEMA], with_deployments=variant)
    operation = schemathesis.openapi.from_dict(document)[path][method]
    fixed = {"slug": "any-slug"} if "{slug}" in path else None
    return operation.as_strategy(path_parameters=fixed).map(lambda case: case.body)


@cache
def _catalog_strategy(schema_name: str, path: str, case: str | None) -> st.SearchStrategy[Any]:
    """Schemathesis's positive generation for a Model Catalog create, narrowed to one case."""
    document = copy.deepcopy(_contract().document)
    schema = document["components"]["schemas"][schema_name]
    schema["properties"].pop("workspace_id", None)
    if case is not None:
        title, provider = INTEGRATION_CASES[case]
        branch = next(b for b in schema.pop("anyOf") if b.get("title") == title)
        schema["properties"]["ai_provider_id"] = {"const": provider}
        narrowed = branch.get("properties", {}).get("configurations")
        if narrowed is not None:
            schema["properties"]["configurations"] = {
                "allOf": [schema["properties"]["configurations"], narrowed]
            }
            schema["required"] = sorted(set(schema["required"]) | {"configurations"})
    operation = schemathesis.openapi.from_dict(document)[path]["POST"]
    return operation.as_strategy().map(lambda generated: generated.body)


def _case_schema(create: dict[str, Any], case: ProviderCase) -> dict[str, Any]:
    branch = next((b for b in create["anyOf"] if b.get("title") == case.branch), None)
    if branch is None:
        raise ValueError(f"the contract has no create branch titled {case.branch!r}")
    named = set(branch.get("required", [])) | set(branch.get("properties", {}))
    for nested in branch.get("anyOf", []):
        named |= set(nested.get("required", []))
    keep = COMMON_FIELDS | named | set(case.extras)
    properties = {name: prop for name, prop in create["properties"].items() if name in keep}
    for name, narrowed in branch.get("properties", {}).items():
        properties[name] = {"allOf": [properties[name], narrowed]}
    for name, value in case.pins.items():
        properties[name] = {"const": value}
    schema = {
        "type": "object",
        "additionalProperties": False,
        "properties": properties,
        "required": sorted(set(create["required"]) | set(branch.get("required", []))),
    }
    if "anyOf" in branch:
        schema["anyOf"] = branch["anyOf"]
    return schema


def _narrow_update(update: dict[str, Any], *, with_deployments: bool) -> None:
    for name in ("provider", "slug", "workspace_id", *(() if with_deployments else ("deploymentConfig",))):
        update["properties"].pop(name, None)


def _inconsistent_limits() -> st.SearchStrategy[dict[str, Any]]:
    credit = st.integers(min_value=1, max_value=10_000)
    threshold_above = credit.flatmap(
        lambda c: st.integers(min_value=c + 1, max_value=c + 1000).map(
            lambda t: {"credit_limit": c, "alert_threshold": t}
        )
    )
    both_resets = st.builds(
        lambda reset, days: {"credit_limit": 100, "periodic_reset": reset, "periodic_reset_days": days},
        st.sampled_from(["monthly", "weekly"]),
        st.integers(min_value=1, max_value=365),
    )
    return st.one_of(threshold_above, both_resets).map(lambda limits: {"usage_limits": limits})


def _missing_provider_field(case_name: str) -> st.SearchStrategy[dict[str, Any]]:
    """A body of `case_name` without one of the fields its provider branch requires."""
    create = _contract().document["components"]["schemas"][CREATE_SCHEMA]
    branch = next(b for b in create["anyOf"] if b.get("title") == PROVIDER_CASES[case_name].branch)
    provider_fields = sorted(set(branch.get("required", [])) - set(create["required"]))
    if not provider_fields:
        return st.nothing()
    return create_bodies(case_name).flatmap(
        lambda body: st.sampled_from(provider_fields).map(lambda name: _without(body, name))
    )


def _with_wrong_type(schema_name: str, body: dict[str, Any]) -> st.SearchStrategy[dict[str, Any]]:
    """`body` with one field replaced by a value of another JSON type than the contract declares."""
    properties = _contract().document["components"]["schemas"][schema_name]["properties"]

    def replace(name: str) -> dict[str, Any]:
        declared = _contract().resolve(properties[name]).get("type", "object")
        first = declared[0] if isinstance(declared, list) else declared
        return {**body, name: _WRONG_VALUES.get(first, [])}

    return st.sampled_from(sorted(body)).map(replace)


def _without(body: dict[str, Any], name: str) -> dict[str, Any]:
    return {key: value for key, value in body.items() if key != name}

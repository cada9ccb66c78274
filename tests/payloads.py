"""Hypothesis strategies for create and update payloads, derived from the contract.

Provider cases are the create schema's `anyOf` branches; field names, types, bounds, enums and
patterns are read from the contract, so a change there changes what is generated. The rules JSON
Schema cannot state (see the contract's description) are kept by construction.

A stand-in until `contracts.strategies` (the provider-conformance issue) is merged; then these
tests should draw from it instead.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from hypothesis import strategies as st

from mockserver.contract import Contract

CONTRACT = Contract()
CREATE = CONTRACT.operations["createVirtualKey"].body_schema or {}
UPDATE = CONTRACT.operations["updateVirtualKey"].body_schema or {}
PROVIDER_CASES: list[dict[str, Any]] = CREATE["anyOf"]
PROVIDERS: list[str] = CONTRACT.resolve(CREATE["properties"]["provider"])["enum"]
NOT_GENERATED = frozenset({"workspace_id"})
"""`workspace_id` would store the key in another workspace than the caller's own."""
MAX_LIST = 25
"""Long enough for "long lists", short enough to keep each example quick."""

Draw = st.DrawFn


def value_for(schema: dict[str, Any]) -> st.SearchStrategy[Any]:
    """Values that satisfy one property schema of the contract (the forms the contract uses)."""
    schema = CONTRACT.resolve(schema)
    if "const" in schema:
        return st.just(schema["const"])
    if "enum" in schema:
        return st.sampled_from(schema["enum"])
    if "anyOf" in schema:
        return st.one_of([value_for(branch) for branch in schema["anyOf"]])
    kinds = schema.get("type", "string")
    if isinstance(kinds, list):
        return st.one_of([value_for({**schema, "type": kind}) for kind in kinds])
    if kinds == "null":
        return st.none()
    if kinds == "boolean":
        return st.booleans()
    if kinds == "integer":
        return st.integers(schema.get("minimum"), schema.get("maximum"))
    if kinds == "array":
        return st.lists(value_for(schema["items"]), min_size=schema.get("minItems", 0), max_size=MAX_LIST)
    if kinds == "object":
        return _object(schema)
    return _string(schema)


def _string(schema: dict[str, Any]) -> st.SearchStrategy[str]:
    if schema.get("format") == "date-time":
        moments = st.datetimes(datetime(1970, 1, 1), datetime(2200, 1, 1), timezones=st.just(UTC))
        return moments.map(lambda moment: moment.isoformat().replace("+00:00", "Z"))
    if "pattern" in schema:
        return st.from_regex(schema["pattern"], fullmatch=schema["pattern"].endswith("$"))
    return st.text(min_size=schema.get("minLength", 0), max_size=schema.get("maxLength", 40))


def _object(schema: dict[str, Any]) -> st.SearchStrategy[dict[str, Any]]:
    properties = schema.get("properties")
    if not properties:  # a free-form document (service-account JSON)
        return st.dictionaries(st.text(max_size=12), st.text(max_size=24), max_size=4)
    required = set(schema.get("required", []))
    return st.fixed_dictionaries(
        {name: value_for(properties[name]) for name in required},
        optional={name: value_for(prop) for name, prop in properties.items() if name not in required},
    )


def _usage_limits(limits: dict[str, Any]) -> dict[str, Any]:
    """Keep the two usage-limit rules the contract states in prose."""
    limits = dict(limits)
    if limits.get("periodic_reset") is not None:
        limits.pop("periodic_reset_days", None)
    if "alert_threshold" in limits and "credit_limit" in limits:
        limits["alert_threshold"] = min(limits["alert_threshold"], limits["credit_limit"])
    return limits


def _common_fields() -> dict[str, st.SearchStrategy[Any]]:
    """Optional fields every key has: those an update can change, except the provider-specific
    `key` and `deploymentConfig` (their provider cases say when they are needed)."""
    own = NOT_GENERATED | {"name", "key", "deploymentConfig"}
    names = [
        name
        for name, rule in UPDATE["properties"].items()
        if name in CREATE["properties"] and name not in own and "not" not in rule
    ]
    return {name: _field(name, CREATE) for name in names}


def _field(name: str, body: dict[str, Any]) -> st.SearchStrategy[Any]:
    strategy = value_for(body["properties"][name])
    if name == "usage_limits":
        return strategy.map(lambda limits: _usage_limits(limits) if isinstance(limits, dict) else limits)
    if name == "secret_mappings":
        return st.lists(
            value_for(CONTRACT.resolve(body["properties"][name])["items"]),
            max_size=5,
            unique_by=lambda mapping: mapping["target_field"],
        )
    return strategy


@st.composite
def create_payloads(draw: Draw, case: dict[str, Any] | None = None) -> dict[str, Any]:
    """A create body for one provider case (any case if None) that the contract accepts."""
    case = case or draw(st.sampled_from(PROVIDER_CASES))
    payload: dict[str, Any] = {"name": draw(value_for(CREATE["properties"]["name"]))}
    provider = CONTRACT.resolve(case["properties"]["provider"])
    excluded = provider.get("not", {}).get("enum", [])
    payload["provider"] = provider.get("const") or draw(
        st.sampled_from([p for p in PROVIDERS if p not in excluded])
    )
    required = list(case["required"])
    if "anyOf" in case:  # a choice of forms inside the case (one deployment list, or a single deployment)
        required += draw(st.sampled_from(case["anyOf"]))["required"]
    for name, rule in case["properties"].items():  # the case's fixed values (an auth mode)
        if "const" in rule and name != "provider" and (name in required or draw(st.booleans())):
            payload[name] = rule["const"]
    for name in required:
        if name not in payload:
            payload[name] = draw(_field(name, CREATE))
    for name, strategy in _common_fields().items():
        if name not in payload and draw(st.booleans()):
            payload[name] = draw(strategy)
    contains = case["properties"].get("secret_mappings", {}).get("contains")
    if contains:  # the mapping the case needs (the key from a secret), kept unique by target
        target = contains["properties"]["target_field"]["const"]
        mapping = {"target_field": target, "secret_reference_id": draw(st.text(min_size=1, max_size=20))}
        others = [m for m in payload.get("secret_mappings", []) if m["target_field"] != target]
        payload["secret_mappings"] = [mapping, *others]
    return payload


@st.composite
def update_payloads(draw: Draw, provider: str) -> dict[str, Any]:
    """A partial update for a key of `provider` that the contract and the service accept."""
    names = [
        name for name, rule in UPDATE["properties"].items() if "not" not in rule and name not in NOT_GENERATED
    ]
    if provider != "azure-openai":
        names.remove("deploymentConfig")  # deployments are an Azure notion
    chosen = draw(st.lists(st.sampled_from(names), unique=True))
    return {name: draw(_field(name, UPDATE)) for name in chosen}


def has_empty_string(value: Any) -> bool:
    """Whether an empty string is anywhere in `value` (the Python SDK drops them, at any depth)."""
    if isinstance(value, dict):
        return any(has_empty_string(inner) for inner in value.values())
    if isinstance(value, list):
        return any(has_empty_string(inner) for inner in value)
    return value == ""

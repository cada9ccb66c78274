"""Generated payloads through the real Python SDK's `create` and `update`, for every provider case.

Every request the SDK sends must conform to the contract, and the key stored must be what the
caller asked for. Where the SDK itself changes the request (it drops empty strings at any depth),
that is a client drift: kept below as a strict expected failure, so a fixed SDK shows up at once.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from portkey_ai import Portkey

from contracts.strategies import PROVIDER_CASES, create_bodies, secret_reference_body, update_bodies
from mockserver.contract import date_times
from mockserver.contract.document import Contract
from mockserver.resources.virtual_keys import TOP_LEVEL_FIELDS

pytestmark = pytest.mark.slow  # hypothesis through the SDK against a served mock

CONTRACT = Contract.load()
SECRETS = CONTRACT.secret_fields - {"key"}
CASES = sorted(PROVIDER_CASES)
EXAMPLES_PER_CASE = max(3, settings.default.max_examples // 5)
"""A fifth of the profile's examples for each provider case (5 under the `ci` profile)."""


SHOWN = (
    "name",
    "ai_provider_name",
    "note",
    "usage_limits",
    "rate_limits",
    "expires_at",
    "masked_api_key",
    "model_config",
)


def masked(secret: str) -> str:
    """Portkey's mask, written out here rather than taken from the mock: the ends of a secret of 10
    characters or more around five asterisks, five asterisks alone for a shorter one."""
    return f"{secret[:2]}*****{secret[-3:]}" if len(secret) >= 10 else "*****"


def headers_masked(headers: Any) -> Any:
    """Custom headers as kept: their names, each string value masked as a secret (it may carry one)."""
    if not isinstance(headers, dict):
        return headers
    return {name: masked(value) if isinstance(value, str) else value for name, value in headers.items()}


class ClientChangedThePayload(AssertionError):
    """The key stored differs from what the caller passed to the SDK."""


def stored(asked: dict[str, Any]) -> dict[str, Any]:
    """What retrieve must show for a key created with `asked` (secrets masked, documents not kept)."""
    key = asked.get("key")
    asked = written(asked, "createVirtualKey")
    return {
        "name": asked["name"],
        "ai_provider_name": asked["provider"],
        "note": asked.get("note"),
        "usage_limits": asked.get("usage_limits"),
        "rate_limits": one_item_array(asked.get("rate_limits")) or [],
        "expires_at": asked.get("expires_at"),
        "masked_api_key": masked(key) if key else None,
        "model_config": {
            name: masked(value)
            if name in SECRETS
            else headers_masked(value)
            if name == "customHeaders"
            else value
            for name, value in asked.items()
            if name not in TOP_LEVEL_FIELDS and not (name in SECRETS and not isinstance(value, str))
        },
    }


def one_item_array(rate_limits: Any) -> Any:
    """`rate_limits` as the mock keeps them: one object sent (the published create schema's type) is
    kept as a one-item array (docs/contract.md, rules shared across resources)."""
    return [rate_limits] if isinstance(rate_limits, dict) else rate_limits


def written(body: dict[str, Any], operation_id: str) -> dict[str, Any]:
    """`body` with its date-times as the mock keeps every one, in Portkey's form (UTC, milliseconds,
    `Z`: tests/mock/test_readable_values.py proves that form)."""
    operation = CONTRACT.operations[operation_id]
    return date_times.normalised(body, date_times.date_time_paths(operation.body_schema, CONTRACT.resolve))[0]


def updated(before: dict[str, Any], update: dict[str, Any]) -> dict[str, Any]:
    after, update = dict(before), written(update, "updateVirtualKey")
    for name in ("name", "note", "usage_limits", "rate_limits", "expires_at"):
        if name in update:
            after[name] = one_item_array(update[name]) if name == "rate_limits" else update[name]
    if "key" in update:
        after["masked_api_key"] = masked(update["key"])
    if "deploymentConfig" in update:
        after["model_config"] = {**before["model_config"], "deploymentConfig": update["deploymentConfig"]}
    return after


def has_empty_string(value: Any) -> bool:
    """Whether an empty string is anywhere in `value` (the Python SDK drops them, at any depth)."""
    if isinstance(value, dict):
        return any(has_empty_string(inner) for inner in value.values())
    if isinstance(value, list):
        return any(has_empty_string(inner) for inner in value)
    return value == ""


def shown(client: Portkey, slug: str) -> dict[str, Any]:
    """The fields of `stored`, as the SDK's retrieve shows them."""
    retrieved = client.virtual_keys.retrieve(slug=slug).model_dump()
    return {name: retrieved.get(name) for name in SHOWN}


def create_then_update(mock, data: st.DataObject, case: str, *, empty_strings: bool) -> None:
    """Create and update through the SDK; the requests must conform, then the stored key must match."""
    without_empty = create_bodies(case).filter(lambda body: not has_empty_string(body))
    if empty_strings:  # only the create body's note is empty: an empty string elsewhere may be a
        # required field the SDK drops, and the mock's 400 for it would hide the drift shown here
        asked = data.draw(without_empty.map(lambda body: {**body, "note": ""}), label="create")
    else:
        asked = data.draw(without_empty, label="create")
    updates = update_bodies(asked["provider"]).filter(lambda body: not has_empty_string(body))
    mock.reset()
    made = httpx.post(  # the secret reference generated mappings name; the SDK has no method for it
        f"{mock.base_url}/secret-references",
        json=secret_reference_body(),
        headers={"x-portkey-api-key": mock.api_key},
    )
    assert made.status_code == 200, made.text
    client = Portkey(api_key=mock.api_key, base_url=mock.base_url)
    slug = client.virtual_keys.create(**asked).data["slug"]
    after_create = shown(client, slug)
    update = data.draw(updates, label="update")
    client.virtual_keys.update(slug=slug, **update)
    after_update = shown(client, slug)
    mock.assert_all_requests_conform()

    expected = stored(asked)
    if after_create != expected:
        raise ClientChangedThePayload(f"after create: stored {after_create}, asked for {expected}")
    if after_update != updated(expected, update):
        raise ClientChangedThePayload(
            f"after update: stored {after_update}, asked for {updated(expected, update)}"
        )


@pytest.mark.parametrize("case", CASES)
@settings(
    max_examples=EXAMPLES_PER_CASE, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much]
)
@given(data=st.data())
def test_generated_payloads_conform_and_are_stored_as_asked(portkey_mock_session, case, data):
    create_then_update(portkey_mock_session, data, case, empty_strings=False)


@pytest.mark.xfail(
    strict=True,
    raises=ClientChangedThePayload,
    reason="client drift: the Python SDK drops empty strings, even nested ones, so `note=''` is never "
    "sent (a note cannot be set to '' or cleared with it) and `alias: ''` vanishes from a deployment",
)
@settings(
    max_examples=EXAMPLES_PER_CASE,
    phases=[Phase.explicit, Phase.generate],  # a failure is expected: no time spent shrinking it
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
@given(data=st.data())
def test_payloads_with_empty_strings_are_stored_as_asked(portkey_mock_session, data):
    case = data.draw(st.sampled_from(CASES), label="case")
    create_then_update(portkey_mock_session, data, case, empty_strings=True)

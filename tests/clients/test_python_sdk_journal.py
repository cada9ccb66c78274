"""The Python SDK, sync and async, every method with every seed example: the journal shows no violation."""

from __future__ import annotations

import asyncio
import uuid

import pytest
from portkey_ai import AsyncPortkey, Portkey

from tests.support.seed_examples import SEED_EXAMPLES

OPERATIONS = [
    "createVirtualKey",
    "listVirtualKeys",
    "retrieveVirtualKey",
    "updateVirtualKey",
    "deleteVirtualKey",
]


@pytest.mark.parametrize("example", sorted(SEED_EXAMPLES))
def test_every_sync_method_keeps_to_the_contract(portkey_mock, example):
    client = Portkey(api_key=portkey_mock.api_key, base_url=portkey_mock.base_url)
    other_workspace = str(uuid.uuid4())

    slug = client.virtual_keys.create(**SEED_EXAMPLES[example]).data["slug"]
    assert client.virtual_keys.list().total == 1
    assert client.virtual_keys.list(workspace_id=other_workspace).total == 0
    assert client.virtual_keys.retrieve(slug=slug).name == SEED_EXAMPLES[example]["name"]
    client.virtual_keys.update(
        slug=slug,
        name="renamed",
        note=None,
        usage_limits={
            "credit_limit": 100,
            "type": "cost",
            "alert_threshold": 80,
            "periodic_reset": "monthly",
        },
        rate_limits=[{"type": "requests", "unit": "rpm", "value": 60}],
    )
    client.virtual_keys.delete(slug=slug)

    portkey_mock.assert_all_requests_conform()
    portkey_mock.assert_no_unexpected_requests()
    for operation in OPERATIONS:
        portkey_mock.verify(operation=operation, times=2 if operation == "listVirtualKeys" else 1, status=200)
    [listed_elsewhere] = [e for e in portkey_mock.requests("listVirtualKeys") if e["query"]]
    assert listed_elsewhere["query"] == {"workspace_id": [other_workspace]}


def test_every_async_method_keeps_to_the_contract(portkey_mock):
    async def lifecycle() -> None:
        client = AsyncPortkey(api_key=portkey_mock.api_key, base_url=portkey_mock.base_url)
        slugs = [(await client.virtual_keys.create(**body)).data["slug"] for body in SEED_EXAMPLES.values()]
        assert (await client.virtual_keys.list()).total == len(slugs)
        for slug in slugs:
            assert (await client.virtual_keys.retrieve(slug=slug)).slug == slug
            await client.virtual_keys.update(slug=slug, note="async", rate_limits=[])
            await client.virtual_keys.delete(slug=slug)

    asyncio.run(lifecycle())
    portkey_mock.assert_all_requests_conform()
    portkey_mock.assert_no_unexpected_requests()
    for operation in OPERATIONS:
        portkey_mock.verify(
            operation=operation, times=1 if operation == "listVirtualKeys" else len(SEED_EXAMPLES)
        )

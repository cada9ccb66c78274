"""Every create example of the seed document, then the whole lifecycle, through the real Python SDK.

Each exchange the SDK makes is recorded through httpx hooks and judged against the contract.
"""

from __future__ import annotations

import asyncio

import httpx
import pytest
from portkey_ai import AsyncPortkey, Portkey
from portkey_ai.api_resources.exceptions import NotFoundError

from contracts.traffic import ExchangeRecorder
from tests.support.seed_examples import SEED_EXAMPLES

SECRET_FIELDS = ("key", "azureEntraClientSecret")


@pytest.fixture
def recorder(exchange_judge) -> ExchangeRecorder:
    return ExchangeRecorder(exchange_judge)


@pytest.mark.parametrize("example", sorted(SEED_EXAMPLES))
def test_seed_example_lifecycle_through_the_sync_sdk(live, recorder, example):
    arguments = SEED_EXAMPLES[example]
    with httpx.Client(base_url=live.base_url, event_hooks=recorder.hooks()) as http:
        portkey = Portkey(api_key="pk-sdk", base_url=live.base_url, http_client=http)

        created = portkey.virtual_keys.create(**arguments)
        slug = created.data["slug"]
        assert created.success is True and slug

        retrieved = portkey.virtual_keys.retrieve(slug=slug)
        assert retrieved.slug == slug and retrieved.name == arguments["name"]
        assert retrieved.ai_provider_name == arguments["provider"]
        assert retrieved.key == ""
        for field in SECRET_FIELDS:
            if field in arguments:
                assert arguments[field] not in str(retrieved.model_dump())

        listed = portkey.virtual_keys.list()
        assert listed.total == 1 and [item["slug"] for item in listed.data] == [slug]

        portkey.virtual_keys.update(slug=slug, note="changed by the SDK", name="renamed")
        after = portkey.virtual_keys.retrieve(slug=slug)
        assert (after.note, after.name) == ("changed by the SDK", "renamed")

        portkey.virtual_keys.delete(slug=slug)
        with pytest.raises(NotFoundError):
            portkey.virtual_keys.retrieve(slug=slug)

    assert len(recorder.verdicts) == 7
    recorder.assert_all_conform()


def test_seed_examples_lifecycle_through_the_async_sdk(live, recorder):
    async def lifecycle() -> None:
        async with httpx.AsyncClient(base_url=live.base_url, event_hooks=recorder.async_hooks()) as http:
            portkey = AsyncPortkey(api_key="pk-sdk-async", base_url=live.base_url, http_client=http)
            slugs = []
            for arguments in SEED_EXAMPLES.values():
                created = await portkey.virtual_keys.create(**arguments)
                slugs.append(created.data["slug"])
            listed = await portkey.virtual_keys.list()
            assert [item["slug"] for item in listed.data] == slugs[::-1]
            for slug in slugs:
                await portkey.virtual_keys.update(slug=slug, note=None)
                assert (await portkey.virtual_keys.retrieve(slug=slug)).note is None
                await portkey.virtual_keys.delete(slug=slug)
            assert (await portkey.virtual_keys.list()).total == 0

    asyncio.run(lifecycle())
    assert len(recorder.verdicts) == 4 * len(SEED_EXAMPLES) + 2  # create, update, retrieve, delete; 2 lists
    recorder.assert_all_conform()


def test_workspace_isolation_through_the_sdk(live):
    alice = Portkey(api_key="pk-alice", base_url=live.base_url)
    bob = Portkey(api_key="pk-bob", base_url=live.base_url)
    slug = alice.virtual_keys.create(**SEED_EXAMPLES["openai"]).data["slug"]
    assert bob.virtual_keys.list().total == 0
    with pytest.raises(NotFoundError):
        bob.virtual_keys.retrieve(slug=slug)
    assert alice.virtual_keys.retrieve(slug=slug).slug == slug

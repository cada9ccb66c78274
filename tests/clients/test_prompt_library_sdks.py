"""Portkey's Python SDK (sync and async) and Node SDK drive collections and labels through their
whole lives against the `portkey_mock` fixture, the journal clean.

The SDKs name neither on retrieve, update or delete by anything but its id, and send no workspace
there: the mock finds them across the caller's organisation (docs/admin-prompt-library.md).
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess

import pytest
from portkey_ai import AsyncPortkey, Portkey
from portkey_ai.api_resources.exceptions import NotFoundError

from tests.support.clean_journal import assert_clean

pytestmark = pytest.mark.slow  # a served mock and a real client

OPERATIONS = (
    "createCollection",
    "listCollections",
    "getCollection",
    "updateCollection",
    "deleteCollection",
    "createLabel",
    "listLabels",
    "getLabel",
    "updateLabel",
    "deleteLabel",
)


def test_the_python_sdk_drives_collections_and_labels_through_their_lives(portkey_mock):
    portkey = Portkey(api_key=portkey_mock.api_key, base_url=portkey_mock.base_url)

    top = portkey.collections.create(name="Support")
    child = portkey.collections.create(name="Refunds", parent_collection_id=top.slug)
    assert top.id and top.slug and child.id
    read = portkey.collections.retrieve(top.id)
    assert [c["id"] for c in read.child_collections] == [child.id]
    listed = portkey.collections.list(search="ref")
    assert listed.total == 1 and listed.data[0]["collection_details"]["child_collections_count"] == 0
    portkey.collections.update(child.id, name="Refunds and returns")
    assert portkey.collections.retrieve(child.slug).name == "Refunds and returns"
    portkey.collections.delete(child.id)
    portkey.collections.delete(top.id)
    with pytest.raises(NotFoundError):
        portkey.collections.retrieve(top.id)

    label = portkey.labels.create(name="production-eu", description="EU traffic", color_code="#2a5")
    assert portkey.labels.retrieve(label.id).description == "EU traffic"
    assert [item["id"] for item in portkey.labels.list(page_size=10).data] == [label.id]
    portkey.labels.update(label.id, color_code="#a52")
    assert portkey.labels.retrieve(label.id).color_code == "#a52"
    portkey.labels.delete(label.id)
    with pytest.raises(NotFoundError):
        portkey.labels.retrieve(label.id)

    assert_clean(portkey_mock, *OPERATIONS)


def test_the_async_python_sdk_drives_the_same_lives(portkey_mock):
    async def lifecycle() -> None:
        portkey = AsyncPortkey(api_key=portkey_mock.api_key, base_url=portkey_mock.base_url)
        made = await portkey.collections.create(name="Async")
        await portkey.collections.update(made.id, name="Async, renamed")
        assert (await portkey.collections.retrieve(made.id)).name == "Async, renamed"
        assert (await portkey.collections.list()).total == 1
        await portkey.collections.delete(made.slug)
        label = await portkey.labels.create(name="staging")
        await portkey.labels.update(label.id, description="before release")
        assert (await portkey.labels.retrieve(label.id)).description == "before release"
        assert (await portkey.labels.list()).total == 1
        await portkey.labels.delete(label.id)
        assert (await portkey.labels.list()).total == 0

    asyncio.run(lifecycle())
    assert_clean(portkey_mock, *OPERATIONS)


def test_the_node_sdk_drives_the_same_lives(node_sdk, portkey_mock):
    env = {**os.environ, "PORTKEY_BASE_URL": portkey_mock.base_url, "PORTKEY_API_KEY": portkey_mock.api_key}
    ran = subprocess.run(
        ["node", "prompt-library.js"], cwd=node_sdk, env=env, capture_output=True, text=True, timeout=120
    )
    assert ran.returncode == 0, f"the Node SDK script failed:\n{ran.stdout}\n{ran.stderr}"
    seen = json.loads(ran.stdout)

    assert seen["childIds"] == [seen["childId"]] and seen["searched"] == 1
    assert seen["renamed"] == "Refunds and returns" and seen["collectionsLeft"] == 0
    assert seen["labelColour"] == "#a52" and seen["labelsLeft"] == 0
    assert_clean(portkey_mock, *OPERATIONS)

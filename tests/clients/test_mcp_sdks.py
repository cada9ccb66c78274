"""Portkey's Python SDK (sync and async) and Node SDK drive MCP integrations through their whole
lives, with their capabilities, workspace access and metadata, and an MCP server made from one
through its life and its `test`, against the `portkey_mock` fixture, the journal clean.

The SDKs reach an integration by id or slug alone, sending no workspace: the mock finds it across the
caller's organisation (docs/admin-mcp.md).
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
    "createMcpIntegration",
    "listMcpIntegrations",
    "getMcpIntegration",
    "updateMcpIntegration",
    "deleteMcpIntegration",
    "listMcpIntegrationWorkspaces",
    "updateMcpIntegrationWorkspaces",
    "listMcpIntegrationCapabilities",
    "updateMcpIntegrationCapabilities",
    "getMcpIntegrationMetadata",
    "createMcpServer",
    "listMcpServers",
    "getMcpServer",
    "updateMcpServer",
    "deleteMcpServer",
    "testMcpServer",
)
URL = "https://mcp.example.com/mcp"
TOKEN = "Bearer sk-mcp-0123456789abcdef"


def test_the_python_sdk_drives_an_mcp_integration_through_its_life(portkey_mock):
    portkey = Portkey(api_key=portkey_mock.api_key, base_url=portkey_mock.base_url)
    mcp = portkey.mcp_integrations

    made = mcp.create(
        name="Docs search",
        url=URL,
        auth_type="headers",
        transport="http",
        configurations={"custom_headers": {"Authorization": TOKEN}},
    )
    assert made.id and made.get("slug")
    read = mcp.retrieve(mcp_integration_id=made.id)
    assert read.url == URL and read.configurations["custom_headers"]["Authorization"] != TOKEN
    assert [item["id"] for item in mcp.list(type="organisation", search="docs").data] == [made.id]
    mcp.update(mcp_integration_id=made.id, name="Docs search (EU)", transport="sse")
    assert mcp.retrieve(mcp_integration_id=made.get("slug")).transport == "sse"

    mcp.capabilities.update(
        mcp_integration_id=made.id,
        capabilities=[
            {"name": "search", "type": "tool", "enabled": True},
            {"name": "intro", "type": "prompt", "enabled": False},
        ],
    )
    listed = mcp.capabilities.list(mcp_integration_id=made.id)
    assert [(c["type"], c["name"], c["enabled"]) for c in listed.data] == [
        ("prompt", "intro", False),
        ("tool", "search", True),
    ]
    assert listed.counts["tools"] == {"total": 1, "enabled": 1}
    assert mcp.metadata.retrieve(mcp_integration_id=made.id).capability_flags["tools"] is True

    workspace = portkey.admin.workspaces.create(name="MCP users").id
    mcp.workspaces.update(mcp_integration_id=made.id, workspaces=[{"id": workspace, "enabled": True}])
    granted = mcp.workspaces.list(mcp_integration_id=made.id)
    assert [(w["id"], w["enabled"]) for w in granted.workspaces] == [(workspace, True)]
    assert mcp.list().data[0]["workspaces_count"] == 1

    mcp.workspaces.update(
        mcp_integration_id=made.id, workspaces=[], global_workspace_access={"enabled": True}
    )
    served = portkey.mcp_servers.create(
        name="Docs", mcp_integration_id=made.get("slug"), description="for support"
    )
    assert portkey.mcp_servers.retrieve(mcp_server_id=served.id).mcp_integration_details["url"] == URL
    assert [s["id"] for s in portkey.mcp_servers.list(search="doc").data] == [served.id]
    portkey.mcp_servers.update(mcp_server_id=served.id, name="Docs (EU)")
    assert portkey.mcp_servers.retrieve(mcp_server_id=served.get("slug")).name == "Docs (EU)"
    tested = portkey.mcp_servers.test(mcp_server_id=served.id)
    assert tested.success is True and tested.get("url") == URL
    portkey.mcp_servers.delete(mcp_server_id=served.id)
    with pytest.raises(NotFoundError):
        portkey.mcp_servers.retrieve(mcp_server_id=served.id)

    mcp.delete(mcp_integration_id=made.id)
    with pytest.raises(NotFoundError):
        mcp.retrieve(mcp_integration_id=made.id)
    assert_clean(portkey_mock, *OPERATIONS)


def test_the_async_python_sdk_drives_the_same_life(portkey_mock):
    async def lifecycle() -> None:
        portkey = AsyncPortkey(api_key=portkey_mock.api_key, base_url=portkey_mock.base_url)
        mcp = portkey.mcp_integrations
        made = await mcp.create(name="Async tools", url=URL, auth_type="none", transport="http")
        await mcp.update(mcp_integration_id=made.id, description="made by the async client")
        assert (await mcp.retrieve(mcp_integration_id=made.id)).description == "made by the async client"
        assert (await mcp.list()).total == 1
        await mcp.capabilities.update(
            mcp_integration_id=made.id, capabilities=[{"name": "readme", "type": "resource", "enabled": True}]
        )
        assert len((await mcp.capabilities.list(mcp_integration_id=made.id)).data) == 1
        assert (await mcp.metadata.retrieve(mcp_integration_id=made.id)).capability_flags["resources"] is True
        await mcp.workspaces.update(
            mcp_integration_id=made.id, workspaces=[], global_workspace_access={"enabled": True}
        )
        assert (await mcp.workspaces.list(mcp_integration_id=made.id)).global_workspace_access == {
            "enabled": True
        }
        servers = portkey.mcp_servers
        served = await servers.create(name="Async server", mcp_integration_id=made.id)
        await servers.update(mcp_server_id=served.id, description="async")
        assert (await servers.retrieve(mcp_server_id=served.id)).description == "async"
        assert (await servers.list()).total == 1
        assert (await servers.test(mcp_server_id=served.id)).success is True
        await servers.delete(mcp_server_id=served.id)
        assert (await servers.list()).total == 0
        await mcp.delete(mcp_integration_id=made.id)
        assert (await mcp.list()).total == 0

    asyncio.run(lifecycle())
    assert_clean(portkey_mock, *OPERATIONS)


def test_the_node_sdk_drives_the_same_life(node_sdk, portkey_mock):
    env = {**os.environ, "PORTKEY_BASE_URL": portkey_mock.base_url, "PORTKEY_API_KEY": portkey_mock.api_key}
    ran = subprocess.run(
        ["node", "mcp.js"], cwd=node_sdk, env=env, capture_output=True, text=True, timeout=120
    )
    assert ran.returncode == 0, f"the Node SDK script failed:\n{ran.stdout}\n{ran.stderr}"
    seen = json.loads(ran.stdout)

    assert seen["renamed"] == "Docs search (EU)" and seen["listed"] == 1
    assert seen["capabilities"] == [["tool", "search", True]] and seen["flags"]["tools"] is True
    assert seen["workspaces"] == 1 and seen["left"] == 0
    assert seen["server"] == "Docs (EU)" and seen["tested"] is True and seen["serversLeft"] == 0
    assert_clean(portkey_mock, *OPERATIONS)

"""Portkey's Python SDK (sync and async) and Node SDK drive an integration and a provider through their
whole lives against the `portkey_mock` fixture; the journal must be clean.

Where an SDK cannot read a faithful answer, a strict expected failure shows it, so a fixed SDK makes
the test fail loudly (docs/model-catalog.md, "Known client behaviours").
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess

import pydantic
import pytest
from portkey_ai import AsyncPortkey, Portkey
from portkey_ai.api_resources.exceptions import NotFoundError

from tests.support.clean_journal import assert_clean
from tests.support.paths import NODE_PROJECT

pytestmark = pytest.mark.slow  # a served mock and real clients

SECRET = "sk-catalog-sdk-000000000wxyz"
LIMIT = {"type": "requests", "unit": "rpm", "value": 60}


def _assert_clean(portkey_mock, *operations: str) -> None:
    assert_clean(portkey_mock, *operations)
    assert SECRET not in json.dumps(portkey_mock.journal)


LIFECYCLE_OPERATIONS = (
    "createIntegration",
    "retrieveIntegration",
    "listIntegrations",
    "updateIntegration",
    "updateIntegrationWorkspaces",
    "listIntegrationWorkspaces",
    "updateIntegrationModels",
    "listIntegrationModels",
    "deleteIntegrationModels",
    "createProvider",
    "retrieveProvider",
    "retrieveVirtualKey",
    "updateProvider",
    "listProviders",
    "deleteProvider",
    "deleteIntegration",
)


def test_the_python_sdk_drives_an_integration_and_a_provider_through_their_lives(portkey_mock):
    portkey = Portkey(api_key=portkey_mock.api_key, base_url=portkey_mock.base_url)

    created = portkey.integrations.create(
        name="Prod OpenAI", ai_provider_id="openai", key=SECRET, slug="py-openai"
    )
    assert created.slug == "py-openai" and created.id
    detail = portkey.integrations.retrieve(slug="py-openai")
    assert detail.masked_key == "sk*****xyz" and detail.ai_provider_id == "openai"
    assert [i.slug for i in portkey.integrations.list().data] == ["py-openai"]
    portkey.integrations.update(slug="py-openai", description="from the Python SDK")
    assert portkey.integrations.retrieve(slug="py-openai").description == "from the Python SDK"

    portkey.integrations.workspaces.update(
        slug="py-openai",
        workspaces=[{"id": "ws-py", "enabled": True}],
        global_workspace_access={"enabled": True},
    )
    assert [w.id for w in portkey.integrations.workspaces.list(slug="py-openai").workspaces] == ["ws-py"]
    [default] = portkey.providers.list(workspace_id="ws-py").data
    assert default.slug == "py-openai" and default.note == "Created automatically on integration access grant"

    custom = {"slug": "my-ft", "enabled": True, "is_custom": True, "base_model_slug": "gpt-4o"}
    portkey.integrations.models.update(slug="py-openai", models=[custom], allow_all_models=False)
    models = portkey.integrations.models.list(slug="py-openai")
    assert [m.slug for m in models.models] == ["my-ft"] and models.allow_all_models is False
    portkey.integrations.models.delete(slug="py-openai", slugs="my-ft")

    made = portkey.providers.create(name="Python provider", integration_id="py-openai", slug="py-provider")
    assert made.slug == "py-provider"
    assert portkey.providers.retrieve(slug="py-provider").integration_id == "py-openai"
    as_key = portkey.virtual_keys.retrieve(slug="py-provider")  # the same record, the other path
    assert as_key.object == "virtual-key" and as_key.masked_api_key == "sk*****xyz"
    portkey.providers.update(slug="py-provider", note="renamed", name="Python provider 2")
    assert portkey.providers.retrieve(slug="py-provider").note == "renamed"
    assert [p.slug for p in portkey.providers.list().data] == ["py-provider"]
    portkey.providers.delete(slug="py-provider")
    with pytest.raises(NotFoundError):
        portkey.virtual_keys.retrieve(slug="py-provider")
    portkey.integrations.delete(slug="py-openai")
    with pytest.raises(NotFoundError):
        portkey.integrations.retrieve(slug="py-openai")

    _assert_clean(portkey_mock, *LIFECYCLE_OPERATIONS)


def test_the_async_python_sdk_drives_the_same_lives(portkey_mock):
    async def lifecycle() -> None:
        portkey = AsyncPortkey(api_key=portkey_mock.api_key, base_url=portkey_mock.base_url)
        await portkey.integrations.create(
            name="Async", ai_provider_id="openai", key=SECRET, slug="async-openai"
        )
        await portkey.integrations.workspaces.update(
            slug="async-openai", workspaces=[{"id": "ws-async", "enabled": True}]
        )
        made = await portkey.providers.create(
            name="async provider", integration_id="async-openai", workspace_id="ws-async"
        )
        got = await portkey.providers.retrieve(slug=made.slug, workspace_id="ws-async")
        assert got.integration_id == "async-openai"
        await portkey.providers.update(slug=made.slug, workspace_id="ws-async", note="async note")
        listed = await portkey.providers.list(workspace_id="ws-async")
        assert sorted(p.slug for p in listed.data) == sorted([made.slug, "async-openai"])
        await portkey.providers.delete(slug=made.slug, workspace_id="ws-async")
        assert (await portkey.integrations.list(type="organisation")).total == 1
        await portkey.integrations.delete(slug="async-openai")

    asyncio.run(lifecycle())
    _assert_clean(portkey_mock, "createProvider", "updateProvider", "deleteProvider", "deleteIntegration")


@pytest.mark.xfail(
    raises=pydantic.ValidationError,
    strict=True,
    reason="the Python SDK types Provider.rate_limits as an object; the service answers an array",
)
def test_the_python_sdk_lists_a_provider_with_rate_limits(portkey_mock):
    portkey = Portkey(api_key=portkey_mock.api_key, base_url=portkey_mock.base_url)
    portkey.integrations.create(name="Limited", ai_provider_id="openai", key=SECRET, slug="limited")
    portkey.integrations.workspaces.update(slug="limited", workspaces=[{"id": "ws-l", "enabled": True}])
    portkey.providers.create(name="limited", integration_id="limited", workspace_id="ws-l", rate_limits=LIMIT)
    portkey_mock.assert_all_requests_conform()  # the mock took the SDK's object and answers an array
    portkey.providers.list(workspace_id="ws-l")


@pytest.mark.xfail(
    raises=pydantic.ValidationError,
    strict=True,
    reason="the Python SDK types a workspace grant's rate_limits as an object; the service answers an array",
)
def test_the_python_sdk_lists_a_workspace_grant_with_limits(portkey_mock):
    portkey = Portkey(api_key=portkey_mock.api_key, base_url=portkey_mock.base_url)
    portkey.integrations.create(name="Granted", ai_provider_id="openai", key=SECRET, slug="granted")
    grant = {"id": "ws-g", "enabled": True, "rate_limits": [LIMIT]}
    portkey.integrations.workspaces.update(slug="granted", workspaces=[grant])
    portkey.integrations.workspaces.list(slug="granted")


def test_the_node_sdk_drives_an_integration_and_a_provider_through_their_lives(node_sdk, portkey_mock):
    env = {**os.environ, "PORTKEY_BASE_URL": portkey_mock.base_url, "PORTKEY_API_KEY": portkey_mock.api_key}
    ran = subprocess.run(
        ["node", "catalog.js"], cwd=NODE_PROJECT, env=env, capture_output=True, text=True, timeout=120
    )
    assert ran.returncode == 0, f"the Node SDK script failed:\n{ran.stdout}\n{ran.stderr}"
    seen = json.loads(ran.stdout)

    assert seen["maskedKey"] == "sk*****xyz"
    assert seen["defaultProvider"] == "node-openai"
    assert seen["viaVirtualKeys"] == {"object": "virtual-key", "integration_id": "node-openai"}
    assert seen["rateLimits"] == [LIMIT]  # sent as one object by the SDK, answered as an array
    assert seen["finalProviders"] == 1 and seen["integrationsLeft"] == 0
    _assert_clean(portkey_mock, *(op for op in LIFECYCLE_OPERATIONS if op != "listIntegrationModels"))
    warned = {w["location"] for e in portkey_mock.journal for w in e["warnings"]}
    assert {"body.override_existing_workspaces_access", "body.workspace_id", "body.rate_limits"} <= warned

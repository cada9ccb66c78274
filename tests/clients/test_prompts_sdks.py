"""Portkey's Python SDK (sync and async) and Node SDK drive prompts and partials through their lives
against the `portkey_mock` fixture, the journal clean: versions saved by updates and published, a
label on a version, render and completions (which call no model), partials included in a prompt.
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
    "createPrompt",
    "listPrompts",
    "getPrompt",
    "updatePrompt",
    "deletePrompt",
    "getPromptVersions",
    "getPromptByVersion",
    "updatePromptVersion",
    "updatePromptDefault",
    "createPromptRender",
    "createPromptCompletion",
    "createPromptPartial",
    "listPromptPartials",
    "getPromptPartial",
    "updatePromptPartial",
    "deletePromptPartial",
    "getPromptPartialVersions",
    "updatePromptPartialDefault",
)
TEMPLATE = json.dumps(
    [{"role": "system", "content": "{{>PARTIAL}}"}, {"role": "user", "content": "{{question}}"}]
)


def test_the_python_sdk_drives_prompts_and_partials_through_their_lives(portkey_mock):
    portkey = Portkey(api_key=portkey_mock.api_key, base_url=portkey_mock.base_url)
    collection = portkey.collections.create(name="Support")

    tone = portkey.prompts.partials.create(name="Tone", string="Answer kindly.")
    portkey.prompts.partials.update(tone.slug, string="Answer briefly.")
    assert [v["version"] for v in portkey.prompts.partials.versions.list(tone.slug).data] == [2, 1]
    portkey.prompts.partials.publish(tone.slug, version=2)
    assert portkey.prompts.partials.retrieve(tone.id).string == "Answer briefly."
    assert portkey.prompts.partials.list().total == 1

    made = portkey.prompts.create(
        name="Support reply",
        collection_id=collection.id,
        string=TEMPLATE.replace("PARTIAL", tone.slug),
        parameters={"temperature": 0.2},
        model="gpt-4o-mini",
        virtual_key="openai-prod",
    )
    assert made.slug.startswith("pp-") and made.version_id
    second = portkey.prompts.update(
        made.slug, string=TEMPLATE.replace("PARTIAL", tone.slug) + " ", model="gpt-4o"
    )
    versions = portkey.prompts.versions.list(made.slug)
    assert [v["prompt_version"] for v in versions.data] == [2, 1]
    assert portkey.prompts.retrieve(made.slug).prompt_version == 1  # saved, not published
    portkey.prompts.publish(made.slug, version=2)
    assert portkey.prompts.retrieve(made.id).model == "gpt-4o"
    assert portkey.prompts.versions.retrieve(made.slug, made.version_id).prompt_version == 1
    label = portkey.labels.create(name="production")
    portkey.prompts.versions.update(made.slug, second.prompt_version_id, label_id=label.id)
    assert portkey.prompts.list(collection_id=collection.id).total == 1

    rendered = portkey.prompts.render(prompt_id=f"{made.slug}@production", variables={"question": "Where?"})
    assert rendered.success and rendered.data.messages[0]["content"] == "Answer briefly."
    completed = portkey.prompts.completions.create(prompt_id=made.id, variables={"question": "Where?"})
    assert completed.choices[0].message.content == "[mock completion] Where?"
    assert completed.model == "gpt-4o"

    portkey.prompts.delete(made.id)
    with pytest.raises(NotFoundError):
        portkey.prompts.retrieve(made.id)
    portkey.prompts.partials.delete(tone.slug)
    assert portkey.prompts.partials.list().total == 0

    assert_clean(portkey_mock, *OPERATIONS)


def test_the_async_python_sdk_drives_the_same_lives(portkey_mock):
    async def lifecycle() -> None:
        portkey = AsyncPortkey(api_key=portkey_mock.api_key, base_url=portkey_mock.base_url)
        collection = await portkey.collections.create(name="Async")
        made = await portkey.prompts.create(
            name="Async", collection_id=collection.slug, string="Say {{word}}", parameters={}, model="m"
        )
        await portkey.prompts.update(made.id, string="Shout {{word}}")
        await portkey.prompts.publish(made.id, version=2)
        rendered = await portkey.prompts.render(prompt_id=made.id, variables={"word": "hi"})
        assert rendered.data.prompt == "Shout hi"
        completed = await portkey.prompts.completions.create(
            prompt_id=f"{made.id}@1", variables={"word": "hi"}
        )
        assert completed.choices[0].text == "[mock completion] Say hi"
        assert (await portkey.prompts.versions.list(made.id)).total == 2
        await portkey.prompts.delete(made.slug)
        partial = await portkey.prompts.partials.create(name="Async part", string="x")
        await portkey.prompts.partials.delete(partial.id)
        assert (await portkey.prompts.list()).total == 0

    asyncio.run(lifecycle())
    assert_clean(portkey_mock, "createPrompt", "updatePrompt", "createPromptRender", "createPromptCompletion")


def test_the_node_sdk_drives_the_same_lives(node_sdk, portkey_mock):
    env = {**os.environ, "PORTKEY_BASE_URL": portkey_mock.base_url, "PORTKEY_API_KEY": portkey_mock.api_key}
    ran = subprocess.run(
        ["node", "prompts.js"], cwd=node_sdk, env=env, capture_output=True, text=True, timeout=120
    )
    assert ran.returncode == 0, f"the Node SDK script failed:\n{ran.stdout}\n{ran.stderr}"
    seen = json.loads(ran.stdout)

    assert seen["versions"] == [2, 1] and seen["published"] == 2
    assert (
        seen["rendered"] == "Answer briefly. Where?"
        and seen["completed"] == "[mock completion] Answer briefly. Where?"
    )
    assert seen["partialVersions"] == [2, 1] and seen["left"] == 0
    assert_clean(portkey_mock, *OPERATIONS)

"""Portkey's Python SDK (sync and async) and Node SDK insert logs and give and change feedback
against the `portkey_mock` fixture, the journal clean; each log they wrote reads back by its id
(`GET /logs/{logId}`, which neither SDK has a method for) as they sent it (docs/admin-logs.md).
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
from typing import Any

import httpx
import pytest
from portkey_ai import AsyncPortkey, Portkey

from tests.support.clean_journal import assert_clean

pytestmark = pytest.mark.slow  # a served mock and a real client

OPERATIONS = ("insertLogs", "getLog", "createFeedback", "updateFeedback")
REQUEST = {
    "url": "https://api.openai.com/v1/chat/completions",
    "method": "POST",
    "headers": {"Content-Type": "application/json", "Authorization": "Bearer sk-0123456789abcdef"},
    "body": {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "What is AI?"}]},
}
RESPONSE = {
    "status": 200,
    "headers": {"Content-Type": "application/json"},
    "body": {
        "model": "gpt-4o-mini",
        "usage": {"prompt_tokens": 5, "completion_tokens": 9, "total_tokens": 14},
    },
    "response_time": 123,
}


def read_log(portkey_mock: Any, log_id: str) -> dict[str, Any]:
    """A log as `GET /logs/{logId}` answers it (no SDK method reads one)."""
    answer = httpx.get(
        f"{portkey_mock.base_url}/logs/{log_id}", headers={"x-portkey-api-key": portkey_mock.api_key}
    )
    assert answer.status_code == 200, answer.text
    return dict(answer.json())


def assert_written(log: dict[str, Any], user: str) -> None:
    assert log["request"]["body"] == REQUEST["body"] and log["response"]["body"] == RESPONSE["body"]
    assert log["request"]["headers"]["Authorization"] == "Be*****def"  # never answered in clear
    assert log["metrics"]["total_units"] == 14 and log["metrics"]["user"] == user
    assert log["metrics"]["response_time"] == 123 and log["metrics"]["ai_model"] == "gpt-4o-mini"


def test_the_python_sdk_inserts_a_log_and_gives_and_changes_feedback(portkey_mock):
    portkey = Portkey(api_key=portkey_mock.api_key, base_url=portkey_mock.base_url)

    inserted = portkey.logs.create(
        request=REQUEST, response=RESPONSE, metadata={"_user": "sync", "trace_id": "t-1"}
    )
    log_id = inserted.json()["log_ids"][0]  # logs.create returns the HTTP response itself (no model)
    assert_written(read_log(portkey_mock, log_id), "sync")

    given = portkey.feedback.create(trace_id="t-1", value=5, weight=0.5, metadata={"reviewer": "qa"})
    assert given.status == "success" and len(given.feedback_ids) == 1
    changed = portkey.feedback.update(feedback_id=given.feedback_ids[0], value=-3)
    assert changed.feedback_ids == given.feedback_ids

    assert_clean(portkey_mock, *OPERATIONS)


def test_the_async_python_sdk_does_the_same(portkey_mock):
    async def lifecycle() -> str:
        portkey = AsyncPortkey(api_key=portkey_mock.api_key, base_url=portkey_mock.base_url)
        inserted = await portkey.logs.create(request=REQUEST, response=RESPONSE, metadata={"_user": "async"})
        given = await portkey.feedback.create(trace_id="t-2", value=1)
        changed = await portkey.feedback.update(feedback_id=given.feedback_ids[0], value=2, weight=1.0)
        assert changed.status == "success"
        return str(inserted.json()["log_ids"][0])

    log_id = asyncio.run(lifecycle())
    assert_written(read_log(portkey_mock, log_id), "async")
    assert_clean(portkey_mock, *OPERATIONS)


@pytest.mark.xfail(
    strict=True,
    reason="feedback.bulk_create sends a JSON array; the mock takes one feedback per request (a JSON "
    "object), docs/admin-logs.md",
)
def test_the_python_sdks_bulk_feedback_is_not_taken_yet(portkey_mock):
    portkey = Portkey(api_key=portkey_mock.api_key, base_url=portkey_mock.base_url)
    given = portkey.feedback.bulk_create(
        feedbacks=[{"trace_id": "t-3", "value": 1}, {"trace_id": "t-4", "value": 2}]
    )
    assert len(given.feedback_ids) == 2


def test_the_node_sdk_does_the_same(node_sdk, portkey_mock):
    env = {**os.environ, "PORTKEY_BASE_URL": portkey_mock.base_url, "PORTKEY_API_KEY": portkey_mock.api_key}
    ran = subprocess.run(
        ["node", "logs.js"], cwd=node_sdk, env=env, capture_output=True, text=True, timeout=120
    )
    assert ran.returncode == 0, f"the Node SDK script failed:\n{ran.stdout}\n{ran.stderr}"
    seen = json.loads(ran.stdout)

    assert_written(read_log(portkey_mock, seen["logId"]), "node")
    assert seen["given"] == "success" and seen["changed"] == [seen["feedbackId"]]
    assert_clean(portkey_mock, *OPERATIONS)

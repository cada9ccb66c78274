"""Portkey's Python SDK (sync and async) and Node SDK insert logs and give and change feedback
against the `portkey_mock` fixture, the journal clean; each log they wrote reads back by its id
(`GET /logs/{logId}`, which neither SDK has a method for) as they sent it (docs/admin-logs.md).
Each also drives every logs-export method (create, list, retrieve, update, cancel, start,
download), and the export's signed URL serves the logs it wrote (docs/admin-log-exports.md).
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import uuid
from typing import Any

import httpx
import pytest
from portkey_ai import AsyncPortkey, Portkey

from tests.support.clean_journal import assert_clean

pytestmark = pytest.mark.slow  # a served mock and a real client

OPERATIONS = ("insertLogs", "getLog", "createFeedback", "updateFeedback")
EXPORTS = (
    "createLogExport",
    "listLogExports",
    "getLogExport",
    "updateLogExport",
    "cancelLogExport",
    "startLogExport",
    "downloadLogExport",
)
FIELDS = ["id", "trace_id", "metadata", "total_units"]
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


def file_of(signed_url: str) -> list[dict[str, Any]]:
    """The lines of an export's file, read as a browser would: no API key."""
    answer = httpx.get(signed_url)
    assert answer.status_code == 200, answer.text
    return [json.loads(line) for line in answer.text.splitlines()]


def insert_run(portkey_mock: Any, run: str, count: int = 2) -> list[str]:
    """Logs of this run (its metadata names it), inserted with httpx; their ids, oldest first."""
    ids = []
    for _ in range(count):
        answer = httpx.post(
            f"{portkey_mock.base_url}/logs",
            headers={"x-portkey-api-key": portkey_mock.api_key},
            json={"request": REQUEST, "response": RESPONSE, "metadata": {"run": run}},
        )
        assert answer.status_code == 200, answer.text
        ids.append(answer.json()["log_ids"][0])
    return ids


def assert_exported(lines: list[dict[str, Any]], ids: list[str], run: str) -> None:
    assert [line["id"] for line in lines] == ids
    assert all(set(line) == set(FIELDS) and line["metadata"] == {"run": run} for line in lines)
    assert all(line["total_units"] == 14 for line in lines)


def test_the_python_sdk_drives_a_logs_export(portkey_mock):
    portkey = Portkey(api_key=portkey_mock.api_key, base_url=portkey_mock.base_url)
    run = uuid.uuid4().hex
    ids = insert_run(portkey_mock, run)
    made = portkey.logs.exports.create(
        filters={"metadata": {"run": run}}, requested_data=FIELDS, description="sync"
    )
    assert made.total == 2 and made.object == "export"
    read = portkey.logs.exports.retrieve(export_id=made.id)
    assert (
        read.status == "draft" and read.description == "sync" and read.filters == {"metadata": {"run": run}}
    )
    listed = portkey.logs.exports.list()
    assert made.id in [item["id"] for item in listed.data]
    updated = portkey.logs.exports.update(
        export_id=made.id, filters={"metadata": {"run": run}, "trace_id": ids[0]}, requested_data=FIELDS
    )
    assert updated.total == 1  # the first log is its own trace
    other = portkey.logs.exports.create(filters={"metadata": {"run": run}}, requested_data=FIELDS)
    assert portkey.logs.exports.cancel(export_id=other.id).object == "export"
    assert portkey.logs.exports.retrieve(export_id=other.id).status == "stopped"
    assert portkey.logs.exports.start(export_id=made.id).object == "export"
    signed = portkey.logs.exports.download(export_id=made.id).signed_url  # the clock has moved past the start
    assert portkey.logs.exports.retrieve(export_id=made.id).status == "success"
    assert_exported(file_of(signed), ids[:1], run)
    assert_clean(portkey_mock, "insertLogs", *EXPORTS)


def test_the_async_python_sdk_drives_a_logs_export(portkey_mock):
    run = uuid.uuid4().hex
    ids = insert_run(portkey_mock, run)

    async def lifecycle() -> str:
        portkey = AsyncPortkey(api_key=portkey_mock.api_key, base_url=portkey_mock.base_url)
        made = await portkey.logs.exports.create(filters={"metadata": {"run": run}}, requested_data=FIELDS)
        assert made.total == 2
        assert (await portkey.logs.exports.retrieve(export_id=made.id)).status == "draft"
        assert made.id in [item["id"] for item in (await portkey.logs.exports.list()).data]
        await portkey.logs.exports.update(export_id=made.id, filters={"metadata": {"run": run}})
        other = await portkey.logs.exports.create(filters={}, requested_data=FIELDS)
        await portkey.logs.exports.cancel(export_id=other.id)
        await portkey.logs.exports.start(export_id=made.id)
        return str((await portkey.logs.exports.download(export_id=made.id)).signed_url)

    assert_exported(file_of(asyncio.run(lifecycle())), ids, run)
    assert_clean(portkey_mock, "insertLogs", *EXPORTS)


def test_the_node_sdk_drives_a_logs_export(node_sdk, portkey_mock):
    run = uuid.uuid4().hex
    ids = insert_run(portkey_mock, run)
    env = {
        **os.environ,
        "PORTKEY_BASE_URL": portkey_mock.base_url,
        "PORTKEY_API_KEY": portkey_mock.api_key,
        "EXPORT_RUN": run,
        "EXPORT_FIELDS": json.dumps(FIELDS),
    }
    ran = subprocess.run(
        ["node", "logs-exports.js"], cwd=node_sdk, env=env, capture_output=True, text=True, timeout=120
    )
    assert ran.returncode == 0, f"the Node SDK script failed:\n{ran.stdout}\n{ran.stderr}"
    seen = json.loads(ran.stdout)

    assert seen["total"] == 2 and seen["listed"] and seen["updated"] == 2
    assert seen["cancelled"] == "stopped" and seen["status"] == "success"
    assert_exported(file_of(seen["signedUrl"]), ids, run)
    assert_clean(portkey_mock, "insertLogs", *EXPORTS)

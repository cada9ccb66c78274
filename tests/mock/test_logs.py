"""Logs and feedback on both stores: a log inserted with `POST /logs` reads back by its id with the
metrics computed from it, header values masked everywhere; feedback is kept and updated; both are
kept per workspace, bounded, and shared by two processes on one Redis (docs/admin-logs.md).
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from mockserver.app import create_app
from mockserver.config import MockConfig
from mockserver.resources.logs import Logs
from tests.support.inprocess import Api, error_of, reset, store_config, unique_prefix

SECRET = "Bearer sk-live-0123456789abcdef"


def a_log(**changes: Any) -> dict[str, Any]:
    log: dict[str, Any] = {
        "request": {
            "url": "https://api.openai.com/v1/chat/completions",
            "method": "POST",
            "headers": {"Authorization": SECRET, "Content-Type": "application/json"},
            "body": {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "Hi"}]},
        },
        "response": {
            "status": 200,
            "headers": {"x-portkey-cache-status": "HIT"},
            "body": {"model": "gpt-4o-mini-2024", "usage": {"prompt_tokens": 8, "completion_tokens": 12}},
            "response_time": 412,
        },
        "metadata": {"_user": "analyst-7", "trace_id": "checkout-42", "team": "growth"},
    }
    return log | changes


def insert(api: Api, log: dict[str, Any] | None = None) -> str:
    made = api.call("POST", "/v1/logs", json=log or a_log())
    assert made.status_code == 200, made.json
    assert made.json["success"] is True and len(made.json["log_ids"]) == 1
    return str(made.json["log_ids"][0])


def feedback(api: Api, **body: Any) -> str:
    made = api.call("POST", "/v1/feedback", json={"trace_id": "checkout-42", "value": 3, **body})
    assert made.status_code == 200, made.json
    assert made.json["status"] == "success"
    return str(made.json["feedback_ids"][0])


def test_an_inserted_log_reads_back_with_what_is_computed_from_it(api: Api):
    log_id = insert(api)
    read = api.call("GET", f"/v1/logs/{log_id}")
    assert read.status_code == 200, read.json
    log = read.json
    assert log["id"] == log_id and log["trace_id"] == "checkout-42"
    assert log["request"]["body"] == a_log()["request"]["body"]
    assert log["response"]["body"] == a_log()["response"]["body"]
    assert log["response"]["status"] == 200 and log["response"]["response_time"] == 412
    assert log["metadata"] == {"_user": "analyst-7", "trace_id": "checkout-42", "team": "growth"}
    metrics = log["metrics"]
    assert metrics["id"] == log_id and metrics["created_at"] == log["created_at"]
    assert metrics["ai_model"] == "gpt-4o-mini-2024"  # the model that answered, over the one asked
    assert (metrics["req_units"], metrics["res_units"], metrics["total_units"]) == (8, 12, 20)
    assert metrics["is_success"] is True and metrics["response_status_code"] == 200
    assert metrics["response_time"] == 412 and metrics["cache_status"] == "HIT"
    assert metrics["user"] == "analyst-7" and metrics["trace_id"] == "checkout-42"
    assert metrics["request_url"] == a_log()["request"]["url"] and metrics["request_method"] == "POST"
    assert metrics["cost"] == 0 and metrics["cost_currency"] == "USD"
    assert metrics["workspace_id"] == log["workspace_id"]


def test_a_failed_call_without_usage_or_trace_is_logged_with_defaults(api: Api):
    bare = {
        "request": {"url": "https://x.example/v1/embed", "body": {}},
        "response": {"status": 503, "body": {}},
    }
    log_id = insert(api, bare)
    log = api.call("GET", f"/v1/logs/{log_id}").json
    assert log["trace_id"] == log_id  # no trace named: the log is its own trace
    assert log["request"]["method"] == "POST" and log["request"]["headers"] == {}
    assert log["response"]["response_time"] == 0 and log["metadata"] == {}
    metrics = log["metrics"]
    assert metrics["is_success"] is False and metrics["response_status_code"] == 503
    assert (metrics["req_units"], metrics["res_units"], metrics["total_units"]) == (0, 0, 0)
    assert metrics["ai_model"] is None and metrics["user"] is None and metrics["cache_status"] is None


def test_header_values_are_never_answered_nor_journaled_in_clear(api: Api):
    log_id = insert(api)
    log = api.call("GET", f"/v1/logs/{log_id}").json
    assert set(log["request"]["headers"]) == {"Authorization", "Content-Type"}  # names kept
    assert log["request"]["headers"]["Authorization"] == "Be*****def"
    assert log["request"]["headers"]["Content-Type"] == "ap*****son"
    journal = api.client.get("/__mock/journal").json["entries"]
    assert SECRET not in json.dumps(journal) and "sk-live" not in json.dumps(journal)
    assert journal[0]["body"]["request"]["headers"]["Authorization"] == "Be*****def"


def test_a_log_or_feedback_is_reached_only_from_its_organisation_and_workspace(api: Api):
    log_id, feedback_id = insert(api), feedback(api)
    stranger = api.as_key("pk-someone-else")
    assert error_of(stranger.call("GET", f"/v1/logs/{log_id}"), 404, "AB08") == f"Log not found: {log_id}"
    moved = stranger.call("PUT", f"/v1/feedback/{feedback_id}", json={"value": 1})
    assert error_of(moved, 404, "AB08") == f"Feedback not found: {feedback_id}"
    made = api.call("POST", "/v1/admin/workspaces", json={"name": "Elsewhere"})
    elsewhere = made.json["id"]
    assert api.call("GET", f"/v1/logs/{log_id}?workspace_id={elsewhere}").status_code == 404
    assert api.call("GET", f"/v1/logs/{log_id}").status_code == 200
    there = api.call("POST", f"/v1/logs?workspace_id={elsewhere}", json=a_log()).json["log_ids"][0]
    assert api.call("GET", f"/v1/logs/{there}?workspace_id={elsewhere}").json["workspace_id"] == elsewhere
    assert api.call("GET", f"/v1/logs/{there}").status_code == 404  # not in the key's default workspace
    noted = api.call("POST", f"/v1/feedback?workspace_id={elsewhere}", json={"trace_id": "t", "value": 1})
    noted_id = noted.json["feedback_ids"][0]
    assert api.call("PUT", f"/v1/feedback/{noted_id}", json={"value": 2}).status_code == 404
    assert (
        api.call("PUT", f"/v1/feedback/{noted_id}?workspace_id={elsewhere}", json={"value": 2}).status_code
        == 200
    )


def test_a_missing_log_or_feedback_answers_404(api: Api):
    assert error_of(api.call("GET", "/v1/logs/nothing-here"), 404, "AB08") == "Log not found: nothing-here"
    missing = api.call("PUT", "/v1/feedback/nothing-here", json={"value": 1})
    assert error_of(missing, 404, "AB08") == "Feedback not found: nothing-here"


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"response": {"body": {}}}, "body.request: is required"),
        ({"request": {"body": {}}, "response": {"body": {}}}, "body.request.url: is required"),
        (a_log(extra=1), "body.extra: is not a field the contract allows here"),
        ([a_log()], "body: must be a JSON object"),  # one log per request
    ],
)
def test_a_log_the_contract_refuses_is_a_400_naming_the_field(api: Api, body: Any, message: str):
    refused = api.call("POST", "/v1/logs", json=body)
    assert message in error_of(refused, 400, "AB01")


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"trace_id": "t", "value": 11}, "body.value: must be at most 10"),
        ({"trace_id": "t", "value": 1, "weight": 1.5}, "body.weight: must be at most 1"),
        ({"value": 1}, "body.trace_id: is required"),
    ],
)
def test_feedback_the_contract_refuses_is_a_400_naming_the_field(api: Api, body: Any, message: str):
    assert message in error_of(api.call("POST", "/v1/feedback", json=body), 400, "AB01")


def test_feedback_is_kept_and_an_update_changes_only_what_it_names(
    request: pytest.FixtureRequest, store_kind: str
):
    app = create_app(store_config(request, store_kind))
    api = Api(app.test_client())
    try:
        first = feedback(api, metadata={"reviewer": "qa"})
        second = feedback(api, value=-4, weight=0.25)
        updated = api.call("PUT", f"/v1/feedback/{first}", json={"value": -2, "feedback_id": first})
        assert updated.status_code == 200, updated.json
        assert updated.json["feedback_ids"] == [first]
        organisation = api.call("GET", f"/v1/logs/{insert(api)}").json["organisation_id"]
        kept = {f["id"]: f for f in Logs(app.state.resources).feedback_of(organisation)}
        assert kept[first]["value"] == -2 and kept[first]["weight"] == 1  # weight kept at its default
        assert kept[first]["metadata"] == {"reviewer": "qa"} and kept[first]["trace_id"] == "checkout-42"
        assert kept[first]["last_updated_at"] >= kept[first]["created_at"]
        assert (kept[second]["value"], kept[second]["weight"]) == (-4, 0.25)
    finally:
        reset(app)


def test_logs_and_feedback_are_bounded_the_oldest_dropped_first():
    api = Api(create_app(MockConfig(journal_limit=3)).test_client())
    logs = [insert(api) for _ in range(4)]
    assert api.call("GET", f"/v1/logs/{logs[0]}").status_code == 404
    assert all(api.call("GET", f"/v1/logs/{log}").status_code == 200 for log in logs[1:])
    notes = [feedback(api) for _ in range(4)]
    assert api.call("PUT", f"/v1/feedback/{notes[0]}", json={"value": 1}).status_code == 404
    assert api.call("PUT", f"/v1/feedback/{notes[3]}", json={"value": 1}).status_code == 200


def test_two_processes_on_one_redis_read_each_others_logs_and_feedback(redis_url: str):
    config = MockConfig(store_url=redis_url, redis_prefix=unique_prefix())
    one, two = create_app(config), create_app(config)
    try:
        log_id = insert(Api(one.test_client()))
        feedback_id = feedback(Api(one.test_client()))
        assert Api(two.test_client()).call("GET", f"/v1/logs/{log_id}").json["id"] == log_id
        changed = Api(two.test_client()).call("PUT", f"/v1/feedback/{feedback_id}", json={"value": 7})
        assert changed.status_code == 200, changed.json
    finally:
        reset(one)

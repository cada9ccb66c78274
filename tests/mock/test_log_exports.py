"""Logs exports on both stores: an export is made a draft over the logs inserted with `POST /logs`,
moves through its states on an injected clock (start, success once the clock passes the start,
cancel), refuses illegal transitions with the contract's state rules, and its signed URL serves
exactly the logs its filters matched when it completed, header values masked
(docs/admin-log-exports.md).
"""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest

from mockserver.app import create_app
from mockserver.config import MockConfig
from tests.mock.test_logs import SECRET, a_log, insert
from tests.support.inprocess import START, Api, Clock, error_of, reset, unique_prefix


@pytest.fixture
def api(clocked_api: Api) -> Api:
    return clocked_api


def logged(api: Api, clock: Clock, **metadata: Any) -> str:
    """Insert a log with this metadata one tick after the last, with a secret header."""
    clock.tick()
    return insert(api, a_log(metadata={"trace_id": "t-1", **metadata}))


def export(api: Api, **body: Any) -> dict[str, Any]:
    made = api.call("POST", "/v1/logs/exports", json={"filters": {}, **body})
    assert made.status_code == 200, made.json
    assert made.json["object"] == "export"
    return dict(made.json)


def status(api: Api, export_id: str) -> str:
    read = api.call("GET", f"/v1/logs/exports/{export_id}")
    assert read.status_code == 200, read.json
    return str(read.json["status"])


def lines(api: Api, export_id: str) -> list[dict[str, Any]]:
    download = api.call("GET", f"/v1/logs/exports/{export_id}/download")
    assert download.status_code == 200, download.json
    url = download.json["signed_url"]
    assert url.startswith("http://localhost/__mock/log-exports/")
    file = api.client.get(url.removeprefix("http://localhost"))  # no API key: the URL is signed
    assert file.status_code == 200 and file.mimetype == "application/x-ndjson"
    return [json.loads(line) for line in file.get_data(as_text=True).splitlines()]


def test_the_list_path_is_the_exports_not_a_log_named_exports(api: Api):
    listed = api.call("GET", "/v1/logs/exports")
    assert listed.status_code == 200, listed.json
    assert listed.json == {"object": "list", "total": 0, "data": []}


def test_an_export_is_a_draft_that_reads_back_what_was_sent(api: Api, clock: Clock):
    logged(api, clock, team="growth")
    logged(api, clock, team="search")
    body = {
        "filters": {"metadata": {"team": "growth"}},
        "requested_data": ["id", "metadata"],
        "description": "Growth's calls",
    }
    made = export(api, **body)
    assert made["total"] == 1  # the logs its filters match now
    read = api.call("GET", f"/v1/logs/exports/{made['id']}").json
    assert read["status"] == "draft" and read["object"] == "export"
    assert {k: read[k] for k in body} == body
    assert read["created_at"] == read["last_updated_at"] == "2030-01-01T12:00:00.002Z"
    assert "total" not in read and "file" not in read and "started_at" not in read
    listed = api.call("GET", "/v1/logs/exports").json
    assert listed["total"] == 1 and listed["data"] == [read]
    every = export(api)
    assert every["total"] == 2
    assert api.call("GET", f"/v1/logs/exports/{every['id']}").json["requested_data"][:3] == [
        "id",
        "trace_id",
        "created_at",
    ]


def test_an_update_changes_a_drafts_filters_and_counts_again(api: Api, clock: Clock):
    logged(api, clock, team="growth")
    made = export(api, filters={"metadata": {"team": "nobody"}})
    assert made["total"] == 0
    clock.tick()
    changed = api.call(
        "PUT", f"/v1/logs/exports/{made['id']}", json={"filters": {"trace_id": "t-1"}, "workspace_id": ""}
    )  # an empty workspace_id: the caller's, as on every body
    assert changed.status_code == 200, changed.json
    assert changed.json == {"id": made["id"], "total": 1, "object": "export"}
    read = api.call("GET", f"/v1/logs/exports/{made['id']}").json
    assert read["filters"] == {"trace_id": "t-1"} and read["last_updated_at"] > read["created_at"]


def test_an_export_moves_through_its_states_on_the_clock(api: Api, clock: Clock):
    logged(api, clock)
    made = export(api)
    started = api.call("POST", f"/v1/logs/exports/{made['id']}/start")
    assert started.status_code == 200 and started.json["object"] == "export", started.json
    assert status(api, made["id"]) == "in_progress"  # the clock has not moved past its start
    clock.tick()
    assert status(api, made["id"]) == "success"
    listed = api.call("GET", "/v1/logs/exports").json["data"]
    assert [e["status"] for e in listed] == ["success"]


def test_cancel_stops_a_draft_or_an_export_in_progress(api: Api, clock: Clock):
    draft, running = export(api)["id"], export(api)["id"]
    assert api.call("POST", f"/v1/logs/exports/{running}/start").status_code == 200
    for export_id in (draft, running):
        cancelled = api.call("POST", f"/v1/logs/exports/{export_id}/cancel")
        assert cancelled.status_code == 200, cancelled.json
        assert status(api, export_id) == "stopped"
    clock.tick(timedelta(hours=1))
    assert status(api, running) == "stopped"  # never completes once stopped


@pytest.mark.parametrize(
    ("action", "rule"),
    [
        ("start", "names an export that was already started or stopped; only a draft can be started"),
        ("cancel", "names an export that has finished or was already stopped"),
        ("update", "names an export that was started or stopped; only a draft can be changed"),
    ],
)
def test_an_illegal_transition_answers_400_with_the_state_rule(
    api: Api, clock: Clock, action: str, rule: str
):
    finished, stopped = export(api)["id"], export(api)["id"]
    api.call("POST", f"/v1/logs/exports/{finished}/start")
    api.call("POST", f"/v1/logs/exports/{stopped}/cancel")
    clock.tick()
    for export_id in (finished, stopped):
        if action == "update":
            refused = api.call("PUT", f"/v1/logs/exports/{export_id}", json={"filters": {}})
        else:
            refused = api.call("POST", f"/v1/logs/exports/{export_id}/{action}")
        assert error_of(refused, 400, "AB01") == f"path.exportId: {rule}"
    assert status(api, finished) == "success" and status(api, stopped) == "stopped"
    journal = api.client.get("/__mock/journal").json["entries"]
    refusals = [e for e in journal if {"location": "path.exportId", "rule": rule} in e.get("violations", [])]
    assert len(refusals) == 2 and {e["status"] for e in refusals} == {400}


def test_download_before_success_answers_400(api: Api, clock: Clock):
    export_id = export(api)["id"]
    rule = "path.exportId: names an export that has not finished successfully"
    assert error_of(api.call("GET", f"/v1/logs/exports/{export_id}/download"), 400, "AB01") == rule
    api.call("POST", f"/v1/logs/exports/{export_id}/start")
    assert error_of(api.call("GET", f"/v1/logs/exports/{export_id}/download"), 400, "AB01") == rule
    clock.tick()
    assert api.call("GET", f"/v1/logs/exports/{export_id}/download").status_code == 200


def test_the_file_holds_exactly_the_logs_matching_the_filters_when_it_completed(api: Api, clock: Clock):
    early = logged(api, clock, team="growth")
    window_start = clock.now + clock.step
    inside = logged(api, clock, team="growth")
    logged(api, clock, team="search")  # other metadata
    other_trace = insert(api, a_log(metadata={"trace_id": "t-2", "team": "growth"}))
    failed = insert(
        api, a_log(response={"status": 429, "body": {}}, metadata={"trace_id": "t-1", "team": "growth"})
    )
    window_end = clock.now
    clock.tick()
    logged(api, clock, team="growth")  # after the window
    filters = {
        "time_of_generation_min": window_start.isoformat(),
        "time_of_generation_max": window_end.isoformat(),
        "metadata": {"team": "growth"},
        "status_code": "200,201",
    }
    made = export(api, filters=filters, requested_data=["id", "request", "total_units", "ai_org"])
    assert made["total"] == 2  # inside and other_trace
    assert api.call("POST", f"/v1/logs/exports/{made['id']}/start").status_code == 200
    clock.now = (
        window_end - clock.step
    )  # a log inserted after the start is not in the file, whatever its time
    insert(api, a_log(metadata={"trace_id": "t-1", "team": "growth"}))
    clock.now = START + timedelta(hours=1)
    held = lines(api, made["id"])
    assert [line["id"] for line in held] == [inside, other_trace]  # oldest first
    assert early not in json.dumps(held) and failed not in json.dumps(held)
    assert all(set(line) == {"id", "request", "total_units", "ai_org"} for line in held)
    assert held[0]["total_units"] == 20 and held[0]["ai_org"] is None  # only the gateway knows a provider
    assert held[0]["request"]["headers"]["Authorization"] == "Be*****def"
    file = api.client.get(api.call("GET", f"/v1/logs/exports/{made['id']}/download").json["signed_url"])
    assert SECRET not in file.get_data(as_text=True)


@pytest.mark.parametrize(
    ("filters", "matching"),
    [
        ({"trace_id": "t-1"}, 2),
        ({"ai_model": "gpt-4o-mini-2024"}, 3),
        ({"total_units_min": 21}, 1),
        ({"prompt_token_max": 7}, 1),
        ({"completion_token_min": 12, "completion_token_max": 12}, 2),
        ({"cost_max": 0}, 3),
        ({"virtual_keys": "vk-1"}, 0),  # what only the gateway records matches no inserted log
        ({"current_page": 1, "page_size": 2}, 1),
    ],
)
def test_each_filter_keeps_the_logs_it_names(api: Api, clock: Clock, filters: dict[str, Any], matching: int):
    logged(api, clock)
    logged(api, clock)
    clock.tick()
    insert(
        api,
        a_log(
            response={
                "body": {"model": "gpt-4o-mini-2024", "usage": {"prompt_tokens": 1, "completion_tokens": 30}}
            },
            metadata={"trace_id": "t-9"},
        ),
    )
    made = export(api, filters=filters)
    api.call("POST", f"/v1/logs/exports/{made['id']}/start")
    clock.tick()
    assert len(lines(api, made["id"])) == matching


def test_a_signed_url_is_readable_without_a_key_and_unknown_tokens_answer_404(api: Api, clock: Clock):
    made = export(api)
    api.call("POST", f"/v1/logs/exports/{made['id']}/start")
    clock.tick()
    url = api.call("GET", f"/v1/logs/exports/{made['id']}/download").json["signed_url"]
    assert api.client.get(url.removeprefix("http://localhost")).status_code == 200
    missing = api.client.get("/__mock/log-exports/not-a-token")
    assert missing.status_code == 404 and missing.json["success"] is False


def test_a_signed_url_needs_no_control_token():
    clock = Clock()
    app = create_app(MockConfig(control_token="s3cret"), clock=clock)
    api = Api(app.test_client())
    made = export(api)
    api.call("POST", f"/v1/logs/exports/{made['id']}/start")
    clock.tick()
    url = api.call("GET", f"/v1/logs/exports/{made['id']}/download").json["signed_url"]
    assert api.client.get(url.removeprefix("http://localhost")).status_code == 200
    assert api.client.get("/__mock/journal").status_code == 401  # the rest of the plane stays locked


def test_an_export_is_reached_only_from_its_organisation_and_workspace(api: Api):
    export_id = export(api)["id"]
    stranger = api.as_key("pk-someone-else")
    assert error_of(stranger.call("GET", f"/v1/logs/exports/{export_id}"), 404, "AB08") == (
        f"Export not found: {export_id}"
    )
    assert stranger.call("POST", f"/v1/logs/exports/{export_id}/start").status_code == 404
    assert stranger.call("GET", "/v1/logs/exports").json["total"] == 0
    elsewhere = api.call("POST", "/v1/admin/workspaces", json={"name": "Elsewhere"}).json["id"]
    assert api.call("GET", f"/v1/logs/exports?workspace_id={elsewhere}").json["total"] == 0
    there = export(api, workspace_id=elsewhere)["id"]
    assert api.call("GET", f"/v1/logs/exports/{there}").status_code == 404
    assert (
        api.call("GET", f"/v1/logs/exports/{there}?workspace_id={elsewhere}").json["workspace_id"]
        == elsewhere
    )


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({}, "body.filters: is required"),
        ({"filters": {"team": "growth"}}, "body.filters.team: is not a field the contract allows here"),
        ({"filters": {"status_code": "ok"}}, "body.filters.status_code"),
        ({"filters": {}, "requested_data": ["password"]}, "body.requested_data[0]"),
        ({"filters": {"time_of_generation_min": "yesterday"}}, "body.filters.time_of_generation_min"),
    ],
)
def test_an_export_the_contract_refuses_is_a_400_naming_the_field(api: Api, body: Any, message: str):
    assert message in error_of(api.call("POST", "/v1/logs/exports", json=body), 400, "AB01")


def test_two_processes_on_one_redis_agree_on_an_export_and_its_file(redis_url: str):
    clock = Clock()
    config = MockConfig(store_url=redis_url, redis_prefix=unique_prefix())
    one, two = create_app(config, clock=clock), create_app(config, clock=clock)
    try:
        first, second = Api(one.test_client()), Api(two.test_client())
        log_id = insert(first, a_log())
        made = export(first)
        assert second.call("POST", f"/v1/logs/exports/{made['id']}/start").status_code == 200
        assert first.call("POST", f"/v1/logs/exports/{made['id']}/start").status_code == 400
        clock.tick()
        url = second.call("GET", f"/v1/logs/exports/{made['id']}/download").json["signed_url"]
        file = first.client.get(url.removeprefix("http://localhost"))
        assert [json.loads(line)["id"] for line in file.get_data(as_text=True).splitlines()] == [log_id]
    finally:
        reset(one)

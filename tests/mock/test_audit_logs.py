"""Audit logs on both stores: every admin write the mock answered is recorded (who, what, when, on
which resource, refused ones with their status, secrets masked), read back newest first with
Portkey's filters and paging, per workspace, on the mock's clock, bounded, and shared by two
processes on one Redis (docs/admin-audit-logs.md).
"""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
import yaml

from mockserver import Contract
from mockserver.access import derived_id
from mockserver.app import create_app
from mockserver.config import MockConfig
from mockserver.resources.audit_logs import subjects_of
from tests.support.inprocess import API_KEY, Api, Clock, error_of, reset, store_config, unique_prefix

PROVIDER_KEY = "sk-audit-0123456789abcdefSECRET"
ORGANISATION = derived_id("organisation", API_KEY)
WORKSPACE = derived_id("workspace", API_KEY)
WINDOW = {"start_time": "2030-01-01T00:00:00Z", "end_time": "2030-01-02T00:00:00Z"}


@pytest.fixture
def clock() -> Clock:
    return Clock(step=timedelta(seconds=1))  # one second a write


@pytest.fixture
def api(clocked_api: Api) -> Api:
    return clocked_api


def read(api: Api, organisation: str = ORGANISATION, **filters: Any) -> Any:
    """`GET /audit-logs` for these filters (the day of START by default), as answered."""
    query = {**WINDOW, "organisation_id": organisation, **filters}
    return api.call("GET", f"/v1/audit-logs?{urlencode(query)}")


def audit(api: Api, organisation: str = ORGANISATION, **filters: Any) -> Any:
    """The audit log's page for these filters."""
    answer = read(api, organisation, **filters)
    assert answer.status_code == 200, answer.json
    assert answer.json["object"] == "analytics-graph"
    return answer.json


def write(api: Api, clock: Clock, method: str, path: str, body: Any = None) -> Any:
    """One write, a second after the last."""
    clock.tick()
    answer = api.call(method, path, json=body) if body is not None else api.call(method, path)
    return answer


def ten_writes(api: Api, clock: Clock) -> list[tuple[str, str, str, str, int]]:
    """Ten admin writes on three resources; what each should be recorded as, oldest first."""
    vk = {"name": "Main", "provider": "openai", "key": PROVIDER_KEY}
    made = write(api, clock, "POST", "/v1/virtual-keys", vk)
    key = made.json["data"]["slug"]
    write(api, clock, "PUT", f"/v1/virtual-keys/{key}", {"name": "Main, renamed"})
    retry = {"name": "Retry", "config": {"retry": {"attempts": 3}}}
    slug = write(api, clock, "POST", "/v1/configs", retry).json["slug"]
    write(api, clock, "PUT", f"/v1/configs/{slug}", {"name": "Retry twice"})
    refused = write(api, clock, "POST", "/v1/configs", {"config": "not an object"})
    assert refused.status_code == 400
    workspace = write(api, clock, "POST", "/v1/admin/workspaces", {"name": "Team"}).json["id"]
    clock.tick()
    forwarded = {"x-portkey-api-key": api.api_key, "x-forwarded-for": "203.0.113.7, 10.0.0.1"}
    api.call("PUT", f"/v1/admin/workspaces/{workspace}", json={"name": "Team two"}, headers=forwarded)
    write(api, clock, "DELETE", f"/v1/configs/{slug}")
    missing = write(api, clock, "DELETE", "/v1/virtual-keys/no-such-key")
    assert missing.status_code == 404
    write(api, clock, "DELETE", f"/v1/virtual-keys/{key}")
    return [
        ("POST", "/v1/virtual-keys", "virtual_key", "create", 200),
        ("PUT", f"/v1/virtual-keys/{key}", "virtual_key", "update", 200),
        ("POST", "/v1/configs", "config", "create", 200),
        ("PUT", f"/v1/configs/{slug}", "config", "update", 200),
        ("POST", "/v1/configs", "config", "create", 400),
        ("POST", "/v1/admin/workspaces", "workspace", "create", 200),
        ("PUT", f"/v1/admin/workspaces/{workspace}", "workspace", "update", 200),
        ("DELETE", f"/v1/configs/{slug}", "config", "delete", 200),
        ("DELETE", "/v1/virtual-keys/no-such-key", "virtual_key", "delete", 404),
        ("DELETE", f"/v1/virtual-keys/{key}", "virtual_key", "delete", 200),
    ]


def test_ten_writes_are_ten_entries_newest_first_with_who_what_when(api: Api, clock: Clock):
    expected = ten_writes(api, clock)
    api.call("GET", "/v1/virtual-keys")  # reads are never recorded
    answer = audit(api)
    assert answer["total"] == 10
    records = answer["records"]
    what = ("method", "uri", "resource_type", "action", "response_status_code")
    assert [tuple(r[name] for name in what) for r in records] == expected[::-1]
    times = [r["timestamp"] for r in records]
    assert times == [f"2030-01-01T12:00:{second:02d}.000Z" for second in range(10, 0, -1)]
    for record in records:
        assert record["user_id"] == derived_id("user", API_KEY)  # who: as records' created_by
        assert record["user_type"] == "api_key"
        assert record["organisation_id"] == ORGANISATION
        assert record["workspace_id"] in (WORKSPACE, None)
        assert record["country"] == "unknown"
        assert json.loads(record["query_params"]) == {}
        assert len({r["request_id"] for r in records}) == 10
    workspace_create = records[4]
    assert workspace_create["workspace_id"] is None  # an organisation-level write names no workspace
    assert json.loads(workspace_create["request_body"]) == {"name": "Team"}
    assert json.loads(records[0]["request_body"]) == {}  # a DELETE sends none


def test_a_secret_is_never_in_an_entry(api: Api, clock: Clock):
    ten_writes(api, clock)
    answer = read(api)
    text = answer.get_data(as_text=True)
    assert PROVIDER_KEY not in text and API_KEY not in text
    created = answer.json["records"][-1]
    assert json.loads(created["request_body"])["key"] == "sk*****RET"  # masked as the journal masks it
    assert json.loads(created["request_headers"])["x-portkey-api-key"] == "pk*****key"


def test_every_filter_narrows_the_entries(api: Api, clock: Clock):
    ten_writes(api, clock)
    every = audit(api)["records"]

    def count(**filters: Any) -> int:
        narrowed = audit(api, **filters)
        assert narrowed["total"] == len(narrowed["records"])
        for record in narrowed["records"]:
            assert all(str(record[name]) == str(value) for name, value in filters.items())
        return int(narrowed["total"])

    assert count(method="DELETE") == 3 and count(method="PUT") == 3 and count(method="POST") == 4
    assert count(uri="/v1/configs") == 2
    assert count(request_id=every[3]["request_id"]) == 1
    assert count(user_id=derived_id("user", API_KEY)) == 10 and count(user_id=derived_id("user", "x")) == 0
    assert count(user_type="api_key") == 10 and count(user_type="user") == 0
    assert count(workspace_id=WORKSPACE) == 8
    assert count(response_status_code=400) == 1 and count(response_status_code=404) == 1
    assert count(resource_type="config") == 4 and count(resource_type="workspace") == 2
    assert count(action="create") == 4 and count(action="delete", resource_type="virtual_key") == 2
    assert count(client_ip="203.0.113.7") == 1 and count(client_ip="10.0.0.1") == 0
    assert count(country="unknown") == 10 and count(country="FR") == 0


def test_another_organisation_sees_none_and_names_its_own(api: Api, clock: Clock):
    ten_writes(api, clock)
    assert audit(api, organisation=derived_id("organisation", "another key")) == {
        "records": [],
        "total": 0,
        "object": "analytics-graph",
    }
    other = api.as_key("another key")
    assert audit(other, organisation=derived_id("organisation", "another key"))["total"] == 0
    assert audit(other)["total"] == 0  # naming the first organisation's id does not reach it


def test_the_time_window_is_the_mock_clocks(api: Api, clock: Clock):
    ten_writes(api, clock)
    assert audit(api, start_time="2030-01-01T12:00:03Z", end_time="2030-01-01T12:00:05Z")["total"] == 3
    assert audit(api, start_time="2030-01-01T12:00:10Z")["total"] == 1
    assert audit(api, end_time="2030-01-01T12:00:00.999Z")["total"] == 0
    assert audit(api, start_time="2030-01-01T13:00:03+01:00", end_time="2030-01-01T12:00:03Z")["total"] == 1
    clock.tick(timedelta(days=1))
    write(api, clock, "POST", "/v1/configs", {"name": "Tomorrow", "config": {}})
    assert audit(api)["total"] == 10  # written the next day: outside the window


def test_pages_hold_page_size_entries_from_page_0(api: Api, clock: Clock):
    ten_writes(api, clock)
    every = [r["request_id"] for r in audit(api)["records"]]
    pages = [audit(api, page_size=4, current_page=page) for page in range(4)]
    assert [len(p["records"]) for p in pages] == [4, 4, 2, 0]
    assert all(p["total"] == 10 for p in pages)
    assert [r["request_id"] for p in pages for r in p["records"]] == every
    assert audit(api, page_size=0)["records"] == []


@pytest.mark.parametrize(
    ("query", "where"),
    [
        ({"start_time": "yesterday"}, "query.start_time"),
        ({"end_time": "2030-13-01T00:00:00Z"}, "query.end_time"),
        ({"start_time": "2030-01-02T00:00:00Z", "end_time": "2030-01-01T00:00:00Z"}, "query.end_time"),
        ({"page_size": "101"}, "query.page_size"),
        ({"current_page": "-1"}, "query.current_page"),
        ({"method": "PATCH"}, "query.method"),
        ({"user_type": "robot"}, "query.user_type"),
        ({"response_status_code": "ok"}, "query.response_status_code"),
    ],
)
def test_a_bad_value_is_a_400_naming_the_parameter(api: Api, query: dict[str, str], where: str):
    message = error_of(read(api, **query), 400, "AB01")
    assert message.startswith(where), message


@pytest.mark.parametrize("missing", ["start_time", "end_time", "organisation_id"])
def test_the_window_and_organisation_are_required(api: Api, missing: str):
    sent = {**WINDOW, "organisation_id": ORGANISATION}
    del sent[missing]
    assert f"query.{missing}" in error_of(api.call("GET", f"/v1/audit-logs?{urlencode(sent)}"), 400, "AB01")


def test_the_read_is_not_recorded_nor_a_401_nor_a_faulted_write(api: Api, clock: Clock):
    audit(api)
    refused = api.client.post("/v1/configs", json={"name": "x", "config": {}})  # no API key
    assert refused.status_code == 401
    faulted = {"x-portkey-api-key": api.api_key, "x-mock-fault": "status=500"}
    failed = api.call("POST", "/v1/configs", json={"name": "x", "config": {}}, headers=faulted)
    assert failed.status_code == 500  # the fault stands in for the service failing first
    assert audit(api)["total"] == 0


def _keys_app(request: pytest.FixtureRequest, store_kind: str, tmp_path: Path, clock: Clock) -> Any:
    everything = [*sorted(Contract.load().scopes - {"audit_logs.list"}), "audit_logs.list"]
    keys = [
        {"key": "pk-admin", "organisation_id": "org-1", "scopes": everything},
        {"key": "pk-team", "organisation_id": "org-1", "workspace_id": "ws-team", "scopes": everything},
        {"key": "pk-other", "organisation_id": "org-1", "workspace_id": "ws-other", "scopes": everything},
        {"key": "pk-no-audit", "organisation_id": "org-1", "scopes": everything[:-1]},
    ]
    path = tmp_path / "keys.yaml"
    path.write_text(yaml.safe_dump({"api_keys": keys}))
    return create_app(store_config(request, store_kind, keys_path=path), clock=clock)


def test_a_workspace_call_sees_its_workspaces_only_and_the_read_needs_its_scope(
    request: pytest.FixtureRequest, store_kind: str, tmp_path: Path, clock: Clock
):
    app = _keys_app(request, store_kind, tmp_path, clock)
    try:
        admin = Api(app.test_client(), "pk-admin")
        team, other = admin.as_key("pk-team"), admin.as_key("pk-other")
        config = {"name": "Retry", "config": {"retry": {"attempts": 3}}}
        write(team, clock, "POST", "/v1/configs", config)
        write(other, clock, "POST", "/v1/configs", config)
        write(admin, clock, "POST", "/v1/configs", {**config, "workspace_id": "ws-other"})
        write(admin, clock, "POST", "/v1/admin/workspaces", {"name": "New"})
        assert audit(admin, "org-1")["total"] == 4
        assert audit(admin, "org-1", workspace_id="ws-other")["total"] == 2
        seen = audit(team, "org-1")
        assert seen["total"] == 1 and seen["records"][0]["workspace_id"] == "ws-team"
        assert seen["records"][0]["user_id"] == derived_id("user", "pk-team")
        assert audit(team, "org-1", workspace_id="ws-team")["total"] == 1
        error_of(read(team, "org-1", workspace_id="ws-other"), 403, "AB03")
        assert "audit_logs.list" in error_of(read(admin.as_key("pk-no-audit"), "org-1"), 403, "AB03")
    finally:
        reset(app)


def test_a_write_refused_for_its_scope_is_recorded_with_its_403(
    request: pytest.FixtureRequest, store_kind: str, tmp_path: Path, clock: Clock
):
    app = _keys_app(request, store_kind, tmp_path, clock)
    try:
        admin = Api(app.test_client(), "pk-admin")
        elsewhere = {"name": "x", "config": {}, "workspace_id": "ws-other"}
        outside = write(admin.as_key("pk-team"), clock, "POST", "/v1/configs", elsewhere)
        assert outside.status_code == 403
        (entry,) = audit(admin, "org-1")["records"]
        assert entry["response_status_code"] == 403 and entry["workspace_id"] == "ws-team"
    finally:
        reset(app)


def test_entries_are_bounded_by_the_journal_limit_and_forgotten_by_a_reset(clock: Clock):
    app = create_app(MockConfig(journal_limit=3), clock=clock)
    api = Api(app.test_client())
    for name in ("one", "two", "three", "four"):
        write(api, clock, "POST", "/v1/configs", {"name": name, "config": {}})
    kept = audit(api)["records"]
    assert [json.loads(r["request_body"])["name"] for r in kept] == ["four", "three", "two"]
    assert app.test_client().delete("/__mock/journal").status_code in (200, 204)
    assert audit(api)["total"] == 3  # emptying the journal leaves the audit log
    reset(app)
    assert audit(api)["total"] == 0


def test_two_processes_on_one_redis_read_each_others_entries(redis_url: str, clock: Clock):
    config = MockConfig(store_url=redis_url, redis_prefix=unique_prefix())
    one, two = create_app(config, clock=clock), create_app(config, clock=clock)
    try:
        write(Api(one.test_client()), clock, "POST", "/v1/configs", {"name": "one", "config": {}})
        write(Api(two.test_client()), clock, "POST", "/v1/configs", {"name": "two", "config": {}})
        assert audit(Api(one.test_client()))["total"] == 2
        assert audit(Api(two.test_client()))["total"] == 2
        reset(one)
        assert audit(Api(two.test_client()))["total"] == 0  # one reset forgets it for both
    finally:
        reset(one)


def test_every_write_of_the_contract_has_a_resource_type_and_an_action():
    contract = Contract.load()
    subjects = subjects_of(contract)
    writes = {o.operation_id for o in contract.operations.values() if o.method.upper() != "GET"}
    assert set(subjects) == writes
    assert subjects["rotateApiKey"] == ("api_key", "rotate")
    assert subjects["createPromptRender"] == ("prompt", "render")
    assert subjects["updateIntegrationModels"] == ("integration", "update")
    assert subjects["removeWorkspaceMember"] == ("workspace_user", "delete")
    assert subjects["startLogExport"] == ("export", "start")
    assert subjects["insertLogs"] == ("logs", "insert")

"""The request journal: every /v1 request, its operation, status and contract verdict, secrets masked."""

from __future__ import annotations

import json
import threading

import httpx

from mockserver.state.journal_store import MemoryJournal
from tests.support.inprocess import make_api

AZURE = {
    "name": "azure",
    "provider": "azure-openai",
    "key": "azure-secret-key-0000wxyz",
    "resourceName": "my-resource",
    "deploymentConfig": [{"apiVersion": "2024-08-01-preview", "deploymentName": "gpt"}],
}


def journal(api) -> list[dict]:
    response = api.client.get("/__mock/journal")
    assert response.status_code == 200
    return response.json["entries"]


def test_a_conforming_request_is_journaled_with_operation_status_and_verdict(api):
    api.create_slug(name="openai", provider="openai", key="sk-live-0000000000abcd")
    [entry] = journal(api)
    assert (entry["method"], entry["path"], entry["operation"], entry["status"]) == (
        "POST",
        "/v1/virtual-keys",
        "createVirtualKey",
        200,
    )
    assert entry["valid"] is True and entry["violations"] == [] and entry["warnings"] == []
    assert entry["body"]["name"] == "openai" and entry["time"].endswith("Z")


def test_control_plane_requests_are_not_journaled_but_a_path_merely_starting_like_it_is(api):
    api.client.get("/__mock/health")
    assert api.client.get("/__mockery").status_code == 404
    assert [(entry["path"], entry["status"]) for entry in journal(api)] == [("/__mockery", 404)]


def test_each_violation_is_journaled_with_its_location_and_rule(api):
    body = {**AZURE, "rate_limits": [{"type": "requests", "unit": "rpm"}]}
    body["deploymentConfig"] = [{"deploymentName": "gpt"}]
    assert api.create(**body).status_code == 400
    [entry] = journal(api)
    assert entry["valid"] is False and entry["status"] == 400
    assert {"location": "body.rate_limits[0].value", "rule": "is required"} in entry["violations"]
    assert {"location": "body.deploymentConfig[0].apiVersion", "rule": "is required"} in entry["violations"]


def test_secrets_and_the_api_key_are_masked_in_the_journal(api):
    secrets = ["sk-live-0000000000abcd", "aws-secret-0000000000wxyz", "-----BEGIN PRIVATE KEY-----"]
    api.create(name="openai", provider="openai", key=secrets[0])
    api.create(
        name="bedrock",
        provider="bedrock",
        awsAccessKeyId="AKIA0000",
        aws_secret_access_key=secrets[1],  # the Node SDK's spelling is masked too
        awsRegion="us-east-1",
    )
    api.create(
        name="vertex",
        provider="vertex-ai",
        vertexProjectId="p",
        vertexRegion="r",
        vertexServiceAccountJson={"private_key": secrets[2] + "0000", "type": "service_account"},
    )
    entries = journal(api)
    text = json.dumps(entries)
    assert [e["status"] for e in entries] == [200, 200, 200]
    for secret in [*secrets, api.api_key]:
        assert secret not in text
    assert entries[0]["body"]["key"] == "sk*****bcd"
    assert entries[0]["headers"]["x-portkey-api-key"] == "pk*****key"
    assert set(entries[2]["body"]["vertexServiceAccountJson"]) == {"private_key", "type"}


def test_a_snake_case_spelling_is_a_warning_not_a_violation(api):
    body = {**AZURE, "resource_name": AZURE["resourceName"]}
    del body["resourceName"]
    assert api.create(**body).status_code == 200
    [entry] = journal(api)
    assert entry["valid"] is True
    assert [w["location"] for w in entry["warnings"]] == ["body.resource_name"]
    assert "resourceName" in entry["warnings"][0]["rule"]


def test_a_null_in_an_optional_field_is_a_warning(api):
    slug = api.create_slug(name="openai", provider="openai", key="sk-live-0000000000abcd")
    assert api.update(slug, note=None).status_code == 200
    entry = journal(api)[-1]
    assert entry["valid"] is True
    assert [w["location"] for w in entry["warnings"]] == ["body.note"]


def test_a_bare_question_mark_is_a_warning(live):
    with httpx.Client() as client:
        client.get(f"{live.base_url}/virtual-keys?", headers={"x-portkey-api-key": "pk-bare"})
        entries = client.get(f"{live.root_url}/__mock/journal").json()["entries"]
    assert entries[-1]["bare_query"] is True and entries[-1]["valid"] is True
    assert entries[-1]["warnings"] == [
        {"location": "query", "rule": "is a bare '?' with no parameters after it"}
    ]


def test_an_undecodable_body_is_a_violation_and_is_not_kept(api):
    response = api.client.post(
        "/v1/virtual-keys",
        data=b'{"key": "sk-live-0000000000abcd", ',
        headers={"x-portkey-api-key": api.api_key, "Content-Type": "application/json"},
    )
    assert response.status_code == 400
    [entry] = journal(api)
    assert entry["body"] is None and entry["body_bytes"] > 0
    assert entry["violations"][0]["location"] == "body"
    assert "sk-live" not in json.dumps(entry)


def test_a_wrong_media_type_is_a_violation(api):
    api.client.post("/v1/virtual-keys", data="name=x", headers={"x-portkey-api-key": api.api_key})
    [entry] = journal(api)
    assert entry["status"] == 415
    assert entry["violations"] == [
        {"location": "header.Content-Type", "rule": "is required and must be application/json"}
    ]


def test_a_request_matching_no_operation_names_the_nearest(api):
    assert api.client.patch("/v1/virtual-keys/abc", headers={"x-portkey-api-key": "k"}).status_code == 405
    [entry] = journal(api)
    assert entry["operation"] is None and entry["nearest_operation"] == "retrieveVirtualKey"
    assert entry["violations"] == [
        {"location": "request", "rule": "PATCH /v1/virtual-keys/abc is not an operation of the contract"}
    ]


def test_a_missing_api_key_is_a_violation_answered_401(api):
    assert api.client.get("/v1/virtual-keys").status_code == 401
    [entry] = journal(api)
    assert entry["status"] == 401
    assert entry["violations"] == [{"location": "header.x-portkey-api-key", "rule": "is required"}]


def test_the_control_plane_is_not_journaled(api):
    api.client.post("/__mock/reset")
    api.client.get("/__mock/health")
    assert journal(api) == []


def test_the_journal_is_bounded_and_drops_the_oldest():
    api = make_api(journal_limit=3)
    for page_size in range(1, 6):
        api.list(f"?page_size={page_size}")
    body = api.client.get("/__mock/journal").json
    assert body["limit"] == 3 and body["dropped"] == 2
    assert [e["query"]["page_size"] for e in body["entries"]] == [["3"], ["4"], ["5"]]


def test_delete_clears_the_journal_and_reset_clears_it_too(api):
    api.list()
    assert api.client.delete("/__mock/journal").status_code == 200
    assert journal(api) == []
    api.list()
    api.client.post("/__mock/reset")
    assert journal(api) == []


def test_concurrent_appends_keep_every_entry_in_bounds():
    journal_ = MemoryJournal(limit=100)

    def append_many(worker: int) -> None:
        for index in range(50):
            journal_.append({"worker": worker, "index": index})

    threads = [threading.Thread(target=append_many, args=(w,)) for w in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    entries = journal_.entries()
    assert len(entries) == 100 and journal_.dropped() == 300
    assert [e["seq"] for e in entries] == list(range(301, 401))


def test_a_body_over_the_limit_is_a_violation_and_is_not_kept():
    api = make_api(max_body_bytes=200)
    response = api.create(name="x" * 300, provider="openai", key="sk-live-0000000000abcd")
    assert response.status_code == 413
    [entry] = api.client.get("/__mock/journal").json["entries"]
    assert entry["operation"] == "createVirtualKey" and entry["status"] == 413
    assert entry["violations"] == [{"location": "body", "rule": "larger than the limit of 200 bytes"}]
    assert entry["body"] is None and "sk-live" not in json.dumps(entry)


def test_the_serve_command_refuses_a_journal_limit_below_one(capsys):
    from mockserver.cli import main

    assert main(["serve", "--port", "0", "--journal-limit", "0"]) == 2
    assert "journal_limit must be positive" in capsys.readouterr().err

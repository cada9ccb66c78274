"""Prompts and partials, on both stores: versions made by updates and published by makeDefault, reads
that answer the published version unless told another, labels that choose a version, render and
completions that fill templates deterministically, and the collection a prompt lives in.

The lifecycle every declared resource shares is `tests/mock/test_declared_resources.py`'s.
"""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from mockserver.contract.document import Contract
from tests.support.inprocess import Api, error_of

CONTRACT = Contract.load()
NO_COLLECTION = CONTRACT.operations["createPrompt"].state_rules["body.collection_id"]
NO_LABEL = CONTRACT.operations["updatePromptVersion"].state_rules["body.label_id"]
UNFILLABLE = CONTRACT.operations["createPromptRender"].state_rules["path.promptId"]
HOLDS = CONTRACT.operations["deleteCollection"].state_rules["path.collectionId"]


def chat(*messages: tuple[str, str]) -> str:
    return json.dumps([{"role": role, "content": content} for role, content in messages])


def collection(api: Api, name: str = "Support") -> dict[str, Any]:
    made = api.call("POST", "/v1/collections", json={"name": name})
    assert made.status_code == 200, made.json
    return dict(made.json)


def prompt(api: Api, string: str, **body: Any) -> dict[str, Any]:
    body = {"name": "Support reply", "collection_id": collection(api)["id"], "string": string, **body}
    made = api.call(
        "POST", "/v1/prompts", json={"parameters": {"temperature": 0.2}, "model": "gpt-4o-mini", **body}
    )
    assert made.status_code == 200, made.json
    return dict(made.json)


def partial(api: Api, string: str, name: str = "Tone") -> dict[str, Any]:
    made = api.call("POST", "/v1/prompts/partials", json={"name": name, "string": string})
    assert made.status_code == 200, made.json
    return dict(made.json)


def read(api: Api, path: str) -> dict[str, Any]:
    answer = api.call("GET", path)
    assert answer.status_code == 200, answer.json
    return dict(answer.json)


def test_an_update_saves_a_version_that_reads_answer_only_once_it_is_published(api: Api):
    made = prompt(api, chat(("user", "v1 {{q}}")))
    item = f"/v1/prompts/{made['id']}"
    first = read(api, item)
    assert first["prompt_version"] == 1 and first["prompt_version_id"] == made["version_id"]

    updated = api.call(
        "PUT", item, json={"string": chat(("user", "v2 {{q}}")), "version_description": "second"}
    )
    assert updated.status_code == 200 and updated.json["prompt_version_id"] != made["version_id"]
    assert read(api, item)["string"] == chat(("user", "v1 {{q}}"))  # not published yet
    latest = read(api, f"{item}?version=latest")
    assert latest["prompt_version"] == 2 and latest["prompt_version_description"] == "second"
    assert latest["parameters"] == {"temperature": 0.2, "model": "gpt-4o-mini"}  # copied forward
    versions = read(api, f"{item}/versions")
    assert [v["prompt_version"] for v in versions["data"]] == [2, 1] and versions["total"] == 2

    assert api.call("PUT", f"{item}/makeDefault", json={"version": 2}).json == {}
    assert read(api, f"/v1/prompts/{made['slug']}")["string"] == chat(("user", "v2 {{q}}"))
    assert read(api, f"{item}?version=1")["prompt_version"] == 1
    assert read(api, f"{item}/versions/{made['version_id']}")["string"] == chat(("user", "v1 {{q}}"))


def test_a_rename_or_a_move_saves_no_version(api: Api):
    made = prompt(api, chat(("user", "{{q}}")))
    other = collection(api, "Elsewhere")
    item = f"/v1/prompts/{made['id']}"
    assert api.call("PUT", item, json={"name": "Renamed", "collection_id": other["slug"]}).status_code == 200
    after = read(api, item)
    assert (
        after["name"] == "Renamed" and after["collection_id"] == other["id"] and after["prompt_version"] == 1
    )
    assert read(api, f"{item}/versions")["total"] == 1


def test_a_version_that_is_not_there_is_not_found_and_changes_nothing(api: Api):
    made = prompt(api, chat(("user", "{{q}}")))
    item = f"/v1/prompts/{made['id']}"
    assert error_of(api.call("PUT", f"{item}/makeDefault", json={"version": 7}), 404, "AB08")
    assert error_of(api.call("GET", f"{item}?version=7"), 404, "AB08")
    assert error_of(api.call("GET", f"{item}/versions/{made['id']}"), 404, "AB08")
    assert read(api, item)["prompt_version"] == 1


def test_a_prompt_lives_in_a_collection_of_its_workspace(api: Api):
    refused = api.call(
        "POST",
        "/v1/prompts",
        json={"name": "Lost", "collection_id": "nowhere", "string": "x", "parameters": {}},
    )
    assert error_of(refused, 400, "AB01") == f"body.collection_id: {NO_COLLECTION}"
    assert read(api, "/v1/prompts")["total"] == 0
    made = prompt(api, "Say {{x}}")
    home = read(api, f"/v1/prompts/{made['id']}")["collection_id"]
    listed = read(api, "/v1/collections")["data"]
    details = next(c["collection_details"] for c in listed if c["id"] == home)
    assert details["prompts_count"] == 1 and details["prompts_last_updated_at"] is not None
    assert read(api, f"/v1/prompts?collection_id={home}")["total"] == 1
    assert read(api, f"/v1/prompts?collection_id={collection(api, 'Empty')['slug']}")["total"] == 0
    kept = api.call("DELETE", f"/v1/collections/{home}")
    assert error_of(kept, 400, "AB01") == f"path.collectionId: {HOLDS}"
    assert api.call("DELETE", f"/v1/prompts/{made['slug']}").status_code == 200
    assert api.call("DELETE", f"/v1/collections/{home}").status_code == 200


def test_render_fills_variables_and_partials_and_takes_settings_for_this_call_only(api: Api):
    tone = partial(api, "Answer kindly in {{language}}.")
    made = prompt(
        api, chat(("system", f"You are {{{{company}}}} support. {{{{>{tone['slug']}}}}}"), ("user", "{{q}}"))
    )
    rendered = api.call(
        "POST",
        f"/v1/prompts/{made['slug']}/render",
        json={"variables": {"company": "Acme", "q": "Hi?"}, "temperature": 0.9},
    )
    assert rendered.status_code == 200, rendered.json
    assert rendered.json == {
        "success": True,
        "data": {
            "model": "gpt-4o-mini",
            "temperature": 0.9,
            "messages": [
                {
                    "role": "system",
                    "content": "You are Acme support. Answer kindly in .",
                },  # a missing variable: nothing
                {"role": "user", "content": "Hi?"},
            ],
        },
    }
    assert read(api, f"/v1/prompts/{made['id']}")["parameters"]["temperature"] == 0.2  # not saved


def test_render_includes_a_partials_published_version_or_the_one_it_names(api: Api):
    tone = partial(api, "kind")
    item = f"/v1/prompts/partials/{tone['id']}"
    assert api.call("PUT", item, json={"string": "brief"}).status_code == 200
    made = prompt(api, f"Be {{{{>{tone['slug']}}}}} and {{{{>{tone['slug']}@2}}}}.")
    run = f"/v1/prompts/{made['id']}/render"
    assert api.call("POST", run, json={"variables": {}}).json["data"]["prompt"] == "Be kind and brief."
    assert api.call("PUT", f"{item}/makeDefault", json={"version": 2}).status_code == 200
    assert api.call("POST", run, json={"variables": {}}).json["data"]["prompt"] == "Be brief and brief."
    assert [v["version"] for v in read(api, f"{item}/versions")["data"]] == [2, 1]


def test_a_template_that_cannot_be_filled_is_refused_naming_the_rule(api: Api):
    first = partial(api, "x", name="First")
    second = partial(api, f"{{{{>{first['slug']}}}}}", name="Second")
    api.call("PUT", f"/v1/prompts/partials/{first['id']}", json={"string": f"{{{{>{second['slug']}}}}}"})
    api.call("PUT", f"/v1/prompts/partials/{first['id']}/makeDefault", json={"version": 2})
    for string in ("{{>not-a-partial}}", "{{#open}} never closed {{/other}}", f"{{{{>{first['slug']}}}}}"):
        made = prompt(api, string)
        for action in ("render", "completions"):
            refused = api.call("POST", f"/v1/prompts/{made['id']}/{action}", json={"variables": {}})
            assert error_of(refused, 400, "AB01") == f"path.promptId: {UNFILLABLE}", (string, action)


def test_a_label_chooses_the_version_render_and_completions_run(api: Api):
    made = prompt(api, chat(("user", "one {{q}}")))
    item = f"/v1/prompts/{made['id']}"
    second = api.call("PUT", item, json={"string": chat(("user", "two {{q}}"))}).json["prompt_version_id"]
    label = api.call("POST", "/v1/labels", json={"name": "staging"}).json["id"]
    assert api.call("PUT", f"{item}/versions/{second}", json={"label_id": label}).json == {}
    assert read(api, f"{item}?version=latest")["prompt_version_label_id"] == label

    def said(selector: str) -> str:
        answer = api.call(
            "POST", f"/v1/prompts/{made['slug']}@{selector}/render", json={"variables": {"q": "?"}}
        )
        assert answer.status_code == 200, answer.json
        return str(answer.json["data"]["messages"][0]["content"])

    assert (said("staging"), said("1"), said("latest"), said("default")) == (
        "two ?",
        "one ?",
        "two ?",
        "one ?",
    )
    assert (
        api.call("PUT", f"{item}/versions/{made['version_id']}", json={"label_id": label}).status_code == 200
    )
    assert said("staging") == "one ?"  # the label left version 2
    assert read(api, f"{item}?version=latest")["prompt_version_label_id"] is None
    assert error_of(
        api.call("POST", f"/v1/prompts/{made['id']}@nope/render", json={"variables": {}}), 404, "AB08"
    )
    refused = api.call("PUT", f"{item}/versions/{second}", json={"label_id": "not-a-label"})
    assert error_of(refused, 400, "AB01") == f"body.label_id: {NO_LABEL}"


def test_completions_call_no_model_and_answer_the_same_request_alike(api: Api):
    made = prompt(api, chat(("system", "Be brief."), ("user", "{{q}}")))
    run = f"/v1/prompts/{made['id']}/completions"
    first = api.call("POST", run, json={"variables": {"q": "Where is my order?"}})
    again = api.call("POST", run, json={"variables": {"q": "Where is my order?"}})
    assert first.status_code == 200, first.json
    answer = first.json
    assert answer["object"] == "chat.completion" and answer["model"] == "gpt-4o-mini"
    assert answer["choices"][0]["message"] == {
        "role": "assistant",
        "content": "[mock completion] Where is my order?",
    }
    assert answer["usage"] == {"prompt_tokens": 6, "completion_tokens": 6, "total_tokens": 12}
    assert again.json["id"] == answer["id"] and again.json["choices"] == answer["choices"]
    other = api.call("POST", run, json={"variables": {"q": "Other"}, "model": "gpt-4o"}).json
    assert other["id"] != answer["id"] and other["model"] == "gpt-4o"


def test_concurrent_updates_each_save_their_own_version(api: Api):
    made = prompt(api, chat(("user", "{{q}}")))
    item = f"/v1/prompts/{made['id']}"

    def update(n: int) -> int:
        answer = api.call("PUT", item, json={"string": chat(("user", f"v{n}"))})
        return int(answer.status_code)

    with ThreadPoolExecutor(max_workers=8) as pool:
        statuses = list(pool.map(update, range(24)))
    assert statuses == [200] * 24
    versions = read(api, f"{item}/versions?page_size=100")["data"]
    assert sorted(v["prompt_version"] for v in versions) == list(range(1, 26))
    assert sorted(v["prompt_template"] for v in versions[:-1]) == sorted(
        chat(("user", f"v{n}")) for n in range(24)
    )

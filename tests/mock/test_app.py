"""The app `create_app` returns: the API's dispatcher outside, the control plane's Flask app under
`/__mock`, one answer for an error on either plane, and WSGI middleware as the way to wrap both."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable, Iterable
from typing import Any

import pytest
from flask import request
from werkzeug.test import Client

from mockserver import MockConfig, create_app
from tests.conftest import store_config
from tests.support.paths import ROOT

HEADERS = {"x-portkey-api-key": "pk-app"}


def stamped(app: Callable[..., Iterable[bytes]]) -> Callable[..., Iterable[bytes]]:
    """WSGI middleware, as a user would write it: adds a header to every answer."""

    def wrapped(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        def start(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            return start_response(status, [*headers, ("X-Stamped", environ["PATH_INFO"])], exc_info)

        return app(environ, start)

    return wrapped


def test_wsgi_middleware_around_the_app_sees_api_and_control_requests_alike():
    client = Client(stamped(create_app()))

    created = client.post(
        "/v1/virtual-keys",
        json={"name": "a", "provider": "openai", "key": "sk-0000000000abcd"},
        headers=HEADERS,
    )
    health = client.get("/__mock/health")

    assert created.status_code == 200 and created.headers["X-Stamped"] == "/v1/virtual-keys"
    assert health.status_code == 200 and health.headers["X-Stamped"] == "/__mock/health"


def test_a_flask_hook_on_the_control_plane_sees_control_requests_only():
    app = create_app()
    seen: list[str] = []
    app.control.before_request(lambda: seen.append(request.path))
    client = app.test_client()

    client.get("/v1/virtual-keys", headers=HEADERS)
    client.get("/__mock/journal")

    assert seen == ["/__mock/journal"]  # as docs/mock.md says: wrap the app to see /v1


def test_an_unknown_path_and_a_wrong_method_get_one_wording_on_both_planes():
    client = create_app().test_client()

    for path in ("/v1/no-such-thing", "/__mock/no-such-thing"):
        answer = client.get(path, headers=HEADERS)
        assert (answer.status_code, answer.json) == (
            404,
            {"success": False, "data": {"message": "No such endpoint", "errorCode": "AB08"}},
        ), path
    for method, path in (("PATCH", "/v1/virtual-keys"), ("PATCH", "/__mock/journal")):
        answer = client.open(path, method=method, headers=HEADERS)
        assert answer.status_code == 405 and answer.json["data"] == {
            "message": "Method not allowed on this endpoint",
            "errorCode": "AB01",
        }, path
        assert "GET" in answer.headers["Allow"].split(", "), path


def test_the_body_limit_holds_on_both_planes_with_one_answer():
    client = create_app(MockConfig(max_body_bytes=200)).test_client()
    big = {"name": "x" * 300, "provider": "openai", "key": "sk-0000000000abcd"}

    api = client.post("/v1/virtual-keys", json=big, headers=HEADERS)
    control = client.post("/__mock/seed", json={"workspaces": [{"api_key": "pk-app", "virtual_keys": [big]}]})

    for answer in (api, control):
        assert answer.status_code == 413
        assert answer.json["data"] == {
            "message": "body: larger than the limit of 200 bytes",
            "errorCode": "AB01",
        }


def test_the_app_hands_its_control_plane_state_and_contract_to_whoever_embeds_it():
    app = create_app()
    app.test_client().post(
        "/v1/virtual-keys",
        json={"name": "a", "provider": "openai", "key": "sk-0000000000abcd"},
        headers=HEADERS,
    )

    assert len(app.state.journal.entries()) == 1
    app.state.reset()
    assert app.state.journal.entries() == []
    assert "createVirtualKey" in app.contract.operations
    assert app.control.name == "mockserver"


def test_a_request_may_wait_with_redis_a_delay_fault_or_on_the_control_plane_only(request, store_kind):
    """What `MockApp.may_block` tells a server with an event loop (granian): which requests it must
    run on a thread. Every other request runs on the loop, where a wait would hold every client."""
    app = create_app(store_config(request, store_kind))
    listing = {"REQUEST_METHOD": "GET", "PATH_INFO": "/v1/virtual-keys"}
    on_redis = store_kind == "redis"

    assert app.may_block(listing) is on_redis
    assert app.may_block({**listing, "HTTP_X_MOCK_FAULT": "latency_ms=5"})
    assert app.may_block({**listing, "PATH_INFO": "/__mock/health"})
    app.faults.set_plan(
        {"rules": [{"status": 503}], "rate_limits": [{"type": "requests", "unit": "rpm", "value": 5}]}
    )
    assert app.may_block(listing) is on_redis  # error answers and rate limits answer at once
    app.faults.set_plan({"rules": [{"operation": "createVirtualKey", "latency_ms": 5}]})
    assert app.may_block(listing)  # any request may be the one the plan delays


@pytest.mark.parametrize("keys_file", [False, True], ids=["any key", "keys file"])
def test_the_readiness_probe_answers_alike_before_and_after_the_control_plane_is_built(tmp_path, keys_file):
    """Until a control request needs Flask, `GET /__mock/health` is answered without it: the same
    status, headers and body as the control plane's own route gives."""
    keys = tmp_path / "keys.json"
    keys.write_text(json.dumps({"api_keys": [{"key": "pk-app"}]}), encoding="utf-8")
    config = MockConfig(keys_path=keys if keys_file else None)
    before = create_app(config).test_client().get("/__mock/health")
    built = create_app(config)
    assert built.control.name == "mockserver"  # reading it builds the Flask app; health is then its route
    after = built.test_client().get("/__mock/health")

    assert before.status_code == after.status_code == 200
    assert before.get_json()["auth"] == ("keys-file" if keys_file else "any-key")
    assert before.data == after.data
    assert sorted(before.headers.items()) == sorted(after.headers.items())


def test_a_flask_hook_added_to_the_control_plane_sees_the_readiness_probe_too():
    app = create_app()
    seen: list[str] = []
    app.control.before_request(lambda: seen.append(request.path))

    assert app.test_client().get("/__mock/health").status_code == 200
    assert seen == ["/__mock/health"]


def test_a_mock_answers_its_probe_and_its_api_before_loading_flask_and_reads_its_contract_once(tmp_path):
    """What keeps start-up short (docs/performance.md): neither Flask nor werkzeug is loaded before
    the first control request that needs them, and a contract read before comes from the cache,
    without YAML's parser. (Called as a server calls it: werkzeug's test client would load werkzeug.)"""
    script = """
import sys
from wsgiref.util import setup_testing_defaults
from mockserver.app import create_app
app = create_app()
def status(path, **headers):
    environ = {"PATH_INFO": path, **headers}
    setup_testing_defaults(environ)
    said = []
    b"".join(app(environ, lambda line, pairs, exc_info=None: said.append(line)))
    return said[0]
assert status("/__mock/health").startswith("200")
assert status("/v1/virtual-keys", HTTP_X_PORTKEY_API_KEY="pk-app").startswith("200")
print(" ".join(sorted(m for m in ("flask", "jinja2", "werkzeug", "yaml") if m in sys.modules)) or "-")
assert app.test_client().get("/__mock/journal").status_code == 200
print("flask" in sys.modules)
"""
    env = {**os.environ, "MOCK_CACHE_DIR": str(tmp_path / "cache")}

    def run() -> list[str]:
        done = subprocess.run(
            [sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
        )
        assert done.returncode == 0, done.stderr
        return done.stdout.split("\n")[:2]

    assert run() == ["yaml", "True"]  # the first read parses the contract
    assert run() == ["-", "True"]  # the second reads it back from the cache

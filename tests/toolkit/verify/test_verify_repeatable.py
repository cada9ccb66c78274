"""`contracts verify --seed` repeats a run, and a wrong list `total` fails every run.

Each run is in-process against a fresh mock on a free port. What a service makes up (slugs,
timestamps that schemathesis's stateful phase reuses from its answers) is masked before two request
logs are compared: the docs say so.
"""

from __future__ import annotations

import io
import json
import re
import threading
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from contracts.verify import VerifyOptions, verify
from mockserver import MockServer, create_app
from mockserver.config import MockConfig
from tests.support.broken_services import rewriting

pytestmark = pytest.mark.slow  # starts servers or processes: not in the fast loop

API_KEY = "pk-repeat"
_MADE_UP = [
    (re.compile(r"\d{4}-\d\d-\d\dT[0-9:.]+Z"), "<time>"),  # timestamps the service wrote
    (re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"), "<id>"),  # ids it made up
    (re.compile(r"-[0-9a-f]{6}\b"), "-<slug>"),  # the random tail of a slug the service made up
]


class RequestLog:
    """WSGI middleware keeping (method, path, query, body) of every request, in the order received."""

    def __init__(self, app: Any) -> None:
        self.app, self.entries, self._lock = app, [], threading.Lock()

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        raw = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
        environ["wsgi.input"] = io.BytesIO(raw)
        line = " ".join(
            (environ["REQUEST_METHOD"], environ["PATH_INFO"], environ.get("QUERY_STRING", ""), repr(raw))
        )
        for pattern, mask in _MADE_UP:
            line = pattern.sub(mask, line)
        with self._lock:
            self.entries.append(line)
        return self.app(environ, start_response)


def run_against(app: Any, **options: Any) -> Any:
    server = MockServer(app).start()
    try:
        out = io.StringIO()
        return verify(VerifyOptions(base_url=server.base_url, api_key=API_KEY, **options), out=out)
    finally:
        server.stop()


def test_one_seed_sends_the_same_requests_in_the_same_order_to_two_fresh_mocks():
    options = {"seed": 7, "max_examples": 3, "provider_cases": ("openai", "azure-entra")}
    first, second = RequestLog(create_app(MockConfig())), RequestLog(create_app(MockConfig()))
    run_against(first, **options)
    run_against(second, **options)
    assert len(first.entries) > 100  # every phase ran
    assert first.entries == second.entries


def test_another_seed_sends_other_requests():
    first, second = RequestLog(create_app(MockConfig())), RequestLog(create_app(MockConfig()))
    run_against(first, seed=7, max_examples=3, provider_cases=("openai",), phases=("fuzzing",))
    run_against(second, seed=8, max_examples=3, provider_cases=("openai",), phases=("fuzzing",))
    assert first.entries != second.entries


def total_off_by_three(config: MockConfig) -> Any:
    """A service whose list answers `total` three higher than the keys it holds."""

    def rewrite(method: str, path: str, sent: Any, status: int, body: Any) -> tuple[int, Any]:
        if method == "GET" and path == "/v1/virtual-keys" and status == 200:
            body["total"] += 3
        return status, body

    return rewriting(create_app(config), rewrite)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_a_total_three_too_high_fails_listed_with_total_in_every_run(seed):
    result = run_against(
        total_off_by_three(MockConfig()),
        seed=seed,
        max_examples=1,
        phases=("lifecycle",),
        provider_cases=("openai",),
    )
    assert result.exit_code == 1
    found = [f for f in result.findings if f.check == "listed_with_total"]
    assert any("total is" in f.message and "the pages of the list hold" in f.message for f in found), found


def test_a_list_of_several_pages_is_counted_across_them():
    """More keys than one page holds: a truthful service passes, its pages summed."""
    config = MockConfig()
    app = create_app(config)
    server = MockServer(app).start()
    try:
        for index in range(60):  # more than the walk's page size of 50
            httpx.post(
                f"{server.base_url}/virtual-keys",
                json={"name": f"pre-{index}", "provider": "openai", "key": "sk-pre-0000000000"},
                headers={"x-portkey-api-key": API_KEY},
            ).raise_for_status()
        out = io.StringIO()
        options = VerifyOptions(
            base_url=server.base_url,
            api_key=API_KEY,
            seed=1,
            phases=("lifecycle",),
            provider_cases=("openai",),
        )
        result = verify(options, out=out)
    finally:
        server.stop()
    assert result.checks_failed.get("listed_with_total", 0) == 0, json.dumps(
        [f.message for f in result.findings]
    )
    assert result.checks_passed["listed_with_total"] > 0

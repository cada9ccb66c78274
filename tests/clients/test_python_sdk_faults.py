"""The real Python SDK driven through each fault kind: what it raises and how often it asks.

portkey-ai 2.3.4 retries once, at once, on a 5xx or a broken connection, unless the 5xx carries
`x-portkey-request-id`; it never retries a 429. Requests are counted on the SDK's own httpx client
and in the mock's journal.
The SDK sends every request with `timeout=None`, overriding any timeout of the httpx client it is
given; a request hook that sets the timeout extension is the way to give it one.
"""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from portkey_ai import Portkey
from portkey_ai.api_resources.exceptions import (
    APIConnectionError,
    APITimeoutError,
    InternalServerError,
    RateLimitError,
)

from contracts.traffic import ExchangeRecorder
from mockserver import MockServer, create_app
from tests.support.inprocess import reset, store_config
from tests.support.seed_examples import SEED_EXAMPLES

pytestmark = pytest.mark.slow  # starts servers or processes: not in the fast loop


class CountingSdk:
    """The SDK on an httpx client that counts the requests it sends and judges each exchange."""

    def __init__(
        self,
        server: MockServer,
        recorder: ExchangeRecorder,
        timeout: float | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        self.sent, self.timeout = 0, timeout
        hooks = recorder.hooks()
        hooks["request"] = [*hooks.get("request", []), self._on_request]
        self.http = httpx.Client(base_url=server.base_url, event_hooks=hooks, headers=headers)
        self.portkey = Portkey(api_key="pk-faults", base_url=server.base_url, http_client=self.http)

    def _on_request(self, request: httpx.Request) -> None:
        self.sent += 1
        if self.timeout is not None:
            request.extensions["timeout"] = httpx.Timeout(self.timeout).as_dict()


@pytest.fixture
def recorder(exchange_judge) -> ExchangeRecorder:
    return ExchangeRecorder(exchange_judge)


@pytest.fixture
def sdk(live, recorder) -> Iterator[CountingSdk]:
    client = CountingSdk(live, recorder)
    yield client
    client.http.close()


def set_faults(server: MockServer, *rules: dict, **plan) -> None:
    response = server.app.test_client().put("/__mock/faults", json={"rules": list(rules), **plan})
    assert response.status_code == 200, response.json


@pytest.mark.parametrize(
    ("rule", "error", "sent"),
    [
        ({"status": 500}, InternalServerError, 2),
        ({"status": 503, "retry_after": 5}, InternalServerError, 2),
        ({"status": 500, "request_id": True}, InternalServerError, 1),
        ({"status": 503, "request_id": True}, InternalServerError, 1),
        ({"status": 429}, RateLimitError, 1),
        ({"connection": "reset"}, APIConnectionError, 2),
        ({"connection": "empty"}, APIConnectionError, 2),
        ({"connection": "truncated"}, APIConnectionError, 2),
    ],
    ids=str,
)
def test_the_sdk_meets_each_fault_as_its_retry_rules_say(live, sdk, recorder, rule, error, sent):
    set_faults(live, {"operation": "createVirtualKey", **rule})
    with pytest.raises(error):
        sdk.portkey.virtual_keys.create(**SEED_EXAMPLES["openai"])
    assert sdk.sent == sent
    journal = live.app.test_client().get("/__mock/journal").json["entries"]
    assert [e["operation"] for e in journal] == ["createVirtualKey"] * sent  # the mock saw each try
    assert sdk.portkey.virtual_keys.list().total == 0  # the fault replaced the operation
    recorder.assert_all_conform()  # every answer that arrived is one the contract declares


def test_a_single_5xx_is_absorbed_by_the_sdks_retry(live, sdk):
    set_faults(live, {"operation": "createVirtualKey", "status": 500, "times": 1})
    slug = sdk.portkey.virtual_keys.create(**SEED_EXAMPLES["openai"]).data["slug"]
    assert sdk.sent == 2
    assert [item["slug"] for item in sdk.portkey.virtual_keys.list().data] == [slug]


def test_the_fault_header_fails_every_attempt_of_a_call(live, recorder):
    faulty = CountingSdk(live, recorder, headers={"x-mock-fault": "connection=reset"})
    try:
        with pytest.raises(APIConnectionError):
            faulty.portkey.virtual_keys.create(**SEED_EXAMPLES["openai"])
        assert faulty.sent == 2
    finally:
        faulty.http.close()


def test_latency_beyond_the_clients_timeout_raises_a_timeout_without_retrying(live, recorder):
    set_faults(live, {"operation": "listVirtualKeys", "latency_ms": 2000})
    impatient = CountingSdk(live, recorder, timeout=0.2)
    try:
        with pytest.raises(APITimeoutError):
            impatient.portkey.virtual_keys.list()
        assert impatient.sent == 1
    finally:
        impatient.http.close()


def test_the_rate_limiter_stops_the_sdk_after_its_allowance(request, store_kind, recorder):
    ten_minutes_into_an_hour = 3600 * 1000 + 600.0
    app = create_app(store_config(request, store_kind), rate_limit_clock=lambda: ten_minutes_into_an_hour)
    server = MockServer(app).start()
    request.addfinalizer(server.stop)
    request.addfinalizer(lambda: reset(app))
    sdk = CountingSdk(server, recorder)
    request.addfinalizer(sdk.http.close)
    set_faults(server, rate_limits=[{"type": "requests", "unit": "rph", "value": 2}])
    sdk.portkey.virtual_keys.list()
    sdk.portkey.virtual_keys.list()
    with pytest.raises(RateLimitError) as limited:
        sdk.portkey.virtual_keys.list()
    assert sdk.sent == 3
    assert limited.value.response.headers["Retry-After"] == "3000"  # the 50 minutes left in the hour


@pytest.mark.parametrize(
    ("kind", "error", "detail"),
    [
        ("reset", httpx.ReadError, "reset by peer"),
        ("empty", httpx.RemoteProtocolError, "without sending a response"),
        ("truncated", httpx.RemoteProtocolError, "without sending complete message body"),
    ],
)
def test_each_connection_fault_breaks_the_connection_its_own_way(live, kind, error, detail):
    headers = {"x-portkey-api-key": "pk-faults", "x-mock-fault": f"connection={kind}"}
    with pytest.raises(error, match=detail):
        httpx.get(f"{live.base_url}/virtual-keys", headers=headers)

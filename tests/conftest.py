"""Shared fixtures: the contract, the app in-process, and a real mock server on a free port."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from flask.testing import FlaskClient
from hypothesis import HealthCheck, settings

from mockserver import Contract, MockServer, create_app
from mockserver.config import MockConfig
from mockserver.contract.exchange import Exchange, ExchangeJudge
from mockserver.serving.redis_server import RedisServer
from tests.support.tools import require_tool

settings.register_profile(
    "ci", max_examples=25, derandomize=True, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile("dev", max_examples=100, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci" if os.environ.get("CI") else "dev"))

API_KEY = "pk-test-key"
JUDGE = ExchangeJudge(Contract.load())


@pytest.fixture(scope="session")
def contract() -> Contract:
    return Contract.load()


@pytest.fixture(scope="session")
def exchange_judge() -> ExchangeJudge:
    return JUDGE


class Api:
    """The in-process app with the API key header filled in, for concise behaviour tests.

    Every answer is also judged against the contract: a test passes only if the mock kept to it.
    """

    def __init__(self, client: FlaskClient, api_key: str = API_KEY) -> None:
        self.client, self.api_key = client, api_key

    def as_key(self, api_key: str) -> Api:
        return Api(self.client, api_key)

    def _headers(self) -> dict[str, str]:
        return {"x-portkey-api-key": self.api_key}

    def call(self, method: str, path: str, **kwargs: Any) -> Any:
        kwargs.setdefault("headers", self._headers())
        response = self.client.open(path, method=method, **kwargs)
        exchange = Exchange.from_url(
            method,
            path,
            status=response.status_code,
            response_headers=dict(response.headers),
            response_body=response.get_data(),
        )
        violations = JUDGE.judge(exchange).response_violations
        assert violations == (), f"the mock broke the contract: {exchange.describe()}: {violations}"
        return response

    def create(self, **body: Any) -> Any:
        return self.call("POST", "/v1/virtual-keys", json=body)

    def create_slug(self, **body: Any) -> str:
        response = self.create(**body)
        assert response.status_code == 200, response.json
        return response.json["data"]["slug"]

    def list(self, query: str = "") -> Any:
        return self.call("GET", f"/v1/virtual-keys{query}")

    def retrieve(self, slug: str) -> Any:
        return self.call("GET", f"/v1/virtual-keys/{slug}")

    def update(self, slug: str, **body: Any) -> Any:
        return self.call("PUT", f"/v1/virtual-keys/{slug}", json=body)

    def delete(self, slug: str) -> Any:
        return self.call("DELETE", f"/v1/virtual-keys/{slug}")


STORES = ["memory", "redis"]


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    """`MOCK_REDIS_URL` (set by .ci/run), else a redis-server of the session's own, else skip (fail in CI)."""
    url = os.environ.get("MOCK_REDIS_URL")
    if url:
        yield url
        return
    require_tool("redis-server", install="set MOCK_REDIS_URL, or apt-get install redis-server")
    server = RedisServer()
    started = server.start()
    assert started is not None, "redis-server is installed but did not answer PING"
    try:
        yield started
    finally:
        server.stop()


def unique_prefix() -> str:
    """A Redis key prefix no other test (nor another run on the same Redis) uses."""
    return f"test-{uuid.uuid4().hex[:12]}"


def store_config(request: pytest.FixtureRequest, kind: str, **config: Any) -> MockConfig:
    """A config for the in-memory store, or for Redis under a prefix of the test's own."""
    if kind == "redis":
        config |= {"store_url": request.getfixturevalue("redis_url"), "redis_prefix": unique_prefix()}
    return MockConfig(**config)


def reset(app: Any) -> None:
    """Clear everything the mock holds (its Redis prefix only, with Redis), as a client would."""
    assert app.test_client().post("/__mock/reset").status_code == 200


@pytest.fixture(params=STORES)
def store_kind(request: pytest.FixtureRequest) -> str:
    """Runs a test once per store: in memory and in Redis."""
    return request.param


@pytest.fixture
def api(request: pytest.FixtureRequest, store_kind: str) -> Iterator[Api]:
    app = create_app(store_config(request, store_kind))
    yield Api(app.test_client())
    reset(app)


def make_api(**config: Any) -> Api:
    return Api(create_app(MockConfig(**config)).test_client())


@pytest.fixture(scope="session")
def mock_server() -> Iterator[MockServer]:
    server = MockServer(create_app()).start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def redis_mock_server(redis_url: str) -> Iterator[MockServer]:
    app = create_app(MockConfig(store_url=redis_url, redis_prefix=unique_prefix()))
    server = MockServer(app).start()
    yield server
    reset(app)
    server.stop()


@pytest.fixture
def live(request: pytest.FixtureRequest, store_kind: str) -> MockServer:
    """The session's real server for the store under test, emptied (faults too) for this test."""
    server = request.getfixturevalue("redis_mock_server" if store_kind == "redis" else "mock_server")
    reset(server.app)
    return server

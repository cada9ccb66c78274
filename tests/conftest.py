"""Shared fixtures: the contract, the app in-process, and a real mock server on a free port."""

from __future__ import annotations

import inspect
import os
from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, settings

from mockserver import Contract, MockServer, create_app
from mockserver.config import MockConfig
from mockserver.contract.exchange import ExchangeJudge
from mockserver.serving.redis_server import RedisServer
from tests.support.inprocess import JUDGE, Api, reset, store_config, unique_prefix
from tests.support.tools import require_tool

settings.register_profile(
    "ci", max_examples=25, derandomize=True, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile("dev", max_examples=100, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci" if os.environ.get("CI") else "dev"))


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Keeps a module's tests on one pytest-xdist worker when they share a module-scoped fixture that
    holds something until the module ends (a server, a browser: it yields), so it starts once.

    Every other test goes to whichever worker is free (`--dist loadgroup`, pyproject.toml).
    """
    for item in items:
        fixtures = getattr(item, "_fixtureinfo", None)
        if fixtures is None:
            continue
        held = [
            definition
            for definitions in fixtures.name2fixturedefs.values()
            for definition in definitions
            if definition.scope == "module" and inspect.isgeneratorfunction(definition.func)
        ]
        if held:
            item.add_marker(pytest.mark.xdist_group(item.module.__name__ if item.module else item.nodeid))


@pytest.fixture(scope="session")
def contract() -> Contract:
    return Contract.load()


@pytest.fixture(scope="session")
def exchange_judge() -> ExchangeJudge:
    return JUDGE


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


@pytest.fixture(params=STORES)
def store_kind(request: pytest.FixtureRequest) -> str:
    """Runs a test once per store: in memory and in Redis."""
    return request.param


@pytest.fixture
def api(request: pytest.FixtureRequest, store_kind: str) -> Iterator[Api]:
    app = create_app(store_config(request, store_kind))
    yield Api(app.test_client())
    reset(app)


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

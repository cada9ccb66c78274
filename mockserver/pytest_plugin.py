"""pytest plugin (entry point `pytest11`): a real Portkey mock per test session, reset for each test.

`portkey_mock` is the session's mock, emptied before each test; `portkey_mock_session` is the same
mock without the reset, for tests that share state. `--portkey-mock-url URL` (or the environment
variable `PORTKEY_MOCK_URL`) points both at a mock already running elsewhere instead of starting one;
`--portkey-mock-control-token` (or `MOCK_CONTROL_TOKEN`) is the control token such a mock requires.
Override the `portkey_mock_config` fixture to start the mock with another `MockConfig`.
`portkey_mock_replay(path)` folds a snapshot's writes into `portkey_mock` (docs/record-and-replay.md).

Fixtures only: the mock they hand out, with its assertions, is `mockserver.client.PortkeyMock`.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from mockserver.app import create_app
from mockserver.client import PortkeyMock
from mockserver.config import MockConfig
from mockserver.control.token import TOKEN_VARIABLE
from mockserver.serving.server import MockServer
from mockserver.snapshots.document import read_snapshot
from mockserver.snapshots.replay import Replayed, over_http, replay

URL_VARIABLE = "PORTKEY_MOCK_URL"


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("portkey-mock", "Portkey virtual-keys mock")
    group.addoption(
        "--portkey-mock-url",
        default=None,
        help=f"use the Portkey mock running at this URL instead of starting one (env: {URL_VARIABLE})",
    )
    group.addoption(
        "--portkey-mock-control-token",
        default=None,
        help=f"the control token of the mock at --portkey-mock-url, if it has one (env: {TOKEN_VARIABLE})",
    )


@pytest.fixture(scope="session")
def portkey_mock_config() -> MockConfig:
    """The configuration the session's mock starts with; override this fixture to change it."""
    return MockConfig()


@pytest.fixture(scope="session")
def portkey_mock_session(
    request: pytest.FixtureRequest, portkey_mock_config: MockConfig
) -> Iterator[PortkeyMock]:
    """One mock for the whole session, never reset by the plugin: state is shared between tests."""
    url = request.config.getoption("portkey_mock_url") or os.environ.get(URL_VARIABLE)
    if url:
        token = request.config.getoption("portkey_mock_control_token") or os.environ.get(TOKEN_VARIABLE)
        yield PortkeyMock.external(url, control_token=token)
        return
    server = MockServer(create_app(portkey_mock_config)).start()
    try:
        yield PortkeyMock(server.root_url, server=server, control_token=portkey_mock_config.control_token)
    finally:
        server.stop()


@pytest.fixture
def portkey_mock(portkey_mock_session: PortkeyMock) -> PortkeyMock:
    """The session's mock, emptied of keys and journal entries before this test."""
    portkey_mock_session.reset()
    return portkey_mock_session


@pytest.fixture
def portkey_mock_replay(portkey_mock: PortkeyMock) -> Callable[[str | Path], Replayed]:
    """Call it with a snapshot's path: its successful writes are re-applied to `portkey_mock`, in
    order, through the mock's own pipeline; the journal is then emptied. What it did (and which
    exchanges it quarantined, which made values it mapped) is returned."""

    def replay_into(path: str | Path) -> Replayed:
        replayed = replay(read_snapshot(Path(path)), over_http(portkey_mock.root_url), str(path))
        portkey_mock.clear_journal()
        return replayed

    return replay_into


__all__ = [
    "PortkeyMock",
    "portkey_mock",
    "portkey_mock_config",
    "portkey_mock_replay",
    "portkey_mock_session",
]

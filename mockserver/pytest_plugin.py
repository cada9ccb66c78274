"""pytest plugin (entry point `pytest11`): a real Portkey mock per test session, reset for each test.

`portkey_mock` is the session's mock, emptied before each test; `portkey_mock_session` is the same
mock without the reset, for tests that share state. `--portkey-mock-url URL` (or the environment
variable `PORTKEY_MOCK_URL`) points both at a mock already running elsewhere instead of starting one;
`--portkey-mock-control-token` (or `MOCK_CONTROL_TOKEN`) is the control token such a mock requires.
Override the `portkey_mock_config` fixture to start the mock with another `MockConfig`.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from mockserver.app import create_app
from mockserver.config import MockConfig
from mockserver.control.token import TOKEN_VARIABLE
from mockserver.serving.server import MockServer, wait_until_healthy

URL_VARIABLE = "PORTKEY_MOCK_URL"
DEFAULT_API_KEY = "pk-test-portkey-mock"


class PortkeyMock:
    """A running mock as a test sees it: where it is, what it was sent, and assertions on that."""

    def __init__(
        self,
        root_url: str,
        api_key: str = DEFAULT_API_KEY,
        server: MockServer | None = None,
        control_token: str | None = None,
    ) -> None:
        self.root_url = root_url.rstrip("/")
        self.base_url = f"{self.root_url}/v1"
        self.dashboard_url = f"{self.root_url}/__mock/"
        self.api_key = api_key
        self.server = server
        """The in-process server, or None when the mock runs elsewhere (`--portkey-mock-url`)."""
        self.control_token = control_token
        """Sent as `Authorization: Bearer <token>` on every control request, if the mock wants one."""

    @classmethod
    def external(
        cls, url: str, api_key: str = DEFAULT_API_KEY, control_token: str | None = None
    ) -> PortkeyMock:
        """A mock already running at `url` (its root or its `/v1` base URL)."""
        root = url.rstrip("/").removesuffix("/v1")
        wait_until_healthy(root)
        return cls(root, api_key, control_token=control_token)

    # -- control plane ---------------------------------------------------------------------------

    def reset(self) -> None:
        """Forget every virtual key, every journal entry and the fault plan."""
        self._control("POST", "/reset")

    def clear_journal(self) -> None:
        self._control("DELETE", "/journal")

    def seed(self, *virtual_keys: dict[str, Any], api_key: str | None = None) -> list[str]:
        """Preload virtual keys (create bodies, optionally with a `slug`) for `api_key`; their slugs."""
        document = {"workspaces": [{"api_key": api_key or self.api_key, "virtual_keys": list(virtual_keys)}]}
        return self._control("POST", "/seed", document)["slugs"]

    def set_faults(self, *rules: dict[str, Any], seed: int | None = None, **plan: Any) -> dict[str, Any]:
        """Install a fault plan (see docs/faults.md); the plan as installed, with its seed.

        `set_faults({"operation": "createVirtualKey", "status": 503, "times": 1})` makes the next
        create answer 503; `rate_limits=[...]` adds a counting rate limiter. `reset()` clears it.
        """
        document = {"rules": list(rules), **plan, **({"seed": seed} if seed is not None else {})}
        return self._control("PUT", "/faults", document)

    def clear_faults(self) -> None:
        self._control("DELETE", "/faults")

    @property
    def journal(self) -> list[dict[str, Any]]:
        """Every request the mock received since the last reset, oldest first."""
        return self._control("GET", "/journal")["entries"]

    def requests(self, operation: str | None = None) -> list[dict[str, Any]]:
        """Journal entries, all or those of one operation (`createVirtualKey`)."""
        return [e for e in self.journal if operation is None or e["operation"] == operation]

    # -- assertions ------------------------------------------------------------------------------

    def assert_all_requests_conform(self) -> None:
        """Fail, naming each request, field and rule, if any request broke the contract."""
        entries = self.journal
        failing = [e for e in entries if e["violations"]]
        if failing:
            pytest.fail(
                f"{len(failing)} of {len(entries)} requests to the Portkey mock break the contract:\n"
                + "\n".join(describe(e) for e in failing),
                pytrace=False,
            )

    def assert_all_responses_conform(self) -> None:
        """Behind the validating proxy: fail if the real service answered any request off-contract."""
        entries = self.journal
        failing = [e for e in entries if e.get("response_violations")]
        if failing:
            pytest.fail(
                f"{len(failing)} of {len(entries)} responses break the contract:\n"
                + "\n".join(describe(e, "response_violations") for e in failing),
                pytrace=False,
            )

    def verify(self, operation: str, times: int = 1, *, status: int | None = None) -> list[dict[str, Any]]:
        """Fail unless `operation` was requested exactly `times` times (answered `status`, if given)."""
        entries = self.journal
        matching = [
            e for e in entries if e["operation"] == operation and (status is None or e["status"] == status)
        ]
        if len(matching) != times:
            wanted = operation + (f" answered {status}" if status is not None else "")
            seen = "\n".join(describe(e) for e in entries) or "  (no requests)"
            pytest.fail(
                f"expected {wanted} {_times(times)}, got {_times(len(matching))}; the mock received:\n{seen}",
                pytrace=False,
            )
        return matching

    def assert_no_unexpected_requests(self) -> None:
        """Fail if any request matched no operation of the contract, naming the nearest one."""
        unexpected = [e for e in self.journal if e["operation"] is None]
        if unexpected:
            pytest.fail(
                f"{len(unexpected)} requests matched no operation of the contract:\n"
                + "\n".join(describe(e) for e in unexpected),
                pytrace=False,
            )

    def _control(self, method: str, path: str, document: dict[str, Any] | None = None) -> Any:
        headers = {"Authorization": f"Bearer {self.control_token}"} if self.control_token else {}
        response = httpx.request(
            method, f"{self.root_url}/__mock{path}", json=document, headers=headers, timeout=30
        )
        if response.status_code != 200:
            raise AssertionError(
                f"mock control {method} {path} answered {response.status_code}: {response.text}"
            )
        return response.json()


def describe(entry: dict[str, Any], violations: str = "violations") -> str:
    """A journal entry as a failure message: which request, then each violation on its own line."""
    query = "?" if entry.get("bare_query") else ""
    if entry.get("query"):
        query = "?" + "&".join(f"{name}=..." for name in entry["query"])
    if entry["operation"]:
        target = f"({entry['operation']})"
    else:
        nearest = entry.get("nearest_operation")
        target = f"(no operation; nearest: {nearest})" if nearest else "(no operation)"
    lines = [
        f"  request #{entry['seq']} {entry['method']} {entry['path']}{query} {target} -> {entry['status']}"
    ]
    lines += [f"      {v['location']}: {v['rule']}" for v in entry.get(violations) or []]
    return "\n".join(lines)


def _times(count: int) -> str:
    return "once" if count == 1 else f"{count} times"


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

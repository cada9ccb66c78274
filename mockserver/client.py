"""A running Portkey mock as a test sees it, with assertions on what it was sent.

Usable from any test runner or script: each assertion raises `AssertionError` with a message that
names the request, the field and the rule. The pytest plugin (`mockserver/pytest_plugin.py`) only
hands one to a test as the `portkey_mock` fixture.
"""

from __future__ import annotations

from typing import Any

import httpx

from mockserver.serving.server import MockServer, wait_until_healthy

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
        __tracebackhide__ = True  # pytest shows the message, not these lines
        entries = self.journal
        failing = [e for e in entries if e["violations"]]
        if failing:
            raise AssertionError(
                f"{len(failing)} of {len(entries)} requests to the Portkey mock break the contract:\n"
                + "\n".join(describe(e) for e in failing)
            )

    def assert_all_responses_conform(self) -> None:
        """Behind the validating proxy: fail if the real service answered any request off-contract."""
        __tracebackhide__ = True  # pytest shows the message, not these lines
        entries = self.journal
        failing = [e for e in entries if e.get("response_violations")]
        if failing:
            raise AssertionError(
                f"{len(failing)} of {len(entries)} responses break the contract:\n"
                + "\n".join(describe(e, "response_violations") for e in failing)
            )

    def verify(self, operation: str, times: int = 1, *, status: int | None = None) -> list[dict[str, Any]]:
        """Fail unless `operation` was requested exactly `times` times (answered `status`, if given)."""
        __tracebackhide__ = True  # pytest shows the message, not these lines
        entries = self.journal
        matching = [
            e for e in entries if e["operation"] == operation and (status is None or e["status"] == status)
        ]
        if len(matching) != times:
            wanted = operation + (f" answered {status}" if status is not None else "")
            seen = "\n".join(describe(e) for e in entries) or "  (no requests)"
            raise AssertionError(
                f"expected {wanted} {_times(times)}, got {_times(len(matching))}; the mock received:\n{seen}"
            )
        return matching

    def assert_no_unexpected_requests(self) -> None:
        """Fail if any request matched no operation of the contract, naming the nearest one."""
        __tracebackhide__ = True  # pytest shows the message, not these lines
        unexpected = [e for e in self.journal if e["operation"] is None]
        if unexpected:
            raise AssertionError(
                f"{len(unexpected)} requests matched no operation of the contract:\n"
                + "\n".join(describe(e) for e in unexpected)
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

"""Recording a real client's traffic through httpx event hooks, to judge it against the contract."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

import httpx

from mockserver.contract.exchange import ContractChecker, Exchange
from mockserver.contract.verdict import RequestVerdict
from mockserver.violations import Violation


@dataclass
class JudgedExchange:
    """A recorded exchange with the contract's verdict on its request and what its response broke."""

    exchange: Exchange
    verdict: RequestVerdict
    response_violations: list[Violation]

    @property
    def request_violations(self) -> tuple[Violation, ...]:
        return self.verdict.violations

    @property
    def conforms(self) -> bool:
        return not self.request_violations and not self.response_violations

    def __str__(self) -> str:
        lines = [self.exchange.describe()]
        lines += [f"  request  {v}" for v in self.request_violations]
        lines += [f"  response {v}" for v in self.response_violations]
        return "\n".join(lines)


@dataclass
class ExchangeRecorder:
    """Pass `recorder.hooks()` (or `async_hooks()`) as an httpx client's `event_hooks`.

    The Portkey SDK does not give its `base_url` to a client passed as `http_client`: set it there too.
    """

    checker: ContractChecker = field(default_factory=ContractChecker)
    verdicts: list[JudgedExchange] = field(default_factory=list)

    def record(self, response: httpx.Response) -> None:
        exchange = Exchange.from_httpx(response)
        self.verdicts.append(
            JudgedExchange(
                exchange, self.checker.judge_request(exchange), self.checker.check_response(exchange)
            )
        )

    async def arecord(self, response: httpx.Response) -> None:
        await response.aread()
        self.record(response)

    def hooks(self) -> dict[str, list[Callable[[httpx.Response], None]]]:
        return {"response": [self._read_and_record]}

    def _read_and_record(self, response: httpx.Response) -> None:
        response.read()
        self.record(response)

    def async_hooks(self) -> dict[str, list[Callable[[httpx.Response], Awaitable[None]]]]:
        return {"response": [self.arecord]}

    def failures(self) -> list[JudgedExchange]:
        return [v for v in self.verdicts if not v.conforms]

    def assert_all_conform(self) -> None:
        failures = self.failures()
        assert not failures, "exchanges that break the contract:\n" + "\n".join(map(str, failures))

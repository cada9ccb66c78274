"""Recording a real client's traffic through httpx event hooks, to judge it against the contract."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

import httpx

from mockserver.contract.exchange import Exchange, ExchangeJudge, ExchangeVerdict


@dataclass
class ExchangeRecorder:
    """Pass `recorder.hooks()` (or `async_hooks()`) as an httpx client's `event_hooks`.

    The Portkey SDK does not give its `base_url` to a client passed as `http_client`: set it there too.
    """

    judge: ExchangeJudge = field(default_factory=ExchangeJudge)
    verdicts: list[ExchangeVerdict] = field(default_factory=list)

    def record(self, response: httpx.Response) -> None:
        self.verdicts.append(self.judge.judge(Exchange.from_httpx(response)))

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

    def failures(self) -> list[ExchangeVerdict]:
        return [v for v in self.verdicts if not v.conforms]

    def assert_all_conform(self) -> None:
        failures = self.failures()
        assert not failures, "exchanges that break the contract:\n" + "\n".join(map(str, failures))

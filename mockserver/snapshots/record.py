"""Recording a snapshot: from the proxy as traffic passes, or from a proxy's journal afterwards.

Secrets are taken out (`redact.Redactor`) as each exchange is captured, before it is held or
written; the file is rewritten whole after each exchange, so it is complete whenever the proxy
stops. Recording sends nothing of its own to the upstream.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

from mockserver.contract.document import Contract
from mockserver.contract.exchange import Exchange, ExchangeJudge, ExchangeVerdict
from mockserver.snapshots.document import Snapshot, provenance, write_snapshot
from mockserver.snapshots.redact import Redactor
from mockserver.snapshots.stable import stabilise
from mockserver.violations import Violation


class SnapshotRecorder:
    """Keeps the exchanges of one recording, secrets out, and writes them to `path` as they come."""

    def __init__(self, path: Path, contract: Contract, upstream: str, *, stable: bool = False) -> None:
        self.path, self.stable = path, stable
        self.redactor = Redactor(contract.secret_fields)
        self.provenance = provenance(contract.path, upstream, stable=stable)
        self.exchanges: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        self.write()

    def add(self, judged: ExchangeVerdict, headers: Mapping[str, str]) -> None:
        captured = self.redactor.exchange(judged, headers)
        with self._lock:
            self.exchanges.append(captured)
            self.write()

    def write(self) -> None:
        exchanges = stabilise(self.exchanges) if self.stable else self.exchanges
        write_snapshot(self.path, Snapshot(self.provenance, exchanges))


def record_journal(
    entries: Iterable[Mapping[str, Any]], path: Path, contract: Contract, upstream: str, *, stable: bool
) -> int:
    """A snapshot of a proxy's journal (`GET /__mock/journal`), judged again; the exchanges written.

    A journal keeps secrets masked already; they are taken out the same way as in a live recording.
    """
    judge = ExchangeJudge(contract)
    recorder = SnapshotRecorder(path, contract, upstream, stable=stable)
    count = 0
    for entry in entries:
        judged = judge.judge(Exchange.from_journal(entry))
        journaled = entry.get("response_violations")
        if judged.response_violations is None and journaled:  # a 502 or 504 the proxy answered itself
            blamed = tuple(Violation(v["location"], v["rule"]) for v in journaled)
            judged = replace(judged, response_violations=blamed)
        recorder.add(judged, dict(entry.get("headers") or {}))
        count += 1
    return count

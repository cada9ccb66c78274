"""Everything the mock remembers, in memory or in Redis: key records, integrations, the records of the
declared resources, the journal, the audit log, fault counters.

`State` holds one backend of each kind, all in process memory or all in one Redis namespace, and
forgets everything in one `reset()`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from mockserver.state.fault_state import FaultState, MemoryFaultState
from mockserver.state.journal_store import Journal, MemoryJournal
from mockserver.state.records import MemoryStore, Store

if TYPE_CHECKING:  # redis is imported only when a mock uses it (50 ms of start-up)
    from mockserver.state.outage import StoreWatch


@dataclass(frozen=True)
class State:
    """The records, the journal and the fault state of one mock instance."""

    records: Store
    journal: Journal
    faults: FaultState
    integrations: Store
    """Integrations, one namespace per organisation (virtual keys and providers share `records`)."""
    resources: Store
    """Records of every resource the contract declares (`mockserver/resources/engine.py`), one
    namespace per resource and workspace."""
    watch: StoreWatch | None = None
    """Whether Redis answers, when the state is in Redis."""
    rides: bool = False
    """Whether a request can ride its store operation's trip to Redis (mockserver/state/trip.py):
    records and journal in the same Redis."""
    audit: Journal = field(default_factory=MemoryJournal)
    """The audit log (`resources/audit_logs.py`): a bounded list kept as the journal is, of its own."""

    @classmethod
    def build(
        cls, store_url: str | None, redis_prefix: str, journal_limit: int, records: Store | None = None
    ) -> State:
        """In memory, or in Redis under `redis_prefix` when `store_url` is set; `records` replaces
        the records store either way."""
        if store_url:
            from mockserver.state.fault_state import RedisFaultState
            from mockserver.state.journal_store import RedisJournal
            from mockserver.state.records.redis import RedisStore
            from mockserver.state.redis_keys import RedisNamespace, connect

            shared = RedisNamespace(connect(store_url), redis_prefix)
            journal: Journal = RedisJournal(shared, journal_limit)
            rides = records is None
            return cls(
                records or RedisStore(shared),
                journal,
                RedisFaultState(shared),
                RedisStore(shared, "integration"),
                RedisStore(shared, "resource"),
                shared.watch,
                rides,
                RedisJournal(shared, journal_limit, "audit"),
            )
        memory = MemoryJournal(journal_limit), MemoryFaultState(), MemoryStore(), MemoryStore()
        return cls(records or MemoryStore(), *memory, audit=MemoryJournal(journal_limit))

    def store_of(self, records: str | None) -> Store:
        """Where a declared resource keeps its records, by its marker's `records`: with the virtual
        keys (`keys`), with the integrations (`integrations`), else with the other declared
        resources."""
        return {"keys": self.records, "integrations": self.integrations}.get(records or "", self.resources)

    @property
    def in_memory(self) -> bool:
        """Whether all of it is in this process's memory, so that no call on it waits on I/O."""
        parts = (self.records, self.journal, self.faults, self.integrations, self.audit)
        return all(isinstance(part, (MemoryStore, MemoryJournal, MemoryFaultState)) for part in parts)

    def reset(self) -> None:
        """Forget every key, integration, declared resource's record, journal and audit log entry,
        fault plan and counter."""
        self.records.clear()
        self.integrations.clear()
        self.resources.clear()
        self.journal.clear()
        self.audit.clear()
        self.faults.clear()


__all__ = ["State"]

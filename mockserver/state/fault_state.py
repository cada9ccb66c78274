"""Where the fault plan and its counters live: process memory, or Redis to share them.

Counters make faults deterministic across processes: the n-th request a rule matches is the
same request whichever worker serves it, because n comes from one atomic counter.
"""

from __future__ import annotations

import json
import threading
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:  # redis is imported only when a mock uses it (50 ms of start-up)
    from mockserver.state.redis_keys import RedisNamespace

Plan = dict[str, Any]


class FaultState(Protocol):
    def load(self) -> Plan | None:
        """The current plan, or None when no faults are set."""
        ...

    def save(self, plan: Plan) -> None:
        """Replace the plan and start its counters from zero."""
        ...

    def clear(self) -> None:
        """No plan, no counters, no rate-limit windows."""
        ...

    def next_match(self, rule_index: int) -> int:
        """Count one more request matched by rule `rule_index` of the plan; the count so far."""
        ...

    def matches(self) -> dict[int, int]:
        """Requests each rule of the plan has matched so far, by rule index (for the dashboard)."""
        ...

    def count_request(self, bucket: str, ttl_seconds: int) -> int:
        """Count one more request in a rate-limit window (`bucket`); the count so far."""
        ...


class MemoryFaultState:
    """The plan and counters of one process."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._plan: Plan | None = None
        self._matches: dict[int, int] = {}
        self._windows: dict[str, int] = {}

    def load(self) -> Plan | None:
        return self._plan  # one attribute read, on every request: a plan is replaced whole, never changed

    def save(self, plan: Plan) -> None:
        with self._lock:
            self._plan, self._matches = plan, {}

    def clear(self) -> None:
        with self._lock:
            self._plan, self._matches, self._windows = None, {}, {}

    def next_match(self, rule_index: int) -> int:
        with self._lock:
            self._matches[rule_index] = self._matches.get(rule_index, 0) + 1
            return self._matches[rule_index]

    def matches(self) -> dict[int, int]:
        with self._lock:
            return dict(self._matches)

    def count_request(self, bucket: str, ttl_seconds: int) -> int:
        # Windows are few (one per API key and unit at a time); old ones are dropped on a new one.
        with self._lock:
            if bucket not in self._windows:
                family = bucket.rsplit(":", 1)[0]
                self._windows = {b: n for b, n in self._windows.items() if b.rsplit(":", 1)[0] != family}
            self._windows[bucket] = self._windows.get(bucket, 0) + 1
            return self._windows[bucket]


def plan_key(keys: RedisNamespace) -> str:
    """Where the plan of one mock instance is kept in Redis (its absence is checked by scripts too)."""
    return keys.key("faults", "plan")


class RedisFaultState:
    """The plan and counters of one mock instance (its key prefix), shared by all its processes."""

    def __init__(self, keys: RedisNamespace) -> None:
        self.keys = keys
        self._plan_key = plan_key(keys)
        self._count_key = keys.key("faults", "count")

    def load(self) -> Plan | None:
        raw = self.keys.client.get(self._plan_key)
        return json.loads(raw) if raw else None

    def save(self, plan: Plan) -> None:
        with self.keys.client.pipeline(transaction=True) as pipe:
            pipe.set(self._plan_key, json.dumps(plan))
            pipe.delete(self._count_key)
            pipe.execute()

    def clear(self) -> None:
        self.keys.clear("faults", "ratelimit")

    def next_match(self, rule_index: int) -> int:
        return int(self.keys.client.hincrby(self._count_key, str(rule_index), 1))

    def matches(self) -> dict[int, int]:
        counts = self.keys.client.hgetall(self._count_key)
        return {int(index): int(count) for index, count in counts.items()}

    def count_request(self, bucket: str, ttl_seconds: int) -> int:
        with self.keys.client.pipeline(transaction=True) as pipe:
            key = self.keys.key("ratelimit", bucket)
            pipe.incr(key)
            pipe.expire(key, ttl_seconds, nx=True)
            count, _ = pipe.execute()
        return int(count)

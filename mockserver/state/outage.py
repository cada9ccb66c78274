"""Redis going away and coming back: one log line for each change, a 503 for every request between.

The store, the journal and the fault state share one Redis; while it cannot be reached, requests
answer 503 AB04 with `Retry-After` (a client retries, as it would against the real service), not a
500 with a traceback per request. Nothing needs a restart: redis-py reconnects on the next call.
"""

from __future__ import annotations

import logging
import threading

import redis

from mockserver.errors import ApiError, error_code

log = logging.getLogger("mockserver")

UNREACHABLE = (redis.ConnectionError, redis.TimeoutError)
"""What redis-py raises when the server cannot be reached (refused, reset, timed out, loading)."""

RETRY_AFTER_SECONDS = 1


class StoreUnreachable(ApiError):
    def __init__(self, where: str) -> None:
        message = f"The mock's store ({where}) is unreachable; retry later"
        super().__init__(message, 503, error_code(503), {"Retry-After": str(RETRY_AFTER_SECONDS)})


def describe(client: redis.Redis) -> str:
    """`Redis at 127.0.0.1:6379/0`: where the store is, built from parts that hold no credentials."""
    where = client.connection_pool.connection_kwargs
    if "path" in where:
        return f"Redis at unix:{where['path']}"
    return f"Redis at {where.get('host')}:{where.get('port')}/{where.get('db', 0)}"


class StoreWatch:
    """Whether the shared store answered last time; says so in the log only when that changes."""

    def __init__(self, client: redis.Redis) -> None:
        self.client = client
        self.where = describe(client)
        self.down = False
        self._lock = threading.Lock()

    def lost(self, error: Exception) -> StoreUnreachable:
        """Note a failed call; the error to answer with."""
        with self._lock:
            if not self.down:
                self.down = True
                log.warning("store went away: %s is unreachable (%s)", self.where, type(error).__name__)
        return StoreUnreachable(self.where)

    def answered(self) -> None:
        """Note a call that succeeded."""
        with self._lock:
            if self.down:
                self.down = False
                log.warning("store came back: %s answers again", self.where)

    def reachable(self) -> bool:
        """Ask the store (one PING); a change either way is logged."""
        try:
            self.client.ping()
        except UNREACHABLE as error:
            self.lost(error)
            return False
        self.answered()
        return True

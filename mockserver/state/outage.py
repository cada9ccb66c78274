"""Redis going away and coming back: one log line for each change, a 503 for every request between.

The store, the journal and the fault state share one Redis; while it cannot be reached, requests
answer 503 AB04 with `Retry-After` (a client retries, as it would against the real service), not a
500 with a traceback per request. Nothing needs a restart: redis-py reconnects on the next call.

A request waits for Redis once: after its first call that fails it makes no other (no journal
append, no PING), so a Redis that hangs costs it one timeout. Health asks on a connection of its
own with a short timeout, so it answers at once whatever Redis does.

What a request finds out about Redis is dated by when the request started: news from a request
that started before the last change was logged is older than that change, and is not logged again.
So each outage is logged once each way however many requests were in flight across its edges.
"""

from __future__ import annotations

import logging
import threading
import time

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from mockserver.errors import ApiError, error_code

log = logging.getLogger("mockserver")

UNREACHABLE = (redis.ConnectionError, redis.TimeoutError)
"""What redis-py raises when the server cannot be reached (refused, reset, timed out, loading)."""

RETRY_AFTER_SECONDS = 1
PROBE_TIMEOUT_SECONDS = 0.5
"""How long health waits for Redis to answer its PING."""


def one_retry_on_a_broken_connection() -> Retry:
    """How a call to Redis is retried: once, at once, if the connection broke (a pooled connection
    to a Redis that restarted), never after a timeout (a Redis that hangs would be waited for again)."""
    return Retry(NoBackoff(), 1, supported_errors=(redis.ConnectionError,))


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
    """Whether the shared store answers; says so in the log only when that changes."""

    def __init__(self, client: redis.Redis) -> None:
        self.client = client
        self.where = describe(client)
        self.down = False
        self._changed = time.monotonic()
        """When `down` last changed: news from requests that started before it is stale."""
        self._lock = threading.Lock()
        self._request = threading.local()
        pool = client.connection_pool
        probe_settings = {
            **pool.connection_kwargs,
            "socket_timeout": PROBE_TIMEOUT_SECONDS,
            "socket_connect_timeout": PROBE_TIMEOUT_SECONDS,
            "retry": Retry(NoBackoff(), 0),
        }
        probes = redis.ConnectionPool(connection_class=pool.connection_class, **probe_settings)
        self._probe = redis.Redis(connection_pool=probes)

    def begin(self) -> None:
        """A request starts on this thread."""
        self._request.started = time.monotonic()
        self._request.failed = False

    def failed(self) -> bool:
        """Whether this thread's request found the store unreachable (then it calls it no more)."""
        return bool(getattr(self._request, "failed", False))

    def finish(self) -> None:
        """This thread's request is done; if the store answered all its calls, the store is there."""
        if not self.failed() and self.down:
            self._note(down=False, started=self._started())
        self._request.__dict__.clear()

    def lost(self, error: Exception) -> StoreUnreachable:
        """Note a failed call (of this thread's request, if one has begun); the error to answer with."""
        self._request.failed = True
        self._note(down=True, started=self._started(), error=error)
        return StoreUnreachable(self.where)

    def reachable(self) -> bool:
        """Ask the store (one PING, waiting at most PROBE_TIMEOUT_SECONDS); a change is logged."""
        started = time.monotonic()
        try:
            self._probe.ping()
        except UNREACHABLE as error:
            self._note(down=True, started=started, error=error)
            return False
        self._note(down=False, started=started)
        return True

    def _started(self) -> float:
        started: float | None = getattr(self._request, "started", None)
        return time.monotonic() if started is None else started

    def _note(self, down: bool, started: float, error: Exception | None = None) -> None:
        if self.down == down:
            return
        with self._lock:
            if self.down == down or started < self._changed:
                return  # said already, or news from before the last change
            self.down, self._changed = down, time.monotonic()
            if down:
                kind = type(error).__name__
                log.warning("store went away: %s is unreachable (%s)", self.where, kind)
            else:
                log.warning("store came back: %s answers again", self.where)

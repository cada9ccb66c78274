"""One mock instance's share of a Redis server: a key prefix, key naming, and clearing it.

Every key a mock writes starts with `<prefix>:`, so several mocks (or several test runs) can share
one Redis without seeing each other, and a reset deletes one mock's keys only. Key layout:

    <prefix>:vk:seq                      counter giving every insert its place in list order
    <prefix>:vk:<namespace>:order        sorted set: slug -> insert sequence (newest = highest)
    <prefix>:vk:<namespace>:key:<slug>   hash: record field -> JSON value; `:text` -> the record as JSON
    <prefix>:integration:...             the same three for integrations (namespace: an organisation)
    <prefix>:resource:...                the same three for every resource the contract declares
                                         (namespace: `<resource>/<organisation>/<workspace>`, or
                                         `<resource>/<organisation>`; versions: `<resource>.versions/<id>`)
    <prefix>:faults:plan                 the fault plan, as JSON
    <prefix>:faults:count                hash: rule index -> matching requests so far
    <prefix>:ratelimit:<key>:<unit>:<n>  requests of one API key in window n (expires)
    <prefix>:journal:entries             list of journal entries (JSON), trimmed to the limit
    <prefix>:journal:seq                 counter numbering journal entries since the last clear
    <prefix>:audit:entries, :audit:seq   the audit log (resources/audit_logs.py), kept as the journal

Parts that come from requests (workspace namespaces, slugs) are percent-encoded, so a `:` in them
can never make two different keys collide.
"""

from __future__ import annotations

import functools
import os
import threading
from urllib.parse import quote

import redis

from mockserver.state.outage import StoreWatch, one_retry_on_a_broken_connection

DEFAULT_PREFIX = "portkey-mock"
_GLOB_SPECIALS = "\\*?[]"


def connect(url: str) -> redis.Redis:
    """A client for `redis://host:port/db` or `unix:///path/to/socket`; fails fast if unreachable.

    The read timeout bounds how long a request waits on a Redis that hangs instead of refusing
    (`?socket_timeout=2` in the URL changes it); a request waits for it once (`mockserver.state.outage`).
    """
    retry = one_retry_on_a_broken_connection()
    client = redis.Redis.from_url(url, socket_connect_timeout=5, socket_timeout=5, retry=retry)
    client.ping()
    return client


class RedisNamespace:
    """The keys of one mock instance in one Redis database."""

    def __init__(self, client: redis.Redis, prefix: str = DEFAULT_PREFIX) -> None:
        if not prefix:
            raise ValueError("the Redis key prefix must not be empty")
        self.client = client
        self.prefix = prefix
        self.watch = StoreWatch(client)
        self._own = threading.local()

    def own_client(self) -> redis.Redis:
        """This thread's client, on a connection of its own, for a request's one trip to Redis.

        Taking a connection from the shared pool for every call costs a lock and a poll of the
        socket, and each system call lets go of the GIL, which eight serving threads then queue
        for: an app whose only work is one script call per request served 10,500 requests per
        second through the pool and 13,600 on a connection per thread (docs/performance.md).
        """
        own: redis.Redis | None = getattr(self._own, "client", None)
        if own is None or self._own.pid != os.getpid():  # a forked worker makes its own
            pool = self.client.connection_pool
            own = self._own.client = redis.Redis(connection_pool=pool, single_connection_client=True)
            self._own.pid = os.getpid()
        return own

    def key(self, *parts: str) -> str:
        """`key("vk", "seq")` -> `<prefix>:vk:seq`; request-derived parts must go through `part`."""
        return ":".join((self.prefix, *parts))

    @staticmethod
    @functools.lru_cache(maxsize=4096)  # the same slugs and workspaces, request after request
    def part(text: str) -> str:
        """A request-derived key part, encoded so it holds no `:` (nor any other separator)."""
        return quote(text, safe="")

    def parts_of(self, *pattern: str) -> list[str]:
        """The parts that `*` stands for in the keys matching `key(*pattern)` (one `*`), still encoded."""
        head, _, tail = self.key(*pattern).partition("*")
        names = self.client.scan_iter(match=_escape_glob(head) + "*" + _escape_glob(tail), count=500)
        parts = (name.decode()[len(head) : len(name) - len(tail)] for name in names)
        return sorted({part for part in parts if ":" not in part})

    def clear(self, *sections: str) -> None:
        """Delete this instance's keys: every key, or only those under the given sections."""
        patterns = [self.key(s, "*") for s in sections] if sections else [self.key("*")]
        for pattern in patterns:
            batch = []
            for name in self.client.scan_iter(match=_escape_glob(pattern[:-1]) + "*", count=500):
                batch.append(name)
                if len(batch) >= 500:
                    self.client.unlink(*batch)
                    batch = []
            if batch:
                self.client.unlink(*batch)


def _escape_glob(text: str) -> str:
    """SCAN's MATCH is a glob: escape its special characters so a prefix matches only itself."""
    return "".join(f"\\{c}" if c in _GLOB_SPECIALS else c for c in text)

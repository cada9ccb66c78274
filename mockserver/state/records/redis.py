"""The shared store: records in Redis, so several processes and hosts see one state.

Each record is a Redis hash (one JSON value per top-level field), so an update is a single HSET
and two concurrent updates of different fields can never undo each other. Each change that touches
more than one key runs as a Lua script, which Redis executes atomically: the slug check and the
insert cannot interleave with another process's insert of the same slug. List order comes from one
counter per mock instance, so "newest first" holds whichever process inserted.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import unquote

from mockserver.state.records.base import Record
from mockserver.state.redis_keys import RedisNamespace

# KEYS: record, order, sequence. ARGV: slug, the record's `id` field (JSON, or ""), field/value pairs.
# A stored record of the same id is this very insert, sent again by redis-py after the connection
# broke before the answer came back: it succeeded, rather than "taken" (which would store it twice).
_INSERT = """
if redis.call('EXISTS', KEYS[1]) == 1 then
  return (ARGV[2] ~= '' and redis.call('HGET', KEYS[1], 'id') == ARGV[2]) and 1 or 0
end
redis.call('HSET', KEYS[1], unpack(ARGV, 3))
redis.call('ZADD', KEYS[2], redis.call('INCR', KEYS[3]), ARGV[1])
return 1
"""

# KEYS: record. ARGV: field/value pairs. The whole record after the change, or nil.
_UPDATE = """
if redis.call('EXISTS', KEYS[1]) == 0 then return nil end
redis.call('HSET', KEYS[1], unpack(ARGV))
return redis.call('HGETALL', KEYS[1])
"""

# KEYS: record, order. ARGV: slug.
_DELETE = """
local removed = redis.call('DEL', KEYS[1])
redis.call('ZREM', KEYS[2], ARGV[1])
return removed
"""

# KEYS: order. ARGV: record key prefix, offset, limit. The total, then each record's HGETALL.
_PAGE = """
local total = redis.call('ZCARD', KEYS[1])
local result = {total}
local offset, limit = tonumber(ARGV[2]), tonumber(ARGV[3])
if limit > 0 and offset < total then
  local stop = math.min(offset + limit, total) - 1  -- clamped: Lua numbers are doubles
  for _, slug in ipairs(redis.call('ZREVRANGE', KEYS[1], offset, stop)) do
    table.insert(result, redis.call('HGETALL', ARGV[1] .. slug))
  end
end
return result
"""


class RedisStore:
    """Records of one mock instance (its key prefix) in a Redis database."""

    def __init__(self, keys: RedisNamespace) -> None:
        self.keys = keys
        client = keys.client
        self._insert = client.register_script(_INSERT)
        self._update = client.register_script(_UPDATE)
        self._delete = client.register_script(_DELETE)
        self._page = client.register_script(_PAGE)

    def insert(self, namespace: str, record: Record) -> bool:
        slug = record["slug"]
        keys = [self._record_key(namespace, slug), self._order_key(namespace), self.keys.key("vk", "seq")]
        record_id = json.dumps(record["id"]) if "id" in record else ""
        return bool(self._insert(keys=keys, args=[self.keys.part(slug), record_id, *_encode(record)]))

    def get(self, namespace: str, slug: str) -> Record | None:
        fields = self.keys.client.hgetall(self._record_key(namespace, slug))
        return _decode(fields) if fields else None

    def page(self, namespace: str, offset: int, limit: int) -> tuple[int, list[Record]]:
        record_prefix = self._record_key(namespace, "")
        total, *records = self._page(keys=[self._order_key(namespace)], args=[record_prefix, offset, limit])
        return int(total), [_decode(_pairs(flat)) for flat in records if flat]

    def update(self, namespace: str, slug: str, changes: Record) -> Record | None:
        if not changes:
            return self.get(namespace, slug)
        flat = self._update(keys=[self._record_key(namespace, slug)], args=_encode(changes))
        return _decode(_pairs(flat)) if flat else None

    def delete(self, namespace: str, slug: str) -> bool:
        keys = [self._record_key(namespace, slug), self._order_key(namespace)]
        return bool(self._delete(keys=keys, args=[self.keys.part(slug)]))

    def namespaces(self) -> list[str]:
        # An order set exists while its namespace holds a record (ZREM of the last one deletes it).
        return [unquote(part) for part in self.keys.parts_of("vk", "*", "order")]

    def clear(self) -> None:
        self.keys.clear("vk")

    def _order_key(self, namespace: str) -> str:
        return self.keys.key("vk", self.keys.part(namespace), "order")

    def _record_key(self, namespace: str, slug: str) -> str:
        key = self.keys.key("vk", self.keys.part(namespace), "key", "")
        return key + self.keys.part(slug) if slug else key


def _encode(record: Record) -> list[str]:
    return [part for name, value in record.items() for part in (name, json.dumps(value))]


def _pairs(flat: list[Any]) -> dict[bytes, bytes]:
    return dict(zip(flat[::2], flat[1::2], strict=True))


def _decode(fields: dict[Any, Any]) -> Record:
    """A record from its hash (redis-py answers bytes, as this client never decodes responses)."""
    return {name.decode(): json.loads(value) for name, value in fields.items()}

"""The shared store: records in Redis, so several processes and hosts see one state.

Each record is a Redis hash (one JSON value per top-level field), so an update is a single HSET
and two concurrent updates of different fields can never undo each other. Each change that touches
more than one key runs as a Lua script, which Redis executes atomically: the slug check and the
insert cannot interleave with another process's insert of the same slug. List order comes from one
counter per mock instance, so "newest first" holds whichever process inserted. A `write` (a change
planned from a record as read, with the records it makes beside it) is one script too: it checks
that the record is still the text that was read and makes all of it, or nothing.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any
from urllib.parse import unquote

from mockserver.jsontext import compact
from mockserver.state import trip
from mockserver.state.records.base import Conflict, Insert, Record, Update
from mockserver.state.redis_keys import RedisNamespace

# KEYS (after the rider's): record, order, sequence. ARGV: slug, the record's `id` (JSON, or ""),
# the record as JSON text, its field/value pairs as one JSON array (one argument, not 30: packing
# each argument cost redis-py more than encoding the array). A stored record of the same id is this
# very insert, sent again by redis-py after the connection broke before the answer came back: it
# succeeded, rather than "taken" (which would store it twice).
_INSERT = (
    trip.LUA
    + """
if plan_is_set() then return 'plan-is-set' end
if redis.call('EXISTS', KEYS[6]) == 1 then
  return (ARGV[6] ~= '' and redis.call('HGET', KEYS[6], 'id') == ARGV[6]) and 1 or 0
end
redis.call('HSET', KEYS[6], ':text', ARGV[7], unpack(cjson.decode(ARGV[8])))
redis.call('ZADD', KEYS[7], redis.call('INCR', KEYS[8]), ARGV[5])
journal(true)
return 1
"""
)

# Besides one field per record field, each hash keeps the whole record as JSON text under `:text`
# (no record field has that name): a read is one HGET, and Python decodes one document rather than
# one per field. Insert writes the text Python made; update makes it anew from the fields.
_AS_JSON = """
local function as_json(key)
  return redis.call('HGET', key, ':text') or nil
end
local function compose(key)
  local flat = redis.call('HGETALL', key)
  local parts = {}
  for i = 1, #flat, 2 do
    if flat[i] ~= ':text' then parts[#parts + 1] = cjson.encode(flat[i]) .. ':' .. flat[i + 1] end
  end
  local text = '{' .. table.concat(parts, ',') .. '}'
  redis.call('HSET', key, ':text', text)
  return text
end
"""

# KEYS (after the rider's): record. The record as JSON text, or nil.
_GET = (
    trip.LUA
    + _AS_JSON
    + """
if plan_is_set() then return 'plan-is-set' end
local text = as_json(KEYS[6])
journal(text ~= nil)
return text
"""
)

# KEYS: record. ARGV: field/value pairs. The whole record after the change as JSON text, or nil.
_UPDATE = (
    _AS_JSON
    + """
if redis.call('EXISTS', KEYS[1]) == 0 then return nil end
redis.call('HSET', KEYS[1], unpack(ARGV))
return compose(KEYS[1])
"""
)

# KEYS: the record to update ('' for none), then three for each insert: record, order, sequence.
# ARGV: the record's text as read, its changes (field/value pairs as one JSON array), then four for
# each insert: slug, id (JSON), the record as JSON text, its field/value pairs. 'done'; 'stale' (the
# record is no longer as read, or gone); or the index of the first insert whose slug is taken (or
# named twice).
# Nothing is changed unless all is. Inserts already there under the same id are this very write,
# sent again by redis-py after the connection broke before the answer came back.
_WRITE = (
    _AS_JSON
    + """
local inserts = (#KEYS - 1) / 3
local there, planned = {}, {}
if KEYS[1] ~= '' and redis.call('HGET', KEYS[1], ':text') ~= ARGV[1] then return 'stale' end
for i = 0, inserts - 1 do
  if planned[KEYS[2 + 3 * i]] then return i end
  planned[KEYS[2 + 3 * i]] = true
  if redis.call('EXISTS', KEYS[2 + 3 * i]) == 1 then
    if redis.call('HGET', KEYS[2 + 3 * i], 'id') ~= ARGV[4 + 4 * i] then return i end
    there[i] = true
  end
end
if KEYS[1] ~= '' then
  redis.call('HSET', KEYS[1], unpack(cjson.decode(ARGV[2])))
  compose(KEYS[1])
end
for i = 0, inserts - 1 do
  if not there[i] then
    redis.call('HSET', KEYS[2 + 3 * i], ':text', ARGV[5 + 4 * i], unpack(cjson.decode(ARGV[6 + 4 * i])))
    redis.call('ZADD', KEYS[3 + 3 * i], redis.call('INCR', KEYS[4 + 3 * i]), ARGV[3 + 4 * i])
  end
end
return 'done'
"""
)

# KEYS: record, order. ARGV: slug.
_DELETE = """
local removed = redis.call('DEL', KEYS[1])
redis.call('ZREM', KEYS[2], ARGV[1])
return removed
"""

# KEYS (after the rider's): order. ARGV: record key prefix, offset, limit. The total, then each
# record as JSON text.
_PAGE = (
    trip.LUA
    + _AS_JSON
    + """
if plan_is_set() then return 'plan-is-set' end
local total = redis.call('ZCARD', KEYS[6])
local result = {total}
local offset, limit = tonumber(ARGV[6]), tonumber(ARGV[7])
if limit > 0 and offset < total then
  local stop = math.min(offset + limit, total) - 1  -- clamped: Lua numbers are doubles
  for _, slug in ipairs(redis.call('ZREVRANGE', KEYS[6], offset, stop)) do
    result[#result + 1] = as_json(ARGV[5] .. slug)
  end
end
journal(true)
return result
"""
)


class RedisStore:
    """Records of one mock instance (its key prefix) in a Redis database."""

    def __init__(self, keys: RedisNamespace, section: str = "vk") -> None:
        self.keys = keys
        self.section = section  # `vk` for virtual keys (and providers), `integration`, `resource`
        client = keys.client
        self._insert = client.register_script(_INSERT)
        self._get = client.register_script(_GET)
        self._update = client.register_script(_UPDATE)
        self._delete = client.register_script(_DELETE)
        self._write = client.register_script(_WRITE)
        self._page = client.register_script(_PAGE)

    def insert(self, namespace: str, record: Record) -> bool:
        slug = record["slug"]
        record_keys = [
            self._record_key(namespace, slug),
            self._order_key(namespace),
            self.keys.key(self.section, "seq"),
        ]
        record_id = json.dumps(record["id"]) if "id" in record else ""
        text = compact(record)
        fields = compact(_encode(record))
        keys, args, rider = trip.ride(record_keys, [self.keys.part(slug), record_id, text, fields])
        inserted = _ridden(self._insert(keys, args, self.keys.own_client()), rider, appended=None) == 1
        if rider is not None and inserted:
            rider.journaled = True
        return inserted

    def get(self, namespace: str, slug: str) -> Record | None:
        """The record (for the domain's read before an update: never the request's one trip)."""
        keys = [*trip.BLANK_KEYS, self._record_key(namespace, slug)]
        text = self._get(keys=keys, args=trip.BLANK_ARGS)
        return json.loads(text) if text else None

    def get_text(self, namespace: str, slug: str) -> bytes | None:
        keys, args, rider = trip.ride([self._record_key(namespace, slug)], [])
        text: bytes | None = _ridden(self._get(keys, args, self.keys.own_client()), rider, appended=True)
        return text

    def page(self, namespace: str, offset: int, limit: int) -> tuple[int, list[Record]]:
        total, texts = self.page_text(namespace, offset, limit)
        return total, [json.loads(text) for text in texts]

    def page_text(self, namespace: str, offset: int, limit: int) -> tuple[int, list[bytes]]:
        page_args: list[trip.Arg] = [self._record_key(namespace, ""), offset, limit]
        keys, args, rider = trip.ride([self._order_key(namespace)], page_args)
        total, *texts = _ridden(self._page(keys, args, self.keys.own_client()), rider, appended=True)
        return int(total), [text for text in texts if text]

    def update(self, namespace: str, slug: str, changes: Record) -> Record | None:
        if not changes:
            return self.get(namespace, slug)
        text = self._update(keys=[self._record_key(namespace, slug)], args=_encode(changes))
        return json.loads(text) if text else None

    def write(self, update: Update | None, inserts: Sequence[Insert] = ()) -> Conflict | None:
        keys: list[str] = [""]
        args: list[str | bytes] = ["", ""]
        if update is not None:
            keys[0] = self._record_key(update.namespace, update.slug)
            args = [update.seen, compact(_encode(update.changes))]
        for insert in inserts:
            store, record = self._beside(insert.store), insert.record
            keys += [
                store._record_key(insert.namespace, record["slug"]),
                store._order_key(insert.namespace),
                self.keys.key(store.section, "seq"),
            ]
            record_id = json.dumps(record["id"]) if "id" in record else ""
            args += [self.keys.part(record["slug"]), record_id, compact(record), compact(_encode(record))]
        outcome = self._write(keys, args, self.keys.client)
        if outcome == b"done":
            return None
        return Conflict() if outcome == b"stale" else Conflict(int(outcome))

    def _beside(self, store: object) -> RedisStore:
        """A store a write reaches into: one in the same Redis namespace (one script sees both)."""
        if not isinstance(store, RedisStore) or store.keys is not self.keys:
            raise TypeError("a Redis store writes together only with a store of the same namespace")
        return store

    def delete(self, namespace: str, slug: str) -> bool:
        keys = [self._record_key(namespace, slug), self._order_key(namespace)]
        return bool(self._delete(keys=keys, args=[self.keys.part(slug)]))

    def namespaces(self) -> list[str]:
        # An order set exists while its namespace holds a record (ZREM of the last one deletes it).
        return [unquote(part) for part in self.keys.parts_of(self.section, "*", "order")]

    def clear(self) -> None:
        self.keys.clear(self.section)

    def _order_key(self, namespace: str) -> str:
        return self.keys.key(self.section, self.keys.part(namespace), "order")

    def _record_key(self, namespace: str, slug: str) -> str:
        key = self.keys.key(self.section, self.keys.part(namespace), "key", "")
        return key + self.keys.part(slug) if slug else key


def _ridden(result: Any, rider: trip.Rider | None, appended: bool | None) -> Any:
    """A riding script's result; `appended` says whether it appended the journal entry."""
    if result == trip.PLAN_IS_SET:
        raise trip.PlanIsSet()
    if rider is not None and appended:
        rider.journaled = True
    return result


def _encode(record: Record) -> list[str]:
    return [part for name, value in record.items() for part in (name, compact(value))]

"""One round trip to Redis per request: the store operation's script also checks that no fault plan
is set and appends the request's journal entry.

A request on the common path (no fault plan, a valid request) used to make four trips to Redis:
read the plan, read it again for rate limits, run the operation, append to the journal. Now the
route starts a `Rider` before calling the domain, assuming no plan is set; the store's script for
the operation checks that assumption and, if it holds, does the operation and appends the entry
(with the status that follows from the operation: found or not) in the same atomic script. If a
plan is set after all, the script changes nothing and the route serves the request again the
ordinary way (`PlanIsSet`).
"""

from __future__ import annotations

from contextvars import ContextVar
from dataclasses import dataclass


class PlanIsSet(Exception):
    """A fault plan exists: the request must be served the ordinary way, reading the plan first."""


@dataclass
class Rider:
    """The current request's share of its store operation's trip to Redis."""

    keys: list[str]
    """The fault plan, the journal's entries and the journal's count."""
    entry: str
    """The journal entry as JSON text without its status: `{"time": ..., ...}`."""
    limit: int
    not_found_status: int
    journaled: bool = False
    """Whether a script appended the entry (so the route must not append it again)."""

    def args(self) -> list[Arg]:
        return [self.entry, self.limit, self.not_found_status]


RIDER: ContextVar[Rider | None] = ContextVar("mockserver_rider", default=None)
"""The rider of the request this thread is serving, if it rides."""

LUA = """
-- KEYS[1..3]: fault plan, journal entries, journal count. ARGV[1..3]: entry without its status
-- ('' when the request does not ride), journal limit, not-found status. The operation's own keys
-- and arguments follow, from KEYS[4] and ARGV[4].
local rides = ARGV[1] ~= ''
local function plan_is_set()
  return rides and redis.call('EXISTS', KEYS[1]) == 1
end
local function journal(found)
  if not rides then return end
  local status = found and '200' or ARGV[3]
  redis.call('INCR', KEYS[3])
  redis.call('RPUSH', KEYS[2], '{"status":' .. status .. ',' .. string.sub(ARGV[1], 2))
  redis.call('LTRIM', KEYS[2], -tonumber(ARGV[2]), -1)
end
"""
"""The Lua every riding script starts with."""

PLAN_IS_SET = b"plan-is-set"
"""What a riding script answers, having changed nothing, when a fault plan exists."""


Arg = str | int


def ride(extra_keys: list[str], extra_args: list[Arg]) -> tuple[list[str], list[Arg], Rider | None]:
    """The keys and arguments of a riding script: the rider's (or blanks), then the operation's."""
    rider = RIDER.get()
    if rider is None:
        return ["", "", "", *extra_keys], ["", 0, 0, *extra_args], None
    return [*rider.keys, *extra_keys], [*rider.args(), *extra_args], rider


class apart:
    """Store calls made apart from the request's one riding call: reads for a rule (does the
    integration a provider names exist?), which would otherwise journal the request as found or not
    before its own operation has been made. A class, not a generator: it wraps every create."""

    def __enter__(self) -> None:
        self._token = RIDER.set(None)

    def __exit__(self, *_: object) -> None:
        RIDER.reset(self._token)

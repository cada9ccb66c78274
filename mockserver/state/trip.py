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

    journal_keys: list[str]
    """The fault plan, the journal's entries and the journal's count."""
    entry: str
    """The journal entry as JSON text without its status: `{"time": ..., ...}`."""
    limit: int
    not_found_status: int
    journaled: bool = False
    """Whether a script appended the entry, and the audit entry if it carried one (so the route must
    not append them again)."""
    audit_keys: tuple[str, str] = ("", "")
    """The audit log's entries and count, when the request is a write the audit log records."""
    audit_entry: str = ""
    """The audit log's entry as JSON text without its status (`AUDIT_STATUS`), or ''."""

    @property
    def keys(self) -> list[str]:
        return [*self.journal_keys, *self.audit_keys]

    def args(self) -> list[Arg]:
        return [self.entry, self.limit, self.not_found_status, self.audit_entry]

    def carry_audit(self, keys: tuple[str, str], entry: str) -> None:
        """Append an audit log entry in the same script as the journal's (resources/audit_logs.py)."""
        self.audit_keys, self.audit_entry = keys, entry


RIDER: ContextVar[Rider | None] = ContextVar("mockserver_rider", default=None)
"""The rider of the request this thread is serving, if it rides."""

AUDIT_STATUS = "response_status_code"
"""The field of an audit log entry that a script writes first, as it writes a journal entry's `status`."""

LUA = """
-- KEYS[1..5]: fault plan, journal entries, journal count, audit entries, audit count. ARGV[1..4]:
-- entry without its status ('' when the request does not ride), journal limit (the audit log's
-- too), not-found status, audit entry without its status ('' when the request records none). The
-- operation's own keys and arguments follow, from KEYS[6] and ARGV[5].
local rides = ARGV[1] ~= ''
local function plan_is_set()
  return rides and redis.call('EXISTS', KEYS[1]) == 1
end
local function append(entries, count, first, entry)
  redis.call('INCR', count)
  redis.call('RPUSH', entries, first .. ',' .. string.sub(entry, 2))
  redis.call('LTRIM', entries, -tonumber(ARGV[2]), -1)
end
local function journal(found)
  if not rides then return end
  local status = found and '200' or ARGV[3]
  append(KEYS[2], KEYS[3], '{"status":' .. status, ARGV[1])
  if ARGV[4] ~= '' then
    append(KEYS[4], KEYS[5], '{"AUDIT_STATUS":' .. status, ARGV[4])
  end
end
""".replace("AUDIT_STATUS", AUDIT_STATUS)
"""The Lua every riding script starts with."""

PLAN_IS_SET = b"plan-is-set"
"""What a riding script answers, having changed nothing, when a fault plan exists."""


Arg = str | int
BLANK_KEYS: list[str] = [""] * 5
"""The rider's keys in a script call that does not ride."""
BLANK_ARGS: list[Arg] = ["", 0, 0, ""]
"""The rider's arguments in a script call that does not ride."""


def ride(extra_keys: list[str], extra_args: list[Arg]) -> tuple[list[str], list[Arg], Rider | None]:
    """The keys and arguments of a riding script: the rider's (or blanks), then the operation's."""
    rider = RIDER.get()
    if rider is None:
        return [*BLANK_KEYS, *extra_keys], [*BLANK_ARGS, *extra_args], None
    return [*rider.keys, *extra_keys], [*rider.args(), *extra_args], rider


class apart:
    """Store calls made apart from the request's one riding call: reads for a rule (does the
    integration a provider names exist?), which would otherwise journal the request as found or not
    before its own operation has been made. A class, not a generator: it wraps every create."""

    def __enter__(self) -> None:
        self._token = RIDER.set(None)

    def __exit__(self, *_: object) -> None:
        RIDER.reset(self._token)

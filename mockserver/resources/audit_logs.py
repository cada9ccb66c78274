"""Audit logs: every admin write the API plane answered, who made it, what it did, on which resource
and when, read back by `GET /audit-logs` with Portkey's filters.

The API plane hands each answered write to `AuditLogs.record` once its status is decided (api.py):

- a write is a POST, PUT, PATCH or DELETE of a contract operation whose caller is known, refused or
  not (a 400, 403, 404 or 429 is kept with its status); one refused before the caller was known (no
  API key or an unknown one: a 401, or a fault, which stands in for the service failing first) is
  not, as Portkey could not say who sent it; reads are never kept;
- its resource type and action come from the contract, in one place (`subjects_of`): the declared
  resource whose paths lead to the operation's, else the path's first segment; the declared kind
  (`create`, `update`, `delete`), else the verb the operationId begins with (`rotate`, `start`);
- its body, query and headers are answered as JSON text, secrets masked as the journal masks them
  (`journal.mask_body`, `journal.mask_headers`), so no secret is ever shown or leaves the process;
- the entries are kept as the journal keeps its own (`State.audit`, a `Journal` of its own): on the
  request's path only what it saw is captured, the entry built when read (memory) or appended
  (Redis: one trip, and processes on one Redis agree); bounded by the journal's limit, the oldest
  dropped; forgotten by the state's reset.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime
from functools import partial
from typing import Any, NamedTuple

from mockserver.access import Principal, Workspace
from mockserver.contract.date_times import query_moment, timestamp
from mockserver.contract.document import Contract, Operation
from mockserver.errors import ValidationFailed
from mockserver.journal import mask_body, mask_headers
from mockserver.jsontext import compact
from mockserver.resources import Call, Handler
from mockserver.resources.ids import new_id
from mockserver.state.journal_store import Entry, Journal
from mockserver.state.trip import AUDIT_STATUS, Rider
from mockserver.violations import Violation

WRITES = frozenset({"POST", "PUT", "PATCH", "DELETE"})
COUNTRY = "unknown"
"""The mock knows no address's country: every entry names this one."""
USER_TYPE = "api_key"
"""Every caller of the mock is an API key (no user signs in to a dashboard)."""
FILTERS = (
    "method",
    "uri",
    "request_id",
    "user_id",
    "user_type",
    "workspace_id",
    "response_status_code",
    "resource_type",
    "action",
    "client_ip",
    "country",
)
"""The query parameters that keep an entry whose field of the same name equals them."""
_DECLARED_ACTIONS = ("create", "update", "delete")


class Write(NamedTuple):
    """An answered write as the API plane saw it: what was sent, its judged body, who sent it.
    A tuple, not a frozen dataclass: made on every write's path, it costs a tenth as much."""

    method: str
    path: str
    query: Mapping[str, list[str]]
    headers: Iterable[tuple[str, str]]
    """The request's headers as sent (masked before they are kept)."""
    body: Any
    """The decoded body as sent (None when there is none, or it did not decode)."""
    operation: str
    principal: Principal
    workspace: Workspace | None
    """The workspace it acted in (None: an organisation-level write), or, refused before that was
    decided, the key's own."""
    status: int
    client_ip: str


def subjects_of(contract: Contract) -> dict[str, tuple[str, str]]:
    """operationId -> (resource type, action) for every write of the contract."""
    templates: list[tuple[tuple[str, ...], str]] = []
    kinds: dict[str, tuple[str, str]] = {}
    for declaration in contract.resources:
        for kind, operation_id in declaration.operations.items():
            operation = contract.operations.get(operation_id)
            if operation is not None:
                templates.append((_segments(operation.template), declaration.name))
                kinds[operation_id] = (declaration.name, kind)
    subjects = {}
    for operation in contract.operations.values():
        if operation.method.upper() not in WRITES:
            continue
        segments = _segments(operation.template)
        declared = kinds.get(operation.operation_id)
        name: str | None
        if declared is not None and declared[1] in _DECLARED_ACTIONS:
            name, action = declared
        else:
            action = _verb_of(operation)
            name, length = _nearest_resource(segments, templates)
            if action == "create" and name is not None and len(segments) > length and segments[-1][0] != "{":
                action = segments[-1].lower()  # made on a resource, not a new one: `render`, `completions`
        if name is None:
            fixed = [s for s in segments if not s.startswith("{") and s != "admin"]
            name = fixed[0] if fixed else "unknown"
        subjects[operation.operation_id] = (name.replace("-", "_"), action)
    return subjects


def _segments(template: str) -> tuple[str, ...]:
    return tuple(part for part in template.split("/") if part)


def _nearest_resource(
    segments: tuple[str, ...], templates: list[tuple[tuple[str, ...], str]]
) -> tuple[str | None, int]:
    """The declared resource with the longest path leading to `segments` (a parameter matches a
    parameter), and how many segments that path has."""
    best, length = None, 0
    for known, name in templates:
        leads = all(k == s or (k[0] == "{" and s[0] == "{") for k, s in zip(known, segments, strict=False))
        if length < len(known) <= len(segments) and leads:
            best, length = name, len(known)
    return best, length


def _verb_of(operation: Operation) -> str:
    """The verb an operationId begins with (`rotateApiKey`, `McpServers_test`), else the method's."""
    operation_id = operation.operation_id
    verb = operation_id.rpartition("_")[2] if "_" in operation_id else operation_id
    match = re.match(r"[a-z]+", verb)
    if match is not None:
        return match.group()
    return {"POST": "create", "DELETE": "delete"}.get(operation.method.upper(), "update")


class AuditLogs:
    """`GET /audit-logs`, and the entries the API plane records."""

    riding: frozenset[str] = frozenset()

    def __init__(
        self,
        contract: Contract,
        log: Journal,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.log = log
        self.clock = clock
        self.subjects = subjects_of(contract)
        self.secret_fields = contract.secret_fields
        self.window_rule = contract.operations["listAuditLogs"].state_rules["query.end_time"]
        """The 400 a window ending before it starts gets, as the contract states it."""

    def handlers(self) -> Mapping[str, Handler]:
        return {"listAuditLogs": self._list}

    def record(self, write: Write) -> None:
        """Keep one answered write (the API plane's call, after its answer was decided): its time
        and id now, the entry itself built when it is read or leaves the process, as the journal's."""
        self.log.append(partial(self._entry, write, self.clock(), new_id()))

    def carry(self, write: Write, rider: Rider) -> None:
        """Have `rider`'s store script append the entry with the journal's, when the log is in
        Redis: a write then costs one trip to Redis, not two (mockserver/state/trip.py)."""
        carried = self.log.carried(self._entry(write, self.clock(), new_id()), AUDIT_STATUS)
        if carried is not None:
            rider.carry_audit(*carried)

    def _entry(self, write: Write, now: datetime, request_id: str) -> Entry:
        """An entry as answered, secrets masked; the request's parts as JSON text, as Portkey's are."""
        resource_type, action = self.subjects[write.operation]
        principal, workspace = write.principal, write.workspace
        query = {name: values[0] if len(values) == 1 else values for name, values in write.query.items()}
        body = mask_body(write.body, self.secret_fields)
        return {
            "timestamp": timestamp(now),
            "method": write.method.upper(),
            "uri": write.path,
            "request_id": request_id,
            "request_body": compact(body if body is not None else {}),
            "query_params": compact(query),
            "request_headers": compact(mask_headers(write.headers)),
            "user_id": principal.user_id,
            "user_type": USER_TYPE,
            "organisation_id": principal.organisation_id,
            "workspace_id": workspace.workspace_id if workspace is not None else None,
            AUDIT_STATUS: write.status,
            "resource_type": resource_type,
            "action": action,
            "client_ip": write.client_ip,
            "country": COUNTRY,
        }

    def _list(self, call: Call) -> Any:
        query = call.request.query
        start, end = (timestamp(query_moment(query, name)) for name in ("start_time", "end_time"))
        if end < start:
            raise ValidationFailed([Violation("query.end_time", self.window_rule)])
        wanted = {name: query[name] for name in FILTERS if name in query}
        if call.workspace is not None:
            wanted["workspace_id"] = call.workspace.workspace_id
        organisation = call.principal.organisation_id
        matching = [
            {name: value for name, value in entry.items() if name != "seq"}
            for entry in reversed(self.log.entries())  # newest first
            if entry.get("organisation_id") == organisation == query["organisation_id"]
            and start <= entry["timestamp"] <= end
            and all(entry.get(name) == value for name, value in wanted.items())
        ]
        matching.sort(key=lambda entry: entry["timestamp"], reverse=True)  # stable: a clock set back
        page, size = query.get("current_page", 0), query.get("page_size", 100)
        records = matching[page * size : (page + 1) * size]
        return {"records": records, "total": len(matching), "object": "analytics-graph"}

"""What is particular to logs exports: the engine serves create, list, retrieve and update from the
marker on `/logs/exports`; this module counts the logs an export's filters match, computes its
status from the clock, and serves start, cancel and download.

- An export is made a `draft`. Start takes the logs its filters match at that moment (the ids, in
  a file record written with the status in one compare-and-set write) and makes it `in_progress`;
  it is `success` once the clock passes its start by `delay` (0 by default: the first moment after
  it), computed whenever it is read, with no background thread. Cancel stops a draft or an export
  still in progress (`stopped`). Start twice, cancel a finished or stopped export, change a
  started one or download one that has not succeeded: 400 with the contract's state rule.
- Download answers a signed URL on the mock's control plane, `/__mock/log-exports/<token>`, whose
  token is random and kept in the file record, so every process on one Redis serves the same file:
  the logs taken at the start that the store still holds, one JSON object per line with the
  requested fields (header values masked, as every log is kept).
- `total` (create and update answers) counts the logs the filters match when it is written.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import Any

from mockserver import responses
from mockserver.contract.date_times import timestamp
from mockserver.contract.document import Contract
from mockserver.errors import ApiError, NotFound, ValidationFailed
from mockserver.resources import Call, Handler
from mockserver.resources.engine import DeclaredResource, acting_user
from mockserver.resources.logs import Logs
from mockserver.state.records.base import Insert, Record, Update
from mockserver.violations import Violation

FILES = "log-export-file"
"""The records store's namespace of export files: token -> the export and the ids of its logs."""
FILE_PATH = "/__mock/log-exports/"
EVERY_FIELD = (
    "id", "trace_id", "created_at", "request", "response", "is_success", "ai_org", "ai_model", "req_units",
    "res_units", "total_units", "request_url", "cost", "cost_currency", "response_time",
    "response_status_code", "mode", "config", "prompt_slug", "metadata",
)  # fmt: skip
GATEWAY_ONLY = (
    "ai_org_model", "configs", "virtual_keys", "prompt_slug", "workspace_slug",
    "weighted_feedback_min", "weighted_feedback_max",
)  # fmt: skip
"""Filters on what only the gateway records: an inserted log has none, so none matches them."""
RANGES = {
    "prompt_token": "req_units",
    "completion_token": "res_units",
    "total_units": "total_units",
    "cost": "cost",
}
DEFAULT_PAGE_SIZE = 50000
WRITE_ATTEMPTS = 8


def status_of(record: Record, now: datetime, delay: timedelta) -> str:
    """An export's status as of `now`: a started one has succeeded once the clock passes its start."""
    status = str(record.get("status", "draft"))
    if status == "in_progress" and now.timestamp() > float(record["started_at"]) + delay.total_seconds():
        return "success"
    return status


def matches(log: Record, filters: Mapping[str, Any]) -> bool:
    """Whether an inserted log is one an export with these filters holds."""
    metrics = log.get("metrics") or {}
    if any(name in filters for name in GATEWAY_ONLY):
        return False
    created = str(log.get("created_at", ""))
    if "time_of_generation_min" in filters and created < filters["time_of_generation_min"]:
        return False
    if "time_of_generation_max" in filters and created > filters["time_of_generation_max"]:
        return False
    metadata = log.get("metadata") or {}
    if any(k not in metadata or metadata[k] != v for k, v in (filters.get("metadata") or {}).items()):
        return False
    if "trace_id" in filters and log.get("trace_id") != filters["trace_id"]:
        return False
    if "ai_model" in filters and metrics.get("ai_model") != filters["ai_model"]:
        return False
    if "status_code" in filters:
        statuses = {int(s) for s in str(filters["status_code"]).split(",")}
        if metrics.get("response_status_code") not in statuses:
            return False
    for prefix, field in RANGES.items():
        value = metrics.get(field, 0)
        if f"{prefix}_min" in filters and value < filters[f"{prefix}_min"]:
            return False
        if f"{prefix}_max" in filters and value > filters[f"{prefix}_max"]:
            return False
    return True


def line_of(log: Record, fields: list[str]) -> dict[str, Any]:
    """One line of an export's file: the requested fields of a log (null where a custom log has none)."""
    metrics = log.get("metrics") or {}
    line: dict[str, Any] = {}
    for name in fields:
        if name in ("id", "trace_id", "created_at", "request", "response", "metadata"):
            line[name] = log.get(name)
        else:
            line[name] = metrics.get(name)  # ai_org, mode, config, prompt_slug: only the gateway's
    return line


class LogExports:
    """Hooks the engine's exports and serves `startLogExport`, `cancelLogExport`, `downloadLogExport`."""

    riding: frozenset[str] = frozenset()

    def __init__(
        self,
        contract: Contract,
        engine: DeclaredResource,
        logs: Logs,
        delay: timedelta = timedelta(0),
    ) -> None:
        self.engine = engine
        self.store = engine.store
        self.logs = logs
        self.delay = delay
        self.rules: dict[str, str] = {
            op: contract.operations[op].state_rules.get("path.exportId", "")
            for op in ("updateLogExport", "startLogExport", "cancelLogExport", "downloadLogExport")
            if op in contract.operations
        }
        engine.creating.append(self._made)
        engine.updating.append(self._changed)
        engine.shown = _Shown(self)

    @property
    def clock(self) -> Callable[[], datetime]:
        return self.engine.clock

    def handlers(self) -> Mapping[str, Handler]:
        return {
            "startLogExport": self._start,
            "cancelLogExport": self._cancel,
            "downloadLogExport": self._download,
        }

    # -- the engine's hooks

    def _made(self, call: Call, record: Record) -> None:
        record["created_by"] = acting_user(call)
        record.setdefault("requested_data", list(EVERY_FIELD))
        record["total"] = self._count(call, record.get("filters") or {})

    def _changed(self, call: Call, record: Record, planned: Record) -> None:
        planned.pop("export_id", None)  # the Node SDK's copy of the path's id
        if status_of(record, self.clock(), self.delay) != "draft":
            self._refuse("updateLogExport")
        planned["total"] = self._count(call, planned.get("filters") or record.get("filters") or {})

    def shown(self, record: Record) -> Record:
        """An export as answers show it: its status as of now, without what the mock keeps for itself."""
        hidden = ("slug", "total", "started_at", "file")
        shown = {k: v for k, v in record.items() if k not in hidden}
        shown["status"] = status_of(record, self.clock(), self.delay)
        return shown

    # -- the actions

    def _start(self, call: Call) -> Any:
        def started(record: Record) -> tuple[Record, list[Insert]]:
            if status_of(record, self.clock(), self.delay) != "draft":
                self._refuse("startLogExport")
            token = secrets.token_urlsafe(24)
            ids = [
                log["id"]
                for log in self.logs.logs_of(record["organisation_id"], record["workspace_id"])
                if matches(log, record["filters"])
            ]
            ids.reverse()  # oldest first, as they were made
            file = {
                "id": token,
                "slug": token,
                "organisation_id": record["organisation_id"],
                "workspace_id": record["workspace_id"],
                "export_id": record["id"],
                "log_ids": ids,
            }
            changes = {"status": "in_progress", "started_at": self.clock().timestamp(), "file": token}
            return changes, [Insert(self.store, FILES, file)]

        self._transition(call, started)
        return {"message": "Export started", "object": "export"}

    def _cancel(self, call: Call) -> Any:
        def stopped(record: Record) -> tuple[Record, list[Insert]]:
            if status_of(record, self.clock(), self.delay) not in ("draft", "in_progress"):
                self._refuse("cancelLogExport")
            return {"status": "stopped"}, []

        self._transition(call, stopped)
        return {"message": "Export stopped", "object": "export"}

    def _download(self, call: Call) -> Any:
        record = self.engine.find_for(call)[0]
        if status_of(record, self.clock(), self.delay) != "success":
            self._refuse("downloadLogExport")
        return {"signed_url": f"{call.origin}{FILE_PATH}{record['file']}"}

    def file(self, token: str) -> list[dict[str, Any]] | None:
        """The lines of the file a signed URL names, if its export has succeeded; else None."""
        text = self.store.get_text(FILES, token)
        if text is None:
            return None
        file = json.loads(text)
        namespace = self.engine.namespace_in(file["organisation_id"], file["workspace_id"])
        try:
            record = self.engine.find(namespace, file["export_id"])[0]
        except NotFound:
            return None
        if record.get("file") != token or status_of(record, self.clock(), self.delay) != "success":
            return None
        kept = {log["id"]: log for log in self.logs.logs_of(file["organisation_id"], file["workspace_id"])}
        logs = [kept[i] for i in file["log_ids"] if i in kept]
        filters = record.get("filters") or {}
        size = filters.get("page_size", DEFAULT_PAGE_SIZE)
        page = filters.get("current_page", 0)
        fields = record.get("requested_data") or list(EVERY_FIELD)
        return [line_of(log, fields) for log in logs[page * size : (page + 1) * size]]

    # -- helpers

    def _transition(self, call: Call, change: Callable[[Record], tuple[Record, list[Insert]]]) -> None:
        for _ in range(WRITE_ATTEMPTS):
            record, text, namespace = self.engine.find_for(call)
            changes, inserts = change(record)
            changes["last_updated_at"] = timestamp(self.clock())
            if self.store.write(Update(namespace, record["slug"], text, changes), inserts) is None:
                return
        raise ApiError(
            "The export kept changing under this request; retry", 503, headers={"Retry-After": "1"}
        )

    def _count(self, call: Call, filters: Mapping[str, Any]) -> int:
        organisation, workspace = call.principal.organisation_id, call.in_workspace.workspace_id
        return sum(1 for log in self.logs.logs_of(organisation, workspace) if matches(log, filters))

    def _refuse(self, operation: str) -> None:
        raise ValidationFailed([Violation("path.exportId", self.rules[operation])])


class _Shown:
    """The engine's `Shown`: retrieve and list answer each export with its status as of now."""

    def __init__(self, exports: LogExports) -> None:
        self.exports = exports

    def retrieved(self, text: bytes) -> Any:
        return self.exports.shown(json.loads(text))

    def page(self, total: int, texts: list[bytes]) -> Any:
        data = responses.each_readable(texts, lambda text: self.exports.shown(json.loads(text)))
        return responses.page(total, data)

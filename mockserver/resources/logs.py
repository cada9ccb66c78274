"""Logs and feedback: records written by `POST /logs` and `POST /feedback`, read back by id.

Neither is CRUD-shaped (an insert answers a list of ids, one per request while the mock takes
JSON objects only; a log is never
changed nor deleted; feedback is only created and updated), so no marker promises them and this
module serves their four operations on the records store (memory or Redis), where two processes
on one Redis agree:

- each kind lives in one namespace of its own (`log`, `feedback`), keyed by id, every record naming
  its organisation and workspace; a call reaches only its own workspace's, others answer 404;
- each kind is bounded: past `limit` records (the journal's limit, 1000 by default) the oldest are
  dropped, so a load test cannot fill memory (two inserts at the same moment may each drop one);
- a log is kept as `log_record` makes it, the one place that says what a log holds: the call's
  request and response (every header value masked, as the contract's `writeOnly` says), its
  metadata, and the metrics computed from them (`LogMetrics` in openapi.yaml: model, tokens, cost,
  latency, status, user, cache status, timestamps), which analytics reads with `Logs.logs_of`;
- feedback keeps its trace id, value, weight (1 when not given) and metadata; an update changes the
  fields it names.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from mockserver import responses
from mockserver.contract.date_times import timestamp
from mockserver.contract.secrets import masked_header_values
from mockserver.errors import NotFound
from mockserver.resources import Call, Handler
from mockserver.resources.ids import new_id
from mockserver.state.records.base import Record, Store

LOGS = "log"
FEEDBACK = "feedback"
CACHE_HEADER = "x-portkey-cache-status"


def log_record(
    entry: Mapping[str, Any], organisation: str, workspace: str, now: str, log_id: str | None = None
) -> Record:
    """A log as the mock keeps and answers it, from one inserted entry (validated as `CustomLog`)."""
    log_id = log_id or new_id()
    request, response = entry["request"], entry["response"]
    metadata = dict(entry.get("metadata") or {})
    sent_headers = {str(k).lower(): v for k, v in (response.get("headers") or {}).items()}
    body = response.get("body") or {}
    sent_usage = body.get("usage")
    usage: dict[str, Any] = sent_usage if isinstance(sent_usage, dict) else {}
    prompt, completion = _units(usage.get("prompt_tokens")), _units(usage.get("completion_tokens"))
    status = int(response.get("status", 200))
    model = body.get("model") or (request.get("body") or {}).get("model")
    trace_id = str(metadata.get("trace_id") or log_id)
    user = metadata.get("_user")
    kept_request = {
        "url": request["url"],
        "method": request.get("method", "POST"),
        "headers": masked_header_values(request.get("headers") or {}),
        "body": request["body"],
    }
    kept_response = {
        "status": status,
        "headers": masked_header_values(response.get("headers") or {}),
        "body": body,
        "response_time": int(response.get("response_time", 0)),
    }
    metrics = {
        "id": log_id,
        "organisation_id": organisation,
        "workspace_id": workspace,
        "created_at": now,
        "trace_id": trace_id,
        "is_success": 200 <= status < 300,
        "ai_model": model if isinstance(model, str) else None,
        "req_units": prompt,
        "res_units": completion,
        "total_units": _units(usage.get("total_tokens")) or prompt + completion,
        "cost": 0,
        "cost_currency": "USD",
        "request_url": kept_request["url"],
        "request_method": kept_request["method"],
        "response_status_code": status,
        "response_time": kept_response["response_time"],
        "cache_status": sent_headers.get(CACHE_HEADER),
        "user": user if isinstance(user, str) else None,
    }
    return {
        "id": log_id,
        "slug": log_id,
        "trace_id": trace_id,
        "organisation_id": organisation,
        "workspace_id": workspace,
        "created_at": now,
        "request": kept_request,
        "response": kept_response,
        "metadata": metadata,
        "metrics": metrics,
    }


def _units(value: Any) -> int:
    """A token count as the log keeps it: a non-negative integer, 0 when absent or not a count."""
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else 0


class Logs:
    """`POST /logs`, `GET /logs/{logId}`, `POST /feedback` and `PUT /feedback/{id}`."""

    riding: frozenset[str] = frozenset()

    def __init__(
        self,
        store: Store,
        limit: int = 1000,
        not_found_status: int = 404,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        if limit < 1:
            raise ValueError("the logs limit must be positive")
        self.store = store
        self.limit = limit
        self.not_found_status = not_found_status
        self.clock = clock

    def handlers(self) -> Mapping[str, Handler]:
        return {
            "insertLogs": self._insert_logs,
            "getLog": self._get_log,
            "createFeedback": self._create_feedback,
            "updateFeedback": self._update_feedback,
        }

    # -- reads for other modules (analytics, the control plane's store view)

    def stored(self, limit: int) -> list[tuple[str, str, str, int, list[Record]]]:
        """Each workspace's logs, then its feedback, newest first: the kind, organisation,
        workspace, total and up to `limit` records, as `GET /logs/{logId}` answers a log."""
        found = []
        for kind in (LOGS, FEEDBACK):
            held: dict[tuple[str, str], list[Record]] = {}
            for record in self._all(kind):
                held.setdefault((record["organisation_id"], record["workspace_id"]), []).append(record)
            for at, kept in sorted(held.items()):
                found.append((kind, *at, len(kept), [_shown(record) for record in kept[:limit]]))
        return found

    def logs_of(self, organisation: str, workspace: str | None = None) -> list[Record]:
        """Every log kept for an organisation (or one of its workspaces), newest first."""
        return [r for r in self._all(LOGS) if _belongs(r, organisation, workspace)]

    def feedback_of(self, organisation: str, workspace: str | None = None) -> list[Record]:
        """Every feedback kept for an organisation (or one of its workspaces), newest first."""
        return [r for r in self._all(FEEDBACK) if _belongs(r, organisation, workspace)]

    # -- the operations

    def _insert_logs(self, call: Call) -> Any:
        entries = [call.body]  # one per request: the validator takes JSON objects only
        organisation, workspace = call.principal.organisation_id, call.in_workspace.workspace_id
        now = timestamp(self.clock())
        ids = []
        for entry in entries:
            record = log_record(entry, organisation, workspace, now)
            self.store.insert(LOGS, record)
            ids.append(record["id"])
        self._trim(LOGS)
        return {"success": True, "log_ids": ids}

    def _get_log(self, call: Call) -> Any:
        return _shown(self._find(call, LOGS, call.request.path_params["logId"], "Log"))

    def _create_feedback(self, call: Call) -> Any:
        entries = [call.body]  # one per request: the validator takes JSON objects only
        organisation, workspace = call.principal.organisation_id, call.in_workspace.workspace_id
        now = timestamp(self.clock())
        ids = []
        for entry in entries:
            feedback_id = new_id()
            record = {
                "id": feedback_id,
                "slug": feedback_id,
                "organisation_id": organisation,
                "workspace_id": workspace,
                "trace_id": entry["trace_id"],
                "value": entry["value"],
                "weight": entry.get("weight", 1),
                "metadata": entry.get("metadata") or {},
                "created_at": now,
                "last_updated_at": now,
            }
            self.store.insert(FEEDBACK, record)
            ids.append(feedback_id)
        self._trim(FEEDBACK)
        return _saved(ids)

    def _update_feedback(self, call: Call) -> Any:
        feedback_id = call.request.path_params["id"]
        self._find(call, FEEDBACK, feedback_id, "Feedback")
        changes: Record = {k: call.body[k] for k in ("value", "weight", "metadata") if k in call.body}
        changes["last_updated_at"] = timestamp(self.clock())
        if self.store.update(FEEDBACK, feedback_id, changes) is None:  # dropped meanwhile
            raise self._not_found("Feedback", feedback_id)
        return _saved([feedback_id])

    # -- the records

    def _find(self, call: Call, kind: str, ref: str, words: str) -> Record:
        """The record of `kind` the call names, if it is its workspace's; else not found."""
        text = self.store.get_text(kind, ref)
        record = json.loads(text) if text is not None else None
        workspace = call.in_workspace.workspace_id
        if record is None or not _belongs(record, call.principal.organisation_id, workspace):
            raise self._not_found(words, ref)
        return record

    def _not_found(self, words: str, ref: str) -> NotFound:
        shown = ref if len(ref) <= 100 else ref[:100] + "..."
        return NotFound(f"{words} not found: {shown}", self.not_found_status)

    def _trim(self, kind: str) -> None:
        """Drop the oldest records of `kind` past the limit."""
        _, texts = self.store.page_text(kind, self.limit, 2**31)
        for record in responses.each_readable(texts, json.loads):
            self.store.delete(kind, record["slug"])

    def _all(self, kind: str) -> list[Record]:
        _, texts = self.store.page_text(kind, 0, 2**31)
        return responses.each_readable(texts, json.loads)


def _shown(record: Record) -> Record:
    """A log or feedback as answered: its id only (the store keeps it as its slug too)."""
    return {k: v for k, v in record.items() if k != "slug"}


def _belongs(record: Record, organisation: str, workspace: str | None) -> bool:
    return record.get("organisation_id") == organisation and workspace in (None, record.get("workspace_id"))


def _saved(ids: list[str]) -> dict[str, Any]:
    return {"status": "success", "message": "Feedback saved", "feedback_ids": ids}

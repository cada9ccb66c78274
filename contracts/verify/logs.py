"""What nothing can undo on a real service, driven only with `--permanent-writes` (a service you own,
never shared staging): a log inserted and read back, feedback given on its trace and changed, the
requests graph read over a window holding it, then two logs exports, one created, read, listed,
started and downloaded, the other created, changed and cancelled.

Every request is judged (each write meant to succeed, and each read of what the run made); the
log's trace id and metadata, the feedback's metadata and the exports' descriptions carry the run
id, so a person can tell them apart. Nothing here can be deleted afterwards. Left out, with a
note, when the contract lacks any of these operations (a service whose contract is not ours).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any, TextIO
from urllib.parse import urlencode

from contracts.verify.guard import safe_body
from contracts.verify.ledger import Observation
from contracts.verify.lifecycle import Client, created_record, lacking, leave_out
from contracts.verify.run import VerifyRun
from mockserver.contract.date_times import timestamp

WRITES = ("insertLogs", "createFeedback", "updateFeedback")
"""The writes no other phase sends: without the option the report names them untested; with it,
schemathesis leaves them to this scenario, which marks what it writes with the run id."""
NEEDED = (
    *WRITES,
    "getLog",
    "getRequestsGraph",
    "createLogExport",
    "getLogExport",
    "listLogExports",
    "updateLogExport",
    "startLogExport",
    "downloadLogExport",
    "cancelLogExport",
)
WINDOW = timedelta(hours=1)
"""How far either side of the insert the graph's window reaches (another clock may differ a little)."""
EXPORT_READS = 10
"""Reads of a started export, EXPORT_WAIT apart, while it is in progress (the mock's ends at once)."""
EXPORT_WAIT = 1.0


def run_logs_lifecycle(run: VerifyRun, client: Client, api_key: str, out: TextIO) -> None:
    """Drive logs, feedback and logs exports through their lives once; one progress line."""
    why = lacking(run, NEEDED)
    if why:
        leave_out(run, "logs", why)
        return
    print("lifecycle: logs (a log, feedback on it, a graph, exports): permanent writes", file=out, flush=True)
    trace = f"{run.ledger.name_prefix}trace"
    marks = {"contracts_verify_run": run.ledger.run_id}
    now = datetime.now(UTC)
    log = _example(run, "insertLogs")
    log["metadata"] = {**(log.get("metadata") or {}), **marks, "trace_id": trace}
    inserted = client.send("POST", "/logs", api_key, safe_body(run, "insertLogs", log), intent="valid")
    log_id = _first(inserted, "log_ids")
    if log_id is not None:
        client.send("GET", f"/logs/{log_id}", api_key, intent="valid")
    feedback = {**_example(run, "createFeedback"), "trace_id": trace, "metadata": marks}
    given = client.send(
        "POST", "/feedback", api_key, safe_body(run, "createFeedback", feedback), intent="valid"
    )
    feedback_id = _first(given, "feedback_ids")
    if feedback_id is not None:
        change = safe_body(run, "updateFeedback", _example(run, "updateFeedback"))
        client.send("PUT", f"/feedback/{feedback_id}", api_key, change, intent="valid")
    window = {
        "time_of_generation_min": timestamp(now - WINDOW),
        "time_of_generation_max": timestamp(now + WINDOW),
    }
    query = urlencode({**window, "trace_id": trace})
    client.send("GET", f"/analytics/graphs/requests?{query}", api_key, intent="valid")
    _exports(run, client, api_key, {"trace_id": trace})


def _exports(run: VerifyRun, client: Client, api_key: str, filters: dict[str, Any]) -> None:
    """One export started and downloaded once it has finished, one changed and cancelled as a draft."""
    first = _export(run, client, api_key, filters, "downloaded")
    if first is not None:
        client.send("GET", first, api_key, intent="valid")
        client.send("GET", "/logs/exports", api_key, intent="valid")
        client.send("POST", f"{first}/start", api_key, intent="valid")
        status = _settled(client, first, api_key)
        if status == "success":
            client.send("GET", f"{first}/download", api_key, intent="valid")
        elif status == "in_progress":
            run.result.notes.append(
                f"logs: an export was still in progress after {EXPORT_READS} reads; its download was not sent"
            )
    second = _export(run, client, api_key, filters, "cancelled")
    if second is not None:
        change = {"filters": {**filters, "status_code": "200"}}
        client.send("PUT", second, api_key, safe_body(run, "updateLogExport", change), intent="valid")
        client.send("POST", f"{second}/cancel", api_key, intent="valid")
        client.send("GET", second, api_key, intent="valid")


def _export(run: VerifyRun, client: Client, api_key: str, filters: dict[str, Any], what: str) -> str | None:
    """The path of a new export of the run's log, or None if its create failed (the checks say so)."""
    body = {**_example(run, "createLogExport"), "filters": filters}
    body["description"] = f"{run.ledger.name_prefix}{what}"
    made = created_record(
        client.send("POST", "/logs/exports", api_key, safe_body(run, "createLogExport", body), intent="valid")
    )
    return f"/logs/exports/{made['id']}" if made is not None else None


def _settled(client: Client, path: str, api_key: str) -> Any:
    """A started export's status once it is no longer in progress (read at most EXPORT_READS times)."""
    status: Any = None
    for attempt in range(EXPORT_READS):
        if attempt:
            client.sleep(EXPORT_WAIT)
        answer = client.send("GET", path, api_key, intent="valid").json()
        status = answer.get("status") if isinstance(answer, dict) else None
        if status != "in_progress":
            break
    return status


def _example(run: VerifyRun, operation: str) -> dict[str, Any]:
    """A copy of the contract's body example of `operation` (empty if it has none)."""
    example = run.contract.body_example(run.contract.operations[operation])
    return example if isinstance(example, dict) else {}


def _first(seen: Observation, field: str) -> str | None:
    """The first id of an answer's list of ids (`log_ids`, `feedback_ids`), if it succeeded."""
    answer = seen.json()
    ids = answer.get(field) if isinstance(answer, dict) and seen.exchange.status == 200 else None
    first = ids[0] if isinstance(ids, list) and ids else None
    return first if isinstance(first, str) and first else None

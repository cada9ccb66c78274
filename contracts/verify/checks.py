"""The checks `contracts verify` adds to schemathesis's: rules the contract alone cannot state.

Each check is a plain function of one observed exchange and the run's ledger, returning the
problems it found (empty: it holds). All are registered in `CHECKS`. A check marked `ordered` needs
to see exchanges in the order they were answered, so it judges only the run's own lifecycle
phase; the others also judge every schemathesis request.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import cache
from typing import Any

from contracts.redaction import SECRET
from contracts.verify.ledger import (
    KEY_LISTS,
    KEY_RETRIEVES,
    Ledger,
    Observation,
    OwnKey,
    OwnRecord,
    listed_slugs,
)
from mockserver.contract.document import Contract
from mockserver.contract.exchange import ExchangeJudge
from mockserver.errors import error_code

CheckFunction = Callable[[Observation, Ledger], Iterable[str]]


_MASK_FORM = re.compile(r"^(?:.{2}\*{5}.{3}|\*{5})$", re.DOTALL)


@dataclass(frozen=True)
class Check:
    name: str
    function: CheckFunction
    ordered: bool
    summary: str
    whole_list: bool = False
    """It also judges the list read page by page (an observation with `pages`), and only it does."""


CHECKS: list[Check] = []


def check(
    name: str, summary: str, *, ordered: bool = False, whole_list: bool = False
) -> Callable[[CheckFunction], CheckFunction]:
    def register(function: CheckFunction) -> CheckFunction:
        CHECKS.append(Check(name, function, ordered, summary, whole_list))
        return function

    return register


@check("secret_never_returned", "a secret sent in a create or update never comes back")
def secret_never_returned(seen: Observation, ledger: Ledger) -> Iterable[str]:
    text = (seen.exchange.response_body or b"").decode("utf-8", "replace")
    headers = " ".join(f"{k}: {v}" for k, v in seen.exchange.response_headers.items())
    if ledger.redact(text) != text:
        yield f"the response body carries a secret the run sent (shown here as {SECRET})"
    if ledger.redact(headers) != headers:
        yield "a response header carries a secret the run sent"


@check("error_envelope", "every error uses Portkey's envelope with the errorCode of its status")
def error_envelope(seen: Observation, ledger: Ledger) -> Iterable[str]:
    status = seen.exchange.status
    if status < 400:
        return
    body = seen.json()
    data = body.get("data") if isinstance(body, dict) else None
    if not isinstance(data, dict) or body.get("success") is not False:
        yield f'a {status} answer is not {{"success": false, "data": {{...}}}}'
        return
    if not isinstance(data.get("message"), str):
        yield f"a {status} answer has no data.message string"
    code, expected = data.get("errorCode"), error_code(status)
    if code is None and status == 401:
        return  # Portkey's own 401 example carries no code
    if expected is None:
        yield f"status {status} is not one Portkey's errors use"
    elif code != expected:
        yield f"a {status} answer has errorCode {code!r}; Portkey uses {expected} for {status}"


@check("no_server_error", "no request gets a 5xx")
def no_server_error(seen: Observation, ledger: Ledger) -> Iterable[str]:
    if seen.exchange.status >= 500:
        yield f"the service answered {seen.exchange.status}"


@check("masked_api_key_form", "masked_api_key is 2 characters, 5 asterisks, 3 characters")
def masked_api_key_form(seen: Observation, ledger: Ledger) -> Iterable[str]:
    body = seen.json()
    if seen.operation not in KEY_RETRIEVES or seen.exchange.status != 200 or not isinstance(body, dict):
        return
    masked = body.get("masked_api_key")
    if masked is not None and not (isinstance(masked, str) and _MASK_FORM.match(masked)):
        yield "masked_api_key is not first 2 characters + ***** + last 3 characters"


@check("auth_enforced", "a request without a valid API key answers 401")
def auth_enforced(seen: Observation, ledger: Ledger) -> Iterable[str]:
    if seen.api_key in (None, "", ledger.invalid_api_key) and seen.exchange.status != 401:
        kind = "an unknown API key" if seen.api_key else "no API key"
        yield f"a request with {kind} answered {seen.exchange.status}, not 401"


@check("response_conforms", "the response keeps to the contract (status, body schema)", ordered=True)
def response_conforms(seen: Observation, ledger: Ledger) -> Iterable[str]:
    if seen.operation is None:
        return
    for violation in _judge(ledger.contract).judge_response(seen.exchange) or ():
        yield str(violation)


@check("valid_request_accepted", "a request that keeps to the contract succeeds", ordered=True)
def valid_request_accepted(seen: Observation, ledger: Ledger) -> Iterable[str]:
    if seen.intent == "valid" and not 200 <= seen.exchange.status < 300:
        yield f"a valid {seen.operation} request answered {seen.exchange.status}"


@check("invalid_request_rejected", "a body that breaks the contract answers 400", ordered=True)
def invalid_request_rejected(seen: Observation, ledger: Ledger) -> Iterable[str]:
    if seen.intent == "invalid" and seen.exchange.status != 400:
        yield f"an invalid {seen.operation} body answered {seen.exchange.status}, not 400"


@check("created_key_retrievable", "a created key is retrievable", ordered=True)
def created_key_retrievable(seen: Observation, ledger: Ledger) -> Iterable[str]:
    key = _own(seen, ledger)
    if key and not key.deleted and seen.operation in KEY_RETRIEVES and seen.exchange.status != 200:
        yield f"retrieving a key the run created answered {seen.exchange.status}"


@check("update_visible", "an update is visible on the next retrieve", ordered=True)
def update_visible(seen: Observation, ledger: Ledger) -> Iterable[str]:
    key, body = _own(seen, ledger), seen.json()
    if key is None or not _retrieved(seen, key, body) or key.last_write == "failed update":
        return
    yield from _differences(key, body)


@check("failed_update_changes_nothing", "a failed update changes nothing", ordered=True)
def failed_update_changes_nothing(seen: Observation, ledger: Ledger) -> Iterable[str]:
    key, body = _own(seen, ledger), seen.json()
    if key is not None and _retrieved(seen, key, body) and key.last_write == "failed update":
        for difference in _differences(key, body):
            yield f"after a rejected update, {difference}"


@check("masked_key_matches", "masked_api_key matches the last key sent", ordered=True)
def masked_key_matches(seen: Observation, ledger: Ledger) -> Iterable[str]:
    key, body = _own(seen, ledger), seen.json()
    if key is None or key.from_integration or not _retrieved(seen, key, body):
        return
    if body.get("masked_api_key") != key.masked_api_key:
        yield "masked_api_key does not mask the last key sent"


@check("deleted_key_gone", "a deleted key answers not-found on retrieve, update and delete", ordered=True)
def deleted_key_gone(seen: Observation, ledger: Ledger) -> Iterable[str]:
    key = _own(seen, ledger)
    if key and key.deleted and not _is_not_found(seen):
        yield f"{seen.operation} of a deleted key answered {seen.exchange.status}"


@check(
    "listed_with_total",
    "created keys appear in the list, with a consistent total",
    ordered=True,
    whole_list=True,
)
def listed_with_total(seen: Observation, ledger: Ledger) -> Iterable[str]:
    if seen.pages:
        yield from _whole_list_problems(seen, ledger)
        return
    body = seen.json()
    if seen.operation not in KEY_LISTS or seen.exchange.status != 200 or not isinstance(body, dict):
        return
    items, total = body.get("data"), body.get("total")
    if not isinstance(items, list) or not isinstance(total, int):
        return  # the schema check reports the shape
    listed = {item.get("slug") for item in items if isinstance(item, dict)}
    if total < len(items):
        yield f"total is {total} but the page holds {len(items)} keys"
    if seen.exchange.request.query or total > len(items):
        return  # a page of a larger list: membership cannot be judged
    if total != len(items):
        yield f"total is {total} but the whole list holds {len(items)} keys"
    yield from _membership_problems(ledger, seen.api_key, listed, "the list")


def _whole_list_problems(seen: Observation, ledger: Ledger) -> Iterable[str]:
    """The list read page by page: each page's total agrees, and equals the keys the pages hold;
    every live key the run created is there, no deleted one."""
    bodies = [page.json() for page in seen.pages]
    slugs = list(dict.fromkeys(slug for body in bodies for slug in listed_slugs(body)))
    totals = {body.get("total") if isinstance(body, dict) else None for body in bodies}
    if len(totals) > 1:
        yield f"the pages disagree on total: {sorted(totals, key=str)}"
    total = next(iter(totals)) if len(totals) == 1 else None
    if isinstance(total, int) and total != len(slugs):
        yield f"total is {total} but the pages of the list hold {len(slugs)} keys"
    yield from _membership_problems(ledger, seen.api_key, set(slugs), "the pages of the list")


def _membership_problems(ledger: Ledger, api_key: str | None, listed: set[Any], where: str) -> Iterable[str]:
    mine = [key for key in ledger.keys.values() if key.api_key == api_key]
    if missing := [key.slug for key in mine if not key.deleted and key.slug not in listed]:
        yield f"{len(missing)} key(s) the run created are missing from {where}"
    if any(key.deleted and key.slug in listed for key in mine):
        yield "a deleted key is still listed"


@check("isolated_between_api_keys", "a key created with one API key is invisible to another", ordered=True)
def isolated_between_api_keys(seen: Observation, ledger: Ledger) -> Iterable[str]:
    key = None if ledger.is_integration_operation(seen.operation) else ledger.own_key(seen.slug)
    if key and seen.api_key != key.api_key and not _is_not_found(seen):
        yield f"{seen.operation} of another API key's key answered {seen.exchange.status}"
    record = ledger.own_record(seen.slug) if seen.operation in ledger.declared else None
    if record and not record.deleted and seen.api_key != record.api_key and not _is_not_found(seen):
        yield f"{seen.operation} of another API key's {record.resource.name} answered {seen.exchange.status}"
    body = seen.json()
    if seen.operation in KEY_LISTS and seen.exchange.status == 200 and isinstance(body, dict):
        data = body.get("data")
        items = data if isinstance(data, list) else []
        others = {k.slug for k in ledger.keys.values() if k.api_key != seen.api_key and not k.deleted}
        if any(isinstance(item, dict) and item.get("slug") in others for item in items):
            yield "the list shows a key created with another API key"


@check(
    "record_retrievable",
    "a declared resource's record the run made is retrievable by each field its item path takes, and listed",
    ordered=True,
)
def record_retrievable(seen: Observation, ledger: Ledger) -> Iterable[str]:
    kind, status = _declared_kind(seen, ledger), seen.exchange.status
    own = _own_record(seen, ledger)
    if kind == "retrieve" and own and not own.deleted and status != 200:
        yield f"retrieving a {own.resource.name} the run created answered {status}"
    body = seen.json()
    if kind != "list" or status != 200 or not isinstance(body, dict) or seen.exchange.request.query:
        return
    items, total = body.get("data"), body.get("total")
    if not isinstance(items, list) or not isinstance(total, int) or total > len(items):
        return  # the schema check reports the shape; a page of a larger list says nothing of membership
    resource, _ = ledger.declared[seen.operation or ""]
    listed = {item.get(f) for item in items if isinstance(item, dict) for f in resource.found_by}
    mine = [r for r in ledger.alive_records() if r.resource is resource and r.api_key == seen.api_key]
    if missing := [r.ref for r in mine if r.ref not in listed]:
        yield f"{len(missing)} {resource.name}(s) the run created are missing from the list"


@check(
    "record_update_visible",
    "a declared resource's retrieve shows the last update, and a refused update changed nothing",
    ordered=True,
)
def record_update_visible(seen: Observation, ledger: Ledger) -> Iterable[str]:
    own, body = _own_record(seen, ledger), seen.json()
    if (
        own is None
        or own.deleted
        or _declared_kind(seen, ledger) != "retrieve"
        or seen.exchange.status != 200
    ):
        return
    if isinstance(body, dict) and body.get("name") != own.name:
        after = "after a refused update, " if own.last_write == "failed update" else ""
        yield f"{after}the {own.resource.name}'s name is not the value last written"


@check(
    "record_delete_final",
    "a deleted record of a declared resource answers not-found on retrieve, update and delete",
    ordered=True,
)
def record_delete_final(seen: Observation, ledger: Ledger) -> Iterable[str]:
    own = _own_record(seen, ledger)
    if own and own.deleted and _declared_kind(seen, ledger) != "list" and not _is_not_found(seen):
        yield f"{seen.operation} of a deleted {own.resource.name} answered {seen.exchange.status}"


def run_checks(seen: Observation, ledger: Ledger, *, ordered: bool) -> list[tuple[str, list[str]]]:
    """Every applicable check's verdict on `seen`: (name, problems); ordered ones only if `ordered`,
    and on a list read page by page only the checks that judge whole lists."""
    return [
        (c.name, [ledger.redact(problem) for problem in c.function(seen, ledger)])
        for c in CHECKS
        if (c.whole_list if seen.pages else ordered or not c.ordered)
    ]


def _own(seen: Observation, ledger: Ledger) -> OwnKey | None:
    """The key (or provider) of `seen`, if the run created it with the same API key."""
    if ledger.is_integration_operation(seen.operation):
        return None
    key = ledger.own_key(seen.slug)
    return key if key and key.api_key == seen.api_key else None


def _declared_kind(seen: Observation, ledger: Ledger) -> str | None:
    """`create`, `list`, `retrieve`, ... for a declared resource's operation; None for any other."""
    found = ledger.declared.get(seen.operation or "")
    return found[1] if found else None


def _own_record(seen: Observation, ledger: Ledger) -> OwnRecord | None:
    """The declared resource's record `seen` names, if the run created it with the same API key."""
    own = ledger.own_record(seen.slug) if seen.operation in ledger.declared else None
    return own if own and own.api_key == seen.api_key else None


def _retrieved(seen: Observation, key: OwnKey | None, body: Any) -> bool:
    return (
        key is not None
        and not key.deleted
        and seen.operation in KEY_RETRIEVES
        and seen.exchange.status == 200
        and isinstance(body, dict)
    )


def _differences(key: OwnKey, body: dict[str, Any]) -> Iterable[str]:
    for name in ("name", "note"):
        if body.get(name) != getattr(key, name):
            yield f"{name} is not the value last written"


def _is_not_found(seen: Observation) -> bool:
    """404, or 403 AB03 as some Portkey endpoints answer for a missing resource."""
    if seen.exchange.status != 403:
        return seen.exchange.status == 404
    body = seen.json()
    data = body.get("data") if isinstance(body, dict) else None
    return isinstance(data, dict) and data.get("errorCode") == error_code(403)


@cache
def _judge(contract: Contract) -> ExchangeJudge:
    return ExchangeJudge(contract)

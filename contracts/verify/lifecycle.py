"""The run's own phase: each provider case through its whole life, in order, so that the ordered
checks (retrievable, update visible, failed update harmless, delete final, list and total, isolation)
see exactly the sequence they judge. Bodies come from `contracts.strategies` under the run's seed.
"""

from __future__ import annotations

import copy
import os
import ssl
import time
from collections.abc import Callable
from email.utils import parsedate_to_datetime
from functools import cache
from typing import Any, TextIO

import httpx
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import seed as fixed_seed
from hypothesis import strategies as st

from contracts import strategies
from contracts.verify.guard import safe_body
from contracts.verify.ledger import Observation, listed_slugs, role_of
from contracts.verify.run import VerifyRun
from mockserver.contract.exchange import Exchange

MAX_RATE_LIMIT_WAITS = 5
MAX_RETRY_AFTER_SECONDS = 120.0
LIST_PAGE_SIZE = 50
"""The page size the lifecycle's list walk asks for (the service's default)."""
MAX_LIST_PAGES = 200


class Client:
    """The service over httpx: each request counted, 429s waited out, each answer judged in order."""

    def __init__(self, run: VerifyRun, timeout: float = 30.0, sleep: Callable[[float], None] = time.sleep):
        self.run = run
        self.http = httpx.Client(timeout=timeout, verify=_tls_context(*_ca_settings()))
        self.sleep = sleep

    def send(
        self,
        method: str,
        path: str,
        api_key: str | None,
        body: Any = None,
        intent: str | None = None,
    ) -> Observation:
        headers = {self.run.api_key_header: api_key} if api_key is not None else {}
        for _ in range(MAX_RATE_LIMIT_WAITS + 1):
            self.run.budget.take()
            response = self.http.request(method, self.run.base_url + path, json=body, headers=headers)
            delay = retry_after(response)
            if response.status_code != 429 or delay is None:
                break
            self.sleep(min(delay, MAX_RETRY_AFTER_SECONDS))
        return self.run.observe(Exchange.from_httpx(response), "lifecycle", intent=intent, ordered=True)

    def raw(self, method: str, path: str, api_key: str | None, body: Any = None) -> httpx.Response:
        """A request outside the test (set-up, clean-up): not counted, not judged, 429s still waited out."""
        headers = {self.run.api_key_header: api_key} if api_key is not None else {}
        for _ in range(MAX_RATE_LIMIT_WAITS + 1):
            response = self.http.request(method, self.run.base_url + path, json=body, headers=headers)
            delay = retry_after(response)
            if delay is None:
                break
            self.sleep(min(delay, MAX_RETRY_AFTER_SECONDS))
        return response

    def close(self) -> None:
        self.http.close()


@cache
def _tls_context(ca_file: str | None, ca_dir: str | None) -> ssl.SSLContext:
    """httpx's default TLS context for these CA settings, made once per process: making one reads
    every CA certificate (tens of milliseconds), and the suite runs verify dozens of times."""
    return httpx.create_ssl_context()


def _ca_settings() -> tuple[str | None, str | None]:
    """What httpx's default context depends on (`SSL_CERT_FILE`, `SSL_CERT_DIR`), as the cache key."""
    return os.environ.get("SSL_CERT_FILE"), os.environ.get("SSL_CERT_DIR")


def retry_after(response: httpx.Response) -> float | None:
    """Seconds a 429 asks to wait (`Retry-After` as seconds or an HTTP date); None if it does not say."""
    value = response.headers.get("retry-after")
    if response.status_code != 429 or not value:
        return None
    if value.strip().isdigit():
        return float(value)
    try:
        return max(0.0, parsedate_to_datetime(value).timestamp() - time.time())
    except (TypeError, ValueError):
        return None


def draw(strategy: st.SearchStrategy[Any], seed: int | None) -> Any:
    """One value from `strategy`, the same for the same seed (hypothesis's own generation)."""
    drawn: list[Any] = []

    @settings(
        max_examples=1,
        database=None,
        derandomize=False,  # the run's seed decides, whatever profile is loaded
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(strategy)
    def take(value: Any) -> None:
        drawn.append(value)

    (fixed_seed(seed)(take) if seed is not None else take)()
    return drawn[0]


@cache
def plan(seed: int | None, cases: tuple[str, ...]) -> dict[str, Any]:
    """Every body the lifecycle sends, drawn in one go under the run's seed.

    Per provider case: a create body, an update for its provider and an invalid update; then one
    invalid create body per kind. Cached: the same seed draws the same bodies (callers copy them).
    """

    def case_bodies(case: str) -> st.SearchStrategy[tuple[Any, ...]]:
        return strategies.create_bodies(case).flatmap(
            lambda body: st.tuples(
                st.just(body),
                strategies.update_bodies(body.get("provider")),
                strategies.invalid_update_bodies(),
            )
        )

    parts: dict[str, st.SearchStrategy[Any]] = {case: case_bodies(case) for case in cases}
    parts |= {kind: strategies.invalid_create_bodies(kind) for kind in strategies.INVALID_CREATE_KINDS}
    return draw(st.fixed_dictionaries(parts), seed)


def run_lifecycle(
    run: VerifyRun,
    client: Client,
    api_key: str,
    second_api_key: str | None,
    read_only: bool,
    out: TextIO,
    cases: tuple[str, ...] = tuple(strategies.PROVIDER_CASES),
) -> None:
    """Every ordered scenario once; progress on `out`, one line per scenario."""
    ledger = run.ledger
    _progress(out, "authentication")
    client.send("GET", "/virtual-keys", None)
    if not run.accepts_any_key:
        client.send("GET", "/virtual-keys", ledger.invalid_api_key)
    if read_only:
        _progress(out, "read-only listing")
        client.send("GET", "/virtual-keys", api_key)
        client.send("GET", f"/virtual-keys/{ledger.absent_slug}", api_key)
        return
    bodies = copy.deepcopy(plan(run.result.seed, cases))
    _own_secret_reference(run, client, api_key)
    for case in cases:
        _progress(out, f"lifecycle: {case}")
        create, update, invalid_update = bodies[case]
        provider = create.get("provider")
        create = safe_body(run, "createVirtualKey", create)
        slug = _created_slug(client.send("POST", "/virtual-keys", api_key, create, intent="valid"))
        if slug is None:
            continue
        path = f"/virtual-keys/{slug}"
        client.send("GET", path, api_key)
        client.send("GET", "/virtual-keys", api_key)
        list_every_page(client, api_key)
        update |= {
            "name": "updated",
            "note": "updated by contracts verify",
            "key": "rotated",
        }  # key: a canary
        update = safe_body(run, "updateVirtualKey", update, provider)
        update["name"] = f"{ledger.name_prefix}updated"
        client.send("PUT", path, api_key, update, intent="valid")
        client.send("GET", path, api_key)
        invalid_update = safe_body(run, "updateVirtualKey", invalid_update, provider, keep_rules=False)
        client.send("PUT", path, api_key, invalid_update, intent="invalid")
        client.send("GET", path, api_key)
        if second_api_key is not None:
            _progress(out, "isolation between API keys")
            _isolation(client, path, api_key, second_api_key)
            second_api_key = None  # shown once, on the first key
        client.send("DELETE", path, api_key, intent="valid")
        client.send("GET", path, api_key)
        client.send("PUT", path, api_key, {"note": "after delete"})
        client.send("DELETE", path, api_key)
        client.send("GET", "/virtual-keys", api_key)
    for kind in strategies.INVALID_CREATE_KINDS:
        _progress(out, f"invalid create: {kind}")
        body = safe_body(run, "createVirtualKey", bodies[kind], keep_rules=False)
        client.send("POST", "/virtual-keys", api_key, body, intent="invalid")
    if any(role_of(operation) == "createIntegration" for operation in run.contract.operations.values()):
        _progress(out, "model catalog: integration, grant, provider through both paths")
        _catalog_lifecycle(run, client, api_key, catalog_plan(run.result.seed))
    own = run.ledger.secret_reference  # deleted last: what mapped it is gone (else the clean-up tries)
    if own is not None:
        run.budget.take()  # not judged, but the service receives it
        if client.raw("DELETE", f"/secret-references/{own[0]}", api_key).status_code == 200:
            run.ledger.secret_reference = None


def _own_secret_reference(run: VerifyRun, client: Client, api_key: str) -> None:
    """The run's own secret reference, which every secret mapping it sends names, where the contract
    states that a mapping names one that exists (`x-portkey-state-rule`). Set-up, not under test:
    secret references are outside the operations verify judges. None if the create fails."""
    operations = run.contract.operations.values()
    if not any("body.secret_mappings" in op.state_rules for op in operations):
        return
    body = {**strategies.secret_reference_body(), "slug": run.ledger.own_slug("secret-reference")}
    body = safe_body(run, "createSecretReference", body)
    run.budget.take()  # set-up is not judged, but the service receives it
    try:
        made = client.raw("POST", "/secret-references", api_key, body)
    except httpx.TransportError:
        return
    if made.status_code == 200:
        run.ledger.secret_reference = (body["slug"], api_key)


@cache
def catalog_plan(seed: int | None) -> tuple[Any, Any]:
    """An integration body (OpenAI: it needs no settings a staging service could act on) and a
    provider body, drawn under the run's seed."""
    return draw(st.tuples(strategies.integration_bodies("openai"), strategies.provider_bodies()), seed)


def _catalog_lifecycle(run: VerifyRun, client: Client, api_key: str, plan: tuple[Any, Any]) -> None:
    """integration -> grant -> provider -> retrieve through `/providers` and `/virtual-keys` ->
    update -> delete -> revoke -> delete. Everything is named with the run id; the grant is revoked
    and the integration deleted here, and again by the clean-up if the run stops half-way."""
    ledger = run.ledger
    integration_body, provider_body = copy.deepcopy(plan)
    integration_body["slug"] = ledger.own_slug("integration")
    integration_body["key"] = "replaced by a canary"
    integration_body = safe_body(run, "createIntegration", integration_body)
    created = client.send("POST", "/integrations", api_key, integration_body, intent="valid").json()
    if not isinstance(created, dict) or not isinstance(created.get("slug"), str):
        return
    integration = f"/integrations/{created['slug']}"
    client.send("GET", integration, api_key)
    client.send("GET", "/integrations", api_key)

    def grant_to_every_workspace(enabled: bool) -> None:
        access = {"global_workspace_access": {"enabled": enabled}}
        body = safe_body(run, "updateIntegrationWorkspaces", access)
        client.send("PUT", f"{integration}/workspaces", api_key, body, intent="valid")

    grant_to_every_workspace(True)
    provider_body |= {"integration_id": created["slug"], "slug": ledger.own_slug("provider")}
    provider_body = safe_body(run, "createProvider", provider_body)
    made = client.send("POST", "/providers", api_key, provider_body, intent="valid").json()
    if isinstance(made, dict) and isinstance(made.get("slug"), str):
        provider = f"/providers/{made['slug']}"
        client.send("GET", provider, api_key)
        client.send("GET", f"/virtual-keys/{made['slug']}", api_key)
        client.send("GET", "/providers", api_key)
        update = {"name": f"{ledger.name_prefix}updated", "note": "updated by contracts verify"}
        client.send("PUT", provider, api_key, update, intent="valid")
        client.send("GET", f"/virtual-keys/{made['slug']}", api_key)
        client.send("DELETE", provider, api_key, intent="valid")
        client.send("GET", provider, api_key)
    grant_to_every_workspace(False)  # the grant is revoked before the integration goes
    client.send("DELETE", integration, api_key, intent="valid")
    client.send("GET", integration, api_key)


def list_every_page(client: Client, api_key: str) -> None:
    """Walk the list page by page, then have the whole list judged as one (`listed_with_total`).

    One page alone cannot tell a wrong `total` from a list longer than the page; all pages can. The
    walk stops at an empty page, a page with nothing new, or once `total` keys were seen; each page
    counts against `--max-requests` like any request.
    """
    pages: list[Observation] = []
    slugs: dict[str, None] = {}
    totals: set[Any] = set()
    for page in range(MAX_LIST_PAGES):
        seen = client.send("GET", f"/virtual-keys?current_page={page}&page_size={LIST_PAGE_SIZE}", api_key)
        body = seen.json()
        items = body.get("data") if isinstance(body, dict) else None
        if seen.exchange.status != 200 or not isinstance(items, list):
            return  # the per-request checks report what is wrong with this answer
        pages.append(seen)
        totals.add(body.get("total"))
        new = [slug for slug in listed_slugs(body) if slug not in slugs]
        slugs.update(dict.fromkeys(new))
        known = [t for t in totals if isinstance(t, int)]
        if not items or not new or (known and len(slugs) >= max(known)):
            break
    client.run.observe_whole_list(tuple(pages), api_key)


def _isolation(client: Client, path: str, api_key: str, second_api_key: str) -> None:
    client.send("GET", path, second_api_key)
    client.send("GET", "/virtual-keys", second_api_key)
    client.send("PUT", path, second_api_key, {"note": "written with another API key"})
    client.send("DELETE", path, second_api_key)
    client.send("GET", path, api_key)


def lacking(run: VerifyRun, needed: tuple[str, ...]) -> str | None:
    """Why a scenario cannot run on the run's contract (the first operations it lacks), or None: a
    service whose contract is not the project's own may not have them."""
    missing = [operation for operation in needed if operation not in run.contract.operations]
    return f"the contract lacks {', '.join(missing[:3])}" if missing else None


def leave_out(run: VerifyRun, scenario: str, why: str) -> None:
    """Say once in the report why `scenario` did not run."""
    note = f"{scenario}: left out of the lifecycle ({why})"
    if note not in run.result.notes:
        run.result.notes.append(note)


def created_record(seen: Observation) -> dict[str, Any] | None:
    """A create's answer naming the record it made (its `id`, and `slug` when it has one), or None if
    the create failed (the checks have said so)."""
    answer = seen.json()
    if seen.exchange.status != 200 or not isinstance(answer, dict) or "id" not in answer:
        return None
    return answer


def _created_slug(seen: Observation) -> str | None:
    body = seen.json()
    if seen.exchange.status != 200 or not isinstance(body, dict) or not isinstance(body.get("data"), dict):
        return None
    slug = body["data"].get("slug")
    return slug if isinstance(slug, str) and slug else None


def _progress(out: TextIO, text: str) -> None:
    print(f"  {text}", file=out, flush=True)

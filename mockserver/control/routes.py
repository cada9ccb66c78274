"""The mock's own control plane under `/__mock/`, outside `/v1` so it never collides with the API."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from flask import Blueprint, Response, jsonify, request

from mockserver import jsontext
from mockserver.access import AccessPolicy
from mockserver.contract.secrets import mask_secret
from mockserver.contract.validation import decode_json_object
from mockserver.control import CONTROL_PREFIX, HEALTH_PATH
from mockserver.control import health as health_of
from mockserver.control.seeding import Seeder
from mockserver.errors import NotFound
from mockserver.faults.plan import Faults
from mockserver.resources.engine import DeclaredResource
from mockserver.resources.integrations import detail as integration_detail
from mockserver.resources.log_exports import LogExports
from mockserver.resources.logs import Logs
from mockserver.resources.people import People
from mockserver.resources.virtual_keys import VirtualKeys
from mockserver.responses import each_readable
from mockserver.state.journal_store import Journal
from mockserver.state.records.base import Store
from mockserver.wsgi import body_of

if TYPE_CHECKING:
    from mockserver.state.outage import StoreWatch


def control_blueprint(
    seeder: Seeder,
    reset_all: Callable[[], None],
    max_body_bytes: int | None = None,
    faults: Faults | None = None,
    accepts_any_key: bool = False,
    store: StoreWatch | None = None,
) -> Blueprint:
    """Health, reset, seeding and faults; a body is read as the API reads one, to `max_body_bytes`."""
    blueprint = Blueprint("control", __name__, url_prefix=CONTROL_PREFIX)

    def sent_document() -> dict[str, Any]:
        return decode_json_object(body_of(request.environ, max_body_bytes))

    @blueprint.get(HEALTH_PATH.removeprefix(CONTROL_PREFIX))
    def health() -> Any:  # `MockApp` answers it alone until this app is built: the same answer
        status, body = health_of(store, accepts_any_key)
        return jsonify(body), status

    @blueprint.post("/reset")
    def reset() -> Any:
        reset_all()
        return jsonify({"reset": True})

    @blueprint.post("/seed")
    def seed() -> Any:
        slugs = seeder.seed(sent_document())
        return jsonify({"slugs": slugs})

    if faults is not None:
        _add_fault_routes(blueprint, faults, sent_document)
    return blueprint


def journal_blueprint(journal: Journal) -> Blueprint:
    """`GET /__mock/journal` reads the request journal, `DELETE /__mock/journal` empties it."""
    blueprint = Blueprint("journal", __name__, url_prefix=CONTROL_PREFIX)

    @blueprint.get("/journal")
    def read() -> Any:
        return jsonify({"limit": journal.limit, "dropped": journal.dropped(), "entries": journal.entries()})

    @blueprint.delete("/journal")
    def clear() -> Any:
        journal.clear()
        return jsonify({"cleared": True})

    return blueprint


def _add_fault_routes(
    blueprint: Blueprint, faults: Faults, sent_document: Callable[[], dict[str, Any]]
) -> None:
    @blueprint.get("/faults")
    def fault_plan() -> Any:
        return jsonify(faults.plan())

    @blueprint.put("/faults")
    def set_fault_plan() -> Any:
        return jsonify(faults.set_plan(sent_document()))

    @blueprint.delete("/faults")
    def clear_faults() -> Any:
        faults.clear()
        return jsonify(faults.plan())

    @blueprint.get("/faults/counters")
    def fault_counters() -> Any:
        return jsonify({"matches": faults.counters()})


STORE_VIEW_LIMIT = 200
"""Keys shown per workspace by `GET /__mock/store`, newest first; the total is always given."""


def invites_blueprint(people: People, policy: AccessPolicy, max_body_bytes: int | None = None) -> Blueprint:
    """Accepting an invite, which a person does in a browser: the caller's API key names the
    organisation; the body may give the new user's `first_name` and `last_name`."""
    blueprint = Blueprint("invites", __name__, url_prefix=CONTROL_PREFIX)

    @blueprint.post("/invites/<invite_id>/accept")
    def accept(invite_id: str) -> Any:
        principal = policy.principal_of(request.headers.get(policy.api_key_header))
        raw = body_of(request.environ, max_body_bytes)
        sent = decode_json_object(raw) if raw.strip() else {}
        names = {k: v for k, v in sent.items() if k in ("first_name", "last_name") and isinstance(v, str)}
        return jsonify(people.accept(principal.organisation_id, invite_id, names))

    return blueprint


def log_exports_blueprint(exports: LogExports) -> Blueprint:
    """`GET /__mock/log-exports/<token>`: the file of a logs export that has succeeded, as its signed
    URL names it (readable without an API key or the control token, as a signed URL is), one log
    per line (JSON lines); 404 for a token no export has, or whose export has not succeeded."""
    blueprint = Blueprint("log_exports", __name__, url_prefix=CONTROL_PREFIX)

    @blueprint.get("/log-exports/<token>")
    def read(token: str) -> Any:
        lines = exports.file(token)
        if lines is None:
            raise NotFound(f"Export file not found: {token[:100]}")
        text = "".join(jsontext.dumps(line) + "\n" for line in lines)
        return Response(text, mimetype="application/x-ndjson")

    return blueprint


def store_blueprint(
    keys: VirtualKeys,
    policy: AccessPolicy,
    integrations: Store,
    declared: Iterable[DeclaredResource],
    logs: Logs | None = None,
) -> Blueprint:
    """`GET /__mock/store`: the stored keys (providers are the same records) per workspace, the
    integrations per organisation, and the records of every other declared resource, then the
    inserted logs and feedback, per organisation and workspace (or parent), as the API retrieves
    them (secrets only masked)."""
    blueprint = Blueprint("store", __name__, url_prefix=CONTROL_PREFIX)

    @blueprint.get("/store")
    def read() -> Any:
        holders = policy.api_keys_by_namespace()
        workspaces = []
        for namespace in sorted(keys.store.namespaces()):
            total, records = keys.store.page(namespace, 0, STORE_VIEW_LIMIT)
            organisation_id, _, workspace_id = namespace.partition("/")
            api_keys = holders.get(namespace, []) + holders.get(f"{organisation_id}/*", [])
            workspaces.append(
                {
                    "organisation_id": organisation_id,
                    "workspace_id": workspace_id,
                    "workspace_name": records[0]["workspace_name"] if records else workspace_id,
                    "api_keys": [mask_secret(key) for key in api_keys],
                    "total": total,
                    "virtual_keys": each_readable(records, lambda r: {**r, "status": keys.status(r)}),
                }
            )
        organisations = []
        for organisation_id in sorted(integrations.namespaces()):
            total, records = integrations.page(organisation_id, 0, STORE_VIEW_LIMIT)
            shown = each_readable(records, integration_detail)
            organisations.append({"organisation_id": organisation_id, "total": total, "integrations": shown})
        resources = [
            {"resource": d.declaration.name, "organisation_id": organisation, "under": under}
            | {"total": total, "records": records}
            for d in declared
            for organisation, under, total, records in d.stored(STORE_VIEW_LIMIT)
        ]
        inserted = logs.stored(STORE_VIEW_LIMIT) if logs is not None else []
        resources += [
            {"resource": kind, "organisation_id": organisation, "under": workspace}
            | {"total": total, "records": records}
            for kind, organisation, workspace, total, records in inserted
        ]
        return jsonify(
            {
                "limit_per_workspace": STORE_VIEW_LIMIT,
                "workspaces": workspaces,
                "organisations": organisations,
                "resources": resources,
            }
        )

    return blueprint

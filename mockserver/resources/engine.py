"""The resource engine: serves every resource the contract declares (`x-portkey-resource`).

One `DeclaredResource` per declaration: create, list, retrieve, update, delete and a versions list,
each shaped as its marker says, with no Python of the resource's own. Records of every declared
resource live in one store (`State.resources`), one namespace per resource and workspace (or
organisation, for an operation that may act on none): `<name>/<organisation>/<workspace>`.

Every change is one atomic store call: a create is one insert (with its first version, one write);
an update is a write planned from the record as read and made only if the record is still that
(with its new version), else read and planned again; a delete is one delete.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import Any

from mockserver.access import Workspace, derived_id
from mockserver.contract.date_times import timestamp
from mockserver.contract.declared import Declaration
from mockserver.contract.secrets import mask_secret
from mockserver.errors import ApiError, Forbidden, NotFound, ValidationFailed
from mockserver.journal import mask_body
from mockserver.resources import Call, Handler
from mockserver.resources.virtual_keys import new_id, slug_for
from mockserver.responses import each_readable
from mockserver.state.records.base import Insert, Record, Store, Update
from mockserver.violations import Violation

WRITE_ATTEMPTS = 100
"""How often an update is planned again because another request changed the record first."""
KEPT = ("id", "slug", "organisation_id", "workspace_id", "created_at", "owner_id")
"""Fields no update changes."""
PLACES = ("workspace_id", "organisation_id")
"""Body fields that say where a record lives, not what it holds."""


class DeclaredResource:
    """The operations of one declared resource on the shared records store."""

    def __init__(
        self,
        declaration: Declaration,
        store: Store,
        not_found_status: int = 404,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.declaration = declaration
        self.store = store
        self.not_found_status = not_found_status
        self.clock = clock
        ops = declaration.operations
        by_slug_only = declaration.found_by == ("slug",)
        self.riding = frozenset(
            ops[kind]
            for kind in ("list", "create", "retrieve")
            if kind in ops
            and (kind != "create" or not declaration.versioned)
            and (kind != "retrieve" or by_slug_only)
        )
        """One store call that can carry the plan check and journal entry: a list, an unversioned
        create, a retrieve by slug (finding by id may read twice)."""

    def handlers(self) -> dict[str, Handler]:
        serve = {
            "list": self._list,
            "create": self._create,
            "retrieve": self._retrieve,
            "update": self._update,
            "delete": self._delete,
            "versions": self._versions,
        }
        return {operation: serve[kind] for kind, operation in self.declaration.operations.items()}

    # -- the operations

    def _create(self, call: Call) -> Any:
        d = self.declaration
        workspace = call.workspace
        _same_organisation(call)
        now = timestamp(self.clock())
        where = workspace.workspace_id if workspace else None
        place = {} if d.organisation_level else {"workspace_id": where}
        record: Record = {
            "id": new_id(),
            "slug": "",
            "organisation_id": call.principal.organisation_id,
            **place,
            **self._fields(call.body),
        }
        sent = (record["slug"] or None) if d.slug_sent else None  # else the mock makes it
        if not d.slugged:
            record["slug"] = record["id"]  # the store keeps records by slug: this one's is its id
        for name, value in d.defaults.items():
            record.setdefault(name, value)
        stamps = {"created_at": now, "last_updated_at": now, "owner_id": _user(call)}
        stamps |= {"updated_by": _user(call), "version_id": new_id()}
        record |= {name: stamps[name] for name in d.stamps}
        namespace = self.namespace(call.principal.organisation_id, workspace)
        if sent is not None or not d.slugged:
            if not self._insert(namespace, record):
                raise ValidationFailed([Violation("body.slug", "is taken; choose another")])
        else:
            for _ in range(8):
                record["slug"] = slug_for(
                    record.get("name") or d.name, prefix=d.slug_prefix, length=d.slug_length
                )
                if self._insert(namespace, record):
                    break
            else:
                raise ValidationFailed([Violation("body.name", "could not be made into a free slug; retry")])
        answer = {name: (record | {"object": d.name}).get(name) for name in d.create_answer}
        return {"success": True, "data": answer} if d.create_wrapped else answer

    def _list(self, call: Call) -> Any:
        query = call.request.query
        page, size = query.get("current_page", 0), query.get("page_size", 100)
        namespace = self.namespace(call.principal.organisation_id, call.workspace)
        total, texts = self.store.page_text(namespace, page * size, size)
        data = each_readable(texts, lambda text: self._listed(json.loads(text)))
        return {"object": "list", "total": total, "data": data}

    def _retrieve(self, call: Call) -> Any:
        return self._shown(self.find(call)[0], ())

    def _update(self, call: Call) -> Any:
        d = self.declaration
        changes = {k: v for k, v in self._fields(call.body).items() if k not in KEPT}
        stamps = {"last_updated_at": timestamp(self.clock()), "updated_by": _user(call)}
        for _ in range(WRITE_ATTEMPTS):
            record, text, namespace = self.find(call)
            stamps["version_id"] = new_id()
            planned = changes | {name: stamps[name] for name in d.stamps if name in stamps}
            update = Update(namespace, record["slug"], text, planned)
            after = record | planned
            if self.store.write(update, self._version_of(after)) is None:
                return {name: after.get(name) for name in d.update_answer}
        raise ApiError(
            "The record kept changing under this request; retry", 503, headers={"Retry-After": "1"}
        )

    def _delete(self, call: Call) -> Any:
        record, _, namespace = self.find(call)
        if not self.store.delete(namespace, record["slug"]):
            raise self._not_found(call)
        return {}

    def _versions(self, call: Call) -> Any:
        """Every version of the record, newest first (each create and update made one)."""
        record = self.find(call)[0]
        query = call.request.query
        page, size = query.get("current_page", 0), query.get("page_size", 100)
        total, texts = self.store.page_text(self._versions_of(record), page * size, size)
        name, slug = self.declaration.name, record["slug"]  # a version is kept by its version_id
        data = each_readable(texts, lambda text: {**json.loads(text), "slug": slug, "object": name})
        return {"object": "list", "total": total, "data": data}

    # -- records

    def _fields(self, body: dict[str, Any]) -> Record:
        """The body's fields as kept: renamed as declared, secrets masked (or dropped, if not text),
        at any depth (a secret reference's `auth_config.vault_token`)."""
        d = self.declaration
        kept: Record = {}
        for name, value in body.items():
            if name in PLACES:
                continue
            if name in d.secret_fields:
                if not isinstance(value, str):
                    continue
                value = mask_secret(value)
            elif d.secret_fields and isinstance(value, dict | list):
                value = mask_body(value, d.secret_fields)
            kept[d.stored_as.get(name, name)] = value
        return kept

    def _insert(self, namespace: str, record: Record) -> bool:
        """Store a new record (with its first version, in the same write); False if its slug is taken."""
        if not self.declaration.versioned:
            return self.store.insert(namespace, record)
        inserts = [Insert(self.store, namespace, record), *self._version_of(record)]
        return self.store.write(None, inserts) is None

    def _version_of(self, record: Record) -> list[Insert]:
        if not self.declaration.versioned:
            return []
        version = {**record, "slug": record["version_id"]}
        return [Insert(self.store, self._versions_of(record), version)]

    def _versions_of(self, record: Record) -> str:
        return f"{self.declaration.name}.versions/{record['id']}"

    def find(self, call: Call) -> tuple[Record, bytes, str]:
        """The record the item path names (by slug, else by id as declared), its text and namespace;
        404 if the caller has none so named."""
        ref = call.request.path_params[self.declaration.item_parameter]
        namespace = self.namespace(call.principal.organisation_id, call.workspace)
        found_by = self.declaration.found_by
        keyed = "slug" in found_by or not self.declaration.slugged
        text = self.store.get_text(namespace, ref) if keyed else None
        if text is not None:
            return json.loads(text), text, namespace
        if "id" in found_by and self.declaration.slugged:
            _, texts = self.store.page_text(namespace, 0, 2**31)
            for record, text in each_readable(texts, lambda text: (json.loads(text), text)):
                if record.get("id") == ref:
                    return record, text, namespace
        raise self._not_found(call)

    def _listed(self, record: Record) -> Record:
        return self._shown(record, self.declaration.list_omits)

    def _shown(self, record: Record, omitted: tuple[str, ...]) -> Record:
        """A record as answered: without `omitted` (and without the slug a `slug: false` record is
        kept by), with its `object`."""
        hidden = omitted if self.declaration.slugged else (*omitted, "slug")
        return {**{k: v for k, v in record.items() if k not in hidden}, "object": self.declaration.name}

    def namespace(self, organisation: str, workspace: Workspace | None) -> str:
        """Where the records of `organisation` (in `workspace`, unless organisation-level) are kept."""
        if workspace is None or self.declaration.organisation_level:
            return f"{self.declaration.name}/{organisation}"
        return f"{self.declaration.name}/{workspace.namespace}"

    def _not_found(self, call: Call) -> NotFound:
        ref = call.request.path_params[self.declaration.item_parameter]
        shown = ref if len(ref) <= 100 else ref[:100] + "..."
        return NotFound(f"{self.declaration.name.capitalize()} not found: {shown}", self.not_found_status)


def declared_resources(
    declarations: Iterable[Declaration], store: Store, not_found_status: int = 404
) -> list[DeclaredResource]:
    """A resource for every declaration, all on `store`."""
    return [DeclaredResource(declaration, store, not_found_status) for declaration in declarations]


def _user(call: Call) -> str:
    """The id the mock gives the user behind an API key (who created or last changed a record)."""
    return derived_id("user", call.principal.api_key)


def _same_organisation(call: Call) -> None:
    """A body naming an organisation must name the caller's own."""
    named = call.body.get("organisation_id")
    if named is not None and named != call.principal.organisation_id:
        raise Forbidden("API key is not allowed in the requested organisation")

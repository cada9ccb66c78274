"""The resource engine: serves every resource the contract declares (`x-portkey-resource`).

One `DeclaredResource` per declaration: create, list, retrieve, update, delete and a versions list,
each shaped as its marker says, with no Python of the resource's own. Records of every declared
resource live in one store (`State.resources`), one namespace per resource and workspace (or
organisation, for an operation that may act on none or a resource declared `level: organisation`):
`<name>/<organisation>/<workspace>`; a resource declared with a `parent` keeps its records under the
parent record's id, `<name>/<organisation>/<parent id>`, and a missing parent answers as the
parent's missing record does; one declared `records: keys` lives in the virtual-key store, in
`<organisation>/<workspace>`, and `records: integrations` in the integration store, in
`<organisation>`. A domain module adds what is particular through `creating` (checks and fields of
a new record), `updating` (what an update changes), `deleted` (what depended on a deleted record),
`reaching` and `listing` (which records a call may see and act on), `shown` (answers it shapes
itself), a `Particular` (records made in the same write) and the public `create`, `namespace`,
`find`, `find_for` and `not_found`.

Every change is one atomic store call: a create is one insert (with its first version, one write);
an update is a write planned from the record as read and made only if the record is still that
(with its new version), else read and planned again; a delete is one delete.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime
from typing import Any, Protocol

from mockserver import responses
from mockserver.contract.date_times import timestamp
from mockserver.contract.declared import Declaration
from mockserver.contract.document import both_spellings
from mockserver.contract.secrets import mask_secret
from mockserver.errors import ApiError, Forbidden, NotFound, ValidationFailed
from mockserver.journal import mask_body
from mockserver.resources import Call, Handler
from mockserver.resources.ids import new_id, slug_for
from mockserver.state.records.base import Insert, Record, Store, Update
from mockserver.state.trip import apart
from mockserver.violations import Violation

WRITE_ATTEMPTS = 100
"""How often an update is planned again because another request changed the record first."""
KEPT = ("id", "slug", "organisation_id", "workspace_id", "created_at", "owner_id")
"""Fields no update changes."""
TIMES, USERS = ("created_at", "last_updated_at"), ("owner_id", "updated_by")
"""Stamps of when, and of who (the rest, `version_id`, a new id)."""
PLACES = ("workspace_id", "organisation_id")
"""Body fields that say where a record lives, not what it holds."""


class Particular(Protocol):
    """What a resource's domain module adds to a create the engine makes (API keys: the key value)."""

    def made(self, call: Call, record: Record) -> tuple[list[Insert], Record]:
        """Checks the call, completes `record` (with its slug) in place; the records to insert with
        it, and fields the answer shows instead of the record's (a value shown once)."""
        ...

    def taken(self, index: int) -> ApiError:
        """What a create answers when the `index`th record `made` gave finds its key taken (an
        integration's default provider: a slug taken by a provider in that workspace)."""
        ...


class Shown(Protocol):
    """How a domain module answers its records itself (a virtual key's status follows the clock,
    and its answers are kept ready as bytes), from their stored JSON text."""

    def retrieved(self, text: bytes) -> Any: ...

    def page(self, total: int, texts: list[bytes]) -> Any: ...


class DeclaredResource:
    """The operations of one declared resource on the shared records store."""

    def __init__(
        self,
        declaration: Declaration,
        store: Store,
        not_found_status: int = 404,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        particular: Particular | None = None,
    ) -> None:
        self.declaration = declaration
        self.store = store
        self.not_found_status = not_found_status
        self.clock = clock
        self.particular = particular
        self._secrets = both_spellings(declaration.secret_fields)
        self._hidden = frozenset(declaration.private) | ({"slug"} if declaration.kept_by_id else set())
        self._object = {"object": declaration.name} if declaration.with_object else {}
        self.parent: DeclaredResource | None = None
        """The resource whose records this one's live under (set by `declared_resources`)."""
        self.creating: list[Callable[[Call, Record], None]] = []
        """A domain module's hooks on create: each may refuse the call or add fields to the record."""
        self.updating: list[Callable[[Call, Record, Record], None]] = []
        """A domain module's hooks on update, given the record as read and the changes planned from
        the body, which each may refuse or change in place."""
        self.deleted: list[Callable[[Call, Record], None]] = []
        """A domain module's hooks after a delete, given the record deleted (what depended on it)."""
        self.shown: Shown | None = None
        """A domain module's answers for a retrieve and a list page, if it shapes them itself."""
        self.reaching: list[Callable[[Call, Record], None]] = []
        """A domain module's hooks on every call that reaches a record by its item path, found:
        each may answer it not found (the call may not see it) or forbidden (nor act on it)."""
        self.listing: list[Callable[[Call], Callable[[Record], bool]]] = []
        """A domain module's rules for what a list shows: given the call (which each may refuse),
        which records it keeps."""
        self._by_key_only = declaration.found_by == ("slug",) or not declaration.has_slug

    @property
    def riding(self) -> frozenset[str]:
        """One store call that can carry the plan check and journal entry: a list (unless it reads a
        whole organisation to filter it), an unversioned create with no records of a domain module's
        made with it (its `creating` hooks read apart), a retrieve by the key records are kept by
        (finding by id may read twice) that no hook needs to see first; none for a resource under a
        parent (its parent is read first)."""
        d, ops = self.declaration, self.declaration.operations
        return frozenset(
            ops[kind]
            for kind in ("list", "create", "retrieve")
            if kind in ops
            and d.parent is None
            and (kind != "create" or not (d.versioned or self.particular))
            and (kind != "retrieve" or (self._by_key_only and not self.reaching))
            and (kind != "list" or not (d.per_organisation or self.listing))
        )

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
        return self.create(call)

    def create(self, call: Call, slug: str | None = None) -> Any:
        """Make the record the call's body describes and answer as declared; `slug` fixes its slug
        (seeding), refused as taken like a slug the body names."""
        d = self.declaration
        workspace = call.workspace
        _same_organisation(call)
        now = timestamp(self.clock())
        namespace = self.namespace(call)
        record: Record = {"id": new_id(), "slug": "", "organisation_id": call.principal.organisation_id}
        if not d.organisation_level:
            record["workspace_id"] = workspace.workspace_id if workspace else None
        record |= self._fields(call.body)
        for name, value in d.defaults.items():
            record.setdefault(name, value)
        for name in d.stamps:  # made only when named: a virtual key's create stamps its time alone
            record[name] = now if name in TIMES else acting_user(call) if name in USERS else new_id()
        with apart():
            for hook in self.creating:
                hook(call, record)
        if slug is not None:
            record["slug"] = slug
        elif not d.slug_sent:
            record["slug"] = ""
        chosen = bool(record["slug"])  # a slug the client chose is taken or not; the mock makes no other
        for _ in range(1 if chosen or d.kept_by_id else 8):  # a slug made from the name may be taken
            if not chosen:
                record["slug"] = record["id"] if d.kept_by_id else self._slug(record)
            extra, shown = self.particular.made(call, record) if self.particular else ([], {})
            taken = self._insert(namespace, record, extra)
            if taken is None:
                break
            if taken >= 0 and self.particular:
                raise self.particular.taken(taken)
            if chosen:
                where, rule = "body.slug", f"is already taken in this {self._scope(call)}"
                if d.slug_taken_status != 400:
                    raise ApiError.for_status(f"{where}: {rule}", d.slug_taken_status)
                raise ValidationFailed([Violation(where, rule)])
        else:
            raise ValidationFailed([Violation("body.name", "could not be made into a free slug; retry")])
        made = shown | self._object
        answer = {name: made[name] if name in made else record.get(name) for name in d.create_answer}
        return {"success": True, "data": answer} if d.create_wrapped else answer

    def _list(self, call: Call) -> Any:
        page, size = self._page(call)
        namespace, query = self.namespace(call), call.request.query
        wanted = {name: query[name] for name in self.declaration.filters if name in query}
        kept = [rule(call) for rule in self.listing]
        if self.declaration.search and query.get("search"):
            kept.append(_holding(self.declaration.search, query["search"]))
        if not wanted and not kept and not self._filtered(call):
            total, texts = self.store.page_text(namespace, page * size, size)
        else:  # a filtered list reads the namespace, then pages what matches
            every = responses.each_readable(
                self.store.page_text(namespace, 0, 2**31)[1], lambda text: (json.loads(text), text)
            )
            matching = [
                text
                for r, text in every
                if self._visible(call, r)
                and all(r.get(k) == v for k, v in wanted.items())
                and all(keeps(r) for keeps in kept)
            ]
            total, texts = len(matching), matching[page * size : (page + 1) * size]
        if self.shown is not None:
            return self.shown.page(total, texts)
        return self._page_of(
            responses.each_readable(texts, lambda text: self._listed(json.loads(text))), total
        )

    def _retrieve(self, call: Call) -> Any:
        if self.shown is None:
            return {**self._shown(self.find_for(call)[0]), **self._object}
        direct = self._keyed(call)
        if direct is not None:  # one read, no decoding (a virtual key's answer is ready as bytes)
            text = self.store.get_text(*direct)
            if text is None:
                raise self.not_found(direct[1])
            return self.shown.retrieved(text)
        return self.shown.retrieved(self.find_for(call)[1])

    def _update(self, call: Call) -> Any:
        d = self.declaration
        changes = {k: v for k, v in self._fields(call.body).items() if k not in KEPT}
        stamps = {"last_updated_at": timestamp(self.clock()), "updated_by": acting_user(call)}
        for _ in range(WRITE_ATTEMPTS):
            record, text, namespace = self.find_for(call)
            stamps["version_id"] = new_id()
            planned = dict(changes)
            for hook in self.updating:
                hook(call, record, planned)
            planned |= {name: stamps[name] for name in d.stamps if name in stamps}
            update = Update(namespace, record["slug"], text, planned)
            after = record | planned
            if self.store.write(update, self._version_of(after)) is None:
                return {name: after.get(name) for name in d.update_answer}
        raise ApiError(
            "The record kept changing under this request; retry", 503, headers={"Retry-After": "1"}
        )

    def _delete(self, call: Call) -> Any:
        direct = self._keyed(call) if not self.deleted else None
        if direct is not None:  # one store call: nothing needs the record
            if not self.store.delete(*direct):
                raise self.not_found(direct[1])
            return dict(self.declaration.delete_answer or {})
        record, _, namespace = self.find_for(call)
        if not self.store.delete(namespace, record["slug"]):
            raise self.not_found(call.request.path_params[self.declaration.item_parameter])
        for hook in self.deleted:
            hook(call, record)
        return dict(self.declaration.delete_answer or {})

    def _versions(self, call: Call) -> Any:
        """Every version of the record, newest first (each create and update made one)."""
        record = self.find_for(call)[0]
        page, size = self._page(call)
        total, texts = self.store.page_text(self._versions_of(record), page * size, size)
        name, slug = self.declaration.name, record["slug"]  # a version is kept by its version_id
        data = responses.each_readable(texts, lambda text: {**json.loads(text), "slug": slug, "object": name})
        return self._page_of(data, total)

    # -- records

    def _fields(self, body: dict[str, Any]) -> Record:
        """The body's fields as kept: renamed as declared, secrets masked (or dropped, if not text),
        at any depth (a secret reference's `auth_config.vault_token`)."""
        d = self.declaration
        kept: Record = {}
        for name, value in body.items():
            if name in PLACES:
                continue
            if name in self._secrets:
                if not isinstance(value, str):
                    continue
                value = mask_secret(value)
            elif self._secrets and isinstance(value, dict | list):
                value = mask_body(value, self._secrets)
            kept[d.stored_as.get(name, name)] = value
        return kept

    def _slug(self, record: Record) -> str:
        d = self.declaration
        return slug_for(record.get("name") or d.name, prefix=d.slug_prefix, length=d.slug_length)

    def _insert(self, namespace: str, record: Record, extra: list[Insert]) -> int | None:
        """Store a new record (with its first version and the domain module's records, in the same
        write); None if stored, -1 if its slug is taken, else the index in `extra` of the record
        whose key is."""
        if not self.declaration.versioned and not extra:
            return None if self.store.insert(namespace, record) else -1
        versions = self._version_of(record)
        conflict = self.store.write(None, [Insert(self.store, namespace, record), *versions, *extra])
        if conflict is None:
            return None
        index = -1 if conflict.taken is None else conflict.taken - 1 - len(versions)
        return index if index >= 0 else -1

    def _version_of(self, record: Record) -> list[Insert]:
        if not self.declaration.versioned:
            return []
        version = {**record, "slug": record["version_id"]}
        return [Insert(self.store, self._versions_of(record), version)]

    def _versions_of(self, record: Record) -> str:
        return f"{self.declaration.name}.versions/{record['id']}"

    def _keyed(self, call: Call) -> tuple[str, str] | None:
        """The namespace and the key the call's item path names, when that is the key records are
        kept by and the call may see every record of the namespace: then no read is needed to find
        the record. None otherwise."""
        if not self._by_key_only or self._filtered(call) or self.reaching:
            return None
        return self.namespace(call), call.request.path_params[self.declaration.item_parameter]

    def find_for(self, call: Call) -> tuple[Record, bytes, str]:
        """The record the call's item path names (by slug, else by id as declared), its text and
        namespace; not found unless the call may see it."""
        namespace = self.namespace(call)
        ref = call.request.path_params[self.declaration.item_parameter]
        record, text = self.find(namespace, ref)
        if not self._visible(call, record):
            raise self.not_found(ref)
        for hook in self.reaching:
            hook(call, record)
        return record, text, namespace

    def find(self, namespace: str, ref: str) -> tuple[Record, bytes]:
        """The record of `namespace` that `ref` names (its key, else its id as declared), and its text;
        the resource's not-found error otherwise."""
        d = self.declaration
        text = self.store.get_text(namespace, ref) if "slug" in d.found_by or not d.has_slug else None
        if text is not None:
            return json.loads(text), text
        if "id" in d.found_by and d.has_slug:
            _, texts = self.store.page_text(namespace, 0, 2**31)
            for record, text in responses.each_readable(texts, lambda text: (json.loads(text), text)):
                if record.get("id") == ref:
                    return record, text
        raise self.not_found(ref)

    def stored(self, limit: int) -> list[tuple[str, str | None, int, list[Record]]]:
        """Each organisation's records of this resource, per workspace or parent it keeps them
        under (None: the organisation's own), with the total and up to `limit` records as a
        retrieve shows them: for the control plane's store view. Nothing for records kept in
        another store (`records: keys`, `records: integrations`), which it shows as such."""
        if self.declaration.records:
            return []
        found = []
        prefix = f"{self.declaration.name}/"
        for namespace in sorted(n for n in self.store.namespaces() if n.startswith(prefix)):
            organisation, _, under = namespace.removeprefix(prefix).partition("/")
            total, texts = self.store.page_text(namespace, 0, limit)
            records = responses.each_readable(
                texts, lambda text: {**self._shown(json.loads(text)), **self._object}
            )
            found.append((organisation, under or None, total, records))
        return found

    def namespace(self, call: Call) -> str:
        """Where the records the call reaches live: under the parent its path names (which must exist),
        else in its organisation or workspace."""
        d = self.declaration
        organisation = call.principal.organisation_id
        if d.organisation_level and not d.workspace_keys and not call.principal.may_choose_workspace:
            raise Forbidden("A workspace API key acts only in its workspace; this needs an organisation key")
        if self.parent is not None and d.parent is not None:
            ref = call.request.path_params[d.parent[0]]
            parent = self.parent.find(self.parent.namespace(call), ref)[0]
            return self.namespace_in(organisation, parent["id"])
        workspace = None if d.organisation_level or d.per_organisation else call.workspace
        return self.namespace_in(organisation, workspace.workspace_id if workspace else None)

    def namespace_in(self, organisation: str, under: str | None = None) -> str:
        """The namespace of an organisation's records, or of those under one workspace or parent id;
        in another store (`records: keys`, `records: integrations`), without the resource's name."""
        kind = "" if self.declaration.records else f"{self.declaration.name}/"
        return f"{kind}{organisation}" + (f"/{under}" if under else "")

    def not_found(self, ref: str) -> NotFound:
        """What a missing record answers: the marker's `missing` status, else the mock's (404)."""
        shown = ref if len(ref) <= 100 else ref[:100] + "..."
        status = self.declaration.missing_status or self.not_found_status
        words = self.declaration.name.replace("_", " ").replace("-", " ").capitalize()  # "Api key"
        return NotFound(f"{words} not found: {shown}", status)

    def _scope(self, call: Call) -> str:
        """What a slug is unique in: the workspace or the organisation its records live in."""
        d = self.declaration
        in_workspace = call.workspace and not (d.organisation_level or d.per_organisation or d.parent)
        return "workspace" if in_workspace else "organisation"

    def _page(self, call: Call) -> tuple[int, int]:
        page, size = self.declaration.paging  # validation fills in the contract's defaults
        return call.request.query.get(page, 0), call.request.query.get(size, 100)

    def _filtered(self, call: Call) -> bool:
        """Whether the call sees only some records of its namespace: one workspace's, of an
        organisation's records (`kept-per: organisation`)."""
        return self.declaration.per_organisation and call.workspace is not None

    def _visible(self, call: Call, record: Record) -> bool:
        if not self._filtered(call):
            return True
        assert call.workspace is not None
        return record.get("workspace_id") == call.workspace.workspace_id

    def _shown(self, record: Record) -> Record:
        """A record as answers show it: without its private fields, nor a slug if kept under its id."""
        hidden = self._hidden
        return {k: v for k, v in record.items() if k not in hidden} if hidden else record

    def _listed(self, record: Record) -> Record:
        omitted = self.declaration.list_omits
        kept = {k: v for k, v in self._shown(record).items() if k not in omitted}
        return {**kept, **self._object}

    def _page_of(self, data: list[Any], total: int) -> Record:
        """A list's answer: Portkey's page, or the keys the marker names (`list-answer`)."""
        if self.declaration.list_answer is None:
            return responses.page(total, data)
        named_data, named_total = self.declaration.list_answer
        return {named_data: data, named_total: total}


def declared_resources(
    declarations: Iterable[Declaration],
    store_of: Callable[[str | None], Store],
    not_found_status: int = 404,
    particulars: Mapping[str, Particular] | None = None,
    clock: Callable[[], datetime] | None = None,
) -> list[DeclaredResource]:
    """A resource for every declaration, on the store its marker's `records` names
    (`State.store_of`), each linked to its parent; `particulars` by resource name; `clock` the time
    they stamp records with and compute states from (the system's when not given)."""
    particulars = particulars or {}
    resources = [
        DeclaredResource(d, store_of(d.records), not_found_status, particular=particulars.get(d.name))
        for d in declarations
    ]
    if clock is not None:
        for resource in resources:
            resource.clock = clock
    by_name = {resource.declaration.name: resource for resource in resources}
    for resource in resources:
        if resource.declaration.parent:
            resource.parent = by_name[resource.declaration.parent[1]]
    return resources


def acting_user(call: Call) -> str:
    """The id the mock gives the user behind an API key (who created or last changed a record)."""
    return call.principal.user_id


def _holding(field: str, text: str) -> Callable[[Record], bool]:
    """Whether a record's `field` holds `text`, whatever the case (a list's `search`)."""
    folded = text.casefold()
    return lambda record: folded in str(record.get(field) or "").casefold()


def _same_organisation(call: Call) -> None:
    """A body naming an organisation must name the caller's own."""
    named = call.body.get("organisation_id")
    if named is not None and named != call.principal.organisation_id:
        raise Forbidden("API key is not allowed in the requested organisation")

"""What one verify run has done to the service: the keys it owns, their expected state, its secrets.

Every exchange the run makes is observed here, in the order it was answered. The ordered checks
compare a response with what the ledger expects; cleanup deletes every key still alive.
"""

from __future__ import annotations

import json
import random
import re
import threading
from dataclasses import dataclass, field
from typing import Any

from contracts.redaction import redact
from mockserver.contract.declared import Declaration
from mockserver.contract.document import Contract, Operation
from mockserver.contract.exchange import Exchange
from mockserver.contract.secrets import mask_secret

ROLES = {
    ("get", "/virtual-keys"): "listVirtualKeys",
    ("post", "/virtual-keys"): "createVirtualKey",
    ("get", "/virtual-keys/{slug}"): "retrieveVirtualKey",
    ("put", "/virtual-keys/{slug}"): "updateVirtualKey",
    ("delete", "/virtual-keys/{slug}"): "deleteVirtualKey",
}
"""What each virtual-keys operation does, by method and path: the names the run's checks speak of,
whatever a contract calls the operation (Portkey's published spec gives none)."""
CATALOG_ROLES = {
    ("get", "/providers"): "listProviders",
    ("post", "/providers"): "createProvider",
    ("get", "/providers/{slug}"): "retrieveProvider",
    ("put", "/providers/{slug}"): "updateProvider",
    ("delete", "/providers/{slug}"): "deleteProvider",
    ("get", "/integrations"): "listIntegrations",
    ("post", "/integrations"): "createIntegration",
    ("get", "/integrations/{slug}"): "retrieveIntegration",
    ("put", "/integrations/{slug}"): "updateIntegration",
    ("delete", "/integrations/{slug}"): "deleteIntegration",
    ("get", "/integrations/{slug}/models"): "listIntegrationModels",
    ("put", "/integrations/{slug}/models"): "updateIntegrationModels",
    ("delete", "/integrations/{slug}/models"): "deleteIntegrationModels",
    ("get", "/integrations/{slug}/workspaces"): "listIntegrationWorkspaces",
    ("put", "/integrations/{slug}/workspaces"): "updateIntegrationWorkspaces",
}
"""The Model Catalog's operations, tested when a contract has them (Portkey's published spec does)."""
INTEGRATION_ROLES = frozenset(
    role for (_, path), role in CATALOG_ROLES.items() if path.startswith("/integrations")
)


def role_of(operation: Operation) -> str | None:
    """`createVirtualKey` for the operation that creates a key, in any contract; None for others."""
    shape = (operation.method, re.sub(r"\{[^}/]+\}", "{slug}", operation.template))
    return ROLES.get(shape) or CATALOG_ROLES.get(shape)


def lifecycle_resources(contract: Contract) -> list[Declaration]:
    """The declared resources verify follows by their markers: not those whose operations have a
    role (virtual keys, providers, integrations), which it follows by hand (`lifecycle.py`, the
    model catalog's) as in any contract."""
    return [
        resource
        for resource in contract.resources
        if not any(role_of(contract.operations[op]) for op in resource.operations.values())
    ]


@dataclass(frozen=True)
class Observation:
    """An exchange and what the run meant by it."""

    exchange: Exchange
    operation: str | None
    """The contract's operationId, or None for a path outside the contract."""
    slug: str | None = None
    intent: str | None = None
    """`valid` or `invalid` when the run knows whether the request keeps to the contract;
    `permitted`: valid, though the API key may not have the right to it (403 is then no defect)."""
    phase: str = "lifecycle"
    api_key: str | None = None
    """The API key the request carried, if any."""
    pages: tuple[Observation, ...] = ()
    """Set on the list read page by page (`lifecycle.list_every_page`): each page as observed. Only
    the checks registered with `whole_list` judge such an observation, as one list."""

    def json(self) -> Any:
        try:
            return json.loads(self.exchange.response_body or b"")
        except ValueError:
            return None


@dataclass
class OwnKey:
    """A key this run created, and the state the service should now report for it."""

    slug: str
    api_key: str | None
    provider: Any
    name: Any
    note: Any
    masked_api_key: str | None
    deleted: bool = False
    from_integration: bool = False
    """Created through `/providers`: its masked secret is its integration's, not one the run sent."""
    last_write: str = "create"
    """`create`, `update` or `failed update`: what the next retrieve should reflect."""


KEY_CREATES = frozenset({"createVirtualKey", "createProvider"})
"""Operations that create a virtual-key record (a provider is one, reached by the same slug)."""
KEY_UPDATES = frozenset({"updateVirtualKey", "updateProvider"})
KEY_DELETES = frozenset({"deleteVirtualKey", "deleteProvider"})
KEY_RETRIEVES = frozenset({"retrieveVirtualKey", "retrieveProvider"})
KEY_LISTS = frozenset({"listVirtualKeys", "listProviders"})


@dataclass
class OwnIntegration:
    """An integration this run created; deleting it also drops every grant the run gave it."""

    slug: str
    api_key: str | None
    deleted: bool = False


@dataclass
class OwnRecord:
    """A record of a declared resource (`x-portkey-resource`) this run created, and what it should hold."""

    resource: Declaration
    refs: dict[str, str]
    """What its item path finds it by (`{"id": ..., "slug": ...}`), as far as the answers told."""
    api_key: str | None
    name: Any
    deleted: bool = False
    last_write: str = "create"
    """`create`, `update` or `failed update`: what the next retrieve should reflect."""

    @property
    def ref(self) -> str:
        """The value the run names it by in paths: the first field its item path finds it by."""
        return next(self.refs[f] for f in self.resource.found_by if f in self.refs)


@dataclass
class Ledger:
    """`seed`, the run's, decides the run id and the canaries too, so one seed repeats the requests
    byte for byte; without one both are random."""

    contract: Contract
    seed: int | None = None
    run_id: str = ""
    keys: dict[str, OwnKey] = field(default_factory=dict)
    integrations: dict[str, OwnIntegration] = field(default_factory=dict)
    secret_reference: tuple[str, str | None] | None = None
    """The secret reference the run created (its slug, the API key that made it) and every secret
    mapping the run sends names, until the run deletes it; None: the run sends no mappings."""
    records: dict[str, OwnRecord] = field(default_factory=dict)
    """Declared resources' records the run created, under each value their item path finds them by."""
    canaries: set[str] = field(default_factory=set)
    _lock: threading.RLock = field(default_factory=threading.RLock)
    _random: random.Random = field(init=False)

    def __post_init__(self) -> None:
        self._random = random.Random(self.seed) if self.seed is not None else random.SystemRandom()
        self.run_id = self.run_id or f"{self._random.getrandbits(24):06x}"
        self.declared: dict[str, tuple[Declaration, str]] = {
            operation_id: (resource, kind)
            for resource in lifecycle_resources(self.contract)
            for kind, operation_id in resource.operations.items()
        }
        """operationId -> (the declared resource, the kind of operation: `create`, `retrieve`, ...)."""

    def own_slug(self, what: str) -> str:
        """A slug for something the run creates, named with the run id (`^[a-zA-Z0-9_-]+$`)."""
        return f"contracts-verify-{self.run_id}-{what}-{self._random.getrandbits(24):06x}"

    @property
    def name_prefix(self) -> str:
        """Every key the run creates is named with this, so a person can tell it apart on staging."""
        return f"contracts-verify-{self.run_id}-"

    @property
    def invalid_api_key(self) -> str:
        """An API key the service cannot know: requests with it must answer 401."""
        return f"contracts-verify-{self.run_id}-not-a-key"

    @property
    def absent_slug(self) -> str:
        """A slug no key has: where writes aimed at keys the run does not own are sent instead."""
        return f"contracts-verify-{self.run_id}-absent"

    @property
    def canary_start(self) -> str:
        """How every canary of the run begins."""
        return f"cvk{self.run_id}"

    def canary(self) -> str:
        """A fresh secret that can only come back if the service echoes what it was sent."""
        value = f"{self.canary_start}{self._random.getrandbits(96):024x}"
        with self._lock:
            self.canaries.add(value)
        return value

    def owns(self, slug: Any) -> bool:
        """Whether the run created a key, provider or integration with this slug."""
        with self._lock:
            return isinstance(slug, str) and (
                slug in self.keys or slug in self.integrations or slug in self.records
            )

    def own_record(self, ref: Any) -> OwnRecord | None:
        with self._lock:
            return self.records.get(ref) if isinstance(ref, str) else None

    def alive_records(self) -> list[OwnRecord]:
        with self._lock:
            return list({id(r): r for r in self.records.values() if not r.deleted}.values())

    def alive_integrations(self) -> list[OwnIntegration]:
        with self._lock:
            return [own for own in self.integrations.values() if not own.deleted]

    @staticmethod
    def is_integration_operation(role: str | None) -> bool:
        """Whether the operation acts on an integration (its slug names an integration, not a key)."""
        return role in INTEGRATION_ROLES

    def own_key(self, slug: Any) -> OwnKey | None:
        with self._lock:
            return self.keys.get(slug) if isinstance(slug, str) else None

    def alive(self) -> list[OwnKey]:
        with self._lock:
            return [key for key in self.keys.values() if not key.deleted]

    def redact(self, text: str) -> str:
        """`text` with every secret the run sent replaced, so reports never carry one.

        A text without the canaries' common start carries none and is returned at once: every answer
        is searched, and replacing each of thousands of canaries in turn cost a fifth of a run's CPU.
        """
        if self.canary_start not in text:
            return text
        with self._lock:
            return redact(text, self.canaries)

    def observe(self, seen: Observation) -> None:
        """Update what the service should now hold after `seen` was answered."""
        exchange, status = seen.exchange, seen.exchange.status
        body = _json_object(exchange.request.body)
        with self._lock:
            if seen.operation in self.declared:
                self._observe_record(seen, body)
                return
            if seen.operation == "createIntegration" and 200 <= status < 300:
                slug = _created_slug(seen.json())
                if slug:
                    self.integrations[slug] = OwnIntegration(slug, seen.api_key)
                return
            if self.is_integration_operation(seen.operation):
                own = self.integrations.get(seen.slug or "")
                if own and seen.operation == "deleteIntegration" and 200 <= status < 300:
                    own.deleted = True
                return
            if seen.operation in KEY_CREATES and 200 <= status < 300:
                slug = _created_slug(seen.json())
                if slug:
                    self.keys[slug] = OwnKey(
                        slug=slug,
                        api_key=seen.api_key,
                        provider=body.get("provider"),
                        name=body.get("name"),
                        note=body.get("note"),
                        masked_api_key=_masked(body.get("key")),
                        from_integration=seen.operation == "createProvider",
                    )
                return
            key = self.keys.get(seen.slug or "")
            if key is None or key.deleted or seen.api_key != key.api_key:
                return
            if seen.operation in KEY_UPDATES:
                if 200 <= status < 300:
                    key.last_write = "update"
                    key.name = body.get("name", key.name)
                    key.note = body.get("note", key.note)
                    if "key" in body:
                        key.masked_api_key = _masked(body["key"])
                elif 400 <= status < 500 and status != 404:
                    key.last_write = "failed update"
            elif seen.operation in KEY_DELETES and 200 <= status < 300:
                key.deleted = True

    def _observe_record(self, seen: Observation, body: dict[str, Any]) -> None:
        """What a declared resource's create, update or delete did to the records the run owns."""
        resource, kind = self.declared[seen.operation or ""]
        status = seen.exchange.status
        if kind == "create" and 200 <= status < 300:
            answer = seen.json()
            if resource.create_wrapped and isinstance(answer, dict):
                answer = answer.get("data")
            refs = {
                f: answer[f]
                for f in resource.found_by
                if isinstance(answer, dict) and isinstance(answer.get(f), str)
            }
            if refs:
                created = OwnRecord(resource, refs, seen.api_key, body.get("name"))
                self.records.update(dict.fromkeys(refs.values(), created))
            return
        own = self.records.get(seen.slug or "")
        if own is None or own.deleted or seen.api_key != own.api_key:
            return
        if kind == "retrieve" and status == 200:
            answer = seen.json()  # learn the fields the create answer did not give (a slug, an id)
            for f in resource.found_by:
                value = answer.get(f) if isinstance(answer, dict) else None
                if isinstance(value, str) and f not in own.refs:
                    own.refs[f] = value
                    self.records[value] = own
        elif kind == "update" and 200 <= status < 300:
            own.last_write, own.name = "update", body.get("name", own.name)
        elif kind == "update" and 400 <= status < 500 and status != 404:
            own.last_write = "failed update"
        elif kind == "delete" and 200 <= status < 300:
            own.deleted = True

    def classify(self, method: str, path: str) -> tuple[str | None, str | None]:
        """The role (`createVirtualKey`, see `ROLES`) and slug of a request to a contract path
        (already under the contract base); for a declared resource's operation, its operationId and
        the value its item path holds; for any other, its operationId (so its answer is judged)."""
        operation = self.contract.operation_for(method, path)
        if operation is None:
            return None, None
        params = operation.path_params(path) or {}
        if operation.operation_id in self.declared:
            resource, _ = self.declared[operation.operation_id]
            return operation.operation_id, params.get(resource.item_parameter)
        return role_of(operation) or operation.operation_id, params.get("slug")


def listed_slugs(body: Any) -> list[str]:
    """The slugs of a list page's items, in order (none if the body is not a list page)."""
    items = body.get("data") if isinstance(body, dict) else None
    if not isinstance(items, list):
        return []
    return [item["slug"] for item in items if isinstance(item, dict) and isinstance(item.get("slug"), str)]


def _masked(secret: Any) -> str | None:
    return mask_secret(secret) if isinstance(secret, str) and secret else None


def _created_slug(body: Any) -> str | None:
    if not isinstance(body, dict):
        return None
    data = body.get("data")
    slug = data.get("slug") if isinstance(data, dict) else None
    slug = slug or body.get("slug")
    return slug if isinstance(slug, str) and re.fullmatch(r"[^/?#\s]+", slug) else None


def _json_object(raw: bytes) -> dict[str, Any]:
    try:
        value = json.loads(raw) if raw else {}
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}

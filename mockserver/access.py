"""Who is calling and where their keys live: API keys, workspaces and scopes.

By default any non-empty API key is accepted and is its own organisation, whose default workspace
holds its keys, so two API keys never see each other's keys. A keys file replaces that with fixed
API keys, each bound to a workspace (workspace key) or free to name one (organisation admin key),
with the scopes it holds. Either way, a key issued through the API (`POST /api-keys/...`) works
with the scopes and workspace it was given until it is rotated away or deleted (`issued`).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from mockserver.contract.validation import ValidRequest, header
from mockserver.errors import Forbidden, Unauthorised, ValidationFailed
from mockserver.violations import Violation

SCOPES = frozenset(
    f"{resource}.{action}"
    for resource in ("virtual_keys", "providers", "organisation_integrations", "workspace_integrations")
    for action in ("create", "read", "update", "delete", "list")
)
"""The scopes of the resources written by hand; providers and virtual keys are separate scopes on the same
records. The app adds every scope the contract names (`Contract.scopes`), a declared resource's too."""
MAX_API_KEY_LENGTH = 1024
ISSUED_PREFIX = "pkmock-"
"""How every API key value the mock issues (`POST /api-keys/...`) begins: with no keys file only
such a value is looked up among the issued keys, so any other key costs no store call."""
_IDS = uuid.UUID("6f0c8a52-58a5-4c9e-9a53-3c2f1f3a7b10")  # namespace of the mock's derived ids


@dataclass(frozen=True)
class Workspace:
    """A workspace of an organisation: the namespace virtual keys are stored in."""

    organisation_id: str
    workspace_id: str
    workspace_name: str

    @property
    def namespace(self) -> str:
        return f"{self.organisation_id}/{self.workspace_id}"


@dataclass(frozen=True)
class Principal:
    """An authenticated API key: its organisation, its own workspace if bound to one, its scopes."""

    organisation_id: str
    workspace: Workspace | None
    scopes: frozenset[str]
    may_choose_workspace: bool
    api_key: str = ""

    @property
    def user_id(self) -> str:
        """The id the mock gives the user behind the key: who made or changed a record, who wrote
        an audit log entry."""
        return derived_id("user", self.api_key)


ANONYMOUS = Principal("", None, frozenset(), may_choose_workspace=False)
"""The caller of a public operation (no API key asked for): no organisation, workspace or scope."""


@lru_cache(maxsize=4096)  # two per request otherwise: about a tenth of a retrieve's cost
def derived_id(kind: str, text: str) -> str:
    """A stable UUID for `text` that does not reveal it (UUID5 is a one-way hash)."""
    return str(uuid.uuid5(_IDS, f"{kind}:{text}"))


class AccessPolicy:
    """Answers who an API key is (401), what it may do (403) and which workspace a call is for."""

    def __init__(
        self,
        api_key_header: str,
        principals: dict[str, Principal] | None = None,
        scopes: frozenset[str] = SCOPES,
    ) -> None:
        self.api_key_header = api_key_header
        self._principals = principals
        self.scopes = scopes
        """Every scope there is (the contract's): what any key holds when no keys file is given."""
        self.issued: Callable[[str], Principal | None] | None = None
        """The keys issued through the API (`resources/api_keys.py`): the caller a value names, or
        None once it was rotated away or deleted, or never issued."""

    @classmethod
    def from_file(cls, api_key_header: str, path: Path, scopes: frozenset[str] = SCOPES) -> AccessPolicy:
        """Read a keys file (YAML or JSON): `{"api_keys": [{"key", "workspace_id"?, ...}]}`."""
        text = path.read_text(encoding="utf-8")
        if path.suffix == ".json":
            document = json.loads(text)
        else:
            import yaml  # 20 ms to import: only for a YAML keys file

            document = yaml.safe_load(text)
        return cls(api_key_header, dict(_principals_from(document.get("api_keys", []), scopes)), scopes)

    def authenticate(self, headers: Mapping[str, str]) -> Principal:
        """The caller named by the request's API-key header (401 when it names nobody)."""
        return self.principal_of(header(headers, self.api_key_header))

    def principal_of(self, api_key: str | None) -> Principal:
        if not api_key or not api_key.strip():
            raise Unauthorised()
        self._check_header_form(api_key)
        principals = self._principals
        fixed = principals.get(api_key) if principals is not None else None
        if fixed is not None:
            return fixed
        if self.issued is not None and (principals is not None or api_key.startswith(ISSUED_PREFIX)):
            issued = self.issued(api_key)
            if issued is None:
                raise Unauthorised()
            return issued
        if principals is None:
            organisation = derived_id("organisation", api_key)
            workspace = Workspace(organisation, derived_id("workspace", api_key), "Default")
            return Principal(organisation, workspace, self.scopes, may_choose_workspace=True, api_key=api_key)
        raise Unauthorised()

    def api_keys_by_namespace(self) -> dict[str, list[str]]:
        """Keys-file API keys per workspace namespace they act in by default; {} without a file.

        An organisation admin key (no workspace of its own) is listed under `<organisation>/*`.
        The keys are secrets: a caller masks them before showing them anywhere.
        """
        holders: dict[str, list[str]] = {}
        for api_key, principal in (self._principals or {}).items():
            own = principal.workspace
            namespace = own.namespace if own else f"{principal.organisation_id}/*"
            holders.setdefault(namespace, []).append(api_key)
        return holders

    @staticmethod
    def require(principal: Principal, scopes: str | tuple[str, ...] | None) -> None:
        """403 unless the caller holds one of `scopes` (an operation without any needs none)."""
        wanted = (scopes,) if isinstance(scopes, str) else scopes or ()
        if wanted and principal.scopes.isdisjoint(wanted):
            raise Forbidden(f"API key lacks the scope {' or '.join(wanted)}")

    def workspace_of(self, principal: Principal, request: ValidRequest) -> Workspace | None:
        """The workspace a validated request acts on: `workspace_id` from its body, else its query.

        None only for an operation that may act on no workspace (`x-portkey-workspace: optional`)
        called, naming none, by a key that may choose its workspace (an organisation key).
        """
        body = request.body or {}
        requested = body.get("workspace_id") or request.query.get("workspace_id")
        optional = not request.operation.workspace_required
        if requested is None and optional and principal.may_choose_workspace:
            return None
        return self.workspace_for(principal, requested, "body" if "workspace_id" in body else "query")

    def _check_header_form(self, api_key: str) -> None:
        """Reject values no API key can have: the server joins repeated headers with a comma."""
        where = f"header.{self.api_key_header}"
        if "," in api_key:
            raise ValidationFailed([Violation(where, "is sent more than once; send one API key")])
        if len(api_key) > MAX_API_KEY_LENGTH:
            raise ValidationFailed([Violation(where, f"is longer than {MAX_API_KEY_LENGTH} characters")])

    @staticmethod
    def workspace_for(principal: Principal, requested: str | None, where: str) -> Workspace:
        """The workspace a call acts on: the key's own, or the one it names if it may choose."""
        own = principal.workspace
        if requested is None or (own is not None and requested == own.workspace_id):
            if own is None:
                rule = "is required for organisation admin API keys"
                raise ValidationFailed([Violation(f"{where}.workspace_id", rule)])
            return own
        if not principal.may_choose_workspace:
            raise Forbidden("API key is not allowed in the requested workspace")
        return Workspace(principal.organisation_id, requested, requested)


def _principals_from(
    entries: Iterable[dict[str, Any]], known: frozenset[str]
) -> Iterable[tuple[str, Principal]]:
    for entry in entries:
        organisation = str(entry.get("organisation_id") or derived_id("organisation", "keys-file"))
        scopes = frozenset(entry.get("scopes", known))
        unknown = scopes - known
        if unknown:
            raise ValueError(f"keys file: unknown scopes {sorted(unknown)}")
        workspace_id = entry.get("workspace_id")
        workspace = None
        if workspace_id:
            workspace = Workspace(
                organisation, str(workspace_id), str(entry.get("workspace_name", workspace_id))
            )
        yield (
            str(entry["key"]),
            Principal(
                organisation,
                workspace,
                scopes,
                may_choose_workspace=workspace is None,
                api_key=str(entry["key"]),
            ),
        )

"""Virtual keys: what is particular to them on the resource engine (`x-portkey-resource` on
`/virtual-keys`, `records: keys`).

The engine creates, lists, retrieves, updates and deletes them, secrets masked before anything is
stored. This module adds what only a key record has: provider settings gathered into `model_config`,
the fields every key record holds (a provider's or an integration's default provider too), what an
update may change, a status that follows `expires_at`, and answers kept ready as bytes.
"""

from __future__ import annotations

from typing import Any

from mockserver import responses
from mockserver.access import Workspace
from mockserver.contract import date_times
from mockserver.contract.date_times import timestamp
from mockserver.contract.secrets import HEADER_VALUE_FIELDS, masked_header_values
from mockserver.resources import Call
from mockserver.resources.engine import DeclaredResource
from mockserver.resources.ids import new_id
from mockserver.state.records.base import Record

VIRTUAL_KEY = "virtual-key"
"""The declared resource's name (`x-portkey-resource` on `/virtual-keys`)."""

TOP_LEVEL_FIELDS = frozenset(
    {
        "name",
        "provider",
        "key",
        "note",
        "workspace_id",
        "usage_limits",
        "rate_limits",
        "expires_at",
        "secret_mappings",
    }
)
"""Create fields kept on the key itself; every other create field is provider config (`model_config`)."""

UPDATABLE_FIELDS = ("name", "note", "usage_limits", "rate_limits", "expires_at", "secret_mappings")


def kept_rate_limits(value: Any) -> list[Any]:
    """`rate_limits` as a key or provider keeps and answers them: an array. One rate-limit object
    sent (the contract's `SentRateLimits` takes it with a warning) is kept as a one-item array, and
    none as an empty one: the rule for every operation that writes these records."""
    if value is None:
        return []
    return [value] if isinstance(value, dict) else list(value)


UNSET_FIELDS = ("note", "masked_api_key", "usage_limits", "expires_at", "last_reset_at", "integration_id")
"""What every key record holds, null when nothing set it (the answers read each); besides these,
`model_config` (an object), `rate_limits` and `secret_mappings` (arrays)."""


def key_record(record: Record, workspace: Workspace) -> Record:
    """`record` completed in place as a key record of `workspace`: every field a key holds, unset
    ones null or empty, `rate_limits` as an array. The rule for all that makes a key: a virtual
    key's create, a provider's, an integration's default provider."""
    record["workspace_name"] = workspace.workspace_name
    for name in UNSET_FIELDS:
        record.setdefault(name, None)
    record["model_config"] = record.get("model_config") or {}
    record["secret_mappings"] = record.get("secret_mappings") or []
    record["rate_limits"] = kept_rate_limits(record.get("rate_limits"))
    return record


def only_changing(changes: Record, updatable: tuple[str, ...]) -> None:
    """An update's planned `changes` cut in place to the `updatable` fields, `rate_limits` kept as
    an array: the rule for a virtual key's update and a provider's."""
    for name in [name for name in changes if name not in updatable]:
        del changes[name]
    if "rate_limits" in changes:
        changes["rate_limits"] = kept_rate_limits(changes["rate_limits"])


class VirtualKeys:
    """What the engine's `virtual-key` resource cannot know: how a key record is made, changed,
    dated and answered."""

    def __init__(self, engine: DeclaredResource) -> None:
        self.engine = engine
        self.store = engine.store
        self.clock = engine.clock
        self.not_found_status = engine.not_found_status
        self.ready = responses.ReadyAnswers(self.status)
        """Retrieve answers and list items as bytes, made once per stored version of a key."""
        engine.creating.append(self._made)
        engine.updating.append(self._changed)
        engine.shown = self.ready

    def new_record(self, workspace: Workspace, **fields: Any) -> Record:
        """A key record in `workspace` (no slug yet) with `fields` (a default provider's)."""
        record: Record = {
            "id": new_id(),
            "organisation_id": workspace.organisation_id,
            "workspace_id": workspace.workspace_id,
            "created_at": timestamp(self.clock()),
        }
        return key_record(record | fields, workspace)

    def status(self, record: Record) -> str:
        """`expired` once `expires_at` has passed, else `active` (the mock meters no usage); a
        `ValueError` if `expires_at` cannot be read (the lists leave such a record out)."""
        expires = record.get("expires_at")
        if not expires:
            return "active"
        moment = date_times.parse(expires)  # any RFC 3339 form: records kept before normalising
        if moment is None:
            raise ValueError("expires_at is not a date-time")
        return "expired" if moment <= self.clock() else "active"

    def _made(self, call: Call, record: Record) -> None:
        """Every create field but the key's own into `model_config` (secrets already masked, a
        secret document dropped, custom headers' values masked); an empty `key` kept as none."""
        settings = [name for name in call.body if name not in TOP_LEVEL_FIELDS and name in record]
        config = {name: record.pop(name) for name in settings}
        for name in HEADER_VALUE_FIELDS & config.keys():
            config[name] = masked_header_values(config[name])
        record["model_config"] = config
        if not call.body.get("key"):
            record["masked_api_key"] = None
        key_record(record, call.in_workspace)

    def _changed(self, call: Call, record: Record, changes: Record) -> None:
        """An update changes the key's own fields, its secret, and its deployments in `model_config`."""
        kept_as = self.engine.declaration.stored_as.values()  # its secret, as `masked_api_key`
        only_changing(changes, (*UPDATABLE_FIELDS, *kept_as))
        if "key" in call.body and not call.body["key"]:
            changes["masked_api_key"] = None
        if "deploymentConfig" in call.body:
            deployments = call.body["deploymentConfig"]
            changes["model_config"] = {**record["model_config"], "deploymentConfig": deployments}

"""How a resource is declared: its domain module hands the HTTP layer one handler per operationId.

Routing, validation, scopes, secret masking and the journal come from the contract for every
operation; a handler only gets a validated call and returns the JSON body to answer with. Adding a
Portkey resource is a contract section plus one domain module whose `handlers()` serves its
operations.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

from mockserver.access import Principal, Workspace
from mockserver.contract.document import Contract
from mockserver.contract.validation import ValidRequest


@dataclass(frozen=True)
class Call:
    """One validated API call: the request, who made it, and the workspace it acts on."""

    request: ValidRequest
    principal: Principal
    workspace: Workspace | None
    """None only for an operation declared `x-portkey-workspace: optional`, called naming none."""
    origin: str = ""
    """The scheme and host the call came to (`http://127.0.0.1:8080`), for answers naming the mock's
    own URLs (a logs export's signed URL); empty when not made by an HTTP request (seeding)."""

    @property
    def in_workspace(self) -> Workspace:
        """The workspace of an operation that always has one (the contract's default)."""
        assert self.workspace is not None, "the operation is declared to act in a workspace"
        return self.workspace

    @property
    def body(self) -> dict[str, Any]:
        return self.request.body or {}

    @property
    def slug(self) -> str:
        return self.request.path_params["slug"]


Handler = Callable[[Call], Any]
Around = Callable[[Call, Handler], Any]
"""A rule spanning resources, run around another resource's handler for an operation: it may
refuse the call, hand on a changed call, or hand it on as it came (`handler(call)`)."""


class Resource(Protocol):
    """A domain module's entry point: the operations it serves."""

    @property
    def riding(self) -> frozenset[str]:
        """Its operations whose store call is one script that can carry the request's plan check and
        journal entry to Redis (mockserver/state/trip.py); others read the plan and journal on their own."""
        ...

    def handlers(self) -> Mapping[str, Handler]: ...


@runtime_checkable
class Guarding(Protocol):
    """A resource with rules on other resources' operations (a secret mapping must name a secret
    reference that exists): `handler_table` runs each `around` its handler."""

    def around(self) -> Mapping[str, Around]: ...


def riding_operations(resources: Iterable[Resource]) -> frozenset[str]:
    """Every operation some resource says can ride its store call's trip to Redis."""
    return frozenset(operation for resource in resources for operation in resource.riding)


def handler_table(contract: Contract, resources: Iterable[Resource]) -> dict[str, Handler]:
    """operationId -> handler for every operation of `contract`; refuses a gap or two claims.

    A handler for an operation the contract does not declare is left out: a smaller contract
    serves fewer resources.
    """
    table: dict[str, Handler] = {}
    for resource in resources:
        for operation_id, handler in resource.handlers().items():
            if operation_id in table:
                raise ValueError(f"two resources serve {operation_id}")
            if operation_id in contract.operations:
                table[operation_id] = handler
    missing = set(contract.operations) - set(table)
    if missing:
        raise ValueError(f"the contract has operations the mock cannot serve: {sorted(missing)}")
    for resource in resources:
        if isinstance(resource, Guarding):
            for operation_id, around in resource.around().items():
                if operation_id in table:
                    table[operation_id] = _guarded(around, table[operation_id])
    return table


def _guarded(around: Around, handler: Handler) -> Handler:
    return lambda call: around(call, handler)

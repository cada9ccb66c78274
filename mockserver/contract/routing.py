"""A request's method and path to the contract's operation: one matcher, one precedence rule.

The mock, the validating proxy, `contracts check-traffic` and `contracts verify` all route here
(`Contract.operation_for` is this table), so one path never means two operations to two tools.
Where templates overlap (`/prompts/partials` beside `/prompts/{promptId}`), segment by segment a
fixed segment comes before a parameter, as werkzeug and most routers order them; templates that
still tie keep the document's order. A path a more fixed template fits is that template's for every
method: `PUT /admin/users/invites` is not an update of a user named `invites` but a method the
invites collection does not serve (405, its `Allow` naming GET and POST).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from typing import Generic, Protocol, TypeVar


class Routable(Protocol):
    """What routing needs of an operation: its method and its path template as requested."""

    @property
    def method(self) -> str: ...

    @property
    def path(self) -> str: ...


R = TypeVar("R", bound=Routable)


class RouteTable(Generic[R]):
    """Operations ordered by precedence, per method; built once per contract."""

    def __init__(self, operations: Iterable[R]) -> None:
        # sorted() is stable: operations that tie keep the order they came in, the document's
        ordered = sorted(operations, key=lambda operation: precedence(operation.path))
        self._ordered = [(operation, compiled(operation.path)) for operation in ordered]
        templates = {operation.path: template for operation, template in self._ordered}
        ranks = {path: precedence(path) for path in templates}
        self._by_method: dict[str, list[tuple[R, Template, tuple[Template, ...]]]] = {}
        for operation, template in self._ordered:
            rank = ranks[operation.path]
            shadows = tuple(
                other
                for path, other in templates.items()
                if ranks[path] < rank and overlap(path, operation.path)
            )
            self._by_method.setdefault(operation.method.upper(), []).append((operation, template, shadows))

    def match(self, method: str, path: str) -> tuple[R, dict[str, str]] | None:
        """The operation serving `method` on the concrete `path`, with its path parameters; None if
        none does, or the path is a more fixed template's (which does not serve `method`)."""
        for operation, template, shadows in self._by_method.get(method.upper(), ()):
            found = template.pattern.fullmatch(path)
            if found is not None:
                if any(shadow.pattern.fullmatch(path) for shadow in shadows):
                    return None
                return operation, dict(zip(template.names, found.groups(), strict=True))
        return None

    def at(self, path: str) -> list[R]:
        """Every operation whose template matches `path`, whatever its method, first in precedence."""
        return [operation for operation, template in self._ordered if template.pattern.fullmatch(path)]

    def allowed(self, path: str) -> list[str]:
        """The methods served at `path` (HEAD wherever GET is), for a 405's `Allow`: those of the most
        fixed templates it fits, as `match` routes it."""
        fitting = self.at(path)
        first = precedence(fitting[0].path) if fitting else None
        methods = sorted({op.method.upper() for op in fitting if precedence(op.path) == first})
        return [*methods, "HEAD"] if "GET" in methods else methods


def precedence(template: str) -> tuple[int, ...]:
    """Sorts before any template it overlaps that has a parameter where it has a fixed segment."""
    return tuple(1 if "{" in segment else 0 for segment in template.split("/"))


def overlap(one: str, other: str) -> bool:
    """Whether one concrete path fits both: as many segments, each pair equal or one a parameter."""
    a, b = one.split("/"), other.split("/")
    return len(a) == len(b) and all(x == y or "{" in x or "{" in y for x, y in zip(a, b, strict=True))


def path_params(template: str, path: str) -> dict[str, str] | None:
    """The parameters of a concrete `path` under `template` (`{"slug": ...}`), or None if it does not fit."""
    parsed = compiled(template)
    found = parsed.pattern.fullmatch(path)
    return dict(zip(parsed.names, found.groups(), strict=True)) if found else None


@dataclass(frozen=True)
class Template:
    """A path template as a pattern with one group per parameter, in order, and the parameters' names.

    Groups are numbered, not named after the parameters: a name need not be a Python identifier
    (Portkey's `/api-keys/{type}/{sub-type}`), and one template may even repeat a name.
    """

    pattern: re.Pattern[str]
    names: tuple[str, ...]


@lru_cache(maxsize=256)
def compiled(template: str) -> Template:
    """`/v1/virtual-keys/{slug}` -> a pattern fitting concrete paths, and its parameter `slug`."""
    names = tuple(re.findall(r"\{([^}]+)\}", template))
    return Template(re.compile(re.sub(r"\\\{[^}]+\\\}", "([^/]+)", re.escape(template))), names)

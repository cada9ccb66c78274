"""One recorded answer against one live answer, field by field, after normalisation.

Normalised away: the values the service made (a recorded `<slug-1>`, or the slug the recording's
service gave, is paired with this run's on first sight and must then hold everywhere: see
`mockserver.snapshots.ids.Learned`), timestamps (compared as timestamps), secrets and masks (taken
out of the live answer as the snapshot's were), the run's mark on what it created, and the order of
lists the contract marks `x-portkey-unordered`. Everything else must be equal.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from mockserver.contract.document import Contract
from mockserver.snapshots.ids import Learned, leaves, made_kind, substitute
from mockserver.violations import location

UNORDERED = "x-portkey-unordered"
"""On an array schema of the contract: the service does not promise an order, parity ignores it."""
ABSENT = object()


@dataclass(frozen=True)
class Difference:
    """One field that differs: where (`body.data[0].slug`), how, and both values as shown."""

    where: str
    what: str
    expected: Any = None
    got: Any = None

    def __str__(self) -> str:
        if self.what == "differs":
            return f"{self.where}: expected {_shown(self.expected)}, got {_shown(self.got)}"
        if self.what == "missing":
            return f"{self.where}: missing (expected {_shown(self.expected)})"
        if self.what == "unexpected":
            return f"{self.where}: not in the recording (got {_shown(self.got)})"
        return f"{self.where}: {self.what}"

    def as_dict(self) -> dict[str, Any]:
        return {"where": self.where, "what": self.what, "expected": self.expected, "got": self.got}


@dataclass(frozen=True)
class Compared:
    """The fields one answer was compared on and the differences found."""

    fields: int
    differences: tuple[Difference, ...]


def unordered_fields(contract: Contract) -> frozenset[str]:
    """Names of the properties whose array schema is marked `x-portkey-unordered`."""
    found: set[str] = set()

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            for name, inner in (node.get("properties") or {}).items():
                if isinstance(inner, dict) and contract.resolve(inner).get(UNORDERED):
                    found.add(name)
            for inner in node.values():
                walk(inner)
        elif isinstance(node, list):
            for inner in node:
                walk(inner)

    walk(contract.document)
    return frozenset(found)


class Comparer:
    """Compares answers of one run in order, learning the made values as it goes."""

    def __init__(self, learned: Learned, unordered: Iterable[str] = ()) -> None:
        self.learned = learned
        self.unordered = frozenset(unordered)

    def compare(self, recorded_status: int, recorded: Any, status: int, live: Any) -> Compared:
        differences: list[Difference] = []
        if recorded_status != status:
            differences.append(Difference("status", "differs", recorded_status, status))
        self._walk(recorded, live, ["body"], None, differences)
        fields = 1 + max(_count(recorded), _count(live))
        return Compared(fields, tuple(differences))

    def _walk(self, recorded: Any, live: Any, path: list[Any], key: Any, out: list[Difference]) -> None:
        where = location(path[0], path[1:])
        if isinstance(recorded, dict) and isinstance(live, dict):
            for name, inner in recorded.items():
                if name in live:
                    self._walk(inner, live[name], [*path, name], name, out)
                else:
                    out.append(Difference(location(path[0], [*path[1:], name]), "missing", expected=inner))
            for name in live.keys() - recorded.keys():
                out.append(Difference(location(path[0], [*path[1:], name]), "unexpected", got=live[name]))
        elif isinstance(recorded, list) and isinstance(live, list):
            self._list(recorded, live, path, key, out)
        elif not self._same_leaf(recorded, live, key):
            out.append(Difference(where, "differs", recorded, live))

    def _list(
        self, recorded: list[Any], live: list[Any], path: list[Any], key: Any, out: list[Difference]
    ) -> None:
        where = location(path[0], path[1:])
        if len(recorded) == len(live) and recorded and self._reordered(recorded, live):
            if key in self.unordered:
                return
            out.append(Difference(where, "order differs"))
            return
        for index, (inner, other) in enumerate(zip(recorded, live, strict=False)):
            self._walk(inner, other, [*path, index], key, out)
        if len(recorded) != len(live):
            out.append(Difference(f"{where}.length", "differs", len(recorded), len(live)))

    def _reordered(self, recorded: list[Any], live: list[Any]) -> bool:
        """The same items in another order (made values as far as learnt, timestamps as one)."""
        known = self.learned.known
        mine = [_canonical(item, lambda made: known.get(made, "<made>")) for item in recorded]
        paired = set(known.values())
        theirs = [_canonical(item, lambda made: made if made in paired else "<made>") for item in live]
        return mine != theirs and sorted(mine) == sorted(theirs)

    def _same_leaf(self, recorded: Any, live: Any, key: Any) -> bool:
        kind = made_kind(key, recorded)
        if isinstance(recorded, str) and kind is None:
            return substitute(recorded, self.learned.known) == live  # a message naming a slug
        if kind is None or not isinstance(live, str):
            return bool(recorded == live and type(recorded) is type(live))
        if kind == "time":
            return made_kind(key, live) == "time"
        known = self.learned.known
        if recorded in known:
            return known[recorded] == live
        if live in known.values():  # this run's value already stands for another recorded one
            return False
        known[recorded] = live
        return True


def _canonical(value: Any, made: Callable[[str], str]) -> str:
    """An item as text for comparing orders: timestamps as one, made values through `made`."""

    def norm(inner: Any, key: Any) -> Any:
        if isinstance(inner, dict):
            return {name: norm(item, name) for name, item in inner.items()}
        if isinstance(inner, list):
            return [norm(item, key) for item in inner]
        kind = made_kind(key, inner)
        if kind == "time":
            return "<time>"
        return made(inner) if kind else inner

    return json.dumps(norm(value, None), sort_keys=True)


def _count(value: Any) -> int:
    return sum(1 for _ in leaves(value))


def _shown(value: Any) -> str:
    if value is ABSENT:
        return "nothing"
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= 120 else text[:120] + " …"

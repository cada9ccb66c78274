"""The snapshot file: provenance, then every exchange in order; read and written here only.

JSON, two-space indented, keys in a fixed order, one trailing newline: a snapshot is meant to be
committed and reviewed as a diff.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

FORMAT = 1
"""The snapshot format this code writes and reads."""


class SnapshotUnusable(ValueError):
    """A file that is not a snapshot this code can read."""


@dataclass(frozen=True)
class Snapshot:
    provenance: dict[str, Any]
    exchanges: list[dict[str, Any]]

    @property
    def stable(self) -> bool:
        return bool(self.provenance.get("stable"))


def provenance(contract_path: Path, upstream: str, *, stable: bool) -> dict[str, Any]:
    """Where a recording came from: the contract's hash, the upstream's host, the day, the tool."""
    parts = urlsplit(upstream)
    return {
        "contract_sha256": hashlib.sha256(contract_path.read_bytes()).hexdigest(),
        "upstream": f"{parts.scheme}://{parts.netloc}" if parts.netloc else upstream,
        "date": datetime.now(UTC).date().isoformat(),
        "tool": f"portkey-vk-mock {_version()}",
        "stable": stable,
    }


def write_snapshot(path: Path, snapshot: Snapshot) -> None:
    """Write the whole file at once (a reader never sees half of it)."""
    numbered = [{"index": index, **exchange} for index, exchange in enumerate(snapshot.exchanges, 1)]
    document = {"snapshot": FORMAT, "provenance": snapshot.provenance, "exchanges": numbered}
    text = json.dumps(document, indent=2, ensure_ascii=False) + "\n"
    directory = path.resolve().parent
    with tempfile.NamedTemporaryFile("w", encoding="utf-8", dir=directory, delete=False) as handle:
        handle.write(text)
    os.replace(handle.name, path)


def read_snapshot(path: Path) -> Snapshot:
    try:
        document = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise SnapshotUnusable(f"cannot read the snapshot {path}: {error}") from None
    if not isinstance(document, dict) or document.get("snapshot") != FORMAT:
        raise SnapshotUnusable(f"{path} is not a snapshot of format {FORMAT}")
    exchanges = document.get("exchanges")
    if not isinstance(exchanges, list) or not all(isinstance(e, dict) and "request" in e for e in exchanges):
        raise SnapshotUnusable(f"{path} has no list of exchanges")
    return Snapshot(dict(document.get("provenance") or {}), exchanges)


def describe(exchange: dict[str, Any]) -> str:
    """`#3 DELETE /v1/virtual-keys/<slug-1> (deleteVirtualKey) -> 200`."""
    request = exchange["request"]
    operation = exchange.get("operation") or "no operation"
    status = exchange["response"]["status"]
    return f"#{exchange.get('index', '?')} {request['method']} {request['path']} ({operation}) -> {status}"


def _version() -> str:
    try:
        return metadata.version("portkey-vk-mock")
    except metadata.PackageNotFoundError:
        return "unknown"

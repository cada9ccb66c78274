"""A contract file parsed once per version: its YAML's result kept on disk, keyed by the file's hash.

libyaml parses the project's contract in about 70 ms, a quarter of a mock's start; reading the same
document back from `marshal` takes 2 ms. The key is the SHA-256 of the file's bytes with the Python
version and the installed PyYAML, so an edited file, another interpreter or another parser never
reads an old entry. `marshal` keeps the document's types and shared nodes (YAML anchors) exactly;
a document it cannot hold (a YAML timestamp) is parsed every time. The cache is best effort: a
folder that cannot be written, or an entry that cannot be read, only costs the parse.

Where: `MOCK_CACHE_DIR`, else `$XDG_CACHE_HOME/portkey-mock`, else `~/.cache/portkey-mock`;
`MOCK_CACHE_DIR` set empty turns the cache off.
"""

from __future__ import annotations

import hashlib
import importlib.util
import io
import marshal
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

CACHE_VARIABLE = "MOCK_CACHE_DIR"
KEPT = 16
"""Entries kept in the folder; the oldest go when a new one is written (each edit makes one)."""


def read_document(path: Path) -> Any:
    """The YAML (or JSON) document in the file at `path`, as `yaml.CSafeLoader` reads it.

    Raises OSError, UnicodeDecodeError, or `Unparsable` naming YAML's error.
    """
    data = path.read_bytes()
    folder = cache_folder()
    entry = folder / f"contract-{_key(data)}.marshal" if folder else None
    if entry is not None:
        try:
            return marshal.loads(entry.read_bytes())
        except (OSError, EOFError, ValueError, TypeError):
            pass  # no entry yet, or a broken one: parse and write it again
    document = _parse(data)
    if entry is not None:
        _keep(entry, document)
    return document


class Unparsable(ValueError):
    """The file is not YAML; `what` names PyYAML's error (`ScannerError`)."""

    def __init__(self, what: str) -> None:
        super().__init__(what)
        self.what = what


def cache_folder() -> Path | None:
    """Where parsed contracts are kept, or None when `MOCK_CACHE_DIR` is set empty."""
    chosen = os.environ.get(CACHE_VARIABLE)
    if chosen is not None:
        return Path(chosen) if chosen else None
    base = os.environ.get("XDG_CACHE_HOME")
    if not base:
        try:
            base = str(Path.home() / ".cache")
        except RuntimeError:  # no home directory to be found: no cache
            return None
    return Path(base) / "portkey-mock"


def _parse(data: bytes) -> Any:
    import yaml  # 20 ms to import: only when the document is not in the cache

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml's parser: ten times faster
    with io.TextIOWrapper(io.BytesIO(data), encoding="utf-8") as text:  # as open() reads a file
        try:
            return yaml.load(text, Loader=loader)
        except yaml.YAMLError as exc:
            raise Unparsable(type(exc).__name__) from None


def _key(data: bytes) -> str:
    """The file's hash, with what else decides the parse: Python, marshal's format, the installed
    PyYAML (found, not imported: importing it is what the cache saves)."""
    spec = importlib.util.find_spec("yaml")
    origin = spec.origin if spec and spec.origin else ""
    try:
        installed = os.stat(origin).st_mtime_ns if origin else 0
    except OSError:
        installed = 0
    digest = hashlib.sha256(data)
    digest.update(f"\0{sys.version}\0{marshal.version}\0{origin}\0{installed}".encode())
    return digest.hexdigest()


def _keep(entry: Path, document: Any) -> None:
    """Write `entry` whole or not at all (several workers may start at once); drop the oldest."""
    try:
        data = marshal.dumps(document)
    except ValueError:
        return  # a type marshal cannot hold (a YAML timestamp): this document is parsed each time
    written = None
    try:
        entry.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=entry.parent, prefix=".writing-", delete=False) as handle:
            written = Path(handle.name)
            handle.write(data)
        os.replace(written, entry)
        entries = sorted(entry.parent.glob("contract-*.marshal"), key=lambda p: p.stat().st_mtime_ns)
        for old in entries[:-KEPT]:
            old.unlink(missing_ok=True)
    except OSError:  # a folder that cannot be written: parse each time
        if written is not None:
            written.unlink(missing_ok=True)

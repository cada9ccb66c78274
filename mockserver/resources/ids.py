"""The slugs and ids the mock makes for new records, the same way for every resource."""

from __future__ import annotations

import os
import random
import re

_SLUG_BASE_LENGTH = 15


def slug_for(
    name: str, suffix: str | None = None, *, prefix: str = "", length: int = _SLUG_BASE_LENGTH
) -> str:
    """Portkey's slug: `prefix`, the name lower-cased, non-alphanumeric runs as `-`, `length`
    characters (15 for a virtual key), a hex tag."""
    base = re.sub(r"[^a-z0-9]+", "-", name.lower())[:length].rstrip("-") or "vk"
    return f"{prefix}{base}-{suffix or f'{_random.getrandbits(24):06x}'}"


def new_id() -> str:
    """A random UUID (version 4) for a new record."""
    return uuid4_text(_random.getrandbits(128))


_VERSION_4 = ~(0xF000 << 64) & ~(0xC000 << 48)
"""The bits a version-4 UUID sets itself: its version nibble and its variant's two bits."""


def uuid4_text(bits: int) -> str:
    """`str(uuid.UUID(int=bits, version=4))`, written out: building a `uuid.UUID` cost about as much
    as the rest of an audit-log entry's capture on a create's path (5 of 11 us, two per create)."""
    digits = f"{bits & _VERSION_4 | 4 << 76 | 0x8000 << 48:032x}"
    return f"{digits[:8]}-{digits[8:12]}-{digits[12:16]}-{digits[16:20]}-{digits[20:]}"


_random = random.Random()
"""Where slugs and ids come from. Not `os.urandom`: it lets go of the GIL for its system call, and
with eight serving threads waiting to get it back that cost a create a quarter of its throughput
(docs/performance.md); an id must be unique, not unguessable. Not the shared `random` either: a
test that seeds it (hypothesis does) would make the mock repeat slugs. Seeded from the OS here and
again in every forked worker."""
os.register_at_fork(after_in_child=_random.seed)

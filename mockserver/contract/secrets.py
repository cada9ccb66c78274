"""What counts as a credential besides the contract's `writeOnly` fields, and how a secret is shown.

Two rules, each written once and used everywhere a value is kept or shown (the journal, the store,
retrieve and list answers, the dashboard, reports):

- a header is a credential when its name says so (`CREDENTIAL_HEADER`): any spelling of key, token,
  auth, secret, passw(or)d, credential, session or cookie, so `X-Apikey`, `X-Api-Keys`,
  `Authentication`, `X-Session-Id` are masked, not only the spellings someone thought to list;
- the values of the custom headers a key sends upstream (`HEADER_VALUE_FIELDS`) are credentials
  (they carry `Authorization` and the like), whatever the header is called.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from typing import Any

MASK = "*****"

CREDENTIAL_HEADER = re.compile(r"(?<!port)key|token|auth|secret|passw|pwd|credential|session|cookie")
"""Searched in a lower-cased header name. `portkey` alone is the vendor's name, not a key
(`x-portkey-workspace`); `x-portkey-api-key` still matches on its last word. The dashboard's
script uses this same pattern (JavaScript reads it alike)."""

HEADER_VALUE_FIELDS = frozenset({"customHeaders", "custom_headers"})
"""Fields holding headers sent to the provider (a key's `customHeaders`, an integration's or a
model's `configurations.custom_headers`): names kept, every value masked like a secret."""


def mask_secret(secret: str) -> str:
    """`AIzaSy...0Pw` -> `AI*****0Pw`; a secret under 10 characters is masked whole."""
    return f"{secret[:2]}{MASK}{secret[-3:]}" if len(secret) >= 10 else MASK


@functools.lru_cache(maxsize=512)
def is_credential_header(name: str) -> bool:
    """Whether a header carries a credential, judged by its name (`CREDENTIAL_HEADER`)."""
    return CREDENTIAL_HEADER.search(name.lower()) is not None


def masked_header_values(headers: Any) -> Any:
    """Custom headers as kept and shown: each string value masked; anything else as it came."""
    if not isinstance(headers, Mapping):
        return headers
    return {name: mask_secret(value) if isinstance(value, str) else value for name, value in headers.items()}

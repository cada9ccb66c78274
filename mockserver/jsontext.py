"""JSON as the mock writes it, in answers and in its stores: compact, ASCII-only (so any string a
client can send, lone surrogates included, encodes), keys in the order given. It is what Flask's
`jsonify` writes, so answers read the same as when Flask wrote them."""

from __future__ import annotations

import json

compact = json.JSONEncoder(separators=(",", ":")).encode

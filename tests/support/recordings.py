"""Recording the Python SDK's lifecycle through the proxy, with a second mock as the upstream."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from pathlib import Path

from portkey_ai import Portkey
from portkey_ai.api_resources.exceptions import NotFoundError

from mockserver import MockServer
from mockserver.serving.proxy import create_proxy_app

API_KEY = "pk-recording-0000000001"
SECRET = "sk-recording-0000000000abcd"


def sdk_lifecycle(base_url: str) -> None:
    """Two keys made, listed, retrieved, one updated, the other deleted and looked for again."""
    portkey = Portkey(api_key=API_KEY, base_url=base_url)
    kept = portkey.virtual_keys.create(name="openai kept", provider="openai", key=SECRET).data["slug"]
    gone = portkey.virtual_keys.create(name="anthropic", provider="anthropic", key=SECRET).data["slug"]
    portkey.virtual_keys.list()
    portkey.virtual_keys.retrieve(slug=kept)
    portkey.virtual_keys.update(slug=kept, note="rotated on Monday")
    portkey.virtual_keys.retrieve(slug=kept)
    portkey.virtual_keys.delete(slug=gone)
    with contextlib.suppress(NotFoundError):  # the recording keeps the 404
        portkey.virtual_keys.retrieve(slug=gone)
    portkey.virtual_keys.list()


def record(
    upstream: MockServer, path: Path, *, stable: bool = False, script: Callable[[str], None] = sdk_lifecycle
) -> Path:
    """Run `script` through a recording proxy in front of `upstream`; the snapshot's path."""
    proxy = MockServer(create_proxy_app(upstream.base_url, record=path, stable=stable)).start()
    try:
        script(proxy.base_url)
    finally:
        proxy.stop()
    return path

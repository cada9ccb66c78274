"""The mock's configuration: one typed object, built by the CLI or the pytest fixture."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class MockConfig:
    """Everything that changes how the mock behaves. Defaults give the plain in-memory mock."""

    contract_path: Path | None = None
    """The contract to serve; `None` means the project's own `openapi.yaml`."""
    seed_path: Path | None = None
    """A YAML or JSON file of virtual keys to preload (see docs/mock.md)."""
    keys_path: Path | None = None
    """A YAML or JSON file mapping API keys to workspaces and scopes; `None` accepts any key."""
    not_found_status: int = 404
    """404 (AB08) as the virtual-keys endpoints answer, or 403 (AB03) as some Portkey endpoints do."""
    max_body_bytes: int = 1024 * 1024
    """Bodies above this size answer 413."""
    journal_limit: int = 1000
    """The request journal keeps this many entries; older ones are dropped."""
    store_url: str | None = None
    """`None` keeps state in process memory; `redis://host:port/db` shares it through Redis."""
    redis_prefix: str = "portkey-mock"
    """The key prefix of this mock in Redis: mocks with different prefixes never see each other."""
    fault_plan: dict[str, Any] | None = None
    """A fault plan to start with (see docs/faults.md); `None` starts without faults."""
    connection_faults: bool = True
    """Whether connection faults may be set: the server must be able to break a connection on
    demand (waitress, which `MockServer` and `--server waitress` use, can; granian cannot)."""
    control_token: str | None = None
    """When set, every `/__mock/*` route but `/__mock/health` (and the dashboard's page shell)
    answers 401 without `Authorization: Bearer <token>` (see docs/dashboard.md)."""
    pricing_dir: Path | None = None
    """A folder of `<provider>.json` price files answering model pricing; `None`: the built-in list."""
    strict: bool = False
    """Judge every request with openapi-core, the reference validator, not only those the compiled
    validators reject (slower; for checking the fast path itself)."""

    def __post_init__(self) -> None:
        if self.not_found_status not in (403, 404):
            raise ValueError("not_found_status must be 403 or 404")
        if self.max_body_bytes < 1:
            raise ValueError("max_body_bytes must be positive")
        if self.journal_limit < 1:
            raise ValueError("journal_limit must be positive")
        if self.store_url is not None and not self.store_url.startswith(("redis://", "rediss://", "unix://")):
            raise ValueError("store_url must be a redis://, rediss:// or unix:// URL")
        if self.control_token is not None and not self.control_token.strip():
            raise ValueError("control_token must not be empty")
        if not self.redis_prefix:
            raise ValueError("redis_prefix must not be empty")

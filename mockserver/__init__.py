"""A stateful mock of Portkey's `/v1/virtual-keys` admin API, served from its OpenAPI contract."""

from typing import TYPE_CHECKING, Any

from mockserver.app import create_app
from mockserver.config import MockConfig
from mockserver.contract.document import Contract

if TYPE_CHECKING:
    from mockserver.serving.server import MockServer

__all__ = ["Contract", "MockConfig", "MockServer", "create_app"]


def __getattr__(name: str) -> Any:
    """`MockServer` (waitress) is imported when first named: `mockserver serve` runs on granian."""
    if name == "MockServer":
        from mockserver.serving.server import MockServer

        return MockServer
    raise AttributeError(f"module 'mockserver' has no attribute {name!r}")

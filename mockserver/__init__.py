"""A stateful mock of Portkey's `/v1/virtual-keys` admin API, served from its OpenAPI contract."""

from mockserver.app import create_app
from mockserver.config import MockConfig
from mockserver.contract.document import Contract
from mockserver.serving.server import MockServer

__all__ = ["Contract", "MockConfig", "MockServer", "create_app"]

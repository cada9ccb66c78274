"""A validating proxy in front of a real service: traffic passes unchanged, both sides are judged.

Every `/v1` request is forwarded to the upstream as it came and the upstream's answer is returned
as it came (only hop-by-hop headers and a transfer encoding are dropped). On the way the request is
judged against the contract (did the client keep to it?) and so is the response (did the service?);
both verdicts go into a journal served at `/__mock/journal`, as the mock's is, so
`contracts check-traffic` and the pytest plugin's assertions work on real traffic too. With
`record`, every exchange also goes into a snapshot file, secrets out (`mockserver/snapshots/`).
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import httpx
from flask import Flask, Response, jsonify, request
from werkzeug.exceptions import HTTPException

from mockserver.contract.document import Contract
from mockserver.contract.exchange import Exchange, ExchangeJudge, ExchangeVerdict
from mockserver.contract.validation import IncomingRequest
from mockserver.control import CONTROL_PREFIX
from mockserver.control.routes import journal_blueprint
from mockserver.errors import ApiError, envelope
from mockserver.journal import entry_for
from mockserver.snapshots.record import SnapshotRecorder
from mockserver.state.journal_store import MemoryJournal
from mockserver.violations import Violation
from mockserver.wsgi import bare_query, header_pairs, incoming

API_PREFIX = "/v1"
METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"]
HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
        "host",
        "content-length",
    }
)
"""Headers that belong to one connection, not to the message; httpx and waitress set their own."""
DECODED = frozenset({"content-encoding", "content-length"})
"""Response headers that no longer hold once httpx has decoded the body."""


def create_proxy_app(
    upstream: str,
    *,
    contract_path: Path | None = None,
    journal_limit: int = 1000,
    timeout: float = 30.0,
    record: Path | None = None,
    stable: bool = False,
) -> Flask:
    """A proxy forwarding `/v1/...` to `upstream` (`https://staging.example/v1`), journaling verdicts;
    with `record`, writing every exchange to that snapshot file (`stable`: made values as placeholders)."""
    journal = MemoryJournal(journal_limit)
    contract = Contract.load(contract_path)
    recorder = SnapshotRecorder(record, contract, upstream, stable=stable) if record else None
    proxy = _Forwarder(contract, journal, upstream.rstrip("/"), timeout, recorder)
    app = Flask("mockserver-proxy")
    app.register_blueprint(journal_blueprint(journal))
    app.register_error_handler(HTTPException, _http_error)

    @app.get(f"{CONTROL_PREFIX}/health")
    def health() -> Any:
        return jsonify({"status": "ok", "upstream": proxy.target})

    @app.post(f"{CONTROL_PREFIX}/reset")
    def reset() -> Any:
        journal.clear()
        return jsonify({"reset": True})

    app.add_url_rule(API_PREFIX, defaults={"rest": ""}, methods=METHODS, view_func=proxy.forward)
    app.add_url_rule(f"{API_PREFIX}/<path:rest>", methods=METHODS, view_func=proxy.forward)
    return app


class _Forwarder:
    """Forwards one request to the upstream as it came, judges the exchange, journals the verdict."""

    def __init__(
        self,
        contract: Contract,
        journal: MemoryJournal,
        target: str,
        timeout: float,
        recorder: SnapshotRecorder | None,
    ) -> None:
        self.contract, self.journal, self.target, self.timeout = contract, journal, target, timeout
        self.recorder = recorder
        self.judge = ExchangeJudge(contract)
        self.client = httpx.Client(timeout=timeout, follow_redirects=False)

    def forward(self, rest: str) -> Response:
        sent = incoming(request.environ, {}, max_body_bytes=None)
        bare = bare_query(request.environ)
        query = request.query_string.decode("latin-1")
        url = f"{self.target}/{rest}" if rest else self.target
        try:
            answer = self.client.request(
                request.method,
                f"{url}?{query}" if query else url,
                headers=[(k, v) for k, v in request.headers.items() if k.lower() not in HOP_BY_HOP],
                content=sent.body,
            )
        except httpx.TimeoutException:
            return self._unreachable(sent, bare, 504, f"upstream did not answer within {self.timeout} s")
        except httpx.TransportError as error:
            return self._unreachable(sent, bare, 502, f"upstream unreachable ({type(error).__name__})")
        self._journal(self.judge.judge(Exchange.from_proxy(sent, answer, bare_query=bare)))
        headers = [(k, v) for k, v in answer.headers.items() if k.lower() not in HOP_BY_HOP | DECODED]
        return Response(answer.content, answer.status_code, headers)

    def _unreachable(self, sent: IncomingRequest, bare: bool, status: int, message: str) -> Response:
        """The proxy's own answer when the upstream gave none; the journal blames the service."""
        judged = self.judge.judge(Exchange(sent, status, bare_query=bare))
        self._journal(replace(judged, response_violations=(Violation("response", message),)))
        response = jsonify(envelope(ApiError.for_status(message, status)))
        response.status_code = status
        return response

    def _journal(self, judged: ExchangeVerdict) -> None:
        headers, size = header_pairs(request.environ), len(judged.exchange.request.body)
        secrets = self.contract.secret_fields
        self.journal.append(
            entry_for(judged, headers=headers, body_size=size, secret_fields=secrets, source="proxy")
        )
        if self.recorder is not None:
            self.recorder.add(judged, dict(headers))


def _http_error(error: HTTPException) -> tuple[Response, int]:
    status = error.code or 500
    return jsonify(envelope(ApiError.for_status(error.name, status))), status

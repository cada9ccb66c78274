"""A validating proxy in front of a real service: traffic passes unchanged, both sides are judged.

Every `/v1` request is forwarded to the upstream as it came and the upstream's answer is returned
as it came (only hop-by-hop headers and a transfer encoding are dropped). On the way the request is
judged against the contract (did the client keep to it?) and so is the response (did the service?);
both verdicts go into a journal served at `/__mock/journal`, as the mock's is, so
`contracts check-traffic` and the pytest plugin's assertions work on real traffic too.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
from flask import Flask, Response, jsonify, request
from werkzeug.exceptions import HTTPException

from mockserver.api import journal_entry
from mockserver.contract.document import Contract
from mockserver.contract.exchange import ContractChecker, Exchange
from mockserver.contract.validation import IncomingRequest
from mockserver.contract.verdict import RequestJudge, RequestVerdict
from mockserver.control import CONTROL_PREFIX
from mockserver.control.routes import journal_blueprint
from mockserver.errors import ApiError, envelope
from mockserver.state.journal_store import MemoryJournal
from mockserver.violations import Violation
from mockserver.wsgi import bare_query, incoming

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
) -> Flask:
    """A proxy forwarding `/v1/...` to `upstream` (`https://staging.example/v1`), journaling verdicts."""
    journal = MemoryJournal(journal_limit)
    proxy = _Forwarder(Contract.load(contract_path), journal, upstream.rstrip("/"), timeout)
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
    """Forwards one request to the upstream as it came, judges both sides, journals the verdicts."""

    def __init__(self, contract: Contract, journal: MemoryJournal, target: str, timeout: float) -> None:
        self.contract, self.journal, self.target, self.timeout = contract, journal, target, timeout
        self.judge = RequestJudge(contract)
        self.responses = ContractChecker(contract)
        self.client = httpx.Client(timeout=timeout, follow_redirects=False)

    def forward(self, rest: str) -> Response:
        sent = incoming(request.environ, {}, max_body_bytes=None)
        verdict = self.judge.judge(sent, bare_query=bare_query(request.environ))
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
            return self._unreachable(sent, verdict, 504, f"upstream did not answer within {self.timeout} s")
        except httpx.TransportError as error:
            return self._unreachable(sent, verdict, 502, f"upstream unreachable ({type(error).__name__})")
        response_violations = None
        if verdict.operation is not None:
            exchange = Exchange(
                method=sent.method,
                path=sent.path,
                query=sent.query,
                status=answer.status_code,
                response_headers=dict(answer.headers),
                response_body=answer.content,
            )
            response_violations = self.responses.check_response(exchange)
        self._journal(sent, verdict, answer.status_code, response_violations)
        headers = [(k, v) for k, v in answer.headers.items() if k.lower() not in HOP_BY_HOP | DECODED]
        return Response(answer.content, answer.status_code, headers)

    def _unreachable(
        self, sent: IncomingRequest, verdict: RequestVerdict, status: int, message: str
    ) -> Response:
        self._journal(sent, verdict, status, [Violation("response", message)])
        response = jsonify(envelope(ApiError.for_status(message, status)))
        response.status_code = status
        return response

    def _journal(
        self,
        sent: IncomingRequest,
        verdict: RequestVerdict,
        status: int,
        response_violations: list[Violation] | None,
    ) -> None:
        secrets = self.contract.secret_fields
        entry = journal_entry(request.environ, verdict, status, secrets, sent, "proxy", response_violations)
        self.journal.append(entry)


def _http_error(error: HTTPException) -> tuple[Response, int]:
    status = error.code or 500
    return jsonify(envelope(ApiError.for_status(error.name, status))), status

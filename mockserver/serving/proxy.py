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

from contracts.conformance import ContractChecker, Exchange
from mockserver.contract.document import Contract
from mockserver.contract.verdict import RequestJudge
from mockserver.control.routes import journal_blueprint
from mockserver.errors import ApiError, envelope
from mockserver.journal import MemoryJournal
from mockserver.routes import bare_query, incoming, journal_entry
from mockserver.violations import Violation

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
    contract = Contract(contract_path)
    judge = RequestJudge(contract)
    responses = ContractChecker(contract)
    journal = MemoryJournal(journal_limit)
    client = httpx.Client(timeout=timeout, follow_redirects=False)
    target = upstream.rstrip("/")

    app = Flask("mockserver-proxy")
    app.extensions["mockserver"] = {"contract": contract, "journal": journal, "upstream": target}
    app.register_blueprint(journal_blueprint(journal))

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException) -> tuple[Response, int]:
        status = error.code or 500
        mapped = ApiError(error.name, status, "AB08" if status == 404 else "AB01" if status < 500 else "AB04")
        return jsonify(envelope(mapped)), status

    @app.get("/__mock/health")
    def health() -> Any:
        return jsonify({"status": "ok", "upstream": target})

    @app.post("/__mock/reset")
    def reset() -> Any:
        journal.clear()
        return jsonify({"reset": True})

    @app.route(API_PREFIX, defaults={"rest": ""}, methods=METHODS)
    @app.route(f"{API_PREFIX}/<path:rest>", methods=METHODS)
    def forward(rest: str) -> Response:
        sent = incoming({})
        verdict = judge.judge(sent, bare_query=bare_query())
        query = request.query_string.decode("latin-1")
        url = f"{target}/{rest}" if rest else target
        try:
            answer = client.request(
                request.method,
                f"{url}?{query}" if query else url,
                headers=[(k, v) for k, v in request.headers.items() if k.lower() not in HOP_BY_HOP],
                content=sent.body,
            )
        except httpx.TimeoutException:
            failure = (504, f"upstream did not answer within {timeout} s")
            return _unreachable(journal, verdict, contract, *failure)
        except httpx.TransportError as error:
            failure = (502, f"upstream unreachable ({type(error).__name__})")
            return _unreachable(journal, verdict, contract, *failure)
        headers = [(k, v) for k, v in answer.headers.items() if k.lower() not in HOP_BY_HOP | DECODED]
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
            response_violations = responses.check_response(exchange)
        journal.append(
            journal_entry(verdict, answer.status_code, contract.secret_fields, "proxy", response_violations)
        )
        return Response(answer.content, answer.status_code, headers)

    return app


def _unreachable(
    journal: MemoryJournal, verdict: Any, contract: Contract, status: int, message: str
) -> Response:
    journal.append(
        journal_entry(verdict, status, contract.secret_fields, "proxy", [Violation("response", message)])
    )
    response = jsonify(envelope(ApiError(message, status, "AB04")))
    response.status_code = status
    return response

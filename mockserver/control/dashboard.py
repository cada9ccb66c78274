"""The dashboard at `GET /__mock/`: the journal, the store and the faults on one page, for a person.

The page is a Jinja2 template (autoescaped) with one stylesheet and one script served from this
package: no build step, nothing from the network. The script reads the same JSON endpoints a test
uses (`/__mock/journal`, `/store`, `/faults`) and shows every value a client sent as text
(`textContent`, never `innerHTML`); the Content-Security-Policy below forbids inline script and any
other origin, so a value that slipped through as markup still could not run.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from flask import Blueprint, Response, render_template

from mockserver.contract.secrets import CREDENTIAL_HEADER
from mockserver.control import CONTROL_PREFIX

CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; "
    "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)


def dashboard_blueprint(secret_fields: Iterable[str], journal_limit: int) -> Blueprint:
    blueprint = Blueprint(
        "dashboard",
        __name__,
        url_prefix=CONTROL_PREFIX,
        template_folder="templates",
        static_folder="static",
        static_url_path="/static",
    )
    secrets = sorted(set(secret_fields))

    @blueprint.get("/")
    def page() -> Any:
        return render_template(
            "dashboard.html",
            secret_fields=secrets,
            credential_header=CREDENTIAL_HEADER.pattern,
            journal_limit=journal_limit,
        )

    @blueprint.after_request
    def locked_down(response: Response) -> Response:
        response.headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Referrer-Policy"] = "no-referrer"
        response.headers["Cache-Control"] = "no-store"
        return response

    return blueprint

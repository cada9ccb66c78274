"""What every report shares: the HTML page from `contracts/templates`, a curl command that repeats
a request, and how a request's URL and a response's start are shown."""

from __future__ import annotations

import base64
import hashlib
import shlex
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from jinja2 import Environment, PackageLoader
from markupsafe import Markup

from mockserver.contract.exchange import Exchange

RESPONSE_EXCERPT_CHARS = 600
"""How much of a response's body a report shows."""

_TEMPLATES = Path(__file__).parent / "templates"


def curl_command(method: str, url: str, body: str | None, api_key_header: str) -> str:
    """A shell-safe curl command; the API key is read from $PORTKEY_API_KEY, never printed."""
    parts = ["curl", "-X", method.upper(), shlex.quote(url), "-H", f'"{api_key_header}: $PORTKEY_API_KEY"']
    if body is not None:
        parts += ["-H", shlex.quote("Content-Type: application/json"), "--data", shlex.quote(body)]
    return " ".join(parts)


def shown_url(root: str, path: str, query: Mapping[str, list[str]], bare_query: bool = False) -> str:
    """The URL a request went to, under `root` (`http://host:port`, or a base URL)."""
    url = root + path
    if query:
        return f"{url}?{urlencode(query, doseq=True)}"
    return f"{url}?" if bare_query else url


def response_excerpt(exchange: Exchange) -> str:
    """The response's status and the start of its body; empty if no answer was recorded."""
    if not exchange.status:
        return ""
    if exchange.response_body is None:
        return f"{exchange.status} (the recording kept no response body)"
    text = exchange.response_body.decode("utf-8", "replace")
    if len(text) > RESPONSE_EXCERPT_CHARS:
        text = text[:RESPONSE_EXCERPT_CHARS] + " …"
    return f"{exchange.status}\n\n{text}" if text else str(exchange.status)


def render_html(template: str, **context: Any) -> str:
    """A report page from `contracts/templates`, its CSS and script inline and allowed by hash only.

    Autoescaping is on for every value: what a service or a client sent is shown as text. The CSP
    in the page lets nothing load from anywhere and runs only the page's own script.
    """
    style = (_TEMPLATES / "report.css").read_text(encoding="utf-8")
    script = (_TEMPLATES / "report.js").read_text(encoding="utf-8")
    page = _environment().get_template(template)
    return page.render(
        style=Markup(style),  # our own files, not data: inside <style>/<script> escaping would break them
        script=Markup(script),
        style_hash=_csp_hash(style),
        script_hash=_csp_hash(script),
        **context,
    )


def _environment() -> Environment:
    return Environment(loader=PackageLoader("contracts", "templates"), autoescape=True)


def _csp_hash(text: str) -> str:
    return "sha256-" + base64.b64encode(hashlib.sha256(text.encode()).digest()).decode()

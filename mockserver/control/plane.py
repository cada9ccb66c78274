"""The control plane's Flask app under `/__mock/`, built the first time a control request needs it.

Importing Flask (with Jinja2, click and itsdangerous) and registering the blueprints cost about a
fifth of a mock's start, and the API plane never uses them. `MockApp` builds this app on the first
control request other than the readiness probe, or when `MockApp.control` is first read (to add a
hook), so a mock answers its first requests without them (docs/performance.md).
"""

from __future__ import annotations

from typing import Any

from flask import Flask, Response
from flask.json.provider import DefaultJSONProvider
from werkzeug.exceptions import HTTPException, MethodNotAllowed

from mockserver import jsontext
from mockserver.control import ControlParts
from mockserver.control.dashboard import dashboard_blueprint
from mockserver.control.routes import (
    control_blueprint,
    invites_blueprint,
    journal_blueprint,
    log_exports_blueprint,
    store_blueprint,
)
from mockserver.control.token import require_control_token
from mockserver.errors import ApiError, envelope, no_such_route
from mockserver.responses import json_body
from mockserver.wsgi import JSON_TYPE, ErrorAnswers


class FlaskJson(DefaultJSONProvider):
    """Flask's JSON (`jsonify`, the control plane's pages) written strictly, in the order given."""

    sort_keys = False  # keep the service's field order

    def dumps(self, obj: Any, **kwargs: Any) -> str:
        kwargs.setdefault("default", self.default)
        kwargs.setdefault("ensure_ascii", self.ensure_ascii)
        kwargs.setdefault("sort_keys", self.sort_keys)
        return jsontext.dumps(obj, **kwargs)


def control_app(parts: ControlParts) -> Flask:
    """The Flask app with every blueprint and hook of the control plane."""
    app = Flask("mockserver")
    app.json = FlaskJson(app)  # strict JSON, in the service's field order
    state = parts.state
    app.register_blueprint(
        control_blueprint(
            parts.seeder,
            state.reset,
            parts.max_body_bytes,
            parts.faults,
            accepts_any_key=parts.accepts_any_key,
            store=state.watch,
        )
    )
    app.register_blueprint(journal_blueprint(state.journal))
    app.register_blueprint(
        store_blueprint(parts.keys, parts.policy, state.integrations, parts.declared, parts.logs)
    )
    if parts.people is not None:
        app.register_blueprint(invites_blueprint(parts.people, parts.policy, parts.max_body_bytes))
    if parts.log_exports is not None:
        app.register_blueprint(log_exports_blueprint(parts.log_exports))
    app.register_blueprint(dashboard_blueprint(parts.secret_fields, parts.journal_limit))
    if parts.control_token:
        require_control_token(app, parts.control_token)
    _answer_errors(app, parts.errors)
    return app


def _routing_error(error: Exception) -> ApiError | None:
    """Flask's own refusals (no such route, method not allowed, a bad request it read) in the
    words the API plane uses for the same refusal; None for any other error."""
    if isinstance(error, MethodNotAllowed):
        return no_such_route(sorted(error.valid_methods or ()))
    if isinstance(error, HTTPException):
        status = error.code or 500
        return no_such_route([]) if status == 404 else ApiError.for_status(error.name, status)
    return None


def _answer_errors(app: Flask, errors: ErrorAnswers) -> None:
    """Every error of the control plane, expected or not, leaves as the API's would."""

    @app.errorhandler(Exception)
    def refused(error: Exception) -> Response:
        answer = _routing_error(error) or errors(error)
        return Response(json_body(envelope(answer)), answer.status, answer.headers, content_type=JSON_TYPE)

"""The REST API at ``/api/v1``: one flask-smorest blueprint per resource."""
from __future__ import annotations

import swagger_ui_bundle
from flask import Flask, send_from_directory
from flask_smorest import Api

from appliance import __version__
from web import errors
from web.api.common import AccessDocPlugin, ErrorEnvelopeSchema

PREFIX = "/api/v1"


class CallboxApi(Api):
    """flask-smorest's Api with the contract's error envelope."""

    ERROR_SCHEMA = ErrorEnvelopeSchema

    def handle_http_exception(self, error):
        return errors.handle_http_exception(error)


api = CallboxApi()


def _docs_assets(filename: str):
    return send_from_directory(swagger_ui_bundle.swagger_ui_path, filename, max_age=86400)


def init_app(app: Flask) -> None:
    """Register every resource blueprint and the OpenAPI document / docs UI (assets served locally)."""
    from web.api import auth, health, settings, users, workspaces
    from web.api import ai, appointments, assistants, calls, knowledge, phone_numbers

    app.config.update(
        API_TITLE="Callbox API", API_VERSION=__version__, OPENAPI_VERSION="3.0.3",
        OPENAPI_URL_PREFIX=PREFIX, OPENAPI_JSON_PATH="openapi.json",
        OPENAPI_SWAGGER_UI_PATH="docs", OPENAPI_SWAGGER_UI_URL=f"{PREFIX}/docs/assets/",
        # No badge from validator.swagger.io: the docs page must not reach any other host.
        OPENAPI_SWAGGER_UI_CONFIG={"validatorUrl": None},
        API_SPEC_OPTIONS={
            "info": {"description": "One consistent API for the whole call center. Errors use the envelope "
                                    "`{success: false, error: {code, message, details}}`."},
            "components": {"securitySchemes": {
                "bearerAuth": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"},
                "apiKey": {"type": "apiKey", "in": "header", "name": "X-API-Key"},
            }},
            "security": [{"bearerAuth": []}, {"apiKey": []}],
        },
    )
    api.init_app(app, spec_kwargs={"extra_plugins": [AccessDocPlugin(app)]})
    for module in (auth, users, workspaces, settings, health,
                   assistants, knowledge, appointments, phone_numbers, ai, calls):
        api.register_blueprint(module.blp, url_prefix=PREFIX)
    from web.api import call_control  # the voice agent's call control (dial, hang up, transfer)
    api.register_blueprint(call_control.blp, url_prefix=PREFIX)
    from web.api import inbound_webhooks, webhooks  # outbound webhooks; inbound endpoints and /hooks/<token>
    for module in (webhooks, inbound_webhooks):
        api.register_blueprint(module.blp, url_prefix=PREFIX)
    app.register_blueprint(inbound_webhooks.hooks_bp)  # /hooks/<token>: outside the API prefix, HMAC-signed
    app.register_blueprint(appointments.feed_bp)  # /calendar/<token>.ics: outside the API, for calendar apps
    app.add_url_rule(f"{PREFIX}/docs/assets/<path:filename>", "api-docs.assets", _docs_assets)
    app.add_url_rule("/api/health", "health_alias", health.health_view)

"""Provides the OpenAPI document as generated from the app (checked in as `openapi.json`)."""

from __future__ import annotations

from typing import Any


def openapi_document() -> dict[str, Any]:
    from backend.runtime.settings import BackendSettings
    from backend.server.app import create_app

    app = create_app(BackendSettings(database_url="sqlite://"))
    return app.openapi()

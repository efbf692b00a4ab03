"""Provides the OpenAPI document as generated from the app (checked in as `openapi.json`)."""

from __future__ import annotations

from typing import Any

from backend.app import create_app
from backend.settings import BackendSettings


def openapi_document() -> dict[str, Any]:
    app = create_app(BackendSettings(database_url="sqlite://"))
    return app.openapi()

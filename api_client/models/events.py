"""Provides the event (audit log row) body, as streamed and as listed."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import Field

from api_client.models.common import ResponseModel


class Event(ResponseModel):
    seq: int = Field(description="Sequence number; also the SSE event id.")
    hall: str | None = None
    type: str = Field(description="e.g. ticket.called, case.submitted")
    subject_type: str
    subject_id: str
    actor: str | None = None
    at: datetime
    payload: dict[str, Any]
    hash: str


class EventList(ResponseModel):
    items: list[Event]
    next_cursor: str | None = None

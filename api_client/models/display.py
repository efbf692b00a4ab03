"""Provides the hall call display's bodies: calls, windows and waiting counts, never a person.

Everything here may be shown on a screen facing the public: ticket numbers, window and service
item codes and names, times and counts. No applicant's name, ID number or phone, no clerk.
"""

from __future__ import annotations

from datetime import datetime

from pydantic import Field

from api_client.models.common import ResponseModel

__all__ = ["DisplayBoard", "DisplayCall", "DisplayQueue", "DisplayWindow"]


class DisplayWindow(ResponseModel):
    code: str
    number: int = Field(description="The number painted over the counter (window 5).")
    name: str
    name_en: str


class DisplayCall(ResponseModel):
    """One ticket called to a window (the latest announcement of it)."""

    ticket: str = Field(description="Ticket number, e.g. GA023.")
    ticket_id: int
    window: str = Field(description="Window code.")
    window_number: int
    service_item: str
    announced_at: datetime = Field(description="When it was last called or recalled.")
    recall: bool = Field(description="The latest announcement was a recall.")
    recall_count: int = 0


class DisplayQueue(ResponseModel):
    """One service item's queue as the waiting room sees it."""

    service_item: str
    name: str
    name_en: str
    ticket_prefix: str
    waiting: int = Field(ge=0, description="Tickets of today waiting for this item.")


class DisplayBoard(ResponseModel):
    """The call display's starting snapshot; `GET /api/v1/display/events` keeps it current."""

    hall: str
    hall_name: str
    hall_name_en: str
    timezone: str = Field(description="The hall's time zone, for showing call times.")
    seq: int = Field(description="Latest event sequence number when the snapshot was taken.")
    calls: list[DisplayCall] = Field(description="Latest announcements first.")
    queues: list[DisplayQueue]
    windows: list[DisplayWindow]

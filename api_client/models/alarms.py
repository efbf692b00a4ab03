"""Provides the emergency-alarm bodies (a clerk raises one; a supervisor acknowledges it)."""

from __future__ import annotations

from datetime import datetime

from pydantic import Field

from api_client.models.common import RequestModel, ResponseModel, Text


class AlarmRaise(RequestModel):
    note: Text | None = Field(default=None, max_length=200)


class Alarm(ResponseModel):
    id: int
    window: str
    raised_by: str
    raised_at: datetime
    note: str | None = None
    acknowledged_by: str | None = None
    acknowledged_at: datetime | None = None


class AlarmList(ResponseModel):
    items: list[Alarm]


class PersonalData(ResponseModel):
    """An applicant's unmasked data, given only on an explicit (and audited) reveal."""

    name: str
    id_number: str
    phone: str | None = None

"""Provides the login, logout and "who am I" bodies."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import Field, SecretStr

from api_client.models.common import RequestModel, ResponseModel, Text

Role = Literal["clerk", "supervisor", "admin", "terminal", "portal"]


class LoginRequest(RequestModel):
    username: Text = Field(min_length=1, max_length=64)
    password: SecretStr = Field(min_length=1, max_length=256)
    window: Text | None = Field(
        default=None,
        max_length=32,
        description="Code of the window a clerk logs in to (e.g. W03). Clerks must give one.",
    )


class Me(ResponseModel):
    username: str
    display_name: str
    role: Role
    hall: str = Field(description="Code of the user's hall.")
    hall_name: str
    window: str | None = Field(default=None, description="Window the session is logged in to.")
    timezone: str = Field(
        default="Asia/Shanghai",
        description="IANA name of the hall's time zone: show every time and day in it.",
    )


class LoginResponse(ResponseModel):
    token: str = Field(description="Opaque bearer token for the Authorization header.")
    expires_at: datetime
    me: Me

"""Provides the catalogue bodies: service items, their materials, windows and priority classes."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from api_client.material_kinds import MaterialKind
from api_client.models.common import RequestModel, ResponseModel, Text

MaterialFormat = Literal["original", "copy", "original_and_copy", "electronic", "any"]
WindowState = Literal["open", "paused", "closed"]


class Material(ResponseModel):
    code: str
    name: str
    name_en: str
    mandatory: bool
    may_be_owed: bool = Field(description="容缺: may be supplied after acceptance.")
    e_licence_type: str | None = Field(
        default=None, description="An e-licence of this type can stand in for paper."
    )
    copies: int
    format: MaterialFormat
    needs_expiry_check: bool = False
    kind: MaterialKind = Field(
        default="other", description="What the material is: the facts it carries and its checks."
    )


class ServiceItem(ResponseModel):
    code: str
    name: str
    name_en: str
    department: str
    department_name: str
    department_name_en: str
    ticket_prefix: str
    promised_days: int = Field(description="Promised time limit in working days.")
    statutory_days: int = Field(description="Statutory time limit in working days.")
    fee_yuan: float = 0
    guideline: str = ""
    guideline_en: str = ""
    online: bool = True
    related: list[str] = Field(default_factory=list)
    materials: list[Material]


class ServiceItemList(ResponseModel):
    items: list[ServiceItem]


class PriorityClass(ResponseModel):
    code: str
    name: str
    name_en: str
    weight: int


class Window(ResponseModel):
    code: str
    number: int
    name: str
    name_en: str
    comprehensive: bool
    service_items: list[str]
    state: WindowState
    pause_reason: str | None = None
    clerk: str | None = Field(default=None, description="Username of the clerk logged in here.")
    version: int


class WindowList(ResponseModel):
    items: list[Window]
    priority_classes: list[PriorityClass]


class PauseRequest(RequestModel):
    # POST /windows/{code}/pause (no docstring: it would become the schema's description)
    reason: Text = Field(
        min_length=1, max_length=200, description="break, meeting, system trouble…"
    )

"""Provides the e-licence (电子证照) registry bodies."""

from __future__ import annotations

from datetime import date
from typing import Literal

from api_client.models.common import ResponseModel

LicenceState = Literal["valid", "expired", "revoked"]


class ELicence(ResponseModel):
    """One electronic licence; `state` is its effective state today."""

    id: int
    type: str
    type_name: str
    type_name_en: str
    number_masked: str
    holder_id_masked: str
    holder_name: str
    issuer: str
    valid_from: date
    valid_to: date | None = None
    status: LicenceState
    state: LicenceState
    usable: bool
    refusal_zh: str | None = None
    refusal_en: str | None = None


class ELicenceList(ResponseModel):
    items: list[ELicence]

"""Provides the document store's bodies (issue 20)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from api_client.models.common import ResponseModel

DocumentMediaType = Literal["application/pdf", "image/jpeg", "image/png", "image/tiff"]
Sha256 = Annotated[str, Field(pattern=r"^[0-9a-f]{64}$", description="SHA-256, lower-case hex")]


class StoredDocument(ResponseModel):
    """A stored document: its hash, the media type sniffed from its bytes (never the one
    declared), its size in bytes and its pages (1 for an image)."""

    sha256: Sha256
    media_type: DocumentMediaType
    size: int = Field(ge=1)
    pages: int = Field(ge=1)

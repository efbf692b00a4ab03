"""Provides the models shared by every part of the wire contract: problems and base classes."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class RequestModel(BaseModel):
    """A body the API takes: unknown fields are refused so typos fail loudly."""

    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


class ResponseModel(BaseModel):
    """A body the API sends: unknown fields are ignored so older clients keep working."""

    model_config = ConfigDict(extra="ignore", frozen=True)


class ProblemFieldError(ResponseModel):
    """One field-level complaint inside a validation problem."""

    loc: list[str | int]
    msg: str
    type: str


class Problem(ResponseModel):
    """An RFC 9457 problem document (`application/problem+json`)."""

    model_config = ConfigDict(extra="allow", frozen=True)

    type: str = Field(description="Stable URI naming the kind of error.")
    title: str
    status: int
    detail: str | None = None
    instance: str | None = None
    errors: list[ProblemFieldError] | None = None
    current: dict[str, Any] | None = Field(
        default=None, description="The resource's current state (412 and some 409 answers)."
    )
    allowed: list[str] | None = Field(
        default=None, description="What the resource's current state allows instead."
    )

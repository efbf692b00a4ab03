"""Provides the models shared by every part of the wire contract: problems and base classes."""

from __future__ import annotations

import re
from typing import Annotated, Any

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    ValidatorFunctionWrapHandler,
    WrapValidator,
)
from pydantic_core import PydanticCustomError

# Text a request may carry: no C0 control character but tab, newline and carriage return (a
# pasted Windows line end), no DEL, no C1 control. PostgreSQL refuses NUL in text, SQLite
# stores it: a hall's data must move from one to the other unchanged.
CONTROL_CHARACTERS = r"\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f"
_CONTROL_CHARACTER = re.compile(f"[{CONTROL_CHARACTERS}]")


def _name_the_control_character(value: Any, handler: ValidatorFunctionWrapHandler) -> Any:
    """The pattern's refusal, in words: which character, where."""
    try:
        return handler(value)
    except ValidationError as exc:
        found = _CONTROL_CHARACTER.search(value) if isinstance(value, str) else None
        if found is None or not any(
            error["type"] == "string_pattern_mismatch" for error in exc.errors()
        ):
            raise
        raise PydanticCustomError(
            "control_character",
            "control character U+{code} at position {position} is not allowed (only tab, "
            "newline and carriage return are)",
            {"code": f"{ord(found.group()):04X}", "position": found.start()},
        ) from None


Text = Annotated[
    str,
    StringConstraints(pattern=f"^[^{CONTROL_CHARACTERS}]*$"),
    WrapValidator(_name_the_control_character),
]
"""A string field of a request: refuses control characters (see `CONTROL_CHARACTERS`), on the
server (422 naming the field) and in the client alike; the pattern is in the OpenAPI document."""


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

"""Provides the limits of a request model's text field, read from the field itself."""

from __future__ import annotations

from annotated_types import MaxLen
from pydantic import BaseModel

__all__ = ["cut_to_field", "field_max_length"]


def field_max_length(model: type[BaseModel], name: str) -> int | None:
    """The longest text `model.name` takes (None when it has no limit)."""
    limits = [m.max_length for m in model.model_fields[name].metadata if isinstance(m, MaxLen)]
    return min(limits) if limits else None


def cut_to_field(model: type[BaseModel], name: str, text: str) -> tuple[str, str]:
    """`text` as `model.name` takes it, and the part that had to be cut off ("" if none)."""
    limit = field_max_length(model, name)
    text = text.strip()
    if limit is None or len(text) <= limit:
        return text, ""
    return text[:limit].rstrip(), text[limit:]

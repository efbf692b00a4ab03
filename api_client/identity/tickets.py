"""Provides hall ticket numbers (1-2 letters and 3-4 digits, such as A023)."""

from __future__ import annotations

import re

_TICKET_RE = re.compile(r"[A-Z]{1,2}\d{3,4}", re.ASCII)


def normalise_ticket_number(value: str) -> str:
    """Validate a hall ticket number (1-2 letters + 3-4 digits) and return it upper-cased.

    Raises:
        ValueError: when the value does not have that shape.
    """
    text = value.strip().upper()
    if not text.isascii() or not _TICKET_RE.fullmatch(text):
        raise ValueError(
            f"ticket number {value.strip()!r} must be 1-2 letters followed by 3-4 digits, "
            "such as A023 or AB1234"
        )
    return text

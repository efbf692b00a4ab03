"""Provides keyset paging: the opaque cursor a list hands out and takes back, and the
largest id a cursor (or a path) may name."""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

from backend.problems import InvalidInput

MAX_ID = 2**31 - 1  # ids are INTEGER columns (32-bit on PostgreSQL)


def encode_cursor(last_id: int, **extra: Any) -> str:
    data = json.dumps({"after": last_id, **extra}).encode()
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def bad_cursor() -> InvalidInput:
    return InvalidInput(
        "cursor: not a cursor this server gave out; start again without it.",
        errors=[{"loc": ["query", "cursor"], "msg": "invalid cursor", "type": "value_error"}],
    )


def decode_cursor_data(cursor: str | None) -> dict[str, Any]:
    if not cursor:
        return {"after": 0}
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        data = json.loads(base64.urlsafe_b64decode(padded))
        value = data["after"]
        if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= MAX_ID:
            raise ValueError
        return dict(data)
    except (ValueError, KeyError, TypeError, binascii.Error, json.JSONDecodeError) as exc:
        raise bad_cursor() from exc


def decode_cursor(cursor: str | None) -> int:
    return int(decode_cursor_data(cursor)["after"])

"""Provides `Utf8JsonBodies`: JSON request bodies in any encoding but UTF-8 refused with 415.

RFC 8259 (8.1): JSON exchanged between systems is UTF-8. Python's `json.loads` of bytes also
detects UTF-16 and UTF-32 (by a byte order mark, or by the NUL bytes of the first characters),
so without this a UTF-16 body was accepted. A UTF-8 byte order mark is still UTF-8 and stays
accepted (RFC 8259 lets a parser ignore it); invalid UTF-8 further on is refused by the body
parsing itself (400).
"""

from __future__ import annotations

import json
from email.message import Message as MimeMessage

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from backend.problems import PROBLEM_MEDIA_TYPE, ApiProblem

_UTF16_32_MARKS = (b"\x00\x00\xfe\xff", b"\xff\xfe\x00\x00", b"\xfe\xff", b"\xff\xfe")


class UnsupportedMediaType(ApiProblem):
    status, kind, title = 415, "unsupported-media-type", "The request body is not UTF-8 JSON"


def _json_declared(headers: dict[bytes, bytes]) -> tuple[bool, str | None]:
    """Whether the body is to be parsed as JSON (as FastAPI does: a JSON media type, or none
    at all), and the charset it declares, if any."""
    value = headers.get(b"content-type")
    if value is None:
        return True, None
    message = MimeMessage()
    message["content-type"] = value.decode("latin-1")
    subtype = message.get_content_subtype()
    is_json = message.get_content_maintype() == "application" and (
        subtype == "json" or subtype.endswith("+json")
    )
    charset = message.get_param("charset")
    return is_json, charset if isinstance(charset, str) else None


def _not_utf8(start: bytes) -> bool:
    """Whether a JSON text beginning with `start` is UTF-16 or UTF-32: a byte order mark, or a
    NUL among its first bytes (a UTF-8 JSON text has none there)."""
    return start.startswith(_UTF16_32_MARKS) or b"\x00" in start[:4]


class Utf8JsonBodies:
    """Refuses a JSON body that declares or uses another encoding than UTF-8, before the app
    reads it; other requests pass untouched."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        has_body = headers.get(b"content-length", b"0") != b"0" or b"transfer-encoding" in headers
        is_json, charset = _json_declared(headers)
        if not has_body or not is_json:
            await self.app(scope, receive, send)
            return
        if charset is not None and charset.lower().replace("-", "") != "utf8":
            await _refuse(send, scope, f"charset={charset} is not accepted")
            return
        first = await receive()
        if first["type"] == "http.request" and _not_utf8(first.get("body", b"")):
            await _refuse(send, scope, "the body is UTF-16 or UTF-32")
            return
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return first
            return await receive()

        await self.app(scope, replay, send)


async def _refuse(send: Send, scope: Scope, why: str) -> None:
    problem = UnsupportedMediaType(f"JSON request bodies are UTF-8 (RFC 8259); {why}.")
    body = json.dumps(problem.body(scope.get("path")), ensure_ascii=False).encode()
    await send(
        {
            "type": "http.response.start",
            "status": problem.status,
            "headers": [
                (b"content-type", PROBLEM_MEDIA_TYPE.encode()),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})

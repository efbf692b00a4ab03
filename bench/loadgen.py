"""Provides a minimal keep-alive HTTP/1.1 load generator (the client must not be the bottleneck:
httpx spends more CPU per request than the server does, on a 2-core machine)."""

from __future__ import annotations

import asyncio
import time
import uuid
from dataclasses import dataclass, field


@dataclass
class Results:
    latencies: list[float] = field(default_factory=list)
    statuses: dict[int, int] = field(default_factory=dict)
    bodies: list[bytes] = field(default_factory=list)


async def read_response(reader: asyncio.StreamReader) -> tuple[int, bytes]:
    """The status and body of one response; status 0 when the server closed the connection."""
    status_line = await reader.readline()
    if not status_line:
        return 0, b""
    status = int(status_line.split()[1])
    length = 0
    while True:
        line = await reader.readline()
        if line in (b"\r\n", b""):
            break
        name, _, value = line.partition(b":")
        if name.lower() == b"content-length":
            length = int(value.strip())
    body = await reader.readexactly(length) if length else b""
    return status, body


async def post_until_empty(
    host: str,
    port: int,
    path: str,
    token: str,
    results: Results,
    keep_bodies: bool = True,
    retry_errors: bool = False,
) -> None:
    """POST `path` with a fresh Idempotency-Key until the server answers 204 (or anything but
    200, unless `retry_errors`: then a 409 or 5xx is counted and the clerk calls again)."""
    reader, writer = await asyncio.open_connection(host, port)
    try:
        while True:
            request = (
                f"POST {path} HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {token}\r\n"
                f"Idempotency-Key: {uuid.uuid4().hex}\r\nContent-Length: 0\r\n\r\n"
            ).encode()
            started = time.perf_counter()
            try:
                writer.write(request)
                status, body = await read_response(reader)
            except (ConnectionError, asyncio.IncompleteReadError):  # closed after a 500
                status, body = 0, b""
            results.latencies.append(time.perf_counter() - started)
            results.statuses[status] = results.statuses.get(status, 0) + 1
            if status == 200:
                if keep_bodies:
                    results.bodies.append(body)
                continue
            if status == 204 or not retry_errors or status not in (0, 409, 500, 502, 503, 504):
                return
            await asyncio.sleep(0.05)
            if status == 0 or reader.at_eof():  # uvicorn closes the connection after a 500
                writer.close()
                reader, writer = await asyncio.open_connection(host, port)
    finally:
        writer.close()


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    index = min(len(ordered) - 1, max(0, round(fraction * (len(ordered) - 1))))
    return ordered[index]

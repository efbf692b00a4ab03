"""Provides a lean hall load: `--rate` ticket events per second for `--duration` seconds.

`--mix flow` (the default) is a hall at work: the terminal issues tickets and four clerks (W04,
W05, W06, W07) call, start and finish each one half a second after it was issued, so every ticket
makes four events (issued, called, start, finish) and the queues stay short, as in a real hall.
`--mix issue` only issues tickets (one event each; the queues grow all the time).

Raw keep-alive HTTP/1.1 over a few connections (stdlib only: httpx would spend more CPU per
request than the server, and this shares two cores with the server and the UI under test). Each
connection sends its share of the requests on a fixed schedule (open loop: a late request goes
out at once, so the rate is what the server can take when it cannot take `--rate`). Prints one
JSON line: events asked for, statuses, and the seconds it took.

    python bench/ticket_load.py --port 8000 --rate 500 --duration 60 [--mix flow|issue]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.loadgen import read_response

ITEMS = ("MZ-001", "MZ-002", "GA-001", "GA-003")
CLERKS = (("clerk04", "W04"), ("clerk05", "W05"), ("clerk06", "W06"), ("clerk07", "W07"))
"""Ticket k is for ITEMS[k % 4], which only CLERKS[k % 4]'s window serves: clerk n calls it."""
FINISHED = b'{"outcome": "completed"}'
CALL_AFTER = 0.5
"""Seconds between a ticket's issue and its call (flow mix)."""


def _request(path: str, body: bytes, headers: str = "") -> bytes:
    return (
        f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        f"{headers}Content-Length: {len(body)}\r\n\r\n"
    ).encode() + body


async def _login(port: int, username: str = "terminal01", window: str | None = None) -> str:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    fields = {"username": username, "password": "demo1234"}
    if window is not None:
        fields["window"] = window
    body = json.dumps(fields).encode()
    writer.write(_request("/api/v1/auth/login", body))
    status, answer = await read_response(reader)
    writer.close()
    if status != 200:
        raise SystemExit(f"login failed: {status} {answer[:200]!r}")
    return str(json.loads(answer)["token"])


async def _connection(
    port: int, token: str, first: int, step: int, rate: float, total: int, start: float,
    statuses: dict[int, int],
) -> None:  # fmt: skip
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    bodies = [json.dumps({"service_item": item}).encode() for item in ITEMS]
    try:
        for k in range(first, total, step):
            delay = start + k / rate - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            auth = f"Authorization: Bearer {token}\r\nIdempotency-Key: {uuid.uuid4().hex}\r\n"
            writer.write(_request("/api/v1/tickets", bodies[k % len(bodies)], auth))
            status, _ = await read_response(reader)
            statuses[status] = statuses.get(status, 0) + 1
    finally:
        writer.close()


async def _clerk(
    port: int, token: str, window: str, first: int, step: int, rate: float, total: int,
    start: float, statuses: dict[int, int],
) -> None:  # fmt: skip
    """Call, start and finish tickets first, first + step, ... each CALL_AFTER after its issue."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)

    async def post(path: str, body: bytes = b"") -> tuple[int, bytes]:
        auth = f"Authorization: Bearer {token}\r\nIdempotency-Key: {uuid.uuid4().hex}\r\n"
        writer.write(_request(path, body, auth))
        status, body = await read_response(reader)
        statuses[status] = statuses.get(status, 0) + 1
        return status, body

    try:
        for k in range(first, total, step):
            delay = start + CALL_AFTER + k / rate - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            for _ in range(200):  # the ticket may not be issued yet when the server lags
                status, body = await post(f"/api/v1/windows/{window}/call-next")
                if status == 200:
                    ticket = json.loads(body)["id"]
                    await post(f"/api/v1/tickets/{ticket}/start")
                    await post(f"/api/v1/tickets/{ticket}/finish", FINISHED)
                    break
                await asyncio.sleep(0.02)
    finally:
        writer.close()


async def run(
    port: int, rate: float, duration: float, connections: int, mix: str = "flow"
) -> dict[str, object]:
    token = await _login(port)
    statuses: dict[int, int] = {}
    per_ticket = 4 if mix == "flow" else 1
    tickets_per_s = rate / per_ticket
    total = int(tickets_per_s * duration)
    clerks = [await _login(port, name, window) for name, window in CLERKS] if mix == "flow" else []
    start = time.perf_counter()
    await asyncio.gather(
        *(
            _connection(port, token, n, connections, tickets_per_s, total, start, statuses)
            for n in range(connections)
        ),
        *(
            _clerk(port, t, CLERKS[n][1], n, len(clerks), tickets_per_s, total, start, statuses)
            for n, t in enumerate(clerks)  # step 4 == len(ITEMS): slot k is clerk k % 4's
        ),
    )
    seconds = time.perf_counter() - start
    return {"events": total * per_ticket, "statuses": statuses, "seconds": round(seconds, 2)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--rate", type=float, default=500.0)
    parser.add_argument("--duration", type=float, default=60.0)
    parser.add_argument("--connections", type=int, default=4, help="terminal connections")
    parser.add_argument("--mix", choices=("flow", "issue"), default="flow")
    args = parser.parse_args()
    result = asyncio.run(run(args.port, args.rate, args.duration, args.connections, args.mix))
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()

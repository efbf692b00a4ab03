"""Provides `DisplayFeed`: the call display's connection to the hall (login, snapshot, stream).

It reads only the display endpoints, which carry ticket numbers, window and service item codes
and counts: nothing the display could show about a person. The token stays in memory.
"""

from __future__ import annotations

from pathlib import Path

from api_client.client import Client
from api_client.event_stream import EventStream, ReconnectPolicy, StateListener
from api_client.models import DisplayBoard

__all__ = ["ANNOUNCED", "RECALLED", "DisplayFeed"]

ANNOUNCED = frozenset({"ticket.called", "ticket.recall"})
"""Event types that send a visitor to a window (call next, call a chosen ticket, recall)."""
RECALLED = "ticket.recall"


class DisplayFeed:
    """One display's session with the hall's API server."""

    def __init__(
        self,
        server_url: str,
        *,
        hall: str | None = None,
        ca_file: Path | None = None,
        calls: int = 8,
        policy: ReconnectPolicy | None = None,
    ) -> None:
        self.client = Client(server_url, ca_file=ca_file)
        self.hall = hall
        self.calls = calls
        self.policy = policy
        self.stream: EventStream | None = None

    async def login(self, username: str, password: str) -> None:
        await self.client.login(username, password)

    async def board(self) -> DisplayBoard:
        return await self.client.display(hall=self.hall, limit=self.calls)

    def follow(self, after: int, on_state: StateListener | None = None) -> EventStream:
        """The display's event stream from just after the snapshot `after` was taken at."""
        self.stream = EventStream(
            self.client,
            after=after,
            policy=self.policy,
            on_state=on_state,
            path=Client.display_events_path(self.hall),
        )
        return self.stream

    async def aclose(self) -> None:
        stream, self.stream = self.stream, None
        if stream is not None:
            await stream.aclose()
        await self.client.aclose()

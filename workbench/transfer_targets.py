"""Provides what a transfer dialog offers: every other window with its state, whether a clerk is
at it, what it serves, and whether the server would take the ticket there (it refuses a paused
or closed window)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from api_client.errors import Unavailable
from api_client.models import Window

if TYPE_CHECKING:
    from workbench.services import DeskService

__all__ = ["TransferTarget", "load_transfer_targets", "transfer_targets"]


@dataclass(frozen=True)
class TransferTarget:
    code: str
    name: str
    name_en: str
    state: str
    """open, paused or closed."""
    clerk: str | None
    service_items: tuple[str, ...]
    serves_item: bool
    """It serves the ticket's service item (a ticket may still be sent to any open window)."""

    @property
    def open(self) -> bool:
        """The server takes a ticket here (a paused or closed window is refused)."""
        return self.state == "open"

    @property
    def staffed(self) -> bool:
        """Someone is logged in: sent here while nobody is, the ticket waits (the board warns)."""
        return self.clerk is not None


def transfer_targets(
    windows: Iterable[Window], *, here: str | None, service_item: str | None
) -> list[TransferTarget]:
    """The windows a ticket at `here` may go to, best first: open and staffed, serving its item,
    then by window number; the windows the server would refuse come last."""
    targets = [
        (
            window.number,
            TransferTarget(
                code=window.code,
                name=window.name,
                name_en=window.name_en,
                state=window.state,
                clerk=window.clerk,
                service_items=tuple(window.service_items),
                serves_item=service_item in window.service_items,
            ),
        )
        for window in windows
        if window.code != here
    ]
    targets.sort(
        key=lambda pair: (not pair[1].open, not pair[1].staffed, not pair[1].serves_item, pair[0])
    )
    return [target for _, target in targets]


async def load_transfer_targets(
    service: DeskService, *, service_item: str | None, here: str | None = None
) -> list[TransferTarget]:
    """`transfer_targets` from the windows as they are now (states change during the day; the
    desk's cached list is not enough), away from `here` (the desk's own window by default)."""
    try:
        windows = list((await service.ws.client.windows()).items)
    except Unavailable:  # offline: the transfer goes through the outbox; states as last known
        windows = list(service.windows.values())
    return transfer_targets(windows, here=here or service.window, service_item=service_item)

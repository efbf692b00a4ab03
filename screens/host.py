"""Provides `DeskHost`, what screens need of the app, and `OpenMain`, their way to ask for more.

Screens never import the app (it imports them): they reach the desk through this protocol and
ask for navigation the app owns by posting a message that bubbles up to it.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Protocol

from textual.message import Message

if TYPE_CHECKING:
    from workbench.services import DeskService

__all__ = ["DeskHost", "OpenMain"]


class DeskHost(Protocol):
    """The app as the screens see it."""

    @property
    def service(self) -> DeskService:
        """The desk (made on first use)."""
        ...

    def warm_up(self) -> asyncio.Future[None]:
        """Resolves once the client stack and the desk are loaded (started once)."""
        ...


class OpenMain(Message):
    """Show the signed-in user's main screen: the board or the desk, by role (posted after a
    login, or by a screen that is not this user's)."""

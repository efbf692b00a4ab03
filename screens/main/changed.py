"""Provides `Changed`: what the main screen's parts post when a call to the hall is done."""

from __future__ import annotations

from textual.message import Message
from textual.notifications import SeverityLevel

__all__ = ["Changed"]


class Changed(Message):
    """A worker finished: something may have to be shown (and `note` said)."""

    def __init__(self, note: str | None = None, severity: SeverityLevel = "information") -> None:
        super().__init__()
        self.note = note
        self.severity = severity

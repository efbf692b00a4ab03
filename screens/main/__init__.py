"""Provides the clerk's main screen: `MainScreen` and the parts it is made of."""

from screens.main.screen import MainScreen
from screens.main.ticket_actions import OUTCOMES
from screens.main.window_actions import PAUSE_REASONS

__all__ = ["OUTCOMES", "PAUSE_REASONS", "MainScreen"]

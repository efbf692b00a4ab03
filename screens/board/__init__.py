"""Provides the supervisor's board and the widgets it is made of (see `screens.board.screen`)."""

from screens.board.screen import REPAINT_SECONDS, BoardScreen

__all__ = ["REPAINT_SECONDS", "BoardScreen"]

"""Provides the case screen and the widgets it is made of (see `screens.case.screen`)."""

from screens.case.decisions import DECISIONS, REJECT_REASONS
from screens.case.screen import CaseScreen

__all__ = ["DECISIONS", "REJECT_REASONS", "CaseScreen"]

"""Provides the workbench's Textual themes and the path of its stylesheet."""

from themes.palettes import (
    APP_VARIABLES,
    DEFAULT_THEME,
    THEMES,
    theme_names,
)

__all__ = ["APP_VARIABLES", "DEFAULT_THEME", "STYLESHEET", "THEMES", "theme_names"]

from pathlib import Path

STYLESHEET = Path(__file__).parent / "workbench.tcss"

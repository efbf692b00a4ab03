"""Provides `beside`: the TCSS file next to a screen's or widget's module, as its DEFAULT_CSS.

A widget can only have default CSS; a screen could name its file in `CSS_PATH`, but that CSS
applies to the whole app, unscoped, and ranks with the app's own stylesheet (the theme's), so
screens load theirs as default CSS too: scoped to the class, and below the theme's rules.
"""

from __future__ import annotations

from pathlib import Path

__all__ = ["beside"]


def beside(module_file: str, name: str | None = None) -> str:
    """The text of `name`.tcss (by default the module's own name) in the module's folder."""
    path = Path(module_file)
    return path.with_name(f"{name or path.stem}.tcss").read_text(encoding="utf-8")

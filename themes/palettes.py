"""Provides the three workbench themes (default, dark hall, high contrast) as Textual `Theme`s.

Besides Textual's own colours each theme defines the app's variables, used by name in the
stylesheet and by the widgets that colour cells (`$clock-on-track`, `$clock-due-soon`,
`$clock-overdue`, `$clock-paused`, `$priority`, `$offline-banner`, `$alarm`): colours live here and
nowhere else.
"""

from __future__ import annotations

from textual.theme import Theme

__all__ = ["APP_VARIABLES", "DEFAULT_THEME", "THEMES", "theme_names"]

DEFAULT_THEME = "workbench-dark"

APP_VARIABLES: dict[str, str] = {
    "clock-on-track": "#2e7d32",
    "clock-due-soon": "#b26a00",
    "clock-overdue": "#c62828",
    "clock-paused": "#607d8b",
    "priority": "#6a1b9a",
    "offline-banner": "#c62828",
    "alarm": "#c62828",
    "masked": "#78909c",
}
"""Fallback values; every theme below sets each of them."""

WORKBENCH_LIGHT = Theme(
    name="workbench",
    primary="#1f5fa8",
    secondary="#2f7d6d",
    accent="#b5651d",
    warning="#b26a00",
    error="#c62828",
    success="#2e7d32",
    foreground="#1d2430",
    background="#f4f6f9",
    surface="#ffffff",
    panel="#e3e8ef",
    dark=False,
    variables={
        **APP_VARIABLES,
        "footer-key-foreground": "#1f5fa8",
    },
)

WORKBENCH_DARK = Theme(
    name="workbench-dark",
    primary="#4f9cf0",
    secondary="#4fb3a0",
    accent="#e0a050",
    warning="#e0a030",
    error="#ef5350",
    success="#66bb6a",
    foreground="#dfe6ee",
    background="#141a22",
    surface="#1b232e",
    panel="#243040",
    dark=True,
    variables={
        "clock-on-track": "#66bb6a",
        "clock-due-soon": "#ffb74d",
        "clock-overdue": "#ef5350",
        "clock-paused": "#90a4ae",
        "priority": "#ce93d8",
        "offline-banner": "#b71c1c",
        "alarm": "#ff1744",
        "masked": "#90a4ae",
        "footer-key-foreground": "#4f9cf0",
    },
)

HIGH_CONTRAST = Theme(
    name="workbench-contrast",
    primary="#ffff00",
    secondary="#00ffff",
    accent="#ff00ff",
    warning="#ffff00",
    error="#ff3030",
    success="#00ff00",
    foreground="#ffffff",
    background="#000000",
    surface="#000000",
    panel="#1a1a1a",
    boost="#333333",
    dark=True,
    variables={
        "clock-on-track": "#00ff00",
        "clock-due-soon": "#ffff00",
        "clock-overdue": "#ff3030",
        "clock-paused": "#ffffff",
        "priority": "#ff00ff",
        "offline-banner": "#ff0000",
        "alarm": "#ff0000",
        "masked": "#ffffff",
        "footer-key-foreground": "#ffff00",
        "block-cursor-background": "#ffff00",
        "block-cursor-foreground": "#000000",
        "block-cursor-text-style": "bold",
    },
)

THEMES: tuple[Theme, ...] = (WORKBENCH_LIGHT, WORKBENCH_DARK, HIGH_CONTRAST)


def theme_names() -> list[str]:
    return [theme.name for theme in THEMES]

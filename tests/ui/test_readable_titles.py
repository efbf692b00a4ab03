"""Panel titles read in every theme: each bordered panel's title against what is behind it has
at least WCAG's 4.5:1 contrast (the board's titles were dark on dark in the browser view)."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.color import Color
from textual.widget import Widget

from tests.conftest import Backend
from tests.ui.test_board import supervisor_logs_in
from tests.ui.test_clerk_flow import SIZE, make_app, settle
from themes import theme_names

MINIMUM_CONTRAST = 4.5


def luminance(color: Color) -> float:
    def channel(value: int) -> float:
        c = value / 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    return 0.2126 * channel(color.r) + 0.7152 * channel(color.g) + 0.0722 * channel(color.b)


def contrast(one: Color, other: Color) -> float:
    high, low = sorted((luminance(one), luminance(other)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def title_and_background(widget: Widget) -> tuple[Color, Color]:
    styles = widget.styles
    behind = widget.background_colors[0]  # the parent's background: a title sits on the border
    title = styles.border_title_color
    if title.a == 0:  # unset: Textual draws the title in the border's colour
        title = styles.border_top[1]
    return behind + title, behind


@pytest.mark.parametrize("theme", theme_names())
async def test_every_panel_title_on_the_board_reads(
    fresh_backend: Backend, tmp_path: Path, theme: str
) -> None:
    app = make_app(fresh_backend, tmp_path, theme=theme)
    async with app.run_test(size=SIZE) as pilot:
        screen = await supervisor_logs_in(app, pilot)
        await settle(app, pilot)
        titled = [w for w in screen.query("*") if w.border_title and w.styles.border_top[0]]
        assert len(titled) >= 4, [w.id for w in titled]
        for widget in titled:
            title, behind = title_and_background(widget)
            ratio = contrast(title, behind)
            assert ratio >= MINIMUM_CONTRAST, (theme, widget.id, str(title), str(behind), ratio)

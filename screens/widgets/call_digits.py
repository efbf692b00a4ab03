"""Provides `CallDigits`: Textual's `Digits` widget, able to draw ticket prefixes (GA, HY, …).

Textual's 3x3 font has digits and A–F only; ticket numbers start with any two letters. The
letters and the arrow are drawn here in the same box-drawing style; everything else is drawn
by Textual's own font.
"""

from __future__ import annotations

from typing import cast

from rich.align import Align, AlignMethod
from rich.console import Console, ConsoleOptions, RenderResult
from rich.measure import Measurement
from rich.segment import Segment
from rich.style import Style
from textual.app import RenderResult as WidgetRenderResult
from textual.geometry import Size
from textual.renderables.digits import DIGITS, DIGITS3X3_BOLD
from textual.widgets import Digits

__all__ = ["CallDigits", "CallGlyphs"]

_LETTERS: dict[str, tuple[str, str, str]] = {
    "G": ("┏━╸", "┃╺┓", "┗━┛"),
    "H": ("╻ ╻", "┣━┫", "╹ ╹"),
    "I": ("╺┳╸", " ┃ ", "╺┻╸"),
    "J": ("  ╻", "  ┃", "┗━┛"),
    "K": ("╻ ╻", "┣┳┛", "╹┗╸"),
    "L": ("╻  ", "┃  ", "┗━╸"),
    "M": ("┏┳┓", "┃┃┃", "╹╹╹"),
    "N": ("┏┓╻", "┃┃┃", "╹┗┛"),
    "O": ("┏━┓", "┃ ┃", "┗━┛"),
    "P": ("┏━┓", "┣━┛", "╹  "),
    "Q": ("┏━┓", "┃ ┃", "┗━╋"),
    "R": ("┏━┓", "┣┳┛", "╹┗╸"),
    "S": ("┏━╸", "┗━┓", "╺━┛"),
    "T": ("╺┳╸", " ┃ ", " ╹ "),
    "U": ("╻ ╻", "┃ ┃", "┗━┛"),
    "V": ("╻ ╻", "┃ ┃", "┗┳┛"),
    "W": ("╻╻╻", "┃┃┃", "┗┻┛"),
    "X": ("╻ ╻", "┗┳┛", "┏┻┓"),
    "Y": ("╻ ╻", "┗┳┛", " ╹ "),
    "Z": ("╺━┓", "┏━┛", "┗━╸"),
    "→": ("   ", "━━▶", "   "),
}


class CallGlyphs:
    """A Rich renderable: `text` in the 3x3 font, Textual's glyphs first, then ours."""

    def __init__(self, text: str, style: Style) -> None:
        self.text = text.upper()
        self.style = style

    @staticmethod
    def width(text: str) -> int:
        return sum(3 if c in DIGITS or c in _LETTERS else 1 for c in text.upper())

    def rows(self) -> list[str]:
        font = DIGITS3X3_BOLD  # heavy strokes, like the letters: read from across the hall
        rows: list[list[str]] = [[], [], []]
        for character in self.text:
            if character in DIGITS:
                at = DIGITS.index(character) * 3
                glyph = (font[at], font[at + 1], font[at + 2])
            else:
                glyph = _LETTERS.get(character, (" ", " ", character))
            width = 3 if character in DIGITS or character in _LETTERS else 1
            for row, piece in zip(rows, glyph, strict=True):
                row.append(piece.ljust(width))
        return ["".join(row) for row in rows]

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        for line in self.rows():
            yield Segment(line, self.style)
            yield Segment.line()

    def __rich_measure__(self, console: Console, options: ConsoleOptions) -> Measurement:
        width = self.width(self.text)
        return Measurement(width, width)


class CallDigits(Digits):
    """`Digits` that also draws letters, for "GA023 → 5"."""

    def render(self) -> WidgetRenderResult:
        style = self.rich_style
        align = self.styles.text_align
        method = align if align in {"left", "center", "right"} else "left"
        return Align(CallGlyphs(self.value, style), cast(AlignMethod, method), style)

    def get_content_width(self, container: Size, viewport: Size) -> int:
        return CallGlyphs.width(self.value)

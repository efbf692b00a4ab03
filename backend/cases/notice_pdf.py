"""Provides a notice as A4 PDF: the bilingual lines of `backend.cases.notices` wrapped, paginated
and drawn with reportlab's built-in CID font STSong-Light (Chinese renders, and can be extracted
again, without embedding a font file)."""

from __future__ import annotations

import io
import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from functools import cache
from typing import Final

from reportlab.lib.pagesizes import A4
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfgen.canvas import Canvas

from backend.cases.notices import (
    FONT_NAME,
    NOTICE_TITLES,
    LineStyle,
    NoticeDocument,
    NoticeLine,
    gap_before,
    notice_lines,
)

PAGE_WIDTH, PAGE_HEIGHT = A4
MARGIN: Final = 56.0
CONTENT_WIDTH: Final = PAGE_WIDTH - 2 * MARGIN
CONTENT_TOP: Final = PAGE_HEIGHT - 64.0
CONTENT_BOTTOM: Final = 56.0
LEADING: Final = 1.45
MUTED_GRAY: Final = 0.35


@dataclass(frozen=True)
class _PdfStyle:
    size: float
    en_size: float
    indent: float = 0.0
    en_indent: float = 0.0
    gap: float = 8.0
    centred: bool = False


_PDF_STYLES: Final[Mapping[LineStyle, _PdfStyle]] = {
    "title": _PdfStyle(18, 12, centred=True),
    "meta": _PdfStyle(10, 8.5, gap=14),
    "heading": _PdfStyle(12, 10, gap=12),
    "greeting": _PdfStyle(10.5, 9, gap=14),
    "body": _PdfStyle(10.5, 9),
    "item": _PdfStyle(10.5, 9, en_indent=16, gap=4),
    "detail": _PdfStyle(10, 8.5, indent=16, en_indent=16),
    "signature": _PdfStyle(10.5, 9, gap=24),
    "footer": _PdfStyle(10.5, 9, gap=18),
}


@dataclass(frozen=True)
class _Row:
    """One laid-out line of text; `y` is its baseline once placed on a page."""

    text: str
    size: float
    x: float
    muted: bool
    centred: bool
    space_before: float = 0.0
    y: float = 0.0

    @property
    def height(self) -> float:
        return self.size * LEADING


@cache
def _font() -> str:
    """Registers STSong-Light (once, on first use) and returns its name."""
    pdfmetrics.registerFont(UnicodeCIDFont(FONT_NAME))
    return FONT_NAME


_TOKEN: Final = re.compile(r"[!-~]+|\s+|.")
_NO_LINE_START: Final = frozenset("，。、；：？！）》」』”’】〉…,.;:?!)%")
_NO_LINE_END: Final = frozenset("（《「『“‘【〈(")


def _tokens(paragraph: str) -> list[str]:
    """Unbreakable pieces: ASCII words, runs of spaces, single CJK characters with their
    punctuation kept on the same line (no line starts with '，' or ends with '（')."""
    tokens: list[str] = []
    for token in _TOKEN.findall(paragraph):
        glue = token[0] in _NO_LINE_START or bool(tokens and tokens[-1][-1] in _NO_LINE_END)
        if tokens and glue and not tokens[-1].isspace() and not token.isspace():
            tokens[-1] += token
        else:
            tokens.append(token)
    return tokens


def _width(text: str, size: float) -> float:
    return float(pdfmetrics.stringWidth(text, _font(), size))


def _longest_prefix(text: str, size: float, width: float) -> str:
    end = 1
    while end < len(text) and _width(text[: end + 1], size) <= width:
        end += 1
    return text[:end]


def _wrap_paragraph(paragraph: str, size: float, width: float) -> list[str]:
    lines: list[str] = []
    current = ""
    for token in _tokens(paragraph):
        if _width(current + token, size) <= width:
            current += token
            continue
        if current.strip():
            lines.append(current.rstrip())
        current = "" if token.isspace() else token
        while _width(current, size) > width:
            head = _longest_prefix(current, size, width)
            lines.append(head)
            current = current[len(head) :]
    if current.strip() or not lines:
        lines.append(current.rstrip())
    return lines


def wrap_text(text: str, size: float, width: float) -> list[str]:
    """Splits `text` into lines no wider than `width` points in STSong-Light at `size`.

    Chinese has no spaces, so a line may break between any two CJK characters; ASCII words
    break only at spaces (or by character when a word alone is wider than the line).
    """
    return [
        line
        for paragraph in text.splitlines() or [""]
        for line in _wrap_paragraph(paragraph, size, width)
    ]


def _rows(line: NoticeLine, gap: bool) -> list[_Row]:
    style = _PDF_STYLES[line.style]
    rows: list[_Row] = []
    parts = (
        (line.zh, style.size, style.indent, False),
        (line.en, style.en_size, style.en_indent, True),
    )
    for text, size, indent, muted in parts:
        if not text:
            continue
        for piece in wrap_text(text, size, CONTENT_WIDTH - indent):
            space = style.gap if gap and not rows else 0.0
            rows.append(_Row(piece, size, MARGIN + indent, muted, style.centred, space))
    return rows


def _blocks(lines: list[NoticeLine]) -> list[list[_Row]]:
    """Rows grouped into blocks that stay on one page; a heading stays with what follows it."""
    blocks: list[list[_Row]] = []
    previous: NoticeLine | None = None
    for line in lines:
        rows = _rows(line, gap_before(previous, line))
        if previous is not None and previous.style == "heading":
            blocks[-1].extend(rows)
        else:
            blocks.append(rows)
        previous = line
    return blocks


class _Pager:
    """Places blocks of rows top to bottom, starting a new page when a block does not fit."""

    def __init__(self) -> None:
        self.pages: list[list[_Row]] = [[]]
        self.y = CONTENT_TOP

    def _new_page(self) -> None:
        self.pages.append([])
        self.y = CONTENT_TOP

    def place(self, block: list[_Row]) -> None:
        height = sum(row.space_before + row.height for row in block)
        if self.pages[-1] and self.y - height < CONTENT_BOTTOM:
            self._new_page()
        for row in block:
            if self.pages[-1] and self.y - row.space_before - row.height < CONTENT_BOTTOM:
                self._new_page()
            space = row.space_before if self.pages[-1] else 0.0
            self.y -= space + row.height
            self.pages[-1].append(replace(row, y=self.y))


def _paginate(doc: NoticeDocument) -> list[list[_Row]]:
    pager = _Pager()
    for block in _blocks(notice_lines(doc)):
        pager.place(block)
    return pager.pages


def _draw_row(pdf: Canvas, row: _Row) -> None:
    pdf.setFont(_font(), row.size)
    pdf.setFillGray(MUTED_GRAY if row.muted else 0.0)
    if row.centred:
        pdf.drawCentredString(PAGE_WIDTH / 2, row.y, row.text)
    else:
        pdf.drawString(row.x, row.y, row.text)


def _draw_running_header(pdf: Canvas, doc: NoticeDocument) -> None:
    title_zh, title_en = NOTICE_TITLES[doc.kind]
    pdf.setFont(_font(), 8)
    pdf.setFillGray(MUTED_GRAY)
    pdf.drawString(MARGIN, PAGE_HEIGHT - 40, f"{title_zh} {title_en}")
    pdf.drawRightString(
        PAGE_WIDTH - MARGIN, PAGE_HEIGHT - 40, f"办件编号 Case No. {doc.case_number}"
    )
    pdf.setStrokeGray(MUTED_GRAY)
    pdf.setLineWidth(0.5)
    pdf.line(MARGIN, PAGE_HEIGHT - 46, PAGE_WIDTH - MARGIN, PAGE_HEIGHT - 46)


def _draw_page_number(pdf: Canvas, doc: NoticeDocument, number: int, total: int) -> None:
    pdf.setFont(_font(), 8)
    pdf.setFillGray(MUTED_GRAY)
    pdf.drawString(MARGIN, 30, doc.notice_number)
    label = f"第 {number} 页 / 共 {total} 页  Page {number} of {total}"
    pdf.drawRightString(PAGE_WIDTH - MARGIN, 30, label)


def render_notice_pdf(doc: NoticeDocument) -> bytes:
    """The notice as an A4 PDF: wrapped bilingual lines, as many pages as needed, numbered."""
    pages = _paginate(doc)
    buffer = io.BytesIO()
    pdf = Canvas(buffer, pagesize=A4, invariant=True)
    pdf.setTitle(f"{NOTICE_TITLES[doc.kind][0]} {doc.notice_number}")
    pdf.setAuthor(doc.hall_name)
    pdf.setSubject(doc.case_number)
    pdf.setCreator("Service Workbench")
    for number, rows in enumerate(pages, start=1):
        if number > 1:
            _draw_running_header(pdf, doc)
        for row in rows:
            _draw_row(pdf, row)
        _draw_page_number(pdf, doc, number, len(pages))
        pdf.showPage()
    pdf.save()
    return buffer.getvalue()

"""Provides what a document is, told from its bytes alone: the media type sniffed from its
signature (never the name or the declared type) and its pages, refusing what the hall does not
handle, broken or encrypted PDFs and decompression bombs."""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import BinaryIO

from PIL import Image, UnidentifiedImageError
from pypdf import PdfReader

from backend.problems import (
    DocumentEncrypted,
    DocumentTooManyPages,
    DocumentTooManyPixels,
    DocumentTypeUnsupported,
    DocumentUnreadable,
)

SIGNATURES = (
    (b"%PDF-", "application/pdf"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"II*\x00", "image/tiff"),
    (b"MM\x00*", "image/tiff"),
)
HANDLED = tuple(sorted({media_type for _, media_type in SIGNATURES}))
PILLOW_FORMATS = {"image/jpeg": "JPEG", "image/png": "PNG", "image/tiff": "TIFF"}
SNIFF_BYTES = 8


@dataclass(frozen=True)
class Inspected:
    media_type: str
    pages: int


def sniff(head: bytes) -> str:
    """The media type the first bytes announce; refused (415) when it is none the hall takes."""
    for signature, media_type in SIGNATURES:
        if head.startswith(signature):
            return media_type
    raise DocumentTypeUnsupported(
        f"The content is none of {', '.join(HANDLED)} (told from its bytes, not its name or "
        "declared type): send a PDF or a scanned image.",
        supported=list(HANDLED),
    )


def inspect_document(stream: BinaryIO, max_pages: int) -> Inspected:
    """The media type and the pages of a document (its plaintext, seekable); refuses it with
    415 or 422 naming why."""
    media_type = sniff(stream.read(SNIFF_BYTES))
    stream.seek(0)
    if media_type == "application/pdf":
        pages = _pdf_pages(stream)
    else:
        pages = _image_pages(stream, media_type)
    if pages > max_pages:
        raise DocumentTooManyPages(
            f"The document has {pages} pages; at most {max_pages} are taken: split it.",
            pages=pages,
            max_pages=max_pages,
        )
    return Inspected(media_type, pages)


def _pdf_pages(stream: BinaryIO) -> int:
    try:
        reader = PdfReader(stream, strict=False)
        if reader.is_encrypted:
            raise DocumentEncrypted(
                "The PDF is encrypted (password-protected): send it without the protection."
            )
        pages = len(reader.pages)
    except DocumentEncrypted:
        raise
    except Exception as exc:  # pypdf raises many kinds on broken input
        raise DocumentUnreadable(
            f"The PDF cannot be read ({type(exc).__name__}): scan or export it again."
        ) from exc
    if pages < 1:
        raise DocumentUnreadable("The PDF has no pages: scan or export it again.")
    return pages


def _image_pages(stream: BinaryIO, media_type: str) -> int:
    limit = Image.MAX_IMAGE_PIXELS
    try:
        with warnings.catch_warnings():
            # Pillow warns above its pixel limit and refuses above twice it: both are refused
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(stream, formats=[PILLOW_FORMATS[media_type]]) as image:
                tiff = media_type == "image/tiff"
                pages = int(getattr(image, "n_frames", 1)) if tiff else 1
                image.verify()
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise DocumentTooManyPixels(
            f"The image has more pixels than the {limit} taken (a decompression bomb?): "
            "scan it at a lower resolution.",
            max_pixels=limit,
        ) from exc
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise DocumentUnreadable(
            f"The image cannot be read ({type(exc).__name__}): scan it again."
        ) from exc
    return pages

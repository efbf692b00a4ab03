"""Provides the documents' encryption at rest: AES-256-GCM over fixed-size frames, and the key.

A stored document is a run of frames, each sealing `CHUNK` bytes of the plaintext (the last one
fewer): a fresh 12-byte random nonce, then the ciphertext and its 16-byte tag. Each frame's
associated data binds it to the document's SHA-256, its index and whether it is the last, so a
frame cannot be moved, dropped, swapped with another document's or the document cut short
without the tag failing. Fixed-size frames make the plaintext seekable (`SealedReader`): a PDF
is checked from its sealed bytes without ever being written out in the clear.
"""

from __future__ import annotations

import base64
import binascii
import io
import os
from collections.abc import Callable
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

CHUNK = 64 * 1024
NONCE = 12
TAG = 16
FRAME = NONCE + CHUNK + TAG
KEY_BYTES = 32


class DocumentDamaged(Exception):
    """A stored frame fails its tag or is missing: altered, cut short or sealed with another
    key."""


class KeyUnusable(Exception):
    """The configured key is not 32 bytes of base64."""


def load_key(configured: str | None, key_file: Path) -> bytes:
    """The configured base64 key, or the key file's (generated once, mode 0600)."""
    if configured:
        try:
            key = base64.b64decode(configured.strip(), validate=True)
        except (binascii.Error, ValueError) as exc:
            raise KeyUnusable("WORKBENCH_DOCUMENT_KEY is not base64") from exc
        if len(key) != KEY_BYTES:
            raise KeyUnusable(f"WORKBENCH_DOCUMENT_KEY holds {len(key)} bytes, not {KEY_BYTES}")
        return key
    key_file.parent.mkdir(parents=True, exist_ok=True)
    try:
        descriptor = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return load_key(key_file.read_text().strip(), key_file)
    with os.fdopen(descriptor, "w") as out:
        out.write(base64.b64encode(AESGCM.generate_key(bit_length=256)).decode() + "\n")
        out.flush()
        os.fsync(out.fileno())
    return load_key(key_file.read_text().strip(), key_file)


def _associated(sha256: str, index: int, last: bool) -> bytes:
    return sha256.encode() + index.to_bytes(8, "big") + (b"\x01" if last else b"\x00")


def frame_count(size: int) -> int:
    return -(-size // CHUNK)


class Sealer:
    """Seals and opens the frames of documents with one key."""

    def __init__(self, key: bytes) -> None:
        self._aead = AESGCM(key)

    def seal(self, sha256: str, index: int, last: bool, plaintext: bytes) -> bytes:
        nonce = os.urandom(NONCE)
        return nonce + self._aead.encrypt(nonce, plaintext, _associated(sha256, index, last))

    def open(self, sha256: str, index: int, last: bool, frame: bytes) -> bytes:
        try:
            return self._aead.decrypt(
                frame[:NONCE], frame[NONCE:], _associated(sha256, index, last)
            )
        except InvalidTag as exc:
            raise DocumentDamaged(f"frame {index} of {sha256} fails its tag") from exc


class SealedReader(io.RawIOBase):
    """The plaintext of a sealed document as a seekable binary stream, opened frame by frame
    (one frame held at a time)."""

    def __init__(
        self, sealer: Sealer, sha256: str, size: int, frame_at: Callable[[int], bytes]
    ) -> None:
        self._sealer, self._sha256, self._size, self._frame_at = sealer, sha256, size, frame_at
        self._frames = frame_count(size)
        self._position = 0
        self._cached: tuple[int, bytes] | None = None

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._position

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._position, io.SEEK_END: self._size}[whence]
        self._position = max(0, base + offset)
        return self._position

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        if self._position >= self._size:
            return 0
        index, start = divmod(self._position, CHUNK)
        plain = self._plain(index)
        piece = plain[start : start + len(buffer)]
        buffer[: len(piece)] = piece
        self._position += len(piece)
        return len(piece)

    def _plain(self, index: int) -> bytes:
        if self._cached is None or self._cached[0] != index:
            frame = self._frame_at(index)
            last = index == self._frames - 1
            self._cached = (index, self._sealer.open(self._sha256, index, last, frame))
        return self._cached[1]

"""Provides `DocumentStore`: documents named by the SHA-256 of their bytes, stored once, sealed,
behind one small interface (`put`, `exists`, `get`) with a backend for the hall (files) and one
for the city (PostgreSQL).

An upload streams to a sealed staging file while it is hashed and counted; only when its hash
matches the one claimed and its bytes pass inspection does the backend keep it and its
`documents` row get written (with its event). Whatever is refused leaves nothing behind.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import io
import os
import uuid
from abc import ABC, abstractmethod
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, BinaryIO

from sqlalchemy import Connection, insert, select
from sqlalchemy.exc import IntegrityError

from backend.db.engine import Database
from backend.db.event_log import Actor, append_event
from backend.db.schema import documents
from backend.documents.inspection import inspect_document
from backend.documents.sealing import (
    CHUNK,
    FRAME,
    DocumentDamaged,
    SealedReader,
    Sealer,
    frame_count,
)
from backend.problems import DocumentEmpty, DocumentHashMismatch, PayloadTooLarge


@dataclass(frozen=True)
class StoredDocument:
    sha256: str
    media_type: str
    size: int
    pages: int

    def wire(self) -> dict[str, Any]:
        return {
            "sha256": self.sha256,
            "media_type": self.media_type,
            "size": self.size,
            "pages": self.pages,
        }


@dataclass(frozen=True)
class Uploader:
    """Who uploads (for the event), and when."""

    actor: Actor
    hall_id: int
    now: datetime


class Staged:
    """An upload sealed into a staging file as it arrives (hashed and counted on the way)."""

    def __init__(self, path: Path, sealer: Sealer, claimed: str, max_bytes: int) -> None:
        self.path, self.sealer, self.claimed, self.max_bytes = path, sealer, claimed, max_bytes
        self.size = 0
        self._digest = hashlib.sha256()
        self._pending = bytearray()
        self._frames = 0
        self._out: BinaryIO = path.open("xb")

    def feed(self, piece: bytes) -> None:
        self.size += len(piece)
        if self.size > self.max_bytes:
            raise PayloadTooLarge(f"Documents are limited to {self.max_bytes} bytes.")
        self._digest.update(piece)
        self._pending += piece
        # a full chunk is sealed once more bytes follow it: only then is it known not to be last
        while len(self._pending) > CHUNK:
            self._seal(bytes(self._pending[:CHUNK]), last=False)
            del self._pending[:CHUNK]

    def finish(self) -> None:
        """Seal the last frame and check what arrived against what was claimed."""
        if self.size == 0:
            raise DocumentEmpty("The document has no bytes: send the file itself.")
        actual = self._digest.hexdigest()
        if actual != self.claimed:
            raise DocumentHashMismatch(
                f"The bytes received hash to {actual}, not the {self.claimed} in the path: "
                "the upload was damaged or the wrong file was sent. Send it again.",
                received_sha256=actual,
            )
        self._seal(bytes(self._pending), last=True)
        self._pending.clear()
        self._out.flush()
        os.fsync(self._out.fileno())
        self._out.close()

    def _seal(self, plaintext: bytes, last: bool) -> None:
        self._out.write(self.sealer.seal(self.claimed, self._frames, last, plaintext))
        self._frames += 1

    def reader(self) -> io.BufferedReader:
        handle = self.path.open("rb")

        def frame_at(index: int) -> bytes:
            handle.seek(index * FRAME)
            return handle.read(FRAME)

        return io.BufferedReader(SealedReader(self.sealer, self.claimed, self.size, frame_at))

    def frames(self) -> Iterator[bytes]:
        with self.path.open("rb") as handle:
            while frame := handle.read(FRAME):
                yield frame

    def discard(self) -> None:
        with contextlib.suppress(OSError):
            self._out.close()
        self.path.unlink(missing_ok=True)


def find_document(conn: Connection, sha256: str) -> StoredDocument | None:
    row = conn.execute(select(documents).where(documents.c.sha256 == sha256)).first()
    if row is None:
        return None
    return StoredDocument(row.sha256, row.media_type, row.size, row.pages)


def record_document(conn: Connection, document: StoredDocument, uploader: Uploader) -> bool:
    """The document's row and its event; False when another upload recorded it first."""
    if find_document(conn, document.sha256) is not None:
        return False
    conn.execute(insert(documents).values(**document.wire(), stored_at=uploader.now))
    append_event(
        conn,
        hall_id=uploader.hall_id,
        type="document.stored",
        subject_type="document",
        subject_id=document.sha256,
        actor=uploader.actor,
        at=uploader.now,
        payload={"media_type": document.media_type, "size": document.size},
    )
    return True


class DocumentStore(ABC):
    """Documents by SHA-256, sealed; the backend says where their frames are kept."""

    def __init__(
        self, db: Database, sealer: Sealer, staging_dir: Path, max_bytes: int, max_pages: int
    ) -> None:
        self.db, self.sealer, self.staging_dir = db, sealer, staging_dir
        self.max_bytes, self.max_pages = max_bytes, max_pages
        staging_dir.mkdir(parents=True, exist_ok=True)

    async def put(
        self, sha256: str, body: AsyncIterator[bytes], uploader: Uploader
    ) -> tuple[StoredDocument, bool]:
        """Store the body under `sha256` (checked); the document and whether it is new."""
        staged = Staged(
            self.staging_dir / f"{uuid.uuid4().hex}.part", self.sealer, sha256, self.max_bytes
        )
        try:
            async for piece in body:
                if piece:
                    await asyncio.to_thread(staged.feed, piece)
            await asyncio.to_thread(staged.finish)
            inspected = await asyncio.to_thread(self._inspect, staged)
            document = StoredDocument(sha256, inspected.media_type, staged.size, inspected.pages)
            existing = await self.exists(sha256)
            if existing is not None:
                return existing, False
            await asyncio.to_thread(self._keep, staged)
            try:
                created = await self.db.write(record_document, document, uploader)
            except IntegrityError:
                created = False
            return document, created
        finally:
            await asyncio.to_thread(staged.discard)

    def _inspect(self, staged: Staged) -> Any:
        with staged.reader() as reader:
            return inspect_document(reader, self.max_pages)

    async def exists(self, sha256: str) -> StoredDocument | None:
        return await self.db.read(find_document, sha256)

    def get(self, document: StoredDocument) -> Iterator[bytes]:
        """The plaintext, chunk by chunk (blocking: iterate on a thread). Raises
        `DocumentDamaged` when a frame or the whole fails its check."""
        digest = hashlib.sha256()
        frames = frame_count(document.size)
        seen = 0
        for index, frame in enumerate(self._frames(document)):
            if index >= frames:
                raise DocumentDamaged(f"{document.sha256} has more frames than its size")
            plain = self.sealer.open(document.sha256, index, index == frames - 1, frame)
            digest.update(plain)
            seen = index + 1
            if seen == frames and digest.hexdigest() != document.sha256:
                raise DocumentDamaged(f"{document.sha256} no longer hashes to its name")
            yield plain
        if seen != frames:
            raise DocumentDamaged(f"{document.sha256} is cut short ({seen} of {frames} frames)")

    @abstractmethod
    def _keep(self, staged: Staged) -> None:
        """Keep the staged frames as the document's (idempotent; blocking)."""

    @abstractmethod
    def _frames(self, document: StoredDocument) -> Iterator[bytes]:
        """The document's sealed frames in order (blocking); raises `DocumentDamaged` when any
        is missing."""

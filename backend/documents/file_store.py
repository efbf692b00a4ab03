"""Provides the hall's document store: sealed files under the data directory, sharded by the
first two pairs of hex digits of their SHA-256 (`ab/cd/abcd…`), put in place atomically
(written and fsynced as a staging file, then renamed) and hash-checked whenever read."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

from backend.db.engine import Database
from backend.documents.sealing import FRAME, DocumentDamaged, Sealer
from backend.documents.store import DocumentStore, Staged, StoredDocument


class FileDocumentStore(DocumentStore):
    def __init__(
        self, db: Database, sealer: Sealer, directory: Path, max_bytes: int, max_pages: int
    ) -> None:
        # the staging files live on the same file system, so the rename is atomic
        super().__init__(db, sealer, directory / "staging", max_bytes, max_pages)
        self.directory = directory

    def path_of(self, sha256: str) -> Path:
        return self.directory / sha256[:2] / sha256[2:4] / sha256

    def _keep(self, staged: Staged) -> None:
        target = self.path_of(staged.claimed)
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(staged.path, target)  # staged.finish fsynced the file's bytes
        descriptor = os.open(target.parent, os.O_RDONLY)
        try:
            os.fsync(descriptor)  # and this the rename
        finally:
            os.close(descriptor)

    def _frames(self, document: StoredDocument) -> Iterator[bytes]:
        try:
            handle = self.path_of(document.sha256).open("rb")
        except FileNotFoundError as exc:
            raise DocumentDamaged(f"{document.sha256} is missing from the store") from exc
        with handle:
            while frame := handle.read(FRAME):
                yield frame

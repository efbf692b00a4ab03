"""Provides the city's document store: sealed frames as `bytea` rows of `document_frames` in
PostgreSQL, so every API instance sees every document.

One row per 64 KiB frame (plain `bytea`, not large objects: rows are copied by `pg_dump`,
replicated and deleted like any other, and a frame is small enough to stay out of the way of
the other writes). The frames are written on a connection of their own, in batches, before the
`documents` row that makes the document visible is committed: a half-written document is never
seen, and frames left by a failed upload are overwritten by the next one of the same bytes.
"""

from __future__ import annotations

from collections.abc import Iterator
from itertools import islice

from sqlalchemy import and_, select
from sqlalchemy.dialects.postgresql import insert

from backend.db.schema import document_frames
from backend.documents.sealing import DocumentDamaged, frame_count
from backend.documents.store import DocumentStore, Staged, StoredDocument

BATCH_FRAMES = 16  # 1 MiB of frames per statement


class PostgresDocumentStore(DocumentStore):
    def _keep(self, staged: Staged) -> None:
        sha256 = staged.claimed
        statement = insert(document_frames)
        # frames of any two uploads of the same bytes are interchangeable (each is bound to
        # the hash, its index and whether it is last), so a concurrent upload may overwrite
        statement = statement.on_conflict_do_update(
            index_elements=[document_frames.c.sha256, document_frames.c.seq],
            set_={"data": statement.excluded.data},
        )
        with self.db.engine.begin() as conn:
            frames = enumerate(staged.frames())
            while batch := list(islice(frames, BATCH_FRAMES)):
                conn.execute(
                    statement,
                    [{"sha256": sha256, "seq": seq, "data": data} for seq, data in batch],
                )

    def _frames(self, document: StoredDocument) -> Iterator[bytes]:
        total = frame_count(document.size)
        for start in range(0, total, BATCH_FRAMES):
            end = min(start + BATCH_FRAMES, total)
            with self.db.engine.connect() as conn:
                rows = conn.execute(
                    select(document_frames.c.seq, document_frames.c.data)
                    .where(
                        and_(
                            document_frames.c.sha256 == document.sha256,
                            document_frames.c.seq >= start,
                            document_frames.c.seq < end,
                        )
                    )
                    .order_by(document_frames.c.seq)
                ).all()
            if [row.seq for row in rows] != list(range(start, end)):
                raise DocumentDamaged(f"frames {start}..{end - 1} of {document.sha256} missing")
            for row in rows:
                yield bytes(row.data)

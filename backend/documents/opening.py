"""Provides `open_document_store`: the store an API instance uses, chosen by its database
engine (SQLite: files beside the database; PostgreSQL: rows every instance sees), with the key
from the settings or the key file."""

from __future__ import annotations

from backend.db.engine import Database
from backend.documents.file_store import FileDocumentStore
from backend.documents.postgres_store import PostgresDocumentStore
from backend.documents.sealing import Sealer, load_key
from backend.documents.store import DocumentStore
from backend.runtime.settings import BackendSettings


def open_document_store(settings: BackendSettings, db: Database) -> DocumentStore:
    data_dir = settings.data_dir()
    directory = settings.documents_dir or data_dir / "documents"
    configured = settings.document_key.get_secret_value() if settings.document_key else None
    key = load_key(configured, settings.document_key_file or data_dir / "document.key")
    limits = (settings.max_document_bytes, settings.max_document_pages)
    if db.engine.dialect.name == "postgresql":
        return PostgresDocumentStore(db, Sealer(key), directory / "staging", *limits)
    return FileDocumentStore(db, Sealer(key), directory, *limits)

"""The database schema and the API contract: migrations from empty, and the checked-in OpenAPI."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import insert, select

from backend.db.engine import make_engine
from backend.db.migrate import current_revision, head_revision, upgrade_to, upgrade_to_head
from backend.db.schema import e_licences, metadata
from backend.server.contract import openapi_document
from tests.conftest import Backend, new_database_url

ROOT = Path(__file__).resolve().parents[2]
MARRIAGE = {
    "type": "marriage_certificate",
    "type_name": "结婚证",
    "type_name_en": "Marriage certificate",
    "number": "J1",
    "issuer": "民政局",
    "valid_from": date(2021, 5, 20),
    "status": "valid",
}


def test_migrations_build_the_whole_schema_from_an_empty_database(tmp_path: Path) -> None:
    engine = make_engine(new_database_url(tmp_path))
    upgrade_to_head(engine)
    assert current_revision(engine) == head_revision()
    with engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), metadata)
    assert differences == [], "schema.py and the migrations disagree: add a migration"
    upgrade_to_head(engine)  # a second start is a no-op
    engine.dispose()


def test_a_database_of_the_first_release_upgrades_to_the_current_schema(tmp_path: Path) -> None:
    engine = make_engine(new_database_url(tmp_path))
    upgrade_to(engine, "0001")
    with engine.connect() as connection:
        before = compare_metadata(MigrationContext.configure(connection), metadata)
    assert before, "the first migration should differ from today's schema"
    with engine.begin() as connection:
        connection.execute(insert(e_licences).values(**MARRIAGE, holder_id="H1", holder_name="甲"))
    upgrade_to_head(engine)
    with engine.connect() as connection:
        after = compare_metadata(MigrationContext.configure(connection), metadata)
    assert after == []
    with engine.begin() as connection:  # the rows survive; a spouse's certificate now fits
        connection.execute(insert(e_licences).values(**MARRIAGE, holder_id="H2", holder_name="乙"))
        holders = connection.scalars(select(e_licences.c.holder_id).order_by("holder_id")).all()
    assert holders == ["H1", "H2"]
    assert current_revision(engine) == head_revision()
    engine.dispose()


def test_the_checked_in_openapi_document_matches_the_code() -> None:
    checked_in = json.loads((ROOT / "openapi.json").read_text(encoding="utf-8"))
    assert checked_in == openapi_document(), "run `make openapi` and commit openapi.json"


async def test_readiness_reports_the_current_schema(backend: Backend) -> None:
    client = backend.anonymous()
    ready = await client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json() == {"status": "ready", "schema": head_revision()}
    assert (await client.get("/healthz")).json() == {"status": "ok"}
    metrics = await client.get("/metrics")
    assert "workbench_http_requests_total" in metrics.text
    await client.aclose()

"""The document store over real HTTP (issue 20): uploads by SHA-256, the type sniffed from the
bytes, hostile files refused with the problem naming why, reading back by the rule (the staff
of a hall with a case that refers to the document; a clerk only for cases held), every read an
event, and the bytes encrypted at rest. Runs on SQLite (files) and PostgreSQL (rows)."""

from __future__ import annotations

import hashlib
import io
import os
import struct
import zlib
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest
from PIL import Image
from pypdf import PdfWriter
from sqlalchemy import create_engine, select

from backend.db.schema import document_frames, events
from backend.server.embedded import EmbeddedServer
from tests.api.test_authorization import USERS_B, two_hall_settings
from tests.conftest import Backend, key, using_postgres
from tests.problems import problem

ITEM = "MZ-002"


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def png(colour: str = "red", size: tuple[int, int] = (40, 30)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, colour).save(out, "PNG")
    return out.getvalue()


def jpeg() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (64, 48), "blue").save(out, "JPEG")
    return out.getvalue()


def pdf(pages: int = 3, password: str | None = None, title: str = "") -> bytes:
    writer = PdfWriter()
    for _ in range(pages):
        writer.add_blank_page(width=595, height=842)
    if title:
        writer.add_metadata({"/Title": title})
    if password:
        writer.encrypt(password)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def bomb_png(width: int, height: int) -> bytes:
    """A one-bit PNG of one colour and huge dimensions: a few tens of KB on the wire, gigabytes
    of pixels once decoded (written row by row: Pillow would need the pixels in memory)."""
    compressor = zlib.compressobj(9)
    row = b"\x00" * (1 + (width + 7) // 8)
    data = b"".join(compressor.compress(row) for _ in range(height)) + compressor.flush()

    def chunk(kind: bytes, body: bytes) -> bytes:
        crc = zlib.crc32(kind + body) & 0xFFFFFFFF
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", data) + chunk(b"IEND", b"")
    )


async def upload(
    client: httpx.AsyncClient, data: bytes, name: str | None = None, **headers: str
) -> httpx.Response:
    return await client.put(
        f"/api/v1/documents/{name or sha(data)}",
        content=data,
        headers={"Content-Type": "application/octet-stream", **headers},
    )


async def case_referring_to(portal: httpx.AsyncClient, document: bytes) -> dict[str, Any]:
    material = {"material": "id_card", "file_name": "id.png", "size": len(document)}
    response = await portal.post(
        "/api/v1/cases",
        json={
            "service_item": ITEM,
            "applicant": {"kind": "person", "id_number": "11010519491231002X", "name": "测试"},
            "materials": [{**material, "sha256": sha(document)}],
        },
        headers=key(),
    )
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


async def reassign(supervisor: httpx.AsyncClient, case: dict[str, Any], clerk: str) -> Any:
    current = (await supervisor.get(f"/api/v1/cases/{case['id']}")).json()
    response = await supervisor.post(
        f"/api/v1/cases/{case['id']}/reassign",
        json={"assignee": clerk},
        headers={**key(), "If-Match": f'"{current["version"]}"'},
    )
    assert response.status_code == 200, response.text
    return response.json()


@pytest.fixture
async def portal(fresh_backend: Backend) -> AsyncIterator[httpx.AsyncClient]:
    client = await fresh_backend.login("portal01")
    yield client
    await client.aclose()


async def test_a_document_is_stored_once_and_read_back(
    fresh_backend: Backend, portal: httpx.AsyncClient
) -> None:
    data = png()
    stored = await upload(portal, data, **{"Content-Type": "application/pdf"})
    assert stored.status_code == 201, stored.text
    assert stored.json() == {
        "sha256": sha(data),
        "media_type": "image/png",  # sniffed, not the type declared
        "size": len(data),
        "pages": 1,
    }
    # an Idempotency-Key is neither needed nor harmful, and the same bytes again are a 200
    again = await upload(portal, data, **key())
    assert again.status_code == 200, again.text
    assert again.json() == stored.json()
    await case_referring_to(portal, data)
    supervisor = await fresh_backend.login("super01")
    read = await supervisor.get(f"/api/v1/documents/{sha(data)}")
    assert read.status_code == 200, read.text
    assert read.content == data
    assert read.headers["content-type"] == "image/png"
    await supervisor.aclose()


async def test_pdfs_and_jpegs_are_sniffed_and_counted(portal: httpx.AsyncClient) -> None:
    three = await upload(portal, pdf(3))
    assert three.status_code == 201, three.text
    assert (three.json()["media_type"], three.json()["pages"]) == ("application/pdf", 3)
    photo = await upload(portal, jpeg(), **{"Content-Type": "image/png"})
    assert (photo.json()["media_type"], photo.json()["pages"]) == ("image/jpeg", 1)


async def test_a_large_document_streams_in_many_frames(
    fresh_backend: Backend, portal: httpx.AsyncClient
) -> None:
    """Over the API's 1 MB body limit (documents have their own), several frames, read back
    whole; sent chunked, without a Content-Length."""
    out = io.BytesIO()
    Image.frombytes("RGB", (1200, 1000), os.urandom(3_600_000)).save(out, "PNG")
    data = out.getvalue()

    async def body() -> AsyncIterator[bytes]:
        for start in range(0, len(data), 100_000):
            yield data[start : start + 100_000]

    stored = await portal.put(f"/api/v1/documents/{sha(data)}", content=body())
    assert stored.status_code == 201, stored.text
    assert stored.json()["size"] == len(data)
    await case_referring_to(portal, data)
    admin = await fresh_backend.login("admin01")
    read = await admin.get(f"/api/v1/documents/{sha(data)}")
    assert read.status_code == 200 and read.content == data
    await admin.aclose()


async def test_bytes_that_do_not_match_their_hash_are_refused(portal: httpx.AsyncClient) -> None:
    data = png()
    body = problem(await upload(portal, data, name=sha(b"other")), 422, "document-hash-mismatch")
    assert body["received_sha256"] == sha(data)
    # nothing was stored under either name
    assert (await upload(portal, data)).status_code == 201


async def test_an_empty_body_is_refused(portal: httpx.AsyncClient) -> None:
    problem(await upload(portal, b""), 422, "document-empty")


async def test_an_executable_named_jpg_is_refused_by_its_bytes(portal: httpx.AsyncClient) -> None:
    elf = b"\x7fELF\x02\x01\x01\x00" + bytes(range(256)) * 8
    body = problem(
        await upload(portal, elf, **{"Content-Type": "image/jpeg"}),
        415,
        "document-type-unsupported",
    )
    assert "image/jpeg" in body["supported"]
    windows = b"MZ\x90\x00\x03\x00\x00\x00" + b"\x00" * 500
    problem(await upload(portal, windows), 415, "document-type-unsupported")


@pytest.mark.parametrize("size", [(20_000, 20_000), (10_000, 10_000)], ids=["error", "warning"])
async def test_a_decompression_bomb_is_refused(
    portal: httpx.AsyncClient, size: tuple[int, int]
) -> None:
    """Over twice Pillow's pixel limit it raises; over the limit it only warns: both refused."""
    bomb = bomb_png(*size)
    assert len(bomb) < 100_000
    problem(await upload(portal, bomb), 422, "document-too-many-pixels")


async def test_encrypted_and_broken_pdfs_are_refused(portal: httpx.AsyncClient) -> None:
    problem(await upload(portal, pdf(1, password="secret")), 422, "document-encrypted")
    problem(await upload(portal, b"%PDF-1.7\nnot really a pdf"), 422, "document-unreadable")
    problem(await upload(portal, png()[:40]), 422, "document-unreadable")


async def test_too_large_is_413(tmp_path: Any) -> None:
    from tests.conftest import seeded_settings

    settings = seeded_settings(tmp_path, max_document_bytes=64 * 1024)
    with EmbeddedServer(settings) as server:
        backend = Backend(server)
        portal = await backend.login("portal01")
        big = b"%PDF-1.4\n" + b"x" * (64 * 1024)
        problem(await upload(portal, big), 413, "payload-too-large")

        async def chunked() -> AsyncIterator[bytes]:
            for _ in range(3):
                yield big[: 32 * 1024]

        streamed = await portal.put(f"/api/v1/documents/{sha(big)}", content=chunked())
        problem(streamed, 413, "payload-too-large")
        # the other routes keep the API's limit, and a small document still goes in
        assert (await upload(portal, png())).status_code == 201
        await portal.aclose()


async def test_who_may_read_a_document(fresh_backend: Backend, portal: httpx.AsyncClient) -> None:
    data = png("green")
    assert (await upload(portal, data)).status_code == 201
    path = f"/api/v1/documents/{sha(data)}"
    supervisor = await fresh_backend.login("super01")
    clerk01 = await fresh_backend.login("clerk01", "W01")
    clerk02 = await fresh_backend.login("clerk02", "W02")
    clerk03 = await fresh_backend.login("clerk03", "W03")
    terminal = await fresh_backend.login("terminal01")
    # stored, but no case refers to it yet: it does not exist for anyone
    problem(await supervisor.get(path), 404, "not-found")
    case = await case_referring_to(portal, data)
    assert (await supervisor.get(path)).status_code == 200
    problem(await clerk01.get(path), 404, "not-found")  # not a case clerk01 holds
    for uploader in (portal, terminal):  # they upload; they never read back
        problem(await uploader.get(path), 403, "forbidden")
    await reassign(supervisor, case, "clerk01")
    assert (await clerk01.get(path)).content == data
    await reassign(supervisor, case, "clerk02")
    assert (await clerk02.get(path)).content == data
    assert (await clerk01.get(path)).status_code == 200  # held it once
    problem(await clerk03.get(path), 404, "not-found")
    # a document nobody uploaded, and one no case refers to, look alike
    problem(await supervisor.get(f"/api/v1/documents/{sha(b'never')}"), 404, "not-found")
    problem(await supervisor.get("/api/v1/documents/NOT-A-HASH"), 422, "validation")
    for client in (supervisor, clerk01, clerk02, clerk03, terminal):
        await client.aclose()


@pytest.fixture
def two_halls(tmp_path: Any) -> Iterator[Backend]:
    with EmbeddedServer(two_hall_settings(tmp_path)) as server:
        yield Backend(server)


async def test_another_halls_staff_never_learn_a_document_exists(two_halls: Backend) -> None:
    data = png("purple")
    portal = await two_halls.login("portal01")
    assert (await upload(portal, data)).status_code == 201
    await case_referring_to(portal, data)
    path = f"/api/v1/documents/{sha(data)}"
    for role in ("supervisor", "admin"):
        name, window = USERS_B[role]
        other = await two_halls.login(name, window)
        problem(await other.get(path), 404, "not-found")
        await other.aclose()
    await portal.aclose()


def _engine(backend: Backend) -> Any:
    return create_engine(backend.settings.database_url)


async def test_every_read_is_an_event_without_personal_data(
    fresh_backend: Backend, portal: httpx.AsyncClient
) -> None:
    data = jpeg()
    await upload(portal, data)
    case = await case_referring_to(portal, data)
    supervisor = await fresh_backend.login("super01")
    for _ in range(2):
        assert (await supervisor.get(f"/api/v1/documents/{sha(data)}")).status_code == 200
    await supervisor.aclose()
    engine = _engine(fresh_backend)
    try:
        with engine.connect() as conn:
            rows = conn.execute(
                select(events).where(events.c.type == "document.viewed").order_by(events.c.seq)
            ).all()
    finally:
        engine.dispose()
    assert len(rows) == 2
    for row in rows:
        assert (row.subject_type, row.subject_id, row.actor) == ("case", str(case["id"]), "super01")
        assert sha(data) in row.payload
        assert "测试" not in row.payload and "11010519491231002X" not in row.payload


async def test_the_bytes_are_encrypted_at_rest(
    fresh_backend: Backend, portal: httpx.AsyncClient
) -> None:
    data = pdf(1, title="PLAINTEXTMARKER")
    assert b"PLAINTEXTMARKER" in data
    stored = await upload(portal, data)
    assert stored.status_code == 201, stored.text
    if using_postgres():
        engine = _engine(fresh_backend)
        try:
            with engine.connect() as conn:
                frames = conn.execute(
                    select(document_frames.c.data).where(document_frames.c.sha256 == sha(data))
                ).scalars()
                at_rest = b"".join(bytes(frame) for frame in frames)
        finally:
            engine.dispose()
    else:
        directory = fresh_backend.settings.data_dir() / "documents"
        files = [path for path in directory.rglob(sha(data)) if path.is_file()]
        assert len(files) == 1
        assert files[0].parent.parent.name == sha(data)[:2]
        at_rest = files[0].read_bytes()
        key_file = fresh_backend.settings.data_dir() / "document.key"
        assert key_file.stat().st_mode & 0o777 == 0o600
        # nothing half-stored is left behind by the refusals
        assert not list((directory / "staging").iterdir())
    assert at_rest and len(at_rest) > len(data)
    assert b"PLAINTEXTMARKER" not in at_rest and b"%PDF" not in at_rest

"""The hall's call display against the real backend: a call appears with its window in large
digits and words, a recall shows (and is spoken) again, and nothing of the applicant — name, ID
number, phone — is ever on the screen. The announcer speaks in order and never cuts a call off."""

from __future__ import annotations

import html
import logging
import re
import shutil
from collections.abc import AsyncIterator, Callable
from datetime import timedelta
from typing import Any

import httpx
import pytest
from textual.pilot import Pilot

from backend.hall.seed import DEMO_PASSWORD
from screens.display import DisplayScreen
from screens.display_app import DisplayApp
from screens.widgets.call_digits import CallDigits, CallGlyphs
from tests.api.cases_support import intake, new_person
from tests.conftest import Backend, key
from workbench.announcer import Announcer
from workbench.display_feed import DisplayFeed

SIZE = (160, 48)
ITEM = "GA-001"  # served at W01, window number 1
NAME = "李秀英"
PHONE = "13800138000"
ESPEAK = shutil.which("espeak-ng")


def announcer() -> Announcer:
    """espeak-ng writing its audio to stdout (discarded), or, where it is not installed, a real
    short-lived command that takes the same arguments."""
    if ESPEAK:
        return Announcer(engine=ESPEAK, extra_args=("--stdout",))
    true = shutil.which("true")
    assert true is not None
    return Announcer(engine=true)


SVG_TEXT = re.compile(r'<text [^>]*clip-path="url\(#[\w-]+-line-(\d+)\)"[^>]*>([^<]*)</text>')


def screen_text(app: DisplayApp) -> str:
    """Everything on the screen, line by line, read back from the exported screenshot (SVG)."""
    lines: dict[int, str] = {}
    for row, chunk in SVG_TEXT.findall(app.export_screenshot()):
        text = html.unescape(chunk).replace("\xa0", " ").replace("\n", "")
        lines[int(row)] = lines.get(int(row), "") + text
    return "\n".join(lines[row] for row in sorted(lines))


async def until(pilot: Pilot[None], check: Callable[[], bool], what: str) -> None:
    for _ in range(400):
        if check():
            return
        await pilot.pause(0.05)
    raise AssertionError(f"the display never showed {what}")


@pytest.fixture
async def clerk(fresh_backend: Backend) -> AsyncIterator[httpx.AsyncClient]:
    client = await fresh_backend.login("clerk01", "W01")
    yield client
    await client.aclose()


def display_app(backend: Backend, speaker: Announcer | None, **kw: Any) -> DisplayApp:
    feed = DisplayFeed(backend.base_url)
    options: dict[str, Any] = {"username": "terminal01", "password": DEMO_PASSWORD, **kw}
    options.setdefault("language", "en")
    return DisplayApp(feed, announcer=speaker, **options)


async def test_a_call_and_its_recall_show_and_are_spoken_and_no_person_ever_shows(
    fresh_backend: Backend, terminal: httpx.AsyncClient, clerk: httpx.AsyncClient
) -> None:
    id_number = new_person()
    portal = await fresh_backend.login("portal01")
    try:
        await intake(portal, id_number=id_number, name=NAME, phone=PHONE)
    finally:
        await portal.aclose()
    issued = await terminal.post(
        "/api/v1/tickets",
        json={"service_item": ITEM, "applicant_id_number": id_number, "applicant_name": NAME},
        headers=key(),
    )
    assert issued.status_code == 201, issued.text
    number = issued.json()["number"]
    speaker = announcer()
    app = display_app(fresh_backend, speaker)
    secrets = (id_number, NAME, PHONE)

    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: app.board is not None, "the snapshot")
        assert isinstance(app.screen, DisplayScreen)
        assert "No calls yet today" in screen_text(app)
        assert re.search(rf"│{number[:2]}  \w.*\s1│$", screen_text(app), re.M), "1 waiting"

        called = await clerk.post("/api/v1/windows/W01/call-next", headers=key())
        assert called.status_code == 200, called.text
        assert called.json()["number"] == number
        await until(pilot, lambda: f"{number} → Window 1" in screen_text(app), "the call")
        digits = app.screen.query_one("#display-digits", CallDigits)
        assert digits.value == f"{number}→1"
        assert "No one is waiting" in screen_text(app)

        fresh_backend.clock.advance(timedelta(seconds=31))  # a recall waits 30 s
        ticket = called.json()["id"]
        recalled = await clerk.post(f"/api/v1/tickets/{ticket}/recall", headers=key())
        assert recalled.status_code == 200, recalled.text
        await until(pilot, lambda: "(called again)" in screen_text(app), "the recall")
        assert f"{number} → Window 1 (called again)" in screen_text(app)

        await pilot.press("f9")  # the visitors' language
        await until(pilot, lambda: f"请 {number} 号到 1 号窗口" in screen_text(app), "Chinese")

        text = screen_text(app)
        squeezed = re.sub(r"\s+", "", text)
        for secret in secrets:
            assert secret not in text and secret not in squeezed, secret
        assert id_number[-4:] not in squeezed

    assert speaker.wait(timeout=30)
    spelled = " ".join(number)
    assert [(s.text, s.language) for s in speaker.spoken] == [
        (f"Ticket {spelled}, please go to window 1.", "en"),
        (f"Calling again: ticket {spelled}, please go to window 1.", "en"),
    ]
    assert all(s.returncode == 0 for s in speaker.spoken)


async def test_the_display_says_when_its_account_is_refused(fresh_backend: Backend) -> None:
    app = display_app(fresh_backend, None, password="not-the-password")
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: "password is wrong" in screen_text(app), "the refusal")
    portal_app = display_app(fresh_backend, None, username="portal01")
    async with portal_app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: "may not run the call display" in screen_text(portal_app), "403")


def test_the_announcer_speaks_in_order_each_to_the_end() -> None:
    speaker = announcer()
    texts = ["Ticket G A 0 0 1, please go to window 1.", "第二条", "Ticket H Y 0 0 2."]
    for text in texts:
        assert speaker.say(text, "zh" if text == "第二条" else "en")
    assert speaker.wait(timeout=30)
    speaker.close(timeout=5)
    assert [s.text for s in speaker.spoken] == texts
    assert [s.returncode for s in speaker.spoken] == [0, 0, 0]  # none was cut off
    if ESPEAK:
        assert speaker.command("x", "zh")[1:3] == ["-v", "cmn"]


def test_without_a_speech_engine_calls_are_shown_not_spoken(
    caplog: pytest.LogCaptureFixture,
) -> None:
    speaker = Announcer(engine="")
    with caplog.at_level(logging.WARNING, logger="workbench.announcer"):
        assert not speaker.say("Ticket A 0 0 1", "en")
        assert not speaker.say("Ticket A 0 0 2", "en")
    assert speaker.spoken == []
    assert len([r for r in caplog.records if "not installed" in r.message]) == 1


def test_ticket_prefixes_are_drawn_in_the_large_font() -> None:
    from rich.style import Style

    rows = CallGlyphs("HY023→5", Style()).rows()
    assert len(rows) == 3
    assert all(len(row) == CallGlyphs.width("HY023→5") == 21 for row in rows)
    assert "H" not in "".join(rows) and "Y" not in "".join(rows)  # drawn, not printed

"""The workbench driven the way a clerk drives it, against the real backend: log in, work the
queue, verify and decide cases, go offline and come back, settle a conflict, lock, reveal, alarm."""

from __future__ import annotations

import contextlib
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from textual.pilot import Pilot
from textual.widgets import OptionList
from textual.worker import WorkerCancelled, WorkerFailed

from api_client.models import Ticket
from backend.server.embedded import EmbeddedServer
from screens.app import WorkbenchApp
from screens.case import CaseScreen
from screens.conflicts import ConflictDialog
from screens.dialogs import ChoiceDialog
from screens.lock import LockScreen
from screens.login import LoginScreen
from screens.main import MainScreen
from screens.widgets.banners import OfflineBanner
from screens.widgets.visitor_panel import VisitorPanel
from tests.api.cases_support import MIGRATION, intake, new_person
from tests.conftest import Backend, key
from workbench.settings import WorkbenchSettings

SIZE = (160, 48)
ACCOUNTS = [(f"clerk{n:02d}", "clerk", f"W{n:02d}") for n in range(1, 15)]


def make_app(backend: Backend, tmp_path: Path, **settings: Any) -> WorkbenchApp:
    values: dict[str, Any] = {
        "server_url": backend.base_url,
        "outbox_path": tmp_path / "outbox.sqlite3",
        "undo_seconds": 0.3,
        "idle_lock_minutes": 0,
        "language": "en",
        **settings,
    }
    return WorkbenchApp(WorkbenchSettings(**values), demo_accounts=ACCOUNTS)


ENDLESS = frozenset({"events", "board-live"})
"""Worker groups that follow the stream for as long as their screen lives."""


async def settle(app: WorkbenchApp, pilot: Pilot[None]) -> None:
    """Wait for every worker except the endless stream followers, then for the screen."""
    for _ in range(3):
        await pilot.pause()
        busy = [w for w in app.workers if w.group not in ENDLESS and not w.is_finished]
        if not busy:
            break
        with contextlib.suppress(WorkerCancelled, WorkerFailed):
            await app.workers.wait_for_complete(busy)
    await pilot.pause()


async def log_in(app: WorkbenchApp, pilot: Pilot[None], user: str) -> None:
    await settle(app, pilot)
    await pilot.press(*user, "enter", *"demo1234", "enter")
    await settle(app, pilot)
    assert isinstance(app.screen, MainScreen), app.screen
    await settle(app, pilot)


async def issue(
    terminal: httpx.AsyncClient, item: str = "GA-001", **applicant: str
) -> dict[str, Any]:
    body = {"service_item": item, **applicant}
    response = await terminal.post("/api/v1/tickets", json=body, headers=key())
    assert response.status_code == 201, response.text
    return dict(response.json())


@pytest.fixture
async def portal_client(fresh_backend: Backend) -> AsyncIterator[httpx.AsyncClient]:
    client = await fresh_backend.login("portal01")
    yield client
    await client.aclose()


def current(app: WorkbenchApp) -> Ticket | None:
    return app.service.current_ticket


async def test_login_says_what_is_wrong_on_the_form(backend: Backend, tmp_path: Path) -> None:
    app = make_app(backend, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await pilot.press(*"clerk01", "enter", *"wrong-password", "enter")
        await settle(app, pilot)
        assert isinstance(app.screen, LoginScreen)
        error = str(app.screen.query_one("#login-error").render())
        assert "Wrong user name or password" in error

    unreachable = make_app(backend, tmp_path, server_url="http://127.0.0.1:9")
    async with unreachable.run_test(size=SIZE) as pilot:
        await settle(unreachable, pilot)
        await pilot.press(*"clerk01", "enter", *"demo1234", "enter")
        await settle(unreachable, pilot)
        error = str(unreachable.screen.query_one("#login-error").render())
        assert "cannot be reached" in error


async def test_a_clerk_works_the_queue_with_keys(
    fresh_backend: Backend, terminal: httpx.AsyncClient, tmp_path: Path
) -> None:
    first = await issue(terminal)
    second = await issue(terminal)
    third = await issue(terminal)
    app = make_app(fresh_backend, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await log_in(app, pilot, "clerk01")
        screen = app.screen
        assert isinstance(screen, MainScreen)
        shown = set(screen.table.shown)
        assert {f"t:{first['id']}", f"t:{second['id']}", f"t:{third['id']}"} <= shown

        await pilot.press("f5")
        await settle(app, pilot)
        ticket = current(app)
        assert ticket is not None and ticket.id == first["id"] and ticket.status == "called"
        assert screen.check_action("recall", ()) is None  # within 30 s: shown disabled
        await pilot.press("s")
        await settle(app, pilot)
        assert (ticket := current(app)) is not None and ticket.status == "serving"

        await pilot.press("f5")  # someone is being served: asks first
        await pilot.pause()
        await pilot.press("escape")
        await settle(app, pilot)
        assert (ticket := current(app)) is not None and ticket.id == first["id"]

        await pilot.press("f", "1")  # finish, outcome "completed"
        await settle(app, pilot)
        assert current(app) is None
        assert f"t:{first['id']}" not in screen.table.shown

        await pilot.press("f5", "x", "y")  # call the second one, who does not come (y: sure)
        await settle(app, pilot)
        await pilot.press("f5")
        await settle(app, pilot)
        assert (ticket := current(app)) is not None and ticket.id == third["id"]
        await pilot.press("p")  # park the third
        await settle(app, pilot)
        assert current(app) is None
        parked = f"t:{third['id']}"
        assert screen.table.shown[parked].status == "parked"
        screen.table.move_cursor(row=screen.table.get_row_index(parked))
        await pilot.press("e")  # resume the parked ticket under the cursor
        await settle(app, pilot)
        assert (ticket := current(app)) is not None and ticket.id == third["id"]
        await pilot.press("t")  # transfer to the first other window offered, saying why
        await settle(app, pilot)
        await pilot.press("1")
        await settle(app, pilot)
        await pilot.press(*"needs the notary", "enter")
        await settle(app, pilot)
        assert current(app) is None

        await pilot.press("w", "1")  # a walk-in for the first service item of the window
        await settle(app, pilot)
        assert (ticket := current(app)) is not None and ticket.walk_in
        assert ticket.status == "serving"

    async with httpx.AsyncClient(base_url=fresh_backend.base_url) as api:
        login = await api.post(
            "/api/v1/auth/login", json={"username": "super01", "password": "demo1234"}
        )
        api.headers["Authorization"] = f"Bearer {login.json()['token']}"
        no_show = (await api.get(f"/api/v1/tickets/{second['id']}")).json()
        assert no_show["status"] == "no_show"
        moved = (await api.get(f"/api/v1/tickets/{third['id']}")).json()
        assert moved["target_window"] not in (None, "W01")


async def test_verify_and_decide_through_the_outbox(
    fresh_backend: Backend, portal_client: httpx.AsyncClient, tmp_path: Path
) -> None:
    filed = await intake(portal_client, item=MIGRATION)
    app = make_app(fresh_backend, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await log_in(app, pilot, "clerk02")
        await pilot.press("o")  # claim the next online case: the case screen opens
        await settle(app, pilot)
        screen = app.screen
        assert isinstance(screen, CaseScreen) and screen.case is not None
        assert screen.case.id == filed["id"]
        codes = [row.material for row in screen.case.checklist or []]
        assert codes[:3] == ["id_card", "household_register", "property_proof"]

        await pilot.press("1")  # id card: original sighted
        await pilot.press("m")  # household register: missing
        await settle(app, pilot)
        await app.service.ws.outbox.wait_idle()
        await settle(app, pilot)
        rows = {row.material: row.status for row in screen.case.checklist or []}
        assert rows["id_card"] == "provided" and rows["household_register"] == "missing"

        await pilot.press("d", "2")  # request supplements: the notice is shown first
        await settle(app, pilot)  # as the server will issue it
        notice = str(app.screen.query_one(".notice").query_one("Static").render())
        assert "One-time Notice of Supplementary Materials" in notice
        [item] = [
            block
            for block in re.split(r"\n(?=\d+\. )", notice)
            if "   Household register of the current address\n" in block
        ]
        assert "Reason: not supplied" in item and "原因：尚未提交" in item, item
        await pilot.press("enter")
        await settle(app, pilot)
        assert "sending in" in str(screen.query_one("#undo-bar").render())
        await app.service.ws.outbox.wait_idle()
        await settle(app, pilot)
        assert screen.case.status == "supplement_requested"
        assert screen.case.notices and screen.case.notices[-1].kind == "supplement"

        await pilot.press("d", "2", "escape")  # changing one's mind: nothing is sent
        await settle(app, pilot)
        assert screen.case.status == "supplement_requested"


async def test_undo_takes_a_decision_back(
    fresh_backend: Backend, portal_client: httpx.AsyncClient, tmp_path: Path
) -> None:
    filed = await intake(portal_client, item=MIGRATION)
    app = make_app(fresh_backend, tmp_path, undo_seconds=5)
    async with app.run_test(size=SIZE) as pilot:
        await log_in(app, pilot, "clerk01")
        await pilot.press("o")
        await settle(app, pilot)
        await pilot.press("d", "7")  # withdraw
        await settle(app, pilot)
        assert app.service.outbox_status.held == 1
        await pilot.press("u")
        await settle(app, pilot)
        assert app.service.outbox_status.pending == 0
        case = await app.service.open_case(filed["id"])
        assert case.status == "under_review"


async def test_offline_decision_is_sent_once_when_the_server_returns(
    fresh_backend: Backend, portal_client: httpx.AsyncClient, tmp_path: Path
) -> None:
    filed = await intake(portal_client, item=MIGRATION)
    app = make_app(fresh_backend, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await log_in(app, pilot, "clerk01")
        await pilot.press("o")
        await settle(app, pilot)
        screen = app.screen
        assert isinstance(screen, CaseScreen)
        fresh_backend.server.stop()
        await pilot.press("d", "7")  # withdraw while the server is away
        await settle(app, pilot)
        outbox = app.service.ws.outbox
        for _ in range(100):
            if outbox.status.blocked == "offline":
                break
            await pilot.pause(0.05)
        assert outbox.status.pending == 1
        assert screen.query_one(OfflineBanner).offline

        restarted = EmbeddedServer(fresh_backend.settings, port=fresh_backend.server.port)
        restarted.start()
        try:
            outbox.kick()
            await outbox.wait_idle()
            await settle(app, pilot)
            case = await app.service.open_case(filed["id"])
            assert case.status == "withdrawn"
            assert [d.decision for d in case.decisions or []].count("withdraw") == 1
        finally:
            restarted.stop()


async def test_a_conflict_made_by_another_clerk_is_shown_and_settled(
    fresh_backend: Backend, portal_client: httpx.AsyncClient, tmp_path: Path
) -> None:
    await intake(portal_client, item=MIGRATION)
    app = make_app(fresh_backend, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await log_in(app, pilot, "clerk01")
        await pilot.press("o")
        await settle(app, pilot)
        screen = app.screen
        assert isinstance(screen, CaseScreen) and screen.case is not None
        case = screen.case
        other = await fresh_backend.login("super01")
        note = await other.put(
            f"/api/v1/cases/{case.id}/materials/consent",
            json={"status": "not_applicable", "note": "supervisor"},
            headers={**key(), "If-Match": f'"{case.version}"'},
        )
        assert note.status_code == 200, note.text
        await other.aclose()

        await pilot.press("d", "7")  # withdraw on the version the clerk saw
        await settle(app, pilot)
        await app.service.ws.outbox.wait_idle()
        for _ in range(60):
            await settle(app, pilot)
            if isinstance(app.screen, ConflictDialog):
                break
        assert isinstance(app.screen, ConflictDialog)
        await pilot.press("r")  # send again on the current version
        await settle(app, pilot)
        await app.service.ws.outbox.wait_idle()
        final = await app.service.open_case(case.id)
        assert final.status == "withdrawn"


async def test_lock_reveal_and_alarm(
    fresh_backend: Backend, terminal: httpx.AsyncClient, tmp_path: Path
) -> None:
    person = new_person()
    await issue(terminal, applicant_id_number=person, applicant_name="王小明")
    app = make_app(fresh_backend, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await log_in(app, pilot, "clerk01")
        await pilot.press("f5")
        await settle(app, pilot)
        panel = app.screen.query_one(VisitorPanel)
        await pilot.press("v")
        await settle(app, pilot)
        assert panel.revealed is not None and panel.revealed.id_number == person

        await pilot.press("ctrl+l")
        await settle(app, pilot)
        assert isinstance(app.screen, LockScreen)
        await pilot.press(*"nope", "enter")
        await settle(app, pilot)
        assert isinstance(app.screen, LockScreen)
        await pilot.press(*"demo1234", "enter")
        await settle(app, pilot)
        assert isinstance(app.screen, MainScreen)
        assert panel.revealed is None  # locking forgets what was revealed

        await pilot.press("f12")
        await pilot.pause()
        await pilot.press("enter")  # without the window code nothing is sent
        await pilot.pause()
        assert app.screen.query_one("#dialog-error")
        await pilot.press(*"W01", "enter")
        await settle(app, pilot)
        assert panel.alarm_at is not None

    supervisor = await fresh_backend.login("super01")
    alarms = (await supervisor.get("/api/v1/alarms")).json()["items"]
    await supervisor.aclose()
    assert alarms and alarms[0]["window"] == "W01"


async def test_a_transfer_shows_each_window_and_refuses_a_paused_one(
    fresh_backend: Backend, terminal: httpx.AsyncClient, tmp_path: Path
) -> None:
    """The clerk sees each window's state, who is there and what it serves; a paused window is
    greyed and cannot be picked (it used to be offered and the ticket waited there for
    nobody); the transfer asks why."""
    other = await fresh_backend.login("clerk02", "W02")
    paused = await other.post("/api/v1/windows/W02/pause", json={"reason": "lunch"}, headers=key())
    assert paused.status_code == 200, paused.text
    await issue(terminal, "GA-001")
    app = make_app(fresh_backend, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await log_in(app, pilot, "clerk01")
        await pilot.press("f5")
        await settle(app, pilot)
        ticket = current(app)
        assert ticket is not None
        await pilot.press("t")
        await settle(app, pilot)
        choices = app.screen.query_one("#choices", OptionList)
        labels = {str(o.id): str(o.prompt) for o in choices.options}
        assert "W01" not in labels  # not to itself
        assert "paused" in labels["W02"] and "clerk02" in labels["W02"], labels["W02"]
        assert choices.get_option("W02").disabled
        assert "nobody logged in" in labels["W03"], labels["W03"]
        serving = [code for code, label in labels.items() if "serves this item" in label]
        assert serving and "W03" not in serving, labels  # W01 and W02 serve GA-001
        order = [str(o.id) for o in choices.options]
        assert order[-1] == "W02", order  # the windows the server would refuse come last
        await pilot.press(str(order.index("W02") + 1))  # picking it only says why not
        await settle(app, pilot)
        assert isinstance(app.screen, ChoiceDialog)
        await pilot.press(str(order.index("W03") + 1), *"the notary is at W03", "enter")
        await settle(app, pilot)
        assert current(app) is None
    await other.aclose()
    async with httpx.AsyncClient(base_url=fresh_backend.base_url) as api:
        token = (
            await api.post(
                "/api/v1/auth/login", json={"username": "super01", "password": "demo1234"}
            )
        ).json()["token"]
        api.headers["Authorization"] = f"Bearer {token}"
        moved = (await api.get(f"/api/v1/tickets/{ticket.id}")).json()
    assert moved["status"] == "waiting" and moved["target_window"] == "W03"

"""The supervisor board driven with the keys a supervisor presses, against the real backend: it
lands there after login, follows tickets, pauses, alarms and ratings live, acknowledges an alarm
(the clerk's stream sees it), moves a ticket (the clerk's work list changes); a clerk never gets
it. Plus one snapshot of the board with fixed data."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from textual.geometry import Region
from textual.pilot import Pilot
from textual.widgets import DataTable, Static

from api_client import Client, EventStream
from api_client.models import Event, Me
from api_client.models.board import Board
from screens.app import WorkbenchApp
from screens.board import BoardScreen
from screens.dialogs import ConfirmDialog, PromptDialog
from screens.main import MainScreen
from screens.merge_dialogs import MergeHistoryDialog
from tests.api.cases_support import current, intake, new_person
from tests.api.merge_support import merge, ok, open_hall_case, paper, serve, uploads
from tests.api.test_board import act, issue
from tests.conftest import Backend, key
from tests.ui.test_clerk_flow import make_app, settle
from workbench.board_service import BoardService
from workbench.board_state import BoardState
from workbench.services import DeskService
from workbench.session import WorkbenchSession
from workbench.settings import WorkbenchSettings

SIZE = (160, 48)


async def until(pilot: Pilot[None], condition: Callable[[], bool], rounds: int = 200) -> bool:
    """Let the app run until `condition` holds (bounded; no timing is asserted)."""
    for _ in range(rounds):
        if condition():
            return True
        await pilot.pause(0.05)
    return condition()


async def supervisor_logs_in(app: WorkbenchApp, pilot: Pilot[None]) -> BoardScreen:
    await settle(app, pilot)
    await pilot.press(*"super01", "enter", *"demo1234", "enter")
    assert await until(pilot, lambda: isinstance(app.screen, BoardScreen))
    screen = app.screen
    assert isinstance(screen, BoardScreen)
    assert await until(pilot, lambda: screen.state is not None and screen.frames > 0)
    return screen


def cell(screen: BoardScreen, table: str, row: str, column: str) -> str:
    widget = screen.query_one(f"#board-{table}", DataTable)
    if row not in widget.rows:
        return ""
    return str(widget.get_cell(row, column))


def text(screen: BoardScreen, selector: str) -> str:
    return str(screen.query_one(selector, Static).render())


def shown(screen: BoardScreen, table: str, row: str) -> str:
    """The line of `table` on screen (as the compositor gets it) that shows `row`'s key."""
    widget = screen.query_one(f"#board-{table}", DataTable)
    lines = [strip.text for strip in widget.render_lines(Region(0, 0, *widget.outer_size))]
    return next((line for line in lines if f"{row} " in line), "")


async def test_the_board_follows_the_hall_live(fresh_backend: Backend, tmp_path: Path) -> None:
    terminal = await fresh_backend.login("terminal01")
    clerk = await fresh_backend.login("clerk01", "W01")
    clerk2 = await fresh_backend.login("clerk02", "W02")
    app = make_app(fresh_backend, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        screen = await supervisor_logs_in(app, pilot)
        assert cell(screen, "windows", "W01", "state") == "idle"

        ticket = await issue(terminal, "GA-001")
        assert await until(pilot, lambda: cell(screen, "queues", "GA-001", "waiting") == "1")
        await act(clerk, ticket["id"], "call")
        assert await until(pilot, lambda: cell(screen, "windows", "W01", "state") == "calling")
        assert cell(screen, "windows", "W01", "ticket") == ticket["number"]
        assert cell(screen, "queues", "GA-001", "waiting") == "0"
        # what is drawn follows too (the tables re-render only the rows that changed)
        assert "calling" in shown(screen, "windows", "W01")
        assert ticket["number"] in shown(screen, "windows", "W01")
        await act(clerk, ticket["id"], "start")
        await act(clerk, ticket["id"], "finish", {"outcome": "completed"})
        assert await until(pilot, lambda: cell(screen, "windows", "W01", "served") == "1")
        assert cell(screen, "windows", "W01", "state") == "idle"
        assert cell(screen, "queues", "GA-001", "served") == "1"
        assert ticket["number"] not in shown(screen, "windows", "W01")
        assert "idle" in shown(screen, "windows", "W01")

        paused = await clerk2.post(
            "/api/v1/windows/W02/pause", json={"reason": "system trouble"}, headers=key()
        )
        assert paused.status_code == 200
        assert await until(
            pilot, lambda: cell(screen, "windows", "W02", "state") == "paused: system trouble"
        )

        rated = await terminal.post(
            "/api/v1/ratings", json={"ticket": ticket["id"], "score": 1}, headers=key()
        )
        assert rated.status_code == 201
        assert await until(pilot, lambda: "0% of 1 ratings" in text(screen, "#board-satisfaction"))
        assert ticket["number"] in text(screen, "#board-satisfaction")
        alerts = screen.query_one("#board-alerts", DataTable)
        assert await until(pilot, lambda: f"rating:{rated.json()['id']}" in alerts.rows)
        assert screen.query_one("#board-tickets-spark").data  # type: ignore[attr-defined]
    for client in (terminal, clerk, clerk2):
        await client.aclose()


async def _clerk_events(backend: Backend, into: list[Event], ready: asyncio.Event) -> None:
    client = Client(backend.base_url)
    await client.login("clerk03", "demo1234", "W03")
    stream = EventStream(client, after=None)
    ready.set()
    try:
        async for event in stream:
            into.append(event)
    finally:
        await stream.aclose()
        await client.aclose()


async def test_an_alarm_flashes_until_acknowledged_and_the_clerk_sees_it(
    fresh_backend: Backend, tmp_path: Path
) -> None:
    clerk = await fresh_backend.login("clerk01", "W01")
    seen: list[Event] = []
    ready = asyncio.Event()
    listener = asyncio.create_task(_clerk_events(fresh_backend, seen, ready))
    await ready.wait()
    app = make_app(fresh_backend, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        screen = await supervisor_logs_in(app, pilot)
        banner = screen.query_one("#board-alarm", Static)
        assert not banner.has_class("-shown")
        raised = await clerk.post("/api/v1/windows/W01/alarm", json={"note": "help"}, headers=key())
        alarm_id = raised.json()["id"]
        assert await until(pilot, lambda: banner.has_class("-shown"))
        assert "W01" in str(banner.render())
        assert await until(pilot, lambda: banner.has_class("-flash"))
        assert f"alarm:{alarm_id}" in screen.query_one("#board-alerts", DataTable).rows
        # acknowledging is the supervisor's key; the alarm stays until the server has it
        await pilot.press("k")
        await settle(app, pilot)
        assert await until(pilot, lambda: not banner.has_class("-shown"))
        assert f"alarm:{alarm_id}" not in screen.query_one("#board-alerts", DataTable).rows
    assert await _wait_for(lambda: any(e.type == "window.alarm_acknowledged" for e in seen))
    acknowledged = next(e for e in seen if e.type == "window.alarm_acknowledged")
    assert (acknowledged.payload["alarm"], acknowledged.actor) == (alarm_id, "super01")
    listener.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await listener
    await clerk.aclose()


async def _wait_for(condition: Callable[[], bool], rounds: int = 100) -> bool:
    for _ in range(rounds):
        if condition():
            return True
        await asyncio.sleep(0.05)
    return condition()


async def test_a_supervisor_moves_a_ticket_to_a_clerks_window(
    fresh_backend: Backend, tmp_path: Path
) -> None:
    terminal = await fresh_backend.login("terminal01")
    ticket = await issue(terminal, "GA-001")  # W07 does not serve GA-001
    desk = DeskService(
        WorkbenchSettings(
            server_url=fresh_backend.base_url,
            outbox_path=tmp_path / "clerk-outbox.sqlite3",
            idle_lock_minutes=0,
        )
    )
    await desk.login(fresh_backend.base_url, "clerk07", "demo1234", "W07")
    await desk.load_work_list()
    assert f"t:{ticket['id']}" not in {r.key for r in desk.worklist.ordered()}
    follower = asyncio.create_task(desk.follow(lambda _event: None))

    app = make_app(fresh_backend, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        screen = await supervisor_logs_in(app, pilot)
        assert await until(pilot, lambda: cell(screen, "queues", "GA-001", "waiting") == "1")
        screen.query_one("#board-queues", DataTable).focus()
        await pilot.press("m")
        await settle(app, pilot)
        await pilot.press("1")  # the only waiting ticket
        await settle(app, pilot)
        choices = app.screen.query_one("#choices")
        labels = [str(o.prompt) for o in choices.options]  # type: ignore[attr-defined]
        target = next(i for i, label in enumerate(labels) if "window W07" in label)
        assert "open" in labels[target] and "clerk07" in labels[target], labels[target]
        for _ in range(target):
            await pilot.press("down")
        await pilot.press("enter")
        await settle(app, pilot)
        await pilot.press(*"W07 handles it today", "enter")  # the reason the server wants
        await settle(app, pilot)
        assert await until(pilot, lambda: cell(screen, "queues", "GA-001", "waiting") == "1")
    assert await _wait_for(lambda: f"t:{ticket['id']}" in {r.key for r in desk.worklist.ordered()})
    moved = await desk.ws.client.ticket(ticket["id"])
    assert moved.target_window == "W07"
    follower.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await follower
    await desk.close()
    await terminal.aclose()


async def test_a_supervisor_reactivates_a_no_show_and_closes_a_window(
    fresh_backend: Backend, tmp_path: Path
) -> None:
    terminal = await fresh_backend.login("terminal01")
    clerk = await fresh_backend.login("clerk01", "W01")
    ticket = await issue(terminal, "GA-001")
    await act(clerk, ticket["id"], "call")
    await act(clerk, ticket["id"], "no-show")
    app = make_app(fresh_backend, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        screen = await supervisor_logs_in(app, pilot)
        assert cell(screen, "queues", "GA-001", "no_shows") == "1"
        await pilot.press("n")
        await settle(app, pilot)
        await pilot.press("1")
        await settle(app, pilot)
        assert await until(pilot, lambda: cell(screen, "queues", "GA-001", "waiting") == "1")
        assert cell(screen, "queues", "GA-001", "no_shows") == "0"

        screen.query_one("#board-windows", DataTable).focus()  # the cursor is on W01
        await pilot.press("c")
        await settle(app, pilot)
        await pilot.press("enter")  # confirm
        await settle(app, pilot)
        await pilot.press(*"lunch", "enter")
        await settle(app, pilot)
        assert await until(pilot, lambda: cell(screen, "windows", "W01", "state") == "closed")
    refused = await clerk.post("/api/v1/windows/W01/call-next", headers=key())
    assert refused.status_code == 409
    await clerk.aclose()
    await terminal.aclose()


async def test_a_supervisor_undoes_a_merge_from_the_board(
    fresh_backend: Backend, tmp_path: Path
) -> None:
    portal = await fresh_backend.login("portal01")
    kiosk = await fresh_backend.login("terminal01")
    clerk = await fresh_backend.login("clerk05", "W05")
    person = new_person()
    online = await intake(portal, id_number=person, name="合并测试", uploads=uploads("id_card"))
    ticket = await serve(kiosk, clerk, id_number=person, name="合并测试")
    hall = await open_hall_case(clerk, ticket, materials=paper("application"))
    await ok(await merge(clerk, online, hall), 201)
    assert (await current(clerk, hall))["status"] == "merged"
    app = make_app(fresh_backend, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await supervisor_logs_in(app, pilot)
        await pilot.press("u")  # no case selected: it asks which
        await settle(app, pilot)
        assert isinstance(app.screen, PromptDialog)
        await pilot.press(*online["number"], "enter")
        await settle(app, pilot)
        history = app.screen
        assert isinstance(history, MergeHistoryDialog)
        assert await until(pilot, lambda: bool(history.records))
        await pilot.press("enter")
        await settle(app, pilot)
        assert isinstance(app.screen, ConfirmDialog)
        await pilot.press("enter")
        assert await until(pilot, lambda: history.undone)
    assert (await current(clerk, hall))["status"] != "merged"
    for client in (portal, kiosk, clerk):
        await client.aclose()


async def test_a_clerk_never_gets_the_board(fresh_backend: Backend, tmp_path: Path) -> None:
    app = make_app(fresh_backend, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await pilot.press(*"clerk01", "enter", *"demo1234", "enter")
        assert await until(pilot, lambda: isinstance(app.screen, MainScreen))
        app.push_screen(BoardScreen())  # even pushed directly, it hands over to the desk
        await settle(app, pilot)
        assert await until(pilot, lambda: isinstance(app.screen, MainScreen))


async def test_enter_in_the_password_field_logs_in_or_goes_where_the_fix_is(
    fresh_backend: Backend, tmp_path: Path
) -> None:
    app = make_app(fresh_backend, tmp_path)
    app.demo_accounts = []  # nothing suggests the window
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await pilot.press("tab", *"demo1234", "enter")  # no user yet: back to the user field
        await settle(app, pilot)
        assert app.focused is not None and app.focused.id == "user"
        await pilot.press(*"clerk03", "tab", "enter")  # a clerk without a window code
        await settle(app, pilot)
        assert app.focused is not None and app.focused.id == "window"
        await pilot.press(*"W03", "enter")
        assert await until(pilot, lambda: isinstance(app.screen, MainScreen))


# -- the snapshot -------------------------------------------------------------------------------

NOW = datetime(2026, 3, 2, 2, 30, tzinfo=UTC)  # 10:30 in the hall


def _board() -> Board:
    start = datetime(2026, 3, 1, 16, 0, tzinfo=UTC)  # midnight in Shanghai
    at: Callable[[int], str] = lambda minutes: (NOW - timedelta(minutes=minutes)).isoformat()  # noqa: E731
    windows: list[dict[str, Any]] = []
    states = [
        ("serving", "open", "clerk01", 1, None),
        ("calling", "open", "clerk02", 2, None),
        ("paused", "paused", "clerk03", None, "meeting"),
        ("idle", "open", "clerk04", None, None),
        ("closed", "closed", None, None, None),
    ]
    for n, (activity, state, clerk, ticket, reason) in enumerate(states, start=1):
        windows.append(
            {
                "code": f"W{n:02d}",
                "number": n,
                "name": f"{n}号窗口",
                "name_en": f"Window {n}",
                "service_items": ["GA-001", "GA-002"],
                "clerk": clerk,
                "state": state,
                "activity": activity,
                "pause_reason": reason,
                "ticket_id": ticket,
                "ticket": f"GA{ticket:03d}" if ticket else None,
                "since": at(4 * n) if ticket else None,
                "served_today": 10 - n,
                "idle_seconds": 60.0 * n,
                "idle_since": at(7) if activity == "idle" else None,
                "version": 1,
            }
        )
    tickets = [
        {"id": 1, "number": "GA001", "service_item": "GA-001", "status": "serving",
         "window": "W01", "queued_at": at(30), "called_at": at(4), "version": 3},
        {"id": 2, "number": "GA002", "service_item": "GA-001", "status": "called",
         "window": "W02", "queued_at": at(25), "called_at": at(8), "version": 2},
    ] + [
        {"id": 10 + n, "number": f"GB{n:03d}", "service_item": "GA-002", "status": "waiting",
         "queued_at": at(5 + 9 * n), "version": 1}
        for n in range(4)
    ]  # fmt: skip
    queue = {
        "department": "GA",
        "longest_wait_seconds": 0,
        "average_wait_seconds": 0,
        "no_shows_today": 1,
        "warning_minutes": 15,
        "critical_minutes": 30,
        "level": "ok",
        "waiting": 0,
    }
    return Board.model_validate(
        {
            "hall": "DL-ZS",
            "timezone": "Asia/Shanghai",
            "day": "2026-03-02",
            "generated_at": NOW.isoformat(),
            "seq": 120,
            "due_soon_before": "2026-03-04",
            "wait_warning_minutes": 15,
            "wait_critical_minutes": 30,
            "windows": windows,
            "tickets": tickets,
            "queues": [
                {
                    **queue,
                    "service_item": "GA-001",
                    "name": "居民身份证申领",
                    "name_en": "Resident ID card application",
                    "served_today": 14,
                },
                {
                    **queue,
                    "service_item": "GA-002",
                    "name": "户口迁移（市内）",
                    "name_en": "Household registration transfer",
                    "served_today": 9,
                },
            ],
            "cases": [
                {
                    "id": 7,
                    "number": "DL-ZS-20260225-000007",
                    "service_item": "GA-002",
                    "department": "GA",
                    "department_name": "公安分局",
                    "department_name_en": "District Public Security Bureau",
                    "assignee": "clerk02",
                    "status": "accepted",
                    "deadline": "2026-02-27",
                    "clock": "overdue",
                    "version": 5,
                },
                {
                    "id": 9,
                    "number": "DL-ZS-20260226-000009",
                    "service_item": "GA-002",
                    "department": "GA",
                    "department_name": "公安分局",
                    "department_name_en": "District Public Security Bureau",
                    "assignee": None,
                    "status": "accepted",
                    "deadline": "2026-03-03",
                    "clock": "due_soon",
                    "version": 3,
                },
            ],
            "alarms": [
                {
                    "id": 3,
                    "window": "W04",
                    "raised_by": "clerk04",
                    "raised_at": at(1),
                    "note": "help",
                },
            ],
            "ratings": {
                "count": 20,
                "satisfied": 18,
                "satisfaction_rate": 0.9,
                "bad": [
                    {"id": 5, "score": 1, "subject": "GA005", "clerk": "clerk02", "at": at(20)},
                    {"id": 4, "score": 2, "subject": "GB003", "clerk": "clerk01", "at": at(50)},
                ],
            },
            "trend": {
                "start": start.isoformat(),
                "tickets": [0] * 34 + [3, 5, 8, 12, 9, 11, 14, 10, 7],
                "called": [0] * 34 + [2, 5, 7, 11, 9, 10, 12, 9, 6],
                "wait_seconds_total": [0.0] * 34
                + [240, 900, 1800, 3960, 3240, 4200, 6480, 5400, 3000],
            },
        }
    )


class FixedBoard(BoardService):
    """The board's hall as fixed data: no network, nothing ever arrives."""

    async def snapshot(self) -> BoardState:
        return BoardState.from_board(_board())

    async def follow(self, after: int, on_event: Callable[[Event], None]) -> None:
        await asyncio.Event().wait()


def _snapshot_app(tmp_path: Path) -> WorkbenchApp:
    settings = WorkbenchSettings(
        server_url="http://127.0.0.1:9",
        outbox_path=tmp_path / "outbox.sqlite3",
        idle_lock_minutes=0,
        language="en",
    )
    desk = DeskService(settings)
    desk.clock = lambda: NOW
    desk.session = WorkbenchSession(settings, credentials=desk.credentials)
    desk.session.store.set_session(
        Me(username="super01", display_name="值班长", role="supervisor", hall="DL-ZS",
           hall_name="中山区政务服务中心")
    )  # fmt: skip
    app = WorkbenchApp(settings, service=desk)

    async def open_board() -> None:
        app.switch_screen(BoardScreen(FixedBoard(desk)))

    app.call_after_refresh(lambda: app.call_later(open_board))
    return app


def test_board_snapshot(snap_compare: Any, tmp_path: Path) -> None:
    async def ready(pilot: Pilot[None]) -> None:
        for _ in range(10):
            await pilot.pause()
        screen = pilot.app.screen
        assert isinstance(screen, BoardScreen)
        screen.flashing = False  # a still picture: the alarm banner stays lit
        await pilot.pause(0.6)  # ... from the flash timer's next turn (every 0.5 s)

    assert snap_compare(_snapshot_app(tmp_path), run_before=ready, terminal_size=SIZE)

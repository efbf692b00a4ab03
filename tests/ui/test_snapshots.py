"""Snapshots of the workbench's screens (login, main, case, offline/outbox, help) in English,
in Chinese and in the high-contrast theme. The hall is a stub with fixed data and a fixed clock,
so the pictures only change when the screens do."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot
from textual.widgets import Input

from api_client.event_stream import ConnectionState
from api_client.models import Case, Event, Me, ServiceItem, Ticket, Window
from screens.app import WorkbenchApp
from workbench.outbox import OutboxEntry, OutboxStatus
from workbench.services import DeskService
from workbench.session import WorkbenchSession
from workbench.settings import WorkbenchSettings
from workbench.worklist import WorkList

SIZE = (140, 40)
NOW = datetime(2026, 3, 2, 2, 30, tzinfo=UTC)
ACCOUNTS = [
    ("clerk01", "clerk", "W01"),
    ("clerk02", "clerk", "W02"),
    ("super01", "supervisor", None),
]

ITEM = {
    "code": "GA-002",
    "name": "户口迁移（市内）",
    "name_en": "Household registration transfer",
    "department": "GA",
    "department_name": "公安分局",
    "department_name_en": "District Public Security Bureau",
    "ticket_prefix": "GB",
    "promised_days": 3,
    "statutory_days": 20,
    "materials": [
        {
            "code": "id_card",
            "name": "居民身份证",
            "name_en": "Resident identity card",
            "mandatory": True,
            "may_be_owed": False,
            "e_licence_type": "resident_id_card",
            "copies": 1,
            "format": "original",
        },
        {
            "code": "household_register",
            "name": "户口簿",
            "name_en": "Household register",
            "mandatory": True,
            "may_be_owed": False,
            "copies": 1,
            "format": "original",
        },
        {
            "code": "consent",
            "name": "同意落户证明",
            "name_en": "Consent to register",
            "mandatory": False,
            "may_be_owed": True,
            "copies": 1,
            "format": "original",
        },
    ],
}


def _row(code: str, name: str, name_en: str, status: str, **extra: Any) -> dict[str, Any]:
    return {
        "material": code,
        "name": name,
        "name_en": name_en,
        "mandatory": code != "consent",
        "may_be_owed": code == "consent",
        "status": status,
        "uploaded": True,
        "revision": 1,
        **extra,
    }


CASE = {
    "id": 7,
    "number": "DL-ZS-20260302-000007",
    "service_item": "GA-002",
    "channel": "online",
    "status": "under_review",
    "applicant": {"kind": "person", "id_number_masked": "210203********0419", "name": "王小明"},
    "assignee": "clerk01",
    "submitted_at": (NOW - timedelta(hours=3)).isoformat(),
    "version": 4,
    "checklist": [
        _row("id_card", "居民身份证", "Resident identity card", "provided", provided_as="original"),
        _row("household_register", "户口簿", "Household register", "missing"),
        _row("consent", "同意落户证明", "Consent to register", "pending"),
    ],
    "findings": [
        {
            "code": "expiry_unknown",
            "severity": "warning",
            "material": "id_card",
            "message_zh": "身份证有效期未录入",
            "message_en": "The ID card's expiry date is not recorded",
        },
    ],
    "decisions": [],
    "notices": [],
}


def _ticket(n: int, status: str, **extra: Any) -> Ticket:
    return Ticket.model_validate(
        {
            "id": n,
            "number": f"GB{n:03d}",
            "day": "2026-03-02",
            "status": status,
            "service_item": "GA-002",
            "issued_at": (NOW - timedelta(minutes=5 * n)).isoformat(),
            "version": 1,
            **extra,
        }
    )


class StubDesk(DeskService):
    """A desk with a fixed hall: no network, a fixed clock."""

    def __init__(self, settings: WorkbenchSettings, *, offline: bool = False) -> None:
        super().__init__(settings)
        self.clock = lambda: NOW
        self.offline = offline
        self.service_items = {"GA-002": ServiceItem.model_validate(ITEM)}
        self.windows = {
            code: Window.model_validate(
                {
                    "code": code,
                    "number": i,
                    "name": f"{i}号窗口",
                    "name_en": f"Window {i}",
                    "comprehensive": True,
                    "service_items": ["GA-002"],
                    "state": "open",
                    "version": 1,
                }
            )
            for i, code in enumerate(("W01", "W02"), start=1)
        }

    async def login(self, server_url: str, username: str, password: str, window: str | None) -> Me:
        session = WorkbenchSession(self.settings, credentials=self.credentials)
        self.session = session
        me = Me(
            username=username,
            display_name="李晓燕",
            role="clerk",
            hall="DL-ZS",
            hall_name="中山区政务服务中心",
            window=window,
        )
        session.store.set_session(me)
        called = _ticket(
            1,
            "serving",
            window="W01",
            called_at=(NOW - timedelta(minutes=3)).isoformat(),
            serving_started_at=(NOW - timedelta(minutes=2)).isoformat(),
            applicant={"name": "王小明", "id_number_masked": "210203********0419"},
        )
        session.store.set_ticket(called)
        self.worklist = WorkList()
        self.worklist.configure(window="W01", username=username, items=["GA-002"])
        tickets = [called] + [
            _ticket(n, "waiting", priority_class="elderly" if n == 3 else None) for n in range(2, 6)
        ]
        case = Case.model_validate({**CASE, "assignee": None, "status": "submitted"})
        self.worklist.load(tickets, [case])
        state = ConnectionState.OFFLINE if self.offline else ConnectionState.CONNECTED
        self._state_changed(state)
        if self.offline:
            session.store.set_outbox(OutboxStatus(pending=2, conflicts=1, blocked="offline"))
        return me

    async def load_work_list(self) -> WorkList:
        return self.worklist

    async def follow(self, on_event: Callable[[Event], None]) -> None:
        return None

    async def open_case(self, case_id: int) -> Case:
        case = Case.model_validate(CASE)
        self.ws.store.set_case(case)
        return case

    async def outbox_entries(self) -> list[OutboxEntry]:
        created = time.time() - 120
        common = {
            "created_at": created,
            "owner": "clerk01",
            "method": "POST",
            "body": None,
            "not_before": created,
            "attempts": 3,
            "next_attempt_at": 0,
            "response_status": None,
            "response": None,
            "finished_at": None,
        }
        return [
            OutboxEntry(
                id=1,
                path="/api/v1/cases/7/decisions",
                idempotency_key="a",
                base_version=4,
                ordering_key="case:7",
                label="accept case 7",
                state="conflict",
                last_error="Case changed (version 6, you sent 4)",
                problem={
                    "status": 412,
                    "title": "Precondition failed",
                    "detail": "Case DL-ZS-20260302-000007 changed",
                    "current": {"status": "accepted", "version": 6},
                },
                **common,
            ),
            OutboxEntry(
                id=2,
                path="/api/v1/cases/8/materials/id_card",
                idempotency_key="b",
                base_version=2,
                ordering_key="case:8",
                label="verify id_card of case 8",
                state="pending",
                last_error="The server cannot be reached",
                problem=None,
                **common,
            ),
        ]


@pytest.fixture(autouse=True)
def _shanghai_time(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("TZ", "Asia/Shanghai")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


def make_app(
    tmp_path: Path, *, language: str = "en", theme: str = "workbench-dark", offline: bool = False
) -> WorkbenchApp:
    settings = WorkbenchSettings(
        server_url="http://hall.example:8000",
        language=language,
        theme=theme,
        outbox_path=tmp_path / "outbox.sqlite3",
        idle_lock_minutes=0,
    )
    return WorkbenchApp(
        settings,
        service=StubDesk(settings, offline=offline),
        demo_accounts=ACCOUNTS,
        demo_password="demo1234",
    )


async def _steady(pilot: Pilot[None]) -> None:
    for widget in pilot.app.screen.query(Input):
        widget.cursor_blink = False
    await pilot.pause()


def _log_in(*then: str) -> Callable[[Pilot[None]], Any]:
    async def run(pilot: Pilot[None]) -> None:
        await pilot.pause()
        await pilot.press(*"clerk01", "enter", *"demo1234", "enter")
        for _ in range(5):
            await pilot.pause()
        if then == ("open-case",):
            from screens.main import MainScreen

            screen = pilot.app.screen
            assert isinstance(screen, MainScreen)
            screen.table.move_cursor(row=screen.table.get_row_index("c:7"))
            await pilot.press("enter")
        elif then:
            await pilot.press(*then)
        for _ in range(5):
            await pilot.pause()
        await _steady(pilot)

    return run


class TestLogin:
    @pytest.mark.parametrize("language", ["en", "zh"])
    def test_login(self, snap_compare: Any, tmp_path: Path, language: str) -> None:
        assert snap_compare(
            make_app(tmp_path, language=language), run_before=_steady, terminal_size=SIZE
        )

    def test_login_high_contrast(self, snap_compare: Any, tmp_path: Path) -> None:
        app = make_app(tmp_path, theme="workbench-contrast")
        assert snap_compare(app, run_before=_steady, terminal_size=SIZE)


class TestMain:
    @pytest.mark.parametrize("language", ["en", "zh"])
    def test_main(self, snap_compare: Any, tmp_path: Path, language: str) -> None:
        assert snap_compare(
            make_app(tmp_path, language=language), run_before=_log_in(), terminal_size=SIZE
        )

    def test_main_high_contrast(self, snap_compare: Any, tmp_path: Path) -> None:
        app = make_app(tmp_path, theme="workbench-contrast")
        assert snap_compare(app, run_before=_log_in(), terminal_size=SIZE)

    def test_main_offline(self, snap_compare: Any, tmp_path: Path) -> None:
        app = make_app(tmp_path, offline=True)
        assert snap_compare(app, run_before=_log_in(), terminal_size=SIZE)


class TestCase:
    @pytest.mark.parametrize("language", ["en", "zh"])
    def test_case(self, snap_compare: Any, tmp_path: Path, language: str) -> None:
        app = make_app(tmp_path, language=language)
        assert snap_compare(app, run_before=_log_in("open-case"), terminal_size=SIZE)

    def test_case_high_contrast(self, snap_compare: Any, tmp_path: Path) -> None:
        app = make_app(tmp_path, theme="workbench-contrast")
        assert snap_compare(app, run_before=_log_in("open-case"), terminal_size=SIZE)


class TestOutbox:
    @pytest.mark.parametrize("language", ["en", "zh"])
    def test_outbox(self, snap_compare: Any, tmp_path: Path, language: str) -> None:
        app = make_app(tmp_path, language=language, offline=True)
        assert snap_compare(app, run_before=_log_in("ctrl+o"), terminal_size=SIZE)


class TestHelp:
    @pytest.mark.parametrize("language", ["en", "zh"])
    def test_help(self, snap_compare: Any, tmp_path: Path, language: str) -> None:
        app = make_app(tmp_path, language=language)
        assert snap_compare(app, run_before=_log_in("f1"), terminal_size=SIZE)

    def test_language_switches_at_run_time(self, snap_compare: Any, tmp_path: Path) -> None:
        assert snap_compare(make_app(tmp_path), run_before=_log_in("f9"), terminal_size=SIZE)

"""A refusal is told in the clerk's language by its problem type: no English detail from the
server and no worker name inside the Chinese UI (the tester saw
`work.call_next_ticket失败 被拒绝：Window W01 is paused; resume it before calling.`)."""

from __future__ import annotations

import re
from pathlib import Path

from textual.message import Message
from textual.notifications import Notification, Notify

from tests.conftest import Backend, key
from tests.ui.test_clerk_flow import SIZE, log_in, make_app, settle

LATIN_WORD = re.compile(r"[A-Za-z]{3,}")


async def test_a_closed_window_refuses_the_call_in_chinese(
    fresh_backend: Backend, tmp_path: Path
) -> None:
    shown: list[Notification] = []

    def hook(message: Message) -> None:
        if isinstance(message, Notify):
            shown.append(message.notification)

    app = make_app(fresh_backend, tmp_path, language="zh")
    async with app.run_test(size=SIZE, notifications=True, message_hook=hook) as pilot:
        await log_in(app, pilot, "clerk01")
        supervisor = await fresh_backend.login("super01")
        closed = await supervisor.post(
            "/api/v1/windows/W01/close", json={"reason": "午休"}, headers=key()
        )
        assert closed.status_code == 200, closed.text
        await supervisor.aclose()
        shown.clear()

        await pilot.press("f5")
        await settle(app, pilot)

        errors = [n for n in shown if n.severity == "error"]
        assert errors, [n.message for n in shown]
        told = f"{errors[-1].title} {errors[-1].message}"
        assert "W01" in told and "叫号" in told, told
        assert "work." not in told, told
        assert not LATIN_WORD.findall(told.replace("W01", "")), told

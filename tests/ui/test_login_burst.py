"""Keys in a burst on the login form (issue 24, item 11): a card reader, a paste or tmux
`send-keys` delivers every key at once; Tab and Enter must still move between the fields in
order, so the password never lands in the user field."""

from __future__ import annotations

import unicodedata
from pathlib import Path

from textual import events
from textual.widgets import Input

from screens.app import WorkbenchApp
from screens.main import MainScreen
from tests.conftest import Backend
from tests.ui.test_clerk_flow import SIZE, make_app, settle

CONTROL = {"tab": "\t", "enter": "\r", "shift+tab": None}


def burst(app: WorkbenchApp, *keys: str) -> None:
    """Every key into the app's queue at once, as the driver delivers a burst of input."""
    assert app._driver is not None
    for key in keys:
        if key in CONTROL:
            event = events.Key(key, CONTROL[key])
        else:
            name = key if key.isalnum() else unicodedata.name(key).lower().replace(" ", "_")
            event = events.Key(name, key)
        event.set_sender(app)
        app._driver.send_message(event)


def field(app: WorkbenchApp, name: str) -> str:
    return app.screen.query_one(f"#{name}", Input).value


async def test_user_tab_password_tab_window_enter_in_one_burst(
    backend: Backend, tmp_path: Path
) -> None:
    app = make_app(backend, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        burst(app, *"clerk01", "tab", *"demo1234", "tab", *"W01", "enter")
        await settle(app, pilot)
        await settle(app, pilot)
        assert isinstance(app.screen, MainScreen), (field(app, "user"), field(app, "password"))
        assert app.service.window == "W01"


async def test_user_enter_password_enter_in_one_burst(backend: Backend, tmp_path: Path) -> None:
    app = make_app(backend, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        burst(app, *"clerk02", "enter", *"demo1234", "enter")
        await settle(app, pilot)
        await settle(app, pilot)
        assert isinstance(app.screen, MainScreen), (
            field(app, "user"),
            field(app, "password"),
            field(app, "window"),
            str(app.screen.query_one("#login-error").render()),
        )
        assert app.service.window == "W02"


async def test_shift_tab_in_a_burst_goes_back_a_field(backend: Backend, tmp_path: Path) -> None:
    app = make_app(backend, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        burst(app, *"clerk01", "tab", *"demo1234", "shift+tab")
        await settle(app, pilot)
        assert (field(app, "user"), field(app, "password")) == ("clerk01", "demo1234")
        assert app.focused is app.screen.query_one("#user", Input)
        burst(app, "tab", "tab")
        await settle(app, pilot)
        assert app.focused is app.screen.query_one("#window", Input)


async def test_the_fields_take_the_login_requests_limits(backend: Backend, tmp_path: Path) -> None:
    from api_client.models import LoginRequest
    from workbench.field_limits import field_max_length

    app = make_app(backend, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        burst(app, *("x" * 80), "tab", *"demo1234", "enter")
        await settle(app, pilot)
        assert len(field(app, "user")) == field_max_length(LoginRequest, "username") == 64
        assert "Wrong user name or password" in str(app.screen.query_one("#login-error").render())

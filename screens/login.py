"""Provides `LoginScreen`: server, user, password and window, each failure said on the form.

With a token kept from an earlier run (keyring) it offers to resume that session. In the demo,
the accounts are listed; choosing one fills the form.

This is the first thing a clerk sees, so its module stays light: the client stack (httpx, the
wire models, the keyring) is loaded by `WorkbenchApp.warm_up` after the first paint, and the
resume offer appears once the keyring has been asked.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Center, Horizontal, Vertical
from textual.widgets import Button, Input, Label, OptionList, Static
from textual.widgets.option_list import Option

from screens.base import DeskScreen
from screens.errors import describe_error
from screens.host import OpenMain
from screens.widgets.key_bar import KeyBar
from workbench.i18n import t
from workbench.last_login import load_last_login, save_last_login

if TYPE_CHECKING:
    from api_client.errors import ApiError

__all__ = ["DemoAccount", "LoginScreen"]

DemoAccount = tuple[str, str, str | None]


class LoginScreen(DeskScreen):
    """The first screen."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("f2", "resume", "key.resume", tooltip="tip.resume", id="login-resume"),
        # Priority, so they act when the key arrives, not when the field has read the keys
        # before it: Textual hands each key to the widget focused when the key arrives, so in a
        # burst (a card reader, a paste, tmux send-keys) a Tab or Enter that moved the focus
        # later let the password land in the user field.
        Binding("tab", "next_field", show=False, priority=True, id="login-next-field"),
        Binding("shift+tab", "previous_field", show=False, priority=True, id="login-prev-field"),
        Binding("enter", "enter_field", show=False, priority=True, id="login-enter-field"),
    ]
    FIELDS = ("server", "user", "password", "window")

    def __init__(
        self,
        *,
        server_url: str,
        accounts: Sequence[DemoAccount] = (),
        password_hint: str | None = None,
    ) -> None:
        super().__init__()
        self.server_url = server_url
        self.accounts = list(accounts)
        self.password_hint = password_hint
        self.last = load_last_login()
        self.values: dict[str, str] = {}
        self.resume_user: str | None = None
        """The user whose kept session F2 resumes (known once the keyring has answered)."""

    def compose(self) -> ComposeResult:
        values = self.values
        last_user = (
            self.last.get("username", "") if self.last.get("server") == self.server_url else ""
        )
        with Center(id="login-center"), Vertical(id="login-box"):
            yield Static(t("app.title"), id="login-title")
            yield Static(t("login.subtitle"), id="login-subtitle")
            yield from self._field("server", values.get("server", self.server_url))
            # placeholders that read as hints, never as a value already typed
            user = values.get("user", last_user)
            yield from self._field("user", user, t("login.user_placeholder"))
            yield from self._field("password", values.get("password", ""), password=True)
            window = values.get("window", self.last.get("window", "") if last_user else "")
            yield from self._field("window", window, t("login.window_placeholder"))
            yield Label("", id="login-error", classes="form-error")
            with Horizontal(classes="dialog-buttons"):
                yield Button(t("login.submit"), variant="primary", id="login")
            offer = Static(t("login.resume_offer", user=self.resume_user or ""), id="resume-offer")
            offer.display = self.resume_user is not None
            yield offer
            if self.accounts:
                yield Label(t("login.demo", password=self.password_hint or ""), id="demo-title")
                yield OptionList(
                    *(
                        Option(f"{user:<12} {t('role.' + role):<8} {window or ''}", id=user)
                        for user, role, window in self.accounts
                    ),
                    id="demo-accounts",
                )
        yield KeyBar()

    def _field(
        self, name: str, value: str, placeholder: str = "", *, password: bool = False
    ) -> ComposeResult:
        with Horizontal(classes="login-row"):
            yield Label(t(f"login.{name}"), classes="login-label")
            yield Input(value, placeholder=placeholder, password=password, id=name)

    AUTO_FOCUS = None

    def on_mount(self) -> None:
        user = self.query_one("#user", Input)
        target = self.query_one("#password", Input) if user.value else user
        self.call_after_refresh(target.focus)
        self.call_after_refresh(self.offer_resume)

    def translate(self) -> None:
        self.values = {
            "server": self.query_one("#server", Input).value,
            "user": self.query_one("#user", Input).value,
            "password": self.query_one("#password", Input).value,
            "window": self.query_one("#window", Input).value,
        }
        super().translate()

    @work(exclusive=True, group="login-resume", exit_on_error=False)
    async def offer_resume(self) -> None:
        """Once the desk is loaded (after the first paint), offer F2 if the keyring still
        holds a session of the last user on this server."""
        await self.desk.warm_up()
        self._limit_fields()
        user = self.last.get("username")
        if (
            user
            and self.last.get("server") == self.server_url
            and await self.service.has_saved_session(self.server_url, user)
        ):
            self.resume_user = user
            offer = self.query_one("#resume-offer", Static)
            offer.update(t("login.resume_offer", user=user))
            offer.display = True
            self.refresh_bindings()

    def _limit_fields(self) -> None:
        """Give the fields the limits of the login request (known once the desk is loaded:
        the wire models are not on the first paint's path)."""
        from api_client.models import LoginRequest
        from workbench.field_limits import field_max_length

        for name, field in (("user", "username"), ("password", "password"), ("window", "window")):
            self.query_one(f"#{name}", Input).max_length = (
                field_max_length(LoginRequest, field) or 0
            )

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "resume":
            return self.resume_user is not None
        if action == "enter_field":  # elsewhere Enter presses the button or picks the account
            return isinstance(self.focused, Input)
        return True

    def action_next_field(self) -> None:
        self.focus_next()

    def action_previous_field(self) -> None:
        self.focus_previous()

    def action_enter_field(self) -> None:
        """Enter in a field: from the password or window field it logs in once server, user
        and password are typed (the window may stay empty: a supervisor has none, and the
        server says when a clerk needs one); from the server or user field it goes on to the
        next field at once, so the keys after it land there.

        What the field holds is read later, in the field's own queue, after the keys that came
        before the Enter: an empty field then gets the cursor back, with the reason."""
        field = self.focused
        if not isinstance(field, Input) or field.id not in self.FIELDS:
            return
        if field.id in ("password", "window"):
            field.call_later(self.submit)
            return
        self.set_focus(self.query_one(f"#{self.FIELDS[self.FIELDS.index(field.id) + 1]}"))
        field.call_later(self._check_filled, field)

    def _check_filled(self, field: Input) -> None:
        if field.value.strip():
            self._error("")
        else:
            self._ask_for(field.id or "user")

    @on(OptionList.OptionSelected, "#demo-accounts")
    def _pick_account(self, event: OptionList.OptionSelected) -> None:
        account = next((a for a in self.accounts if a[0] == event.option.id), None)
        if account is None:
            return
        self.query_one("#user", Input).value = account[0]
        self.query_one("#window", Input).value = account[2] or ""
        if self.password_hint:
            self.query_one("#password", Input).value = self.password_hint
        self.query_one("#login", Button).focus()

    def _demo_window(self, user: str) -> str | None:
        """The window of a demo account of that name."""
        account = next((a for a in self.accounts if a[0] == user.strip()), None)
        return account[2] if account is not None else None

    @on(Input.Changed, "#user")
    def _suggest_window(self, event: Input.Changed) -> None:
        if window := self._demo_window(event.value):
            self.query_one("#window", Input).value = window

    def _first_missing(self) -> str | None:
        for name in ("server", "user", "password"):
            if not self.query_one(f"#{name}", Input).value.strip():
                return name
        return None

    def _ask_for(self, field: str) -> None:
        """Put the cursor in an empty required field and say why."""
        self._error(t(f"login.need_{field}"))
        self.set_focus(self.query_one(f"#{field}", Input))

    @on(Button.Pressed, "#login")
    def submit(self) -> None:
        missing = self._first_missing()
        if missing is not None:
            self._ask_for(missing)
            return
        server = self.query_one("#server", Input).value.strip()
        user = self.query_one("#user", Input).value.strip()
        password = self.query_one("#password", Input).value
        window = self.query_one("#window", Input).value.strip().upper()
        # in a burst the Enter may come before the suggestion has reached the window field
        window = window or (self._demo_window(user) or "").upper()
        self._error(t("login.busy"), busy=True)
        self.login(server, user, password, window)

    def action_resume(self) -> None:
        if self.resume_user is None:
            return
        self._error(t("login.busy"), busy=True)
        self.resume(self.server_url, self.resume_user)

    def _error(self, message: str, *, busy: bool = False) -> None:
        label = self.query_one("#login-error", Label)
        label.update(message)
        label.set_class(busy, "-busy")

    @work(exclusive=True, group="login", exit_on_error=False)
    async def login(self, server: str, user: str, password: str, window: str) -> None:
        await self.desk.warm_up()  # usually long done: the clerk was typing meanwhile
        from api_client.errors import ApiError

        try:
            me = await self.service.login(server, user, password, window or None)
        except ApiError as error:
            self._error(self._login_message(error, server))
            self._focus_for(error)
            return
        save_last_login(server, me.username, me.window)
        self.post_message(OpenMain())

    @work(exclusive=True, group="login", exit_on_error=False)
    async def resume(self, server: str, user: str) -> None:
        await self.desk.warm_up()
        from api_client.errors import ApiError

        try:
            me = await self.service.resume(server, user)
        except ApiError as error:
            self._error(self._login_message(error, server))
            return
        if me is None:
            self._error(t("login.error.expired"))
            return
        self.post_message(OpenMain())

    def _focus_for(self, error: ApiError) -> None:
        """Put the cursor where the fix goes: the window code, or the password to retype."""
        from api_client.errors import InvalidCredentials, NotFound, ValidationFailed, WindowTaken

        window_problem = isinstance(error, WindowTaken | NotFound) or (
            isinstance(error, ValidationFailed)
            and "body.window" in {f.field for f in error.field_errors}
        )
        if window_problem:
            self.query_one("#window", Input).focus()
        elif isinstance(error, InvalidCredentials):
            self.query_one("#password", Input).focus()

    def _login_message(self, error: ApiError, server: str) -> str:
        from api_client.errors import (
            AccountLocked,
            InvalidCredentials,
            NotFound,
            Unavailable,
            ValidationFailed,
            WindowTaken,
        )

        if isinstance(error, InvalidCredentials):
            return t("login.error.credentials")
        if isinstance(error, AccountLocked):
            return t("login.error.locked", until=error.locked_until or "?")
        if isinstance(error, Unavailable):
            return t("login.error.unreachable", server=server)
        if isinstance(error, WindowTaken):
            return t("login.error.window_taken")
        if isinstance(error, NotFound):
            return t("login.error.no_window")
        if isinstance(error, ValidationFailed):
            fields = {f.field for f in error.field_errors}
            if "body.window" in fields:
                return t("login.error.window_required")
        return describe_error(error)

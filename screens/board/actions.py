"""Provides `SupervisorActions`: what a supervisor does from the board (acknowledge an alarm, move
a ticket, bring a no-show back, reassign a case, close a window, look at a case's merges), each
with the dialogs it needs.

The board's keys call it with what is selected; each call to the hall runs in a named worker
through the outbox, and the worker ends by posting `SupervisorActions.Done` with what to tell
the supervisor.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from textual import work
from textual.message import Message
from textual.notifications import SeverityLevel

from api_client.errors import ApiError
from api_client.models import TicketActionRequest
from api_client.models.board import WindowClose
from screens.base import DeskWidget
from screens.dialogs import ChoiceDialog, ConfirmDialog, PromptDialog
from screens.errors import describe_error
from screens.merge import ask_merge_history, open_merge_history
from screens.stylesheets import beside
from workbench.board_service import ActionResult, BoardService
from workbench.board_state import BoardState
from workbench.i18n import language, t

__all__ = ["SupervisorActions"]

CHOICES_SHOWN = 50
"""The most waiting tickets offered when moving one."""


class SupervisorActions(DeskWidget):
    """Asks which and where, then calls the hall; shows nothing."""

    DEFAULT_CSS = beside(__file__)

    class Done(Message):
        """A supervisor action ended."""

        def __init__(self, note: str, severity: SeverityLevel = "information") -> None:
            super().__init__()
            self.note = note
            self.severity = severity

    def __init__(self, board: BoardService | None, state: BoardState | None) -> None:
        super().__init__()
        self.board = board
        """The hall's board service (the board screen sets it)."""
        self.state = state
        """The board's state as the board screen shows it (the screen keeps it current)."""

    def _choose(
        self,
        title: str,
        options: list[tuple[str, str]],
        then: Callable[[str], object],
        unavailable: dict[str, str] | None = None,
    ) -> None:
        if not options:
            self.notify(t("board.nothing_to_choose"), severity="warning")
            return

        def chosen(value: str | None) -> None:
            if value:
                then(value)

        self.app.push_screen(ChoiceDialog(title, options, unavailable=unavailable), chosen)

    def _ticket_number(self, ticket_id: int) -> str:
        state = self.state
        return state.tickets[ticket_id].number if state and ticket_id in state.tickets else "?"

    # -- the flows: which, where, are you sure -------------------------------------------

    def ask_move(self, item: str | None) -> None:
        """Which waiting ticket (of the queue of `item`, when it has any) goes where."""
        state = self.state
        if state is None:
            return
        tickets = state.waiting_tickets(item if item and state.queues[item].waiting else None)
        options = [
            (str(x.id), f"{x.number}  {x.service_item}  {x.target_window or ''}") for x in tickets
        ][:CHOICES_SHOWN]
        self._choose(t("board.move.which"), options, self._move_where)

    def _move_where(self, ticket_id: str) -> None:
        state = self.state
        if state is None:
            return
        zh = language() == "zh"
        ordered = sorted(state.windows.values(), key=lambda w: w.number)
        windows = [
            (
                f"w:{w.code}",
                t(
                    "board.move.to_window",
                    window=w.code,
                    clerk=w.clerk or t("transfer.nobody"),
                    state=t(f"transfer.state.{w.state}"),
                ),
            )
            for w in ordered
        ]
        # the server refuses a paused or closed window: shown greyed, with why
        refused = {
            f"w:{w.code}": t("transfer.refused", state=t(f"transfer.state.{w.state}"))
            for w in ordered
            if w.state != "open"
        }
        items = [
            (f"i:{q.service_item}", t("board.move.to_item", item=q.service_item,
                                      name=q.name if zh else q.name_en))
            for q in sorted(state.queues.values(), key=lambda q: q.service_item)
        ]  # fmt: skip

        def move(target: str) -> None:
            kind, _, code = target.partition(":")

            def why(reason: str | None) -> None:
                if reason:
                    self.move_ticket(
                        int(ticket_id),
                        window=code if kind == "w" else None,
                        service_item=code if kind == "i" else None,
                        reason=reason,
                    )

            self.app.push_screen(
                PromptDialog(t("transfer.reason"), field=(TicketActionRequest, "reason")), why
            )

        self._choose(t("board.move.where"), windows + items, move, refused)

    def ask_reactivate(self) -> None:
        """Which no-show comes back to its queue."""
        state = self.state
        if state is None:
            return
        options = [
            (str(x.id), f"{x.number}  {x.service_item}  {x.window or ''}") for x in state.no_shows()
        ]
        self._choose(t("board.reactivate.which"), options, lambda v: self.reactivate(int(v)))

    def ask_reassign(self, case_key: str | None) -> None:
        """To whom the case `case_key` goes (asking which case when none is selected)."""
        state = self.state
        if state is None:
            return
        cases = [state.cases[int(case_key)]] if case_key and int(case_key) in state.cases else []
        if not cases:
            options = [
                (str(c.id), f"{c.number}  {c.assignee or '-'}") for c in state.cases.values()
            ]
            self._choose(t("board.reassign.which"), options, self._reassign_to)
            return
        self._reassign_to(str(cases[0].id))

    def _reassign_to(self, case_id: str) -> None:
        state = self.state
        if state is None or int(case_id) not in state.cases:
            return
        case = state.cases[int(case_id)]
        clerks = sorted({w.clerk for w in state.windows.values() if w.clerk and w.clerk != "?"})
        options = [(c, c) for c in clerks if c != case.assignee]
        self._choose(
            t("board.reassign.to", case=case.number),
            options,
            lambda clerk: self.reassign(case.id, clerk, case.version),
        )

    def ask_close(self, window: str | None) -> None:
        """Close `window` (asking which when none open is selected), after a confirmation and
        with a reason."""
        state = self.state
        if state is None:
            return
        if window is None or window not in state.windows or state.windows[window].state == "closed":
            options = [
                (w.code, f"{w.code}  {w.clerk or '-'}")
                for w in sorted(state.windows.values(), key=lambda w: w.number)
                if w.state != "closed"
            ]
            self._choose(t("board.close.which"), options, self._confirm_close)
            return
        self._confirm_close(window)

    def _confirm_close(self, window: str) -> None:
        def reason(text: str | None) -> None:
            if text is not None:
                self.close_window(window, text.strip() or None)

        def confirmed(yes: bool | None) -> None:
            if yes:
                self.app.push_screen(
                    PromptDialog(t("board.close.reason"), field=(WindowClose, "reason")),
                    reason,
                )

        self.app.push_screen(
            ConfirmDialog(t("board.close.confirm", window=window), danger=True), confirmed
        )

    def show_merges(self, case_key: str | None) -> None:
        """The merges of the case `case_key` (the newest first; Enter undoes one), or ask for a
        case when none is selected."""
        state = self.state
        if state is not None and case_key is not None and int(case_key) in state.cases:
            case = state.cases[int(case_key)]
            open_merge_history(self.screen, case.id, case.number)
        else:
            ask_merge_history(self.screen)

    # -- workers: the calls to the hall ----------------------------------------------------

    def _report(self, result: ActionResult, done: str) -> None:
        if result.state == "sent":
            self.post_message(self.Done(done))
        elif result.state == "refused":
            self.post_message(self.Done(t("board.refused", why=result.detail or "-"), "error"))
        else:
            self.post_message(self.Done(t("board.queued"), "warning"))

    async def _run(self, call: Callable[[], Awaitable[ActionResult]], done: str) -> None:
        try:
            result = await call()
        except ApiError as error:
            self.post_message(self.Done(describe_error(error), "error"))
            return
        self._report(result, done)

    @work(group="board-action", exit_on_error=False)
    async def move_ticket(
        self,
        ticket_id: int,
        *,
        window: str | None = None,
        service_item: str | None = None,
        reason: str | None = None,
    ) -> None:
        assert self.board is not None
        board = self.board
        number = self._ticket_number(ticket_id)
        target = window or service_item or "-"
        await self._run(
            lambda: board.move_ticket(
                ticket_id, window=window, service_item=service_item, reason=reason
            ),
            t("board.done.move", number=number, target=target),
        )

    @work(group="board-action", exit_on_error=False)
    async def reactivate(self, ticket_id: int) -> None:
        assert self.board is not None
        board = self.board
        number = self._ticket_number(ticket_id)
        await self._run(
            lambda: board.reactivate(ticket_id), t("board.done.reactivate", number=number)
        )

    @work(group="board-action", exit_on_error=False)
    async def reassign(self, case_id: int, clerk: str, version: int) -> None:
        assert self.board is not None
        board = self.board
        await self._run(
            lambda: board.reassign(case_id, clerk, version=version),
            t("board.done.reassign", clerk=clerk),
        )

    @work(group="board-action", exit_on_error=False)
    async def close_window(self, window: str, reason: str | None) -> None:
        assert self.board is not None
        board = self.board
        await self._run(
            lambda: board.close_window(window, reason), t("board.done.close", window=window)
        )

    @work(group="board-action", exit_on_error=False)
    async def acknowledge_alarm(self, alarm_id: int, window: str) -> None:
        assert self.board is not None
        board = self.board
        await self._run(
            lambda: board.acknowledge_alarm(alarm_id), t("board.done.acknowledge", window=window)
        )

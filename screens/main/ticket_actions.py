"""Provides `TicketActions`: what the clerk does with the ticket in hand or under the cursor
(call, start, recall, no-show, park, finish, transfer, walk-in, claim an online case), with the
dialogs each needs and the workers that tell the hall; shows nothing itself."""

from __future__ import annotations

from functools import partial

from textual import on, work
from textual.message import Message

from api_client.models import TicketActionRequest
from api_client.models.tickets import TicketAction
from screens.base import DeskWidget
from screens.case import CaseScreen
from screens.dialogs import ChoiceDialog, ConfirmDialog, PromptDialog
from screens.main.changed import Changed
from screens.stylesheets import beside
from screens.widgets.deliberate_confirm import DeliberateConfirmDialog
from workbench.i18n import language, t
from workbench.transfer_targets import TransferTarget, load_transfer_targets
from workbench.worklist import WorkRow

__all__ = ["OUTCOMES", "TicketActions"]

OUTCOMES = ("completed", "case_opened", "information_only", "referred", "incomplete", "abandoned")


class TicketActions(DeskWidget):
    """The ticket actions of the main screen (its bindings call these)."""

    DEFAULT_CSS = beside(__file__)

    def _current_id(self) -> int | None:
        ticket = self.service.current_ticket
        return ticket.id if ticket is not None else None

    def call_next_visitor(self) -> None:
        """Call the next ticket (asking first while a visitor is being served)."""
        ticket = self.service.current_ticket
        if ticket is not None and ticket.status == "serving":

            def confirmed(yes: bool | None) -> None:
                if yes:
                    self.call_next_ticket()

            self.app.push_screen(
                ConfirmDialog(t("confirm.call_while_serving", number=ticket.number)), confirmed
            )
            return
        self.call_next_ticket()

    def call_row(self, row: WorkRow | None) -> None:
        """Call the waiting ticket of `row`, take back a parked one, or say why the row cannot
        be called (a case, a ticket already called or served, an empty list)."""
        if row is None:
            self.notify(t("call_selected.empty"), severity="warning")
        elif row.kind == "case":
            self.notify(t("call_selected.case", number=row.number), severity="warning")
        elif row.status == "waiting":
            self.ticket_action(row.id, "call")
        elif row.status == "parked":
            self.ticket_action(row.id, "resume")
        else:
            status = t(f"status.ticket.{row.status}")
            self.notify(
                t("call_selected.busy", number=row.number, status=status), severity="warning"
            )

    def act(self, action: TicketAction) -> None:
        """`start` or `park` the ticket in hand."""
        if (ticket_id := self._current_id()) is not None:
            self.ticket_action(ticket_id, action)

    def recall(self) -> None:
        wait = self.service.recall_wait()
        if wait > 0:
            self.notify(t("error.recall_too_soon", seconds=int(wait + 0.999)), severity="warning")
            return
        if (ticket_id := self._current_id()) is not None:
            self.ticket_action(ticket_id, "recall")

    def no_show(self) -> None:
        ticket = self.service.current_ticket
        if ticket is None:
            return
        ticket_id = ticket.id

        def confirmed(yes: bool | None) -> None:
            if yes:
                self.ticket_action(ticket_id, "no-show")

        wait = int(self.service.recall_wait() + 0.999)
        message = t("confirm.no_show", number=ticket.number)
        if wait > 0:
            message = f"{message}\n{t('confirm.no_show_countdown', seconds=wait)}"
        dialog = DeliberateConfirmDialog(message, confirm=t("confirm.no_show_yes"), danger=True)
        self.app.push_screen(dialog, confirmed)

    def finish(self) -> None:
        ticket_id = self._current_id()
        if ticket_id is None:
            return

        def chosen(outcome: str | None) -> None:
            if outcome:
                self.ticket_action(ticket_id, "finish", TicketActionRequest(outcome=outcome))

        options = [(o, t(f"outcome.{o}")) for o in OUTCOMES]
        self.app.push_screen(ChoiceDialog(t("finish.title"), options), chosen)

    class TransferTargetsLoaded(Message):
        """The windows a ticket may go to, as they are now (states change during the day)."""

        def __init__(self, ticket_id: int, targets: list[TransferTarget]) -> None:
            super().__init__()
            self.ticket_id = ticket_id
            self.targets = targets

    def transfer(self) -> None:
        ticket = self.service.current_ticket
        if ticket is not None:
            self.choose_transfer(ticket.id, ticket.service_item)

    @work(exclusive=True, group="transfer", exit_on_error=False)
    async def choose_transfer(self, ticket_id: int, service_item: str) -> None:
        targets = await load_transfer_targets(self.service, service_item=service_item)
        self.post_message(self.TransferTargetsLoaded(ticket_id, targets))

    @on(TransferTargetsLoaded)
    def _offer_transfer(self, message: TransferTargetsLoaded) -> None:
        """Every other window with its state, who is there and whether it serves the item (a
        paused or closed one greyed: the server refuses it); then why."""
        ticket_id = message.ticket_id
        options = [(target.code, transfer_label(target)) for target in message.targets]
        refused = {
            target.code: t("transfer.refused", state=t(f"transfer.state.{target.state}"))
            for target in message.targets
            if not target.open
        }

        def chosen(window: str | None) -> None:
            if window:
                dialog = PromptDialog(t("transfer.reason"), field=(TicketActionRequest, "reason"))
                self.app.push_screen(dialog, partial(why, window))

        def why(window: str, reason: str | None) -> None:
            if reason:
                request = TicketActionRequest(window=window, reason=reason)
                self.ticket_action(ticket_id, "transfer", request)

        self.app.push_screen(
            ChoiceDialog(t("transfer.title"), options, unavailable=refused), chosen
        )

    def choose_walk_in(self) -> None:
        window = self.service.windows.get(self.service.window or "")
        codes = window.service_items if window is not None else list(self.service.service_items)
        zh = language() == "zh"
        options = []
        for code in codes:
            item = self.service.service_items.get(code)
            options.append((code, (item.name if zh else item.name_en) if item else code))

        def chosen(item: str | None) -> None:
            if item:
                self.walk_in(item)

        self.app.push_screen(ChoiceDialog(t("walk_in.title"), options), chosen)

    # -- workers -------------------------------------------------------------------------

    @work(exclusive=True, group="ticket", exit_on_error=False)
    async def call_next_ticket(self) -> None:
        ticket = await self.service.call_next()
        note = t("done.called", number=ticket.number) if ticket else t("done.nobody_waits")
        self.post_message(Changed(note, "information" if ticket else "warning"))

    @work(exclusive=True, group="ticket", exit_on_error=False)
    async def ticket_action(
        self, ticket_id: int, action: TicketAction, body: TicketActionRequest | None = None
    ) -> None:
        ticket = await self.service.ticket_action(ticket_id, action, body)
        self.post_message(Changed(t(f"done.{action.replace('-', '_')}", number=ticket.number)))

    @work(exclusive=True, group="ticket", exit_on_error=False)
    async def walk_in(self, item: str) -> None:
        ticket = await self.service.walk_in(item)
        self.post_message(Changed(t("done.walk_in", number=ticket.number)))

    @work(exclusive=True, group="case", exit_on_error=False)
    async def claim_case(self) -> None:
        case = await self.service.claim_case()
        if case is None:
            self.post_message(Changed(t("done.no_case"), "warning"))
            return
        self.post_message(Changed(t("done.claimed", number=case.number)))
        self.app.push_screen(CaseScreen(case.id))


def transfer_label(target: TransferTarget) -> str:
    """`W02  2号窗口 · open · clerk02 · serves it` in the current language."""
    name = target.name if language() == "zh" else target.name_en
    parts = [f"{target.code}  {name}", t(f"transfer.state.{target.state}")]
    parts.append(target.clerk if target.clerk else t("transfer.nobody"))
    if target.serves_item:
        parts.append(t("transfer.serves"))
    return " · ".join(parts)

"""Provides `DecisionFlows`: the eight decisions on a case, each with the dialogs it needs.

A flow ends by sending the decision at once (through the outbox, held for the undo window; at
once, because the clerk may take it back within that window); the worker posts
`DecisionFlows.Queued` when the outbox has it.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from functools import partial

from textual import on, work
from textual.message import Message

from api_client.errors import Unavailable
from api_client.models import (
    AcceptDecision,
    AcceptWithOwedDecision,
    ApproveDecision,
    Case,
    RejectDecision,
    SupplementDecision,
    SupplementItem,
    SupplementReceivedDecision,
    TransferDecision,
    WithdrawDecision,
)
from api_client.models.decisions import DecisionRequest, NoticeDecision
from screens.base import DeskWidget
from screens.case_text import owed_preview, supplement_preview, supplement_rows
from screens.dialogs import ChoiceDialog, NoticeDialog, PromptDialog, RejectDialog
from screens.stylesheets import beside
from workbench.i18n import language, t
from workbench.notice_preview import preview_notice
from workbench.outbox import OutboxEntry

__all__ = ["DECISIONS", "REJECT_REASONS", "DecisionFlows"]

DECISIONS = (
    "accept",
    "supplement",
    "accept_with_owed",
    "reject",
    "approve",
    "transfer",
    "withdraw",
    "supplement_received",
)
REJECT_REASONS = (
    "not_in_remit",
    "not_eligible",
    "not_corrected",
    "false_materials",
    "no_permit_needed",
    "duplicate",
    "document_expired",
    "no_authorisation",
)


class DecisionFlows(DeskWidget):
    """Asks what a decision needs (a reason, a window, a confirmed notice); shows nothing."""

    DEFAULT_CSS = beside(__file__)

    class Queued(Message):
        """The decision is in the outbox, held until `entry.not_before`."""

        def __init__(self, decision: DecisionRequest, entry: OutboxEntry) -> None:
            super().__init__()
            self.decision = decision
            self.entry = entry

    def __init__(self) -> None:
        super().__init__()
        self.case: Case | None = None
        """The case on the screen (the case screen keeps it current)."""

    def choose(self, unavailable: dict[str, str]) -> None:
        """Offer every decision (those the server would refuse greyed, with why)."""
        options = [(d, t(f"decision.{d}")) for d in DECISIONS]
        dialog = ChoiceDialog(t("decision.title"), options, unavailable=unavailable)
        self.app.push_screen(dialog, self._decided)

    def _decided(self, kind: str | None) -> None:
        if kind is not None and self.case is not None:
            self.start(kind)

    def start(self, kind: str) -> None:
        """Run the flow of this decision (one of `DECISIONS`)."""
        getattr(self, f"_decide_{kind}")()

    def commands(self, unavailable: dict[str, str]) -> list[tuple[str, str, Callable[[], object]]]:
        """The command palette's decisions: those the server would take now."""
        return [
            (t(f"decision.{d}"), t("palette.decide"), partial(self.start, d))
            for d in DECISIONS
            if d not in unavailable
        ]

    def _submit(self, decision: DecisionRequest, version: int | None = None) -> None:
        if self.case is not None:
            self.send_decision(self.case, decision, version)

    @work(exclusive=True, group="case-decide", exit_on_error=False)
    async def send_decision(
        self, case: Case, decision: DecisionRequest, version: int | None = None
    ) -> None:
        entry = await self.service.decide(case, decision, version=version)
        self.post_message(self.Queued(decision, entry))

    @on(Queued)
    def _queued(self, message: Queued) -> None:
        seconds = int(message.entry.not_before - time.time() + 0.5)
        what = t(f"decision.{message.decision.decision}")
        self.notify(t("undo.queued", what=what, seconds=seconds))

    def _decide_accept(self) -> None:
        self._submit(AcceptDecision(decision="accept"))

    def _decide_approve(self) -> None:
        self._submit(ApproveDecision(decision="approve"))

    def _decide_withdraw(self) -> None:
        self._submit(WithdrawDecision(decision="withdraw"))

    def _decide_supplement_received(self) -> None:
        if self.case is None:
            return
        if self.case.status != "supplement_requested":
            self.notify(t("case.not_awaiting"), severity="warning")
            return
        self._submit(SupplementReceivedDecision(decision="supplement_received"))

    class PreviewReady(Message):
        """The notice a decision would issue, as the server renders it (or, offline, as the
        desk can tell it), ready for the clerk to approve."""

        def __init__(
            self, decision: NoticeDecision, text: str, *, owed: bool, version: int | None
        ) -> None:
            super().__init__()
            self.decision = decision
            self.text = text
            self.owed = owed
            self.version = version
            """The case version the preview was made from (None offline)."""

    def _decide_supplement(self) -> None:
        assert self.case is not None
        rows = supplement_rows(self.case)
        items = [SupplementItem(material=row.material) for row in rows]
        self.preview_notice(SupplementDecision(decision="supplement", items=items))

    def _decide_accept_with_owed(self) -> None:
        assert self.case is not None
        self.preview_notice(AcceptWithOwedDecision(decision="accept_with_owed", pledge_signed=True))

    @work(exclusive=True, group="notice-preview", exit_on_error=False)
    async def preview_notice(self, decision: NoticeDecision) -> None:
        """Ask the server for the notice text the decision would issue: the clerk approves
        exactly what the citizen will get. Offline, the desk's own telling, marked as such."""
        case = self.case
        assert case is not None
        owed = isinstance(decision, AcceptWithOwedDecision)
        version: int | None = None
        try:
            preview = await preview_notice(self.service, case.id, decision)
            text, version = preview.text, preview.case_version
        except (Unavailable, TimeoutError):
            item = self.service.service_items.get(case.service_item)
            local = owed_preview(case) if owed else supplement_preview(case, item)
            text = f"{t('notice.preview_offline')}\n\n{local}"
        self.post_message(self.PreviewReady(decision, text, owed=owed, version=version))

    @on(PreviewReady)
    def _approve_preview(self, message: PreviewReady) -> None:
        def confirmed(send: bool | None) -> None:
            if send:  # decided on the version the preview showed: a change since is refused
                self._submit(message.decision, message.version)

        if message.owed:
            dialog = NoticeDialog(
                t("owed.title"), message.text, confirm=t("owed.send"), pledge=True
            )
        else:
            dialog = NoticeDialog(t("notice.preview_title"), message.text, confirm=t("notice.send"))
        self.app.push_screen(dialog, confirmed)

    def _decide_reject(self) -> None:
        reasons = [(code, t(f"reject.{code}")) for code in REJECT_REASONS]

        def chosen(answer: tuple[str, str] | None) -> None:
            if answer:
                code, text = answer
                self._submit(RejectDecision(decision="reject", reason_code=code, reason_text=text))

        self.app.push_screen(RejectDialog(reasons), chosen)

    def _decide_transfer(self) -> None:
        here = self.service.window
        zh = language() == "zh"
        options = [
            (w.code, f"{w.code}  {w.name if zh else w.name_en}")
            for w in self.service.windows.values()
            if w.code != here
        ]

        def chosen(window: str | None) -> None:
            if not window:
                return

            def noted(note: str | None) -> None:
                if note:
                    self._submit(
                        TransferDecision(decision="transfer", target_window=window, note=note)
                    )

            dialog = PromptDialog(t("transfer.note"), field=(TransferDecision, "note"))
            self.app.push_screen(dialog, noted)

        self.app.push_screen(ChoiceDialog(t("transfer.title"), options), chosen)

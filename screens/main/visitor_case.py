"""Provides `VisitorCase`: the case of the visitor in hand (opened, or found, with the ID number
and name asked for when the ticket knows nobody) and the reveal of their personal data; shows
nothing itself."""

from __future__ import annotations

from textual import work
from textual.message import Message

from api_client.errors import ValidationFailed
from api_client.identity import normalise_resident_id
from api_client.models import IntakeApplicant, Ticket
from screens.base import DeskWidget
from screens.case import CaseScreen
from screens.dialogs import PromptDialog
from screens.main.changed import Changed
from screens.stylesheets import beside
from workbench import merging
from workbench.i18n import t
from workbench.merging import MergeSubject
from workbench.services import PersonalData

__all__ = ["VisitorCase"]


class VisitorCase(DeskWidget):
    """Opens the visitor's case and reveals their personal data for the main screen."""

    DEFAULT_CSS = beside(__file__)

    class Revealed(Message):
        """The server unmasked the visitor's personal data (and logged that it did)."""

        def __init__(self, subject: str, data: PersonalData) -> None:
            super().__init__()
            self.subject = subject
            self.data = data

    def open(self, ticket: Ticket) -> None:
        """Open the case of the visitor called or being served, or say why not."""
        if ticket.status not in ("called", "serving"):
            self.notify(t("open_case.no_visitor"), severity="warning")
            return
        self.open_visitor_case(ticket)

    def _ask_applicant(self, ticket: Ticket, typed: str = "") -> None:
        """Ask for the ID number and then the name of a visitor the ticket knows nothing of,
        then open the case for them (the name's Input has the request's limits)."""

        def got_id(value: str | None) -> None:
            if not value:
                return
            try:
                id_number = normalise_resident_id(value)
            except ValueError:
                self.notify(t("open_case.bad_id"), severity="error")
                self._ask_applicant(ticket, value)
                return
            self.app.push_screen(
                PromptDialog(
                    t("open_case.ask_name", number=ticket.number), field=(IntakeApplicant, "name")
                ),
                lambda name: got_name(id_number, name),
            )

        def got_name(id_number: str, name: str | None) -> None:
            if name:
                applicant = IntakeApplicant(id_number=id_number, name=name)
                self.open_visitor_case(ticket, applicant)

        title = t("open_case.ask_id", number=ticket.number)
        hint = t("open_case.id_hint")
        self.app.push_screen(PromptDialog(title, placeholder=hint, value=typed), got_id)

    @work(exclusive=True, group="case", exit_on_error=False)
    async def open_visitor_case(
        self, ticket: Ticket, applicant: IntakeApplicant | None = None
    ) -> None:
        """Open a hall case for the visitor (or find the one the ticket has) and show it."""
        subject = MergeSubject(ticket_id=ticket.id, label=ticket.number)
        try:
            case_id, opened = await merging.case_for_subject(
                self.service, subject, applicant=applicant
            )
        except ValidationFailed as error:
            if applicant is not None or not _wants_applicant(error):
                raise
            self._ask_applicant(ticket)
            return
        if opened is not None:
            note = t("open_case.opened", case=opened.number, number=ticket.number)
        else:
            note = t("open_case.existing", number=ticket.number)
        self.post_message(Changed(note))
        self.app.push_screen(CaseScreen(case_id))

    @work(exclusive=True, group="reveal", exit_on_error=False)
    async def reveal(self, kind: str, subject_id: int) -> None:
        revealed = await self.service.reveal(kind, subject_id)
        self.post_message(self.Revealed(revealed.subject, revealed.data))
        self.post_message(Changed(t("done.revealed")))


def _wants_applicant(error: ValidationFailed) -> bool:
    """Whether the server refused a hall case because the visitor's applicant is unknown."""
    return any("applicant" in complaint.field.split(".") for complaint in error.field_errors)

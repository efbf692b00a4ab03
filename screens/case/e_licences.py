"""Provides `ELicences`: looks up the applicant's e-licences for a material and lets the clerk
pick one; the pick ends in an `ELicences.Chosen` (the case screen queues the mark)."""

from __future__ import annotations

from textual import on, work
from textual.message import Message

from api_client.models import ChecklistRow, ELicence, MaterialVerification
from screens.base import DeskWidget
from screens.dialogs import ChoiceDialog
from screens.stylesheets import beside
from workbench.i18n import language, t
from workbench.services import PersonalData

__all__ = ["ELicences"]


class ELicences(DeskWidget):
    """The e-licence look-up of the case screen; shows nothing itself but the choice."""

    DEFAULT_CSS = beside(__file__)

    class Found(Message):
        """The look-up answered: the applicant's licences usable for `row`."""

        def __init__(self, row: ChecklistRow, usable: list[ELicence]) -> None:
            super().__init__()
            self.row = row
            self.usable = usable

    class Chosen(Message):
        """The clerk picked a licence for `row`: mark it provided by it."""

        def __init__(self, row: ChecklistRow, verification: MaterialVerification) -> None:
            super().__init__()
            self.row = row
            self.verification = verification

    def __init__(self, case_id: int) -> None:
        super().__init__()
        self.case_id = case_id
        self.holder_id: str | None = None
        """The applicant's ID number as fetched for look-ups: used, never shown."""
        self.revealed: PersonalData | None = None
        """What the clerk revealed (the case screen keeps it current)."""

    def forget(self) -> None:
        self.holder_id = None
        self.revealed = None

    @work(exclusive=True, group="e-licence", exit_on_error=False)
    async def look_up_e_licence(self, row: ChecklistRow) -> None:
        licences = await self.service.e_licences(await self._holder())
        wanted = [
            lic for lic in licences if not row.e_licence_type or lic.type == row.e_licence_type
        ]
        self.post_message(self.Found(row, [lic for lic in wanted if lic.usable]))

    async def _holder(self) -> str:
        """The ID number to look e-licences up by. The look-up needs it unmasked (the server
        logs fetching it), but it is kept apart from the revealed data: a look-up must not
        unmask the header, only the reveal key does."""
        if self.revealed is not None:
            return self.revealed.id_number
        if self.holder_id is None:
            self.holder_id = (await self.service.reveal("case", self.case_id)).data.id_number
        return self.holder_id

    @on(Found)
    def _found(self, message: Found) -> None:
        row = message.row
        if not message.usable:
            self.notify(t("case.no_e_licence"), severity="warning")
            return
        zh = language() == "zh"
        options = [
            (
                str(lic.id),
                f"{lic.type_name if zh else lic.type_name_en}  {lic.number_masked}  {lic.issuer}",
            )
            for lic in message.usable
        ]

        def chosen(licence_id: str | None) -> None:
            if licence_id:
                verification = MaterialVerification(
                    status="provided", provided_as="e_licence", e_licence_id=int(licence_id)
                )
                self.post_message(self.Chosen(row, verification))

        self.app.push_screen(ChoiceDialog(t("case.e_licence_title"), options), chosen)

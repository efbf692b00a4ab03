"""Provides `VisitorPanel`: the current visitor or case, readable at a glance.

The ID number stays masked (210202********1234) until the clerk reveals it; the revealed data
is forgotten when the visitor changes or the screen locks.
"""

from __future__ import annotations

from datetime import datetime

from rich.cells import cell_len
from textual import work
from textual.content import Content
from textual.reactive import reactive
from textual.widgets import Static

from api_client.errors import ApiError
from api_client.models import Case, Ticket
from screens.stylesheets import beside
from workbench import merging
from workbench.i18n import language, t
from workbench.merging import MergeSubject
from workbench.services import DeskService, PersonalData

__all__ = ["VisitorPanel", "duration"]

LABEL_CELLS = 10


def duration(start: datetime | None, end: datetime) -> str:
    if start is None:
        return "-"
    seconds = max(0, int((end - start).total_seconds()))
    minutes, seconds = divmod(seconds, 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{seconds:02d}" if hours else f"{minutes}:{seconds:02d}"


class VisitorPanel(Static):
    """The left panel of the main screen."""

    DEFAULT_CSS = beside(__file__)

    ticket: reactive[Ticket | None] = reactive(None, always_update=True)
    case: reactive[Case | None] = reactive(None, always_update=True)
    revealed: reactive[PersonalData | None] = reactive(None)
    revealed_subject: str | None = None
    """Whose data `revealed` is ("ticket:<id>" or "case:<id>"): shown on that line only."""
    pause_reason: reactive[str | None] = reactive(None)
    alarm_at: reactive[str | None] = reactive(None)
    merge_candidates: reactive[int] = reactive(0)
    """Open cases that may be the same matter as the visitor's (the quiet merge marker)."""

    def __init__(self, service: DeskService, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.service = service
        self._merge_key: tuple[object, ...] | None = None

    def on_mount(self) -> None:
        self.border_title = t("visitor.title")
        self.set_interval(1.0, self.refresh)

    def translate(self) -> None:
        self.border_title = t("visitor.title")
        self.refresh()

    def watch_ticket(self, old: Ticket | None, new: Ticket | None) -> None:
        if old is None or new is None or old.id != new.id:
            self.revealed = None
        self._check_merges()

    def watch_case(self, old: Case | None, new: Case | None) -> None:
        moved = (old.id if old else None) != (new.id if new else None)
        if moved and (self.revealed_subject or "").startswith("case:"):
            self.revealed = None
        self._check_merges()

    def _check_merges(self) -> None:
        """Look for merge candidates again when the visitor, or the case in hand, changes."""
        ticket, case = self.ticket, self.case
        key = (
            (ticket.id, ticket.status) if ticket else None,
            (case.id, case.version) if case else None,
        )
        if key == self._merge_key:
            return
        self._merge_key = key
        subject = MergeSubject.of(ticket, case)
        if subject is None:
            self.merge_candidates = 0
        else:
            self.look_for_merges(subject, key)

    @work(exclusive=True, group="merge-marker", exit_on_error=False)
    async def look_for_merges(self, subject: MergeSubject, key: tuple[object, ...]) -> None:
        try:
            found = await merging.candidates(self.service, subject)
        except ApiError:
            return  # only a hint: the m key asks again and says what is wrong
        if key == self._merge_key:
            self.merge_candidates = sum(1 for c in found.items if c.blocked is None)

    def _item(self, code: str) -> str:
        item = self.service.service_items.get(code)
        if item is None:
            return code
        return item.name if language() == "zh" else item.name_en

    def _line(self, label: str, value: str | Content, style: str = "") -> Content:
        """`label  value`, the value wrapped under itself (not under the label), so every value
        starts in the same column in both languages (wide characters count two cells)."""
        indent = max(LABEL_CELLS, cell_len(label) + 2)
        content = value if isinstance(value, Content) else Content.styled(value, style)
        width = max(10, (self.content_region.width or 40) - indent)
        parts = content.wrap(width) or [Content("")]
        lines = [Content.assemble((label + " " * (indent - cell_len(label)), "dim"), parts[0])]
        lines.extend(Content.assemble(" " * indent, part) for part in parts[1:])
        return Content("\n").join(lines)

    def render(self) -> Content:
        lines: list[Content] = []
        if self.pause_reason:
            lines.append(
                Content.styled(t("visitor.paused", reason=self.pause_reason), "bold $warning")
            )
            lines.append(Content(""))
        if self.alarm_at:
            lines.append(Content.styled(t("visitor.alarm_sent", at=self.alarm_at), "bold $alarm"))
            lines.append(Content(""))
        ticket = self.ticket
        if ticket is None:
            lines.append(Content.styled(t("visitor.none"), "dim"))
        else:
            lines.append(Content.styled(ticket.number, "bold $accent"))
            lines.append(Content(""))
            lines.append(
                self._line(t("visitor.status"), t(f"status.ticket.{ticket.status}"), "bold")
            )
            lines.append(self._line(t("visitor.item"), self._item(ticket.service_item)))
            lines.extend(self._applicant_lines(ticket))
            now = self.service.clock()
            waited_until = ticket.called_at or now
            lines.append(self._line(t("visitor.waited"), duration(ticket.issued_at, waited_until)))
            lines.append(
                self._line(t("visitor.serving"), duration(ticket.serving_started_at, now))
                if ticket.serving_started_at
                else self._line(t("visitor.serving"), "-")
            )
        if self.merge_candidates:
            lines.append(Content(""))
            lines.append(Content.styled(t("merge.marker", n=self.merge_candidates), "bold $accent"))
        case = self.case
        if case is not None:
            lines.append(Content(""))
            lines.append(Content.styled(t("visitor.case", number=case.number), "bold $secondary"))
            lines.append(self._line(t("visitor.item"), self._item(case.service_item)))
            lines.append(self._line(t("visitor.case_status"), t(f"status.case.{case.status}")))
            lines.append(self._line(t("visitor.name"), self._case_name(f"case:{case.id}", case)))
            masked = case.applicant.id_number_masked
            lines.append(self._line(t("visitor.id"), self._id_text(masked, f"case:{case.id}")))
        return Content("\n").join(lines)

    def _shown(self, subject: str) -> PersonalData | None:
        """What was revealed, if it was revealed for `subject` (never another person's)."""
        return self.revealed if self.revealed_subject in (subject, None) else None

    def _case_name(self, subject: str, case: Case) -> str:
        revealed = self._shown(subject)
        return revealed.name if revealed is not None and revealed.name else case.applicant.name

    def _id_text(self, masked: str, subject: str) -> Content:
        revealed = self._shown(subject)
        if revealed is not None and revealed.id_number:
            return Content.styled(revealed.id_number, "bold $warning")
        return Content.styled(masked, "$masked")

    def _applicant_lines(self, ticket: Ticket) -> list[Content]:
        applicant = getattr(ticket, "applicant", None)
        case = self.case
        if applicant is None and case is not None and case.ticket_id == ticket.id:
            # the ticket knew nobody, the visitor's case does (the name typed when n opened
            # it): the ID number shows in the case's lines below
            name = self._case_name(f"case:{case.id}", case)
            return [self._line(t("visitor.name"), name, "bold")]
        if applicant is None:
            return [self._line(t("visitor.name"), t("visitor.unknown"), "dim")]
        subject = f"ticket:{ticket.id}"
        revealed = self._shown(subject)
        name = revealed.name if revealed is not None else applicant.name
        return [
            self._line(t("visitor.name"), name, "bold"),
            self._line(t("visitor.id"), self._id_text(applicant.id_number_masked, subject)),
        ]

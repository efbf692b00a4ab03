"""Provides `CaseHeader` (the case, its state, the applicant and the clock) and `Guideline`
(the service item's guideline beside the checklist)."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Static

from api_client.models import Case, ServiceItem
from screens.case_text import guideline_text
from workbench.i18n import language, t
from workbench.services import PersonalData

__all__ = ["CaseHeader", "Guideline"]


class CaseHeader(Static):
    """Two lines, always: the case and its state; the applicant and the clock."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(t("case.loading"), id=id)

    def show(self, case: Case, item: ServiceItem | None, revealed: PersonalData | None) -> None:
        """`revealed`: what the clerk revealed, the only thing ever shown unmasked."""
        name = (item.name if language() == "zh" else item.name_en) if item else case.service_item
        applicant = revealed.name if revealed else case.applicant.name
        id_number = (
            f"[b $warning]{revealed.id_number}[/]"
            if revealed
            else f"[$masked]{case.applicant.id_number_masked}[/]"
        )
        clock = ""
        limit = case.time_limit
        if limit is not None and limit.status is not None:
            variable = f"clock-{limit.status.replace('_', '-')}"
            left = limit.working_days_left
            clock = f"  │  [b ${variable}]{t('clock.' + limit.status)}[/]"
            if limit.deadline:
                key = "case.deadline_one" if left == 1 else "case.deadline"
                clock += f" · {t(key, date=limit.deadline.isoformat(), days=left)}"
        self.update(
            f"[b $accent]{case.number}[/]  {name}  │  [b]{t('status.case.' + case.status)}[/]\n"
            f"{applicant} {id_number}  │  {t('channel.' + case.channel)}{clock}"
        )


class Guideline(VerticalScroll):
    """The service item's guideline: what to check, and how."""

    def compose(self) -> ComposeResult:
        yield Static("", id="guideline-text")

    def on_mount(self) -> None:
        self.translate()

    def translate(self) -> None:
        self.border_title = t("case.guideline")

    def show(self, item: ServiceItem | None) -> None:
        self.query_one("#guideline-text", Static).update(guideline_text(item))

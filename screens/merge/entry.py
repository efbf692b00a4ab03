"""Provides the merge's entry points the other screens use: `merge_bindings` (their keys),
`open_merge_candidates` (the cases to merge with, then the side-by-side screen),
`open_merge_history` and `ask_merge_history` (a case's merges, where a supervisor undoes one)."""

from __future__ import annotations

from typing import Any

from textual.binding import BindingType
from textual.screen import Screen

from screens.bindings import MERGE, named_binding
from screens.dialogs import PromptDialog
from screens.merge.screen import MergeScreen
from screens.merge_dialogs import CandidatePick, MergeCandidatesDialog, MergeHistoryDialog
from workbench import merging
from workbench.i18n import t
from workbench.merging import MergeSubject

__all__ = ["ask_merge_history", "merge_bindings", "open_merge_candidates", "open_merge_history"]


def merge_bindings(*, candidates: str, history: str) -> list[BindingType]:
    """The keys other screens add: the candidates for what is in hand, and merge history."""
    return [
        named_binding(
            candidates, "merge_candidates", "candidates", table=MERGE, binding_id="merge"
        ),
        named_binding(history, "merge_history", "history", table=MERGE, show=False),
    ]


def open_merge_candidates(screen: Screen[Any], subject: MergeSubject) -> None:
    """Show the candidates for `subject`; the one chosen opens the side-by-side screen."""

    def chosen(pick: CandidatePick | None) -> None:
        if pick is not None:
            screen.app.push_screen(MergeScreen(subject, pick.other_case, this_case=pick.this_case))

    screen.app.push_screen(MergeCandidatesDialog(subject), chosen)


def open_merge_history(
    screen: Screen[Any], case_id: int, label: str | None = None, *, on_undone: Any = None
) -> None:
    """Show a case's merges (a supervisor undoes one there); `on_undone()` runs after an undo."""

    def closed(undone: bool | None) -> None:
        if undone and on_undone is not None:
            on_undone()

    screen.app.push_screen(MergeHistoryDialog(case_id, label), closed)


def ask_merge_history(screen: Screen[Any], prefill: str = "") -> None:
    """Ask for a case number, then show that case's merge history."""

    def typed(text: str | None) -> None:
        if not text:
            return
        case_id = merging.case_id_from_number(text)
        if case_id is None:
            screen.notify(t("merge.bad_number", text=text), severity="warning")
            return
        open_merge_history(screen, case_id, text.strip())

    screen.app.push_screen(
        PromptDialog(t("merge.history_prompt"), placeholder=t("merge.number_hint"), value=prefill),
        typed,
    )

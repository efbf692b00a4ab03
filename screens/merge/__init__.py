"""Provides the merge of two cases: `MergeScreen` (see `screens.merge.screen`) and the entry
points the other screens use (see `screens.merge.entry`)."""

from screens.merge.entry import (
    ask_merge_history,
    merge_bindings,
    open_merge_candidates,
    open_merge_history,
)
from screens.merge.screen import MergeScreen

__all__ = [
    "MergeScreen",
    "ask_merge_history",
    "merge_bindings",
    "open_merge_candidates",
    "open_merge_history",
]

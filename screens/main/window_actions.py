"""Provides `WindowActions`: pausing and resuming the window, and the emergency alarm; a reason
or note longer than the server takes goes cut, and the clerk is told what was cut. Shows
nothing itself."""

from __future__ import annotations

from textual import work
from textual.message import Message

from api_client.models.catalogue import PauseRequest
from screens.base import DeskWidget
from screens.dialogs import AlarmDialog, ChoiceDialog, PromptDialog
from screens.main.changed import Changed
from screens.stylesheets import beside
from workbench.hall_time import hall_clock
from workbench.i18n import t

__all__ = ["PAUSE_REASONS", "WindowActions"]

PAUSE_REASONS = ("break", "meeting", "system_trouble", "other")


class WindowActions(DeskWidget):
    """The window's own actions for the main screen (its bindings call these)."""

    DEFAULT_CSS = beside(__file__)

    class AlarmRaised(Message):
        """The alarm went out (or is queued) at `at`, the hall's time of day."""

        def __init__(self, at: str) -> None:
            super().__init__()
            self.at = at

    def pause_or_resume(self) -> None:
        """Resume a paused window; otherwise ask why it pauses, then pause it."""
        if self.service.paused:
            self.resume_window()
            return

        def chosen(reason: str | None) -> None:
            if reason == "other":
                dialog = PromptDialog(
                    t("pause.other"), field=(PauseRequest, "reason"), overflow="cut"
                )
                self.app.push_screen(dialog, self._pause_with)
            elif reason:
                self._pause_with(t(f"pause.{reason}"))

        options = [(r, t(f"pause.{r}")) for r in PAUSE_REASONS]
        self.app.push_screen(ChoiceDialog(t("pause.title"), options), chosen)

    def _pause_with(self, reason: str | None) -> None:
        if reason:
            self.pause_window(reason)

    def alarm(self) -> None:
        """The emergency alarm, once the clerk has typed the window's code."""
        window = self.service.window
        if window is None:
            return

        def chosen(note: str | None) -> None:
            if note is not None:
                self.raise_alarm(note)

        self.app.push_screen(AlarmDialog(window), chosen)

    @work(exclusive=True, group="window", exit_on_error=False)
    async def pause_window(self, reason: str) -> None:
        paused = await self.service.pause(reason)
        self.post_message(Changed(t("done.paused", reason=paused.result.pause_reason)))
        if paused.cut:
            self.post_message(Changed(_cut_note(t("pause.cut_what"), paused.cut), "warning"))

    @work(exclusive=True, group="window", exit_on_error=False)
    async def resume_window(self) -> None:
        await self.service.resume_window()
        self.post_message(Changed(t("done.resumed")))

    @work(exclusive=True, group="alarm", exit_on_error=False)
    async def raise_alarm(self, note: str) -> None:
        sent = await self.service.raise_alarm(note or None)
        self.post_message(self.AlarmRaised(hall_clock().time(self.service.clock(), seconds=True)))
        key = "done.alarm_sent" if sent.result else "done.alarm_queued"
        self.post_message(Changed(t(key), "warning"))
        if sent.cut:
            self.post_message(Changed(_cut_note(t("alarm.cut_what"), sent.cut), "warning"))


def _cut_note(what: str, cut: str) -> str:
    """Tells the clerk which end of their text did not fit (its last words, if long)."""
    tail = cut if len(cut) <= 60 else "…" + cut[-60:]
    return t("done.cut", what=what, count=len(cut), tail=tail)

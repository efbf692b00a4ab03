"""Provides `DeskScreen`, the base of every workbench screen, `DeskModal` for dialogs and
`DeskWidget` for widgets that run workers of their own.

They give typed access to the app's `DeskService`, and hold the one `Worker.StateChanged`
handler that turns any failed worker into a notification saying what failed and what to do
(no traceback ever reaches the screen; the message does not bubble, so each node has it).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, TypeVar, cast

from textual import on, work
from textual.screen import ModalScreen, Screen
from textual.widget import Widget
from textual.worker import Worker, WorkerState

from screens.errors import describe_error
from screens.host import DeskHost
from workbench.i18n import FALLBACK, messages, t

if TYPE_CHECKING:
    from workbench.services import DeskService

__all__ = ["DeskModal", "DeskScreen", "DeskWidget", "report_failure"]

R = TypeVar("R")


def report_failure(screen: Screen[Any] | Widget, worker: Worker[Any]) -> None:
    # A worker's name is code: only its catalogue text may reach the screen.
    key = f"work.{worker.name}"
    what = t(key) if worker.name and messages(FALLBACK).get(key) else t("work.unknown")
    screen.notify(
        describe_error(worker.error),
        title=t("error.failed", what=what),
        severity="error",
        timeout=8,
    )


class DeskScreen(Screen[None]):
    """A full screen of the workbench."""

    @property
    def desk(self) -> DeskHost:
        return cast(DeskHost, self.app)

    @property
    def service(self) -> DeskService:
        return self.desk.service

    def translate(self) -> None:
        """Re-render the labels after the language changed (default: compose again)."""
        self.refresh_bindings()
        self.call_later(self.recompose)

    def forget_personal_data(self) -> None:
        """Drop anything revealed (called when the screen locks)."""

    @on(Worker.StateChanged)
    def _worker_failed(self, event: Worker.StateChanged) -> None:
        if event.state is WorkerState.ERROR:
            report_failure(self, event.worker)

    @work(exclusive=True, group="undo", exit_on_error=False)
    async def undo(self) -> None:
        """Take back the decision still held in the outbox (u)."""
        entry = await self.service.undo_last()
        if entry is None:
            self.notify(t("undo.too_late"), severity="warning")
        else:
            self.notify(t("undo.done", what=entry.label))


class DeskModal(ModalScreen[R]):
    """A dialog that returns its answer through `dismiss`."""

    @property
    def service(self) -> DeskService:
        return cast(DeskHost, self.app).service

    def translate(self) -> None:
        self.call_later(self.recompose)

    @on(Worker.StateChanged)
    def _worker_failed(self, event: Worker.StateChanged) -> None:
        if event.state is WorkerState.ERROR:
            report_failure(self, event.worker)


class DeskWidget(Widget):
    """A widget with a job that needs the desk: its workers' failures are reported too."""

    @property
    def service(self) -> DeskService:
        return cast(DeskHost, self.app).service

    @on(Worker.StateChanged)
    def _worker_failed(self, event: Worker.StateChanged) -> None:
        if event.state is WorkerState.ERROR:
            report_failure(self, event.worker)

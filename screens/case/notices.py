"""Provides `Notices`: saves the case's latest notice as a PDF in the clerk's documents (F7) or
prints it too (F8)."""

from __future__ import annotations

import asyncio
import shutil
import subprocess
from pathlib import Path

from textual import on, work
from textual.message import Message

from api_client.models import Case
from screens.base import DeskWidget
from screens.stylesheets import beside
from workbench.i18n import t

__all__ = ["Notices"]

PRINT_SECONDS = 20


def latest_notice(case: Case | None) -> int | None:
    notices = case.notices if case else None
    return notices[-1].id if notices else None


class Notices(DeskWidget):
    """The notices of the case screen; shows nothing itself but what it did."""

    DEFAULT_CSS = beside(__file__)

    class Saved(Message):
        """The notice was saved at `path` (and printed, if `printed`)."""

        def __init__(self, path: Path, *, printed: bool) -> None:
            super().__init__()
            self.path = path
            self.printed = printed

    def save(self, case: Case | None, *, print_it: bool) -> None:
        """Save (and print) the latest notice of `case`, or say why not."""
        if case is None or latest_notice(case) is None:
            self.notify(t("case.no_notice"), severity="warning")
            return
        if print_it and shutil.which("lp") is None:
            self.notify(t("case.no_printer"), severity="warning")
            return
        self.save_notice(case, print_it=print_it)

    @work(exclusive=True, group="notice", exit_on_error=False)
    async def save_notice(self, case: Case, *, print_it: bool) -> None:
        from platformdirs import user_documents_dir

        notice_id = latest_notice(case)
        assert notice_id is not None
        data = await self.service.notice(case.id, notice_id, pdf=True)
        folder = Path(user_documents_dir()) / "service-workbench"
        path = folder / f"{case.number}-{notice_id}.pdf"

        def write() -> None:
            folder.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)

        await asyncio.to_thread(write)
        if print_it:
            await asyncio.to_thread(
                subprocess.run,
                ["lp", str(path)],
                check=True,
                capture_output=True,
                timeout=PRINT_SECONDS,
            )
        self.post_message(self.Saved(path, printed=print_it))

    @on(Saved)
    def _saved(self, message: Saved) -> None:
        key = "case.printed" if message.printed else "case.saved"
        self.notify(t(key, path=str(message.path)))

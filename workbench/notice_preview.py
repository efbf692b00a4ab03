"""Provides the preview of a decision's notice for the clerk to approve: the server renders the
notice the decision would issue (the same rules and the same text as the notice it then issues,
PDF included), so what the clerk approves is what the citizen gets.

Decide with `version=preview.case_version` (the version the preview was made from): if the case
changed in between, the decision is refused (412) instead of issuing a notice nobody saw.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from api_client.models import NoticeDecision, NoticePreview

if TYPE_CHECKING:
    from workbench.services import DeskService

__all__ = ["SETTLE_SECONDS", "preview_notice"]

SETTLE_SECONDS = 5.0
"""How long the preview waits for the changes already on their way (TimeoutError after)."""


async def preview_notice(
    service: DeskService, case_id: int, decision: NoticeDecision
) -> NoticePreview:
    """The notice `decision` would issue on the case now (nothing is decided or written); the
    refusals are the decision's own (`MaterialsIncomplete`, `InvalidTransition`, ...).

    The marks the clerk queued a moment ago reach the server first (the decision itself follows
    them through the outbox), or the preview would not see them; changes held for their undo
    window are not waited for. `TimeoutError` when they cannot be sent in `SETTLE_SECONDS`."""
    async with asyncio.timeout(SETTLE_SECONDS):
        async for status in service.ws.outbox.watch():
            if status.pending <= status.held:
                break
    return await service.ws.client.notice_preview(case_id, decision)

"""Provides the preview of a decision's notice for the clerk to approve: the server renders the
notice the decision would issue (the same rules and the same text as the notice it then issues,
PDF included), so what the clerk approves is what the citizen gets.

Decide with `version=preview.case_version` (the version the preview was made from): if the case
changed in between, the decision is refused (412) instead of issuing a notice nobody saw.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from api_client.models import NoticeDecision, NoticePreview

if TYPE_CHECKING:
    from workbench.services import DeskService

__all__ = ["preview_notice"]


async def preview_notice(
    service: DeskService, case_id: int, decision: NoticeDecision
) -> NoticePreview:
    """The notice `decision` would issue on the case now (nothing is decided or written); the
    refusals are the decision's own (`MaterialsIncomplete`, `InvalidTransition`, ...)."""
    return await service.ws.client.notice_preview(case_id, decision)

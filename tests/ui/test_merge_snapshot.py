"""A snapshot of the side-by-side merge screen: a hall visitor's case and an online application
whose ID numbers differ by one digit, one differing field resolved and one not, materials held
on one side or both. The hall is the snapshot tests' stub with fixed data, so the picture only
changes when the screen does."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot

from api_client.models import MergePreview
from screens.merge import MergeScreen
from tests.ui.test_snapshots import NOW, SIZE, make_app
from workbench.merging import MergeSubject


def _summary(case_id: int, channel: str, status: str, id_masked: str, name: str) -> dict[str, Any]:
    return {
        "id": case_id,
        "number": f"DL-ZS-20260302-{case_id:06d}",
        "service_item": "GA-002",
        "channel": channel,
        "status": status,
        "applicant": {"kind": "person", "id_number_masked": id_masked, "name": name},
        "submitted_at": (NOW - timedelta(hours=3 if channel == "online" else 0)).isoformat(),
        "version": 3,
    }


def _side(status: str, origin: str | None, **extra: Any) -> dict[str, Any]:
    items = [{"material": "x", "origin": origin}] if origin else []
    return {"status": status, "verified": status == "provided", "items": items, **extra}


PREVIEW = MergePreview.model_validate(
    {
        "survivor": _summary(15, "hall", "under_review", "210203********0419", "王小明"),
        "absorbed": _summary(7, "online", "submitted", "210203********0491", "王晓明"),
        "applicant_mismatch": True,
        "differences": [
            {
                "field": "id_number",
                "survivor": "210203********0419",
                "absorbed": "210203********0491",
            },
            {"field": "name", "survivor": "王小明", "absorbed": "王晓明"},
        ],
        "materials": [
            {
                "material": "id_card",
                "name": "居民身份证",
                "name_en": "Resident identity card",
                "on_survivor_checklist": True,
                "survivor": _side("provided", "hall_paper", provided_as="original"),
                "absorbed": _side("pending", "online_upload"),
                "default": "survivor",
                "differs": True,
            },
            {
                "material": "household_register",
                "name": "户口簿",
                "name_en": "Household register",
                "on_survivor_checklist": True,
                "absorbed": _side("pending", "online_upload"),
                "default": "absorbed",
                "differs": False,
            },
            {
                "material": "consent",
                "name": "同意落户证明",
                "name_en": "Consent to register",
                "on_survivor_checklist": True,
                "survivor": _side("owed", None),
                "absorbed": _side("pending", "online_upload"),
                "default": "absorbed",
                "differs": True,
            },
            {
                "material": "marriage_certificate",
                "name": "结婚证",
                "name_en": "Marriage certificate",
                "on_survivor_checklist": False,
                "absorbed": _side("pending", "online_upload"),
                "default": "absorbed",
                "differs": False,
            },
        ],
        "time_limit_from": None,
        "ticket": 1,
    }
)


def _open_merge(*keys: str) -> Callable[[Pilot[None]], Any]:
    async def run(pilot: Pilot[None]) -> None:
        await pilot.pause()
        await pilot.press(*"clerk01", "enter", *"demo1234", "enter")
        for _ in range(5):
            await pilot.pause()
        subject = MergeSubject(ticket_id=1, label="GB001")
        screen = MergeScreen(subject, 7, this_case=15, preview=PREVIEW)
        await pilot.app.push_screen(screen)
        for _ in range(3):
            await pilot.pause()
        await pilot.press(*keys)
        for _ in range(3):
            await pilot.pause()

    return run


class TestMergeScreen:
    @pytest.mark.parametrize("language", ["en", "zh"])
    def test_merge_screen(self, snap_compare: Any, tmp_path: Path, language: str) -> None:
        # the cursor starts on the name (left unresolved); "down 1" keeps the left ID number
        app = make_app(tmp_path, language=language)
        assert snap_compare(app, run_before=_open_merge("down", "1"), terminal_size=SIZE)

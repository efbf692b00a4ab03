"""Case verification and decisions through the client and through the outbox."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from api_client import Client, Mutation
from api_client.errors import (
    Conflict,
    MaterialsIncomplete,
    PreconditionFailed,
    PreconditionRequired,
)
from api_client.models import (
    AcceptDecision,
    Case,
    CaseIntake,
    IntakeApplicant,
    MaterialVerification,
    SupplementDecision,
    SupplementItem,
    WithdrawDecision,
)
from backend.hall.seed import DEMO_PASSWORD
from tests.conftest import Backend
from workbench.outbox import EntryState, Outbox

MARRIAGE = "MZ-001"  # served by window W04 only
APPLICANT = IntakeApplicant(id_number="210202197806210176", name="王伟")


async def claimed_case(backend: Backend) -> tuple[Client, Case]:
    async with Client(backend.base_url) as portal:
        await portal.login("portal01", DEMO_PASSWORD)
        await portal.create_case(CaseIntake(service_item=MARRIAGE, applicant=APPLICANT))
    clerk = Client(backend.base_url)
    await clerk.login("clerk04", DEMO_PASSWORD, "W04")
    case = await clerk.claim_next_case()
    assert case is not None
    return clerk, case


async def test_verify_and_decide(fresh_backend: Backend) -> None:
    clerk, case = await claimed_case(fresh_backend)
    async with clerk:
        items = {item.code: item for item in (await clerk.service_items()).items}
        material = items[MARRIAGE].materials[0].code
        with pytest.raises(MaterialsIncomplete) as incomplete:
            await clerk.decide(case.id, AcceptDecision(decision="accept"), version=case.version)
        assert isinstance(incomplete.value, Conflict)
        checked = await clerk.verify_material(
            case.id, material, MaterialVerification(status="missing"), version=case.version
        )
        assert checked.version > case.version
        with pytest.raises(PreconditionFailed) as stale:
            await clerk.decide(case.id, WithdrawDecision(decision="withdraw"), version=case.version)
        assert stale.value.current is not None and stale.value.current["id"] == case.id
        unversioned = Mutation.decide(case.id, WithdrawDecision(decision="withdraw"), version=1)
        with pytest.raises(PreconditionRequired):
            await clerk.send(unversioned.with_base_version(None))
        result = await clerk.decide(
            case.id, WithdrawDecision(decision="withdraw"), version=checked.version
        )
    assert result.case.status == "withdrawn" and result.decision is not None


async def test_a_notice_preview_then_the_decision_with_its_version(fresh_backend: Backend) -> None:
    clerk, case = await claimed_case(fresh_backend)
    async with clerk:
        with pytest.raises(MaterialsIncomplete):
            await clerk.notice_preview(case.id, AcceptDecision(decision="accept"))
        material = case.checklist[0].material if case.checklist else ""
        supplement = SupplementDecision(
            decision="supplement", items=[SupplementItem(material=material)]
        )
        preview = await clerk.notice_preview(case.id, supplement)
        assert preview.kind == "supplement" and preview.case_version == case.version
        assert "补正材料一次性告知书" in preview.text and "not supplied" in preview.text
        result = await clerk.decide(case.id, supplement, version=preview.case_version)
        issued = result.case.notices[-1] if result.case.notices else None
        assert issued is not None and issued.number == preview.number
        text = await clerk.notice(case.id, issued.id, pdf=False)
    assert text.decode() == preview.text


async def test_decisions_through_the_outbox_keep_the_cases_order(
    tmp_path: Path, fresh_backend: Backend
) -> None:
    clerk, case = await claimed_case(fresh_backend)
    async with clerk:
        items = {item.code: item for item in (await clerk.service_items()).items}
        material = items[MARRIAGE].materials[0].code
        async with Outbox(tmp_path / "o.db", clerk, undo_seconds=0.2) as outbox:
            first = await outbox.enqueue(
                Mutation.verify_material(
                    case.id, material, MaterialVerification(status="missing"), version=case.version
                )
            )
            second = await outbox.enqueue(
                Mutation.decide(
                    case.id, WithdrawDecision(decision="withdraw"), version=case.version + 1
                )
            )
            async with asyncio.timeout(10):
                await outbox.wait_idle()
            done = [await outbox.get(first.id), await outbox.get(second.id)]
        assert [d.state for d in done if d is not None] == [EntryState.SENT, EntryState.SENT]
        assert (await clerk.case(case.id)).status == "withdrawn"

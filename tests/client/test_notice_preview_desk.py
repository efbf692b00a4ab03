"""The desk's notice preview (`workbench.notice_preview`) over the real backend: the text the
clerk approves is the notice the decision then issues."""

from __future__ import annotations

from pathlib import Path

from api_client.models import CaseIntake, IntakeApplicant, SupplementDecision, SupplementItem
from backend.hall.seed import DEMO_PASSWORD
from tests.client.test_transfer_targets import desk_of
from tests.conftest import Backend, key
from workbench.notice_preview import preview_notice


async def test_the_desk_previews_a_notice_and_issues_exactly_it(
    fresh_backend: Backend, tmp_path: Path
) -> None:
    portal = await fresh_backend.login("portal01")
    intake = CaseIntake(
        service_item="MZ-001",
        applicant=IntakeApplicant(id_number="210202197806210176", name="王伟"),
    )
    created = await portal.post(
        "/api/v1/cases", json=intake.model_dump(mode="json", exclude_none=True), headers=key()
    )
    assert created.status_code == 201, created.text
    desk = desk_of(fresh_backend, tmp_path)
    await desk.login(fresh_backend.base_url, "clerk04", DEMO_PASSWORD, "W04")
    case = await desk.ws.client.claim_next_case()
    assert case is not None and case.checklist
    decision = SupplementDecision(
        decision="supplement", items=[SupplementItem(material=case.checklist[0].material)]
    )
    preview = await preview_notice(desk, case.id, decision)
    assert preview.case_version == case.version and "尚未提交" in preview.text
    result = await desk.ws.client.decide(case.id, decision, version=preview.case_version)
    assert result.case.notices
    issued = await desk.ws.client.notice(case.id, result.case.notices[-1].id, pdf=False)
    assert issued.decode() == preview.text
    await desk.close()
    await portal.aclose()

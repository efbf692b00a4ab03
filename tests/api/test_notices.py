"""Notices over HTTP: each kind as PDF (its Chinese text extracted and checked) and as plain text,
chosen by the Accept header or a .pdf / .txt suffix."""

from __future__ import annotations

import io
from typing import Any

import httpx
from pypdf import PdfReader

from tests.api.cases_support import (
    SUBSISTENCE_REQUIRED,
    clerk,
    decided,
    intake,
    portal,
    provide,
    verify,
)
from tests.problems import problem_kind

__all__ = ["clerk", "portal"]  # fixtures

VALID = {"document": {"valid_until": "2040-01-01"}}
HALL = "大连市中山区政务服务中心"
ADDRESS = "辽宁省大连市中山区人民路75号"


def pdf_text(data: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


async def fetch(clerk: httpx.AsyncClient, url: str, accept: str | None = None) -> httpx.Response:
    headers = {"Accept": accept} if accept else {}
    return await clerk.get(url, headers=headers)


async def test_a_supplement_notice_as_pdf_lists_every_material_in_chinese(
    portal: httpx.AsyncClient, clerk: httpx.AsyncClient
) -> None:
    case = await intake(portal, name="周晓梅")
    await provide(clerk, case, "application", **VALID)
    result = await decided(
        clerk, case, "supplement", items=[{"material": "id_card", "what_is_needed": "身份证原件"}]
    )
    notice = result["case"]["notices"][-1]
    base = notice["pdf_url"].removesuffix(".pdf")
    response = await fetch(clerk, base, "application/pdf")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")
    text = pdf_text(response.content)
    for expected in (
        "补正材料一次性告知书",
        case["number"],
        "周晓梅",
        "最低生活保障申请",
        "家庭成员居民身份证",
        "身份证原件",
        "居民户口簿",
        "家庭经济状况核对授权书",
        HALL,
    ):
        assert expected in text.replace("\n", ""), expected
    assert case["applicant"]["id_number_masked"] in text
    as_text = (await fetch(clerk, notice["text_url"])).text
    for name in ("居民户口簿", "Household register"):
        lines = [line for line in as_text.splitlines() if name in line]
        assert lines, name
        assert all(line.count(name) == 1 for line in lines), "the reason repeats the name"
    assert "尚未提交" in as_text and "not supplied" in as_text


async def test_notice_formats_by_suffix_and_accept_header(
    portal: httpx.AsyncClient, clerk: httpx.AsyncClient
) -> None:
    case = await intake(portal)
    await provide(clerk, case, *SUBSISTENCE_REQUIRED, **VALID)
    notice = (await decided(clerk, case, "accept"))["case"]["notices"][-1]
    base = notice["pdf_url"].removesuffix(".pdf")
    as_text = await fetch(clerk, notice["text_url"])
    assert as_text.headers["content-type"].startswith("text/plain")
    assert "受理通知书" in as_text.text and "Notice of Acceptance" in as_text.text
    assert ADDRESS in as_text.text
    assert "承诺办结时限" in as_text.text
    negotiated = await fetch(clerk, base, "text/plain")
    assert negotiated.text == as_text.text
    preferred = await fetch(clerk, base, "text/plain;q=0.5, application/pdf")
    assert preferred.headers["content-type"] == "application/pdf"
    default = await fetch(clerk, base)
    assert default.headers["content-type"] == "application/pdf"
    assert notice["number"] in default.headers["content-disposition"]
    refused = await fetch(clerk, base, "application/json")
    assert refused.status_code == 406
    for missing in (f"{base}99", f"{base}.doc", f"/api/v1/cases/{case['id']}/notices/abc"):
        response = await fetch(clerk, missing)
        assert response.status_code == 404, missing
        assert problem_kind(response) == "not-found"
    assert (await portal.get(notice["pdf_url"])).status_code == 403


async def test_reject_and_approve_and_owed_notices_carry_their_content(
    portal: httpx.AsyncClient, clerk: httpx.AsyncClient
) -> None:
    rejected = await intake(portal)
    result = await decided(
        clerk, rejected, "reject", reason_code="not_eligible", reason_text="收入超过标准"
    )
    text = pdf_text((await fetch(clerk, result["case"]["notices"][-1]["pdf_url"])).content)
    flat = text.replace("\n", "")
    assert "不予受理" in flat and "申请人不具备申请资格" in flat and "收入超过标准" in flat
    assert "行政复议" in flat and "行政诉讼" in flat

    owed_case = await intake(portal)
    await provide(clerk, owed_case, *SUBSISTENCE_REQUIRED, **VALID)
    await verify(clerk, owed_case, "income_proof", status="owed")
    owed = await decided(clerk, owed_case, "accept_with_owed", pledge_signed=True)
    deadline: Any = owed["case"]["time_limit"]["deadline"]
    owed_text = (await fetch(clerk, owed["case"]["notices"][-1]["text_url"])).text
    assert "容缺受理告知承诺书" in owed_text and "家庭成员收入证明" in owed_text
    assert "申请人承诺" in owed_text and "Due by" in owed_text
    assert deadline[:4] in owed_text

    await provide(clerk, owed_case, "income_proof")
    approved = await decided(clerk, owed_case, "approve")
    approve_text = pdf_text(
        (await fetch(clerk, approved["case"]["notices"][-1]["pdf_url"])).content
    )
    assert "办结通知书" in approve_text.replace("\n", "")


def _squashed(text: str) -> str:
    return "".join(text.split())


def pdf_body(data: bytes, notice_number: str) -> str:
    """The PDF's text without what only the paper has (page numbers and the notice number at the
    foot of each page, the running header from page 2 on), all whitespace removed (the PDF
    wraps lines where the text does not)."""
    pages = [page.extract_text().splitlines() for page in PdfReader(io.BytesIO(data)).pages]
    title_zh, title_en = pages[0][:2]
    furniture = {notice_number, f"{title_zh} {title_en}"}
    kept = [
        line
        for lines in pages
        for line in lines
        if line.strip() not in furniture
        and " 页 / 共 " not in line
        and not line.startswith("办件编号 Case No.")
    ]
    return _squashed("".join(kept))


async def test_the_preview_is_the_notice_the_supplement_then_issues_with_every_reason(
    portal: httpx.AsyncClient, clerk: httpx.AsyncClient
) -> None:
    case = await intake(portal, sex="male", name="刘建国")
    await provide(clerk, case, "application", "household_register", "income_authorisation")
    # one material, three reasons: born another day, another sex, expired
    wrong = {"birth_date": "1990-01-01", "sex": "female", "valid_until": "2001-01-01"}
    await provide(clerk, case, "id_card", document=wrong)
    assert (await verify(clerk, case, "income_proof", status="missing")).status_code == 200
    body = {
        "decision": "supplement",
        "items": [{"material": "id_card"}, {"material": "income_proof"}],
    }
    url = f"/api/v1/cases/{case['id']}/notice-preview"
    response = await clerk.post(url, json=body)  # read-only: no Idempotency-Key
    assert response.status_code == 200, response.text
    preview = response.json()
    text = preview["text"]
    for reason in ("出生日期", "性别", "过期", "birth date", "sex", "expired"):
        card = [line for line in text.splitlines() if reason in line]
        assert card, reason
    assert "尚未提交" in text and "not supplied" in text
    assert "材料不符合要求" not in text and "does not meet the requirements" not in text

    result = await decided(clerk, case, **body)
    notice = result["case"]["notices"][-1]
    assert notice["number"] == preview["number"] and notice["kind"] == preview["kind"]
    assert (await fetch(clerk, notice["text_url"])).text == text
    pdf = (await fetch(clerk, notice["pdf_url"])).content
    assert pdf_body(pdf, notice["number"]) == _squashed(text.replace("=" * 48, ""))


async def test_the_preview_of_an_owed_acceptance_is_the_pledge_notice_then_issued(
    portal: httpx.AsyncClient, clerk: httpx.AsyncClient
) -> None:
    case = await intake(portal)
    await provide(clerk, case, *SUBSISTENCE_REQUIRED, **VALID)
    await verify(clerk, case, "income_proof", status="owed")
    body = {"decision": "accept_with_owed", "pledge_signed": True}
    url = f"/api/v1/cases/{case['id']}/notice-preview"
    preview = (await clerk.post(url, json=body)).json()
    assert preview["kind"] == "owed" and "家庭成员收入证明" in preview["text"]
    fresh = (await clerk.get(f"/api/v1/cases/{case['id']}")).json()
    assert fresh["version"] == preview["case_version"]  # the preview decided nothing
    assert fresh["notices"] == [] and fresh["status"] == case["status"]
    result = await decided(clerk, case, **body)
    notice = result["case"]["notices"][-1]
    assert (await fetch(clerk, notice["text_url"])).text == preview["text"]


async def test_a_preview_is_refused_as_the_decision_would_be(
    portal: httpx.AsyncClient, clerk: httpx.AsyncClient
) -> None:
    case = await intake(portal)
    url = f"/api/v1/cases/{case['id']}/notice-preview"
    incomplete = await clerk.post(url, json={"decision": "accept"})
    assert incomplete.status_code == 409 and problem_kind(incomplete) == "materials-incomplete"
    no_notice = await clerk.post(url, json={"decision": "withdraw"})
    assert no_notice.status_code == 422 and problem_kind(no_notice) == "validation"
    assert incomplete.headers["content-type"] == "application/problem+json"
    too_early = await clerk.post(url, json={"decision": "approve"})
    assert too_early.status_code == 409 and problem_kind(too_early) == "invalid-transition"
    missing = await clerk.post("/api/v1/cases/999999/notice-preview", json={"decision": "accept"})
    assert missing.status_code == 404
    assert (await portal.post(url, json={"decision": "accept"})).status_code == 403

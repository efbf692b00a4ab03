"""Tests rendering applicant notices as bilingual text and as PDF with extractable Chinese."""

from __future__ import annotations

import io
from dataclasses import replace
from datetime import date

import pytest
from pypdf import PdfReader
from reportlab.pdfbase import pdfmetrics

from backend.cases.notice_pdf import render_notice_pdf, wrap_text
from backend.cases.notices import (
    FONT_NAME,
    NOTICE_TITLES,
    NoticeDocument,
    NoticeItem,
    NoticeKind,
    render_notice_text,
)

KINDS: tuple[NoticeKind, ...] = ("accept", "supplement", "owed", "reject", "approve")
CASE_NUMBER = "BJ-2026-0930-0042"

ITEMS = (
    NoticeItem(
        material_name="居民身份证",
        material_name_en="Resident ID card",
        what_is_needed="原件及正反面复印件",
        what_is_needed_en="Original and a copy of both sides",
        reason="复印件缺失",
        reason_en="The copy is missing",
        due_on=date(2026, 10, 20),
    ),
    NoticeItem(
        material_name="经营场所使用证明（租赁合同或者产权证明）",
        material_name_en="Proof of the right to use the premises",
        what_is_needed="加盖出租方公章",
        what_is_needed_en="Stamped by the landlord",
    ),
    NoticeItem(material_name="个体工商户登记申请书", material_name_en="Application form"),
)


def make_notice(kind: NoticeKind, items: tuple[NoticeItem, ...] = ITEMS) -> NoticeDocument:
    return NoticeDocument(
        kind=kind,
        notice_number=f"{kind.upper()}-2026-000123",
        case_number=CASE_NUMBER,
        hall_name="朝阳区政务服务中心",
        hall_address="北京市朝阳区工体北路1号",
        applicant_name="张三",
        applicant_id_masked="110105********1234",
        service_item_code="11010500001",
        service_item_name="个体工商户设立登记",
        service_item_name_en="Registration of an individual business",
        issued_on=date(2026, 9, 30),
        clerk_name="李四",
        items=items,
        deadline=date(2026, 10, 13),
        reason_text="经营场所位于禁止经营区域，申请人不符合登记条件。",
    )


def pdf_pages(doc: NoticeDocument) -> list[str]:
    data = render_notice_pdf(doc)
    assert data.startswith(b"%PDF")
    return [page.extract_text() for page in PdfReader(io.BytesIO(data)).pages]


@pytest.mark.parametrize("kind", KINDS)
def test_text_has_title_case_number_and_every_item(kind: NoticeKind) -> None:
    text = render_notice_text(make_notice(kind))
    title_zh, title_en = NOTICE_TITLES[kind]
    assert title_zh in text and title_en in text
    assert CASE_NUMBER in text
    assert "朝阳区政务服务中心" in text and "北京市朝阳区工体北路1号" in text
    assert "110105********1234" in text
    for number, item in enumerate(ITEMS, start=1):
        assert f"{number}. {item.material_name}" in text
        assert item.material_name_en in text
    assert "2026年9月30日" in text


@pytest.mark.parametrize("kind", KINDS)
def test_text_puts_english_below_chinese(kind: NoticeKind) -> None:
    lines = render_notice_text(make_notice(kind)).splitlines()
    title_zh, title_en = NOTICE_TITLES[kind]
    assert lines[:2] == [title_zh, title_en]
    case_line = lines.index(f"办件编号：{CASE_NUMBER}")
    assert lines[case_line + 1] == f"Case No.: {CASE_NUMBER}"


@pytest.mark.parametrize("kind", KINDS)
def test_pdf_has_extractable_chinese(kind: NoticeKind) -> None:
    pages = pdf_pages(make_notice(kind))
    everything = "\n".join(pages)
    assert NOTICE_TITLES[kind][0] in pages[0]
    assert CASE_NUMBER in pages[0]
    for item in ITEMS:
        assert item.material_name in everything.replace("\n", "")
    assert f"共 {len(pages)} 页" in pages[-1]


@pytest.mark.parametrize("kind", ["accept", "owed"])
def test_deadline_is_printed(kind: NoticeKind) -> None:
    text = render_notice_text(make_notice(kind))
    assert "2026年10月13日" in text and "13 October 2026" in text


def test_supplement_lists_due_dates_and_what_is_needed() -> None:
    text = render_notice_text(make_notice("supplement"))
    assert "要求：原件及正反面复印件" in text
    assert "What is needed: Original and a copy of both sides" in text
    assert "原因：复印件缺失" in text
    assert "提交期限：2026年10月20日前" in text


def test_owed_notice_has_pledge_and_signature_line() -> None:
    text = render_notice_text(make_notice("owed"))
    assert "申请人承诺" in text and "Applicant's pledge" in text
    assert "申请人（签字）：____" in text and "Applicant's signature: ____" in text


def test_reject_notice_states_reason_and_review_rights() -> None:
    doc = make_notice("reject")
    text = render_notice_text(doc)
    assert doc.reason_text in text
    assert "依法申请行政复议或者提起行政诉讼" in text
    assert "六十日" in text and "六个月" in text
    assert "within 60 days" in text and "within 6 months" in text
    pdf_text = "".join(pdf_pages(doc)).replace("\n", "")
    assert "依法申请行政复议或者提起行政诉讼" in pdf_text
    assert "六十日内申请行政复议" in pdf_text


def test_long_supplement_notice_spans_pages_and_keeps_every_item() -> None:
    items = tuple(
        NoticeItem(
            material_name=f"补正材料第{number}项：加盖公章的营业执照副本复印件及法定代表人身份证明",
            material_name_en=f"Supplementary material {number}",
            what_is_needed="原件及复印件各一份，复印件须注明与原件一致并由申请人签名确认",
            due_on=date(2026, 10, 20),
        )
        for number in range(1, 61)
    )
    pages = pdf_pages(make_notice("supplement", items))
    assert len(pages) > 1
    for index, page in enumerate(pages, start=1):
        assert "补正材料一次性告知书" in page
        assert CASE_NUMBER in page
        assert f"第 {index} 页 / 共 {len(pages)} 页" in page
    everything = "".join(pages).replace("\n", "")
    for number in range(1, 61):
        assert f"{number}. 补正材料第{number}项：" in everything
        assert f"Supplementary material {number}" in everything


def test_wrap_text_breaks_chinese_by_width_and_english_at_spaces() -> None:
    chinese = "经营场所位于禁止经营区域，申请人不符合登记条件。" * 4
    lines = wrap_text(chinese, 10.5, 120)
    assert "".join(lines) == chinese
    assert all(pdfmetrics.stringWidth(line, FONT_NAME, 10.5) <= 120 for line in lines)
    assert max(len(line) for line in lines) == 11  # 10.5 pt per character, 120 pt per line
    assert not any(line.startswith(("，", "。")) for line in lines)
    # Eleven characters fit in 115.5 pt; the comma may not start a line, so "壹" goes with it.
    assert wrap_text("一二三四五六七八九十壹，后面", 10.5, 115.5) == [
        "一二三四五六七八九十",
        "壹，后面",
    ]
    english = "The time taken to supplement is not counted toward the promised time limit."
    wrapped = wrap_text(english, 9, 150)
    assert " ".join(wrapped) == english
    assert wrap_text("第一段\n第二段", 10, 300) == ["第一段", "第二段"]


@pytest.mark.parametrize(
    ("kind", "change"),
    [
        ("accept", {"deadline": None}),
        ("owed", {"items": ()}),
        ("supplement", {"items": ()}),
        ("reject", {"reason_text": " "}),
    ],
)
def test_incomplete_documents_are_refused(kind: NoticeKind, change: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        replace(make_notice(kind), **change)  # type: ignore[arg-type]


def test_pdf_is_deterministic() -> None:
    doc = make_notice("approve")
    assert render_notice_pdf(doc) == render_notice_pdf(doc)

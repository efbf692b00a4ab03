"""Provides the notices a clerk hands to an applicant, as bilingual plain text (the A4 PDF:
`backend.cases.notice_pdf`).

Every notice prints each line in Chinese first with its English below. A notice is first turned
into a list of styled bilingual lines (`notice_lines`); the text and PDF renderers only lay those
lines out. The PDF uses reportlab's built-in CID font STSong-Light, so Chinese renders (and can be
extracted again) without embedding or downloading a font file.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Final, Literal

NoticeKind = Literal["accept", "supplement", "owed", "reject", "approve"]

NOTICE_TITLES: Final[Mapping[NoticeKind, tuple[str, str]]] = {
    "accept": ("受理通知书", "Notice of Acceptance"),
    "supplement": ("补正材料一次性告知书", "One-time Notice of Supplementary Materials"),
    "owed": ("容缺受理告知承诺书", "Notice of Acceptance with Materials Owed"),
    "reject": ("不予受理/不予许可决定书", "Notice of Rejection"),
    "approve": ("办结通知书", "Notice of Completion"),
}

FONT_NAME: Final = "STSong-Light"

_MONTHS: Final = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)


@dataclass(frozen=True)
class NoticeItem:
    """One material on a notice: what it is, what is needed, why, and by when."""

    material_name: str
    material_name_en: str = ""
    what_is_needed: str = ""
    what_is_needed_en: str = ""
    reason: str = ""
    reason_en: str = ""
    due_on: date | None = None


@dataclass(frozen=True)
class NoticeDocument:
    """Everything printed on one notice. `applicant_id_masked` must already be masked."""

    kind: NoticeKind
    notice_number: str
    case_number: str
    hall_name: str
    hall_address: str
    applicant_name: str
    applicant_id_masked: str
    service_item_code: str
    service_item_name: str
    service_item_name_en: str
    issued_on: date
    clerk_name: str
    items: tuple[NoticeItem, ...] = ()
    deadline: date | None = None
    reason_text: str = ""

    def __post_init__(self) -> None:
        if self.kind not in NOTICE_TITLES:
            raise ValueError(f"unknown notice kind {self.kind!r}")
        if self.kind in ("accept", "owed") and self.deadline is None:
            raise ValueError(f"a {self.kind} notice needs the promised deadline")
        if self.kind in ("supplement", "owed") and not self.items:
            raise ValueError(f"a {self.kind} notice needs at least one material")
        if self.kind == "reject" and not self.reason_text.strip():
            raise ValueError("a reject notice needs the reason")


# --- content: a notice as styled bilingual lines ------------------------------------------------

LineStyle = Literal[
    "title", "meta", "greeting", "heading", "body", "item", "detail", "signature", "footer"
]


@dataclass(frozen=True)
class NoticeLine:
    zh: str
    en: str
    style: LineStyle = "body"


def _zh_date(day: date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


def _en_date(day: date) -> str:
    return f"{day.day} {_MONTHS[day.month - 1]} {day.year}"


def _labelled(label: str, text: str) -> str:
    return f"{label}{text}" if text else ""


def _header(doc: NoticeDocument) -> list[NoticeLine]:
    applicant, masked = doc.applicant_name, doc.applicant_id_masked
    code = doc.service_item_code
    return [
        NoticeLine(*NOTICE_TITLES[doc.kind], "title"),
        NoticeLine(f"文书编号：{doc.notice_number}", f"Notice No.: {doc.notice_number}", "meta"),
        NoticeLine(f"办件编号：{doc.case_number}", f"Case No.: {doc.case_number}", "meta"),
        NoticeLine(
            f"申请人：{applicant}（证件号码：{masked}）",
            f"Applicant: {applicant} (ID: {masked})",
            "meta",
        ),
        NoticeLine(
            f"申请事项：{code} {doc.service_item_name}",
            f"Service item: {code} {doc.service_item_name_en}",
            "meta",
        ),
        NoticeLine(f"办理大厅：{doc.hall_name}", f"Service hall: {doc.hall_name}", "meta"),
        NoticeLine(f"大厅地址：{doc.hall_address}", f"Address: {doc.hall_address}", "meta"),
        NoticeLine(f"{applicant}：", f"To {applicant}:", "greeting"),
    ]


def _item_lines(number: int, item: NoticeItem) -> list[NoticeLine]:
    lines = [NoticeLine(f"{number}. {item.material_name}", item.material_name_en, "item")]
    if item.what_is_needed or item.what_is_needed_en:
        zh = _labelled("要求：", item.what_is_needed)
        lines.append(
            NoticeLine(zh, _labelled("What is needed: ", item.what_is_needed_en), "detail")
        )
    if item.reason or item.reason_en:
        zh = _labelled("原因：", item.reason)
        lines.append(NoticeLine(zh, _labelled("Reason: ", item.reason_en), "detail"))
    if item.due_on is not None:
        zh, en = f"提交期限：{_zh_date(item.due_on)}前", f"Due by: {_en_date(item.due_on)}"
        lines.append(NoticeLine(zh, en, "detail"))
    return lines


def _items(doc: NoticeDocument, heading_zh: str, heading_en: str) -> list[NoticeLine]:
    if not doc.items:
        return []
    lines = [NoticeLine(heading_zh, heading_en, "heading")]
    for number, item in enumerate(doc.items, start=1):
        lines.extend(_item_lines(number, item))
    return lines


def _deadline(doc: NoticeDocument) -> list[NoticeLine]:
    if doc.deadline is None:
        return []
    return [
        NoticeLine(
            f"承诺办结时限：{_zh_date(doc.deadline)}前办结（按工作日计算，法定节假日不计入）。",
            f"Promised completion date: on or before {_en_date(doc.deadline)} "
            "(counted in working days; public holidays excluded).",
        )
    ]


def _footer(doc: NoticeDocument) -> list[NoticeLine]:
    issued = doc.issued_on
    return [
        NoticeLine(f"窗口人员：{doc.clerk_name}", f"Clerk: {doc.clerk_name}", "footer"),
        NoticeLine(f"{doc.hall_name}（盖章）", "(official seal)", "footer"),
        NoticeLine(f"签发日期：{_zh_date(issued)}", f"Issued on: {_en_date(issued)}", "footer"),
    ]


def _accept(doc: NoticeDocument) -> list[NoticeLine]:
    decision = NoticeLine(
        f"您申请办理的“{doc.service_item_name}”事项，经审查，申请材料齐全、符合法定形式，"
        "本机关决定予以受理。",
        f"Your application for “{doc.service_item_name_en}” has been examined. The materials "
        "are complete and in the statutory form, and the application is accepted.",
    )
    closing = NoticeLine(
        "您可凭本通知书和办件编号查询办理进度。如需补正材料，补正期间不计入承诺办结时限。",
        "You can follow your case with this notice and its case number. If supplementary "
        "materials are requested, the time they take is not counted toward the time limit.",
    )
    return [
        decision,
        *_deadline(doc),
        *_items(doc, "已收取材料清单", "Materials received"),
        closing,
    ]


def _supplement(doc: NoticeDocument) -> list[NoticeLine]:
    finding = NoticeLine(
        f"您申请办理的“{doc.service_item_name}”事项，申请材料不齐全或者不符合法定形式。"
        "根据《中华人民共和国行政许可法》第三十二条的规定，现将需要补正的全部内容一次性告知如下：",
        f"The materials for your application for “{doc.service_item_name_en}” are incomplete "
        "or not in the statutory form. Under Article 32 of the Administrative Licensing Law of "
        "the People's Republic of China, this notice lists, at once and in full, everything "
        "that must be supplemented:",
    )
    closing = NoticeLine(
        "本告知书已列明全部需补正内容。请补齐上述材料后到本大厅或者通过网上办事平台提交；"
        "补正期间不计入承诺办结时限。",
        "This notice lists everything that must be supplemented. Please supply all of the "
        "materials above at this hall or through the online service platform; the time taken "
        "to supplement is not counted toward the promised time limit.",
    )
    return [finding, *_items(doc, "需补正的材料", "Materials to supplement"), closing]


def _owed(doc: NoticeDocument) -> list[NoticeLine]:
    decision = NoticeLine(
        f"您申请办理的“{doc.service_item_name}”事项，主要申请材料齐全、符合法定形式，"
        "下列材料暂缺。根据容缺受理制度，本机关先行受理，请您在各项材料注明的期限前补交。",
        f"The main materials for your application for “{doc.service_item_name_en}” are "
        "complete and in the statutory form; the materials below are missing. Under the "
        "accept-with-materials-owed scheme your application is accepted now; please supply "
        "each material by the date shown.",
    )
    pledge = NoticeLine(
        "本人已知晓上述容缺材料及补交期限，承诺在期限内补齐，并对所提交全部材料的真实性、"
        "合法性负责。逾期未补交或者补交材料与承诺不符的，本人愿意承担相应法律责任，"
        "本机关可以依法终止办理或者撤销已作出的决定。",
        "I understand which materials are owed and by when. I undertake to supply them in time "
        "and am responsible for the truthfulness and lawfulness of everything I submit. If I do "
        "not supply them in time, or what I supply does not match this pledge, I accept the "
        "legal consequences, and the authority may lawfully stop processing the case or revoke "
        "the decision made.",
    )
    signature = NoticeLine(
        "申请人（签字）：________________　　日期：______年____月____日",
        "Applicant's signature: ________________    Date: ______________",
        "signature",
    )
    return [
        decision,
        *_items(doc, "容缺材料（待补交）", "Materials owed"),
        *_deadline(doc),
        NoticeLine("申请人承诺", "Applicant's pledge", "heading"),
        pledge,
        signature,
    ]


def _reject(doc: NoticeDocument) -> list[NoticeLine]:
    decision = NoticeLine(
        f"您申请办理的“{doc.service_item_name}”事项，经审查，本机关决定不予受理/不予许可，"
        "理由如下：",
        f"Your application for “{doc.service_item_name_en}” has been examined, and the "
        "authority has decided to reject it for the following reasons:",
    )
    rights = NoticeLine(
        "如对本决定不服，您可以依法申请行政复议或者提起行政诉讼：自收到本决定书之日起"
        "六十日内申请行政复议，或者自收到本决定书之日起六个月内向人民法院提起行政诉讼。",
        "If you disagree with this decision, you have the right to apply for administrative "
        "review within 60 days of receiving this notice, or to file an administrative lawsuit "
        "with a people's court within 6 months of receiving it.",
    )
    return [
        decision,
        NoticeLine(doc.reason_text, ""),
        *_items(doc, "相关材料", "Materials concerned"),
        NoticeLine("权利告知", "Your rights", "heading"),
        rights,
    ]


def _approve(doc: NoticeDocument) -> list[NoticeLine]:
    decision = NoticeLine(
        f"您申请办理的“{doc.service_item_name}”事项已办理完结，本机关决定准予许可。",
        f"Your application for “{doc.service_item_name_en}” has been completed and granted.",
    )
    collect = NoticeLine(
        f"请凭本通知书和有效身份证件到{doc.hall_name}（{doc.hall_address}）领取办理结果。"
        "欢迎您对本次服务作出评价。",
        f"Please collect the result at {doc.hall_name} ({doc.hall_address}) with this notice "
        "and a valid identity document. You are welcome to rate this service.",
    )
    items = _items(doc, "办理结果及退还材料", "Results and returned materials")
    return [decision, *items, collect]


_SECTIONS: Final[Mapping[NoticeKind, Callable[[NoticeDocument], list[NoticeLine]]]] = {
    "accept": _accept,
    "supplement": _supplement,
    "owed": _owed,
    "reject": _reject,
    "approve": _approve,
}


def notice_lines(doc: NoticeDocument) -> list[NoticeLine]:
    return [*_header(doc), *_SECTIONS[doc.kind](doc), *_footer(doc)]


def gap_before(previous: NoticeLine | None, line: NoticeLine) -> bool:
    """Whether a blank line (or its PDF equivalent) separates `line` from the one before."""
    if previous is None or previous.style in ("heading", "greeting"):
        return False
    if line.style in ("body", "heading"):
        return True
    if line.style in ("item", "detail"):
        return previous.style not in ("heading", "item", "detail")
    return line.style != previous.style


# --- plain text ---------------------------------------------------------------------------------

_TEXT_INDENT: Final[Mapping[LineStyle, tuple[str, str]]] = {
    "item": ("", "   "),
    "detail": ("   ",) * 2,
}


def _text_block(line: NoticeLine) -> list[str]:
    zh_indent, en_indent = _TEXT_INDENT.get(line.style, ("", ""))
    rows = [zh_indent + line.zh] if line.zh else []
    if line.en:
        rows.append(en_indent + line.en)
    if line.style == "title":
        rows.append("=" * 48)
    return rows


def render_notice_text(doc: NoticeDocument) -> str:
    """The notice as plain text: each line in Chinese, then in English."""
    rows: list[str] = []
    previous: NoticeLine | None = None
    for line in notice_lines(doc):
        if gap_before(previous, line):
            rows.append("")
        rows.extend(_text_block(line))
        previous = line
    return "\n".join(rows) + "\n"

"""Provides the automatic document checks: pure functions from a case's facts to findings.

Each finding is a dict in the shape of `api_client.models.Finding`: a stable `code`, a
`severity` (`error` blocks acceptance, `warning` and `info` only inform), plain-language
messages in Chinese and English, and the material and field it concerns. The checks:

- `resident_id_invalid` / `credit_code_invalid` (error): a number on a document, or the
  applicant's own, fails its check character, length, region or birth-date rules;
  `credit_code_inner_check` (warning): the inner organisation-code check character is wrong;
- `birth_date_mismatch` / `sex_mismatch`: what the resident ID number encodes differs from the
  applicant's record or declaration (warning) or from what a document shows (error);
- `id_number_mismatch` (warning): a document of the applicant carries another valid number;
- `document_expired` (error), `document_expires_before_completion` (warning) and
  `expiry_not_recorded` (info, for materials the catalogue marks for an expiry check), only for
  materials that expire (`api_client.material_kinds`: ID cards, business licences, and what
  the catalogue marks); every check reads only the facts the material's kind carries;
- `name_mismatch` (warning): a document of the applicant names someone else;
- `file_hash_mismatch` (error): the file the clerk opened is not the one recorded at intake;
- `material_absent` (error): a mandatory material that is missing or not yet in hand;
  `material_owed` (info) and `owed_overdue` (warning) for 容缺 materials.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Any

from api_client.identity import parse_credit_code, parse_resident_id
from api_client.material_kinds import DOCUMENT_FACTS, document_facts, expires

SEX_ZH = {"male": "男", "female": "女"}
DOCUMENT_FACT_NAMES = frozenset(name for facts in DOCUMENT_FACTS.values() for name in facts)


@dataclass(frozen=True)
class ApplicantFacts:
    kind: str
    id_number: str
    name: str
    record_birth_date: date | None = None
    record_sex: str | None = None
    declared_birth_date: date | None = None
    declared_sex: str | None = None


@dataclass(frozen=True)
class MaterialFacts:
    code: str
    name: str
    name_en: str
    mandatory: bool
    e_licence_type: str | None
    needs_expiry_check: bool
    status: str
    kind: str = "other"
    provided_as: str | None = None
    document: dict[str, Any] = field(default_factory=dict)
    licence_holder_name: str | None = None
    licence_valid_to: date | None = None
    intake_sha256: str | None = None
    file_sha256: str | None = None
    uploaded: bool = False
    owed_due_on: date | None = None


def finding(
    code: str,
    severity: str,
    zh: str,
    en: str,
    material: str | None = None,
    field_name: str | None = None,
) -> dict[str, Any]:
    return {
        "code": code,
        "severity": severity,
        "message_zh": zh,
        "message_en": en,
        "material": material,
        "field": field_name,
    }


def case_findings(
    applicant: ApplicantFacts,
    materials: list[MaterialFacts],
    *,
    today: date,
    completion_date: date,
) -> list[dict[str, Any]]:
    """Every finding of the case, applicant first, then material by material."""
    found = list(applicant_findings(applicant))
    for material in materials:
        found.extend(material_findings(material, applicant, today, completion_date))
    return found


def applicant_findings(applicant: ApplicantFacts) -> Iterator[dict[str, Any]]:
    if applicant.kind == "organisation":
        yield from _credit_code_findings(applicant.id_number, None, "applicant.id_number")
        return
    info = _resident_id(applicant.id_number)
    if isinstance(info, str):
        yield _resident_id_invalid(info, None, "applicant.id_number")
        return
    for label_zh, label_en, birth, sex in (
        ("登记信息", "record", applicant.record_birth_date, applicant.record_sex),
        ("申报信息", "declaration", applicant.declared_birth_date, applicant.declared_sex),
    ):
        yield from _birth_and_sex(
            info.birth_date, info.sex, birth, sex, label_zh, label_en, None, "warning"
        )


def material_findings(
    material: MaterialFacts, applicant: ApplicantFacts, today: date, completion: date
) -> Iterator[dict[str, Any]]:
    yield from _presence(material, today)
    if material.status == "provided" or (material.status == "pending" and material.uploaded):
        yield from _hash(material)
    if material.status != "provided":
        return
    # only the facts this kind of material carries are checked: a date of expiry typed for a
    # birth certificate, or an old record of one, is not its expiry
    carried = document_facts(material.kind, material.needs_expiry_check)
    document = {
        name: value
        for name, value in material.document.items()
        if name in carried or name not in DOCUMENT_FACT_NAMES
    }
    material = replace(material, document=document)
    yield from _document_number(material, applicant)
    if expires(material.kind, material.needs_expiry_check):
        yield from _expiry(material, today, completion)
    yield from _name(material, applicant)


def _presence(material: MaterialFacts, today: date) -> Iterator[dict[str, Any]]:
    code = material.code
    absent = material.status == "missing" or (
        material.status == "pending" and not material.uploaded
    )
    if material.mandatory and absent:
        yield finding(
            "material_absent",
            "error",
            f"必需材料“{material.name}”尚未提交。",
            f"The required material “{material.name_en}” has not been supplied.",
            code,
        )
    if material.status == "owed" and material.owed_due_on is not None:
        due = material.owed_due_on
        if due < today:
            yield finding(
                "owed_overdue",
                "warning",
                f"容缺材料“{material.name}”应于{due.isoformat()}前补交，已逾期。",
                f"The owed material “{material.name_en}” was due by {due.isoformat()}.",
                code,
                "owed_due_on",
            )
        else:
            yield finding(
                "material_owed",
                "info",
                f"容缺材料“{material.name}”待补交，期限{due.isoformat()}。",
                f"The material “{material.name_en}” is owed, due by {due.isoformat()}.",
                code,
                "owed_due_on",
            )


def _hash(material: MaterialFacts) -> Iterator[dict[str, Any]]:
    recorded, opened = material.intake_sha256, material.file_sha256
    if recorded and opened and recorded != opened:
        yield finding(
            "file_hash_mismatch",
            "error",
            f"“{material.name}”的文件与受理时登记的不一致（SHA-256 不同），可能已被替换或损坏。",
            f"The file of “{material.name_en}” differs from the one recorded at intake "
            "(SHA-256 mismatch): it may have been replaced or damaged.",
            material.code,
            "file_sha256",
        )


def _id_kind(material: MaterialFacts, applicant: ApplicantFacts) -> str:
    explicit = material.document.get("id_kind")
    if explicit:
        return str(explicit)
    if material.e_licence_type == "resident_id_card":
        return "resident_id"
    if material.e_licence_type == "business_licence":
        return "credit_code"
    return "credit_code" if applicant.kind == "organisation" else "resident_id"


def _document_number(
    material: MaterialFacts, applicant: ApplicantFacts
) -> Iterator[dict[str, Any]]:
    document = material.document
    number = document.get("id_number")
    of_applicant = document.get("of_applicant", True)
    if _id_kind(material, applicant) == "credit_code":
        if number:
            yield from _credit_code_findings(number, material.code, "document.id_number")
            yield from _other_number(number, applicant, material, of_applicant)
        return
    if number:
        info = _resident_id(number)
        if isinstance(info, str):
            yield _resident_id_invalid(info, material.code, "document.id_number")
            return
        yield from _other_number(info.number, applicant, material, of_applicant)
    elif of_applicant:
        info = _resident_id(applicant.id_number)
        if isinstance(info, str):
            return
    else:
        return
    yield from _birth_and_sex(
        info.birth_date,
        info.sex,
        _as_date(document.get("birth_date")),
        document.get("sex"),
        f"“{material.name}”",
        f"“{material.name_en}”",
        material.code,
        "error",
    )


def _other_number(
    number: str, applicant: ApplicantFacts, material: MaterialFacts, of_applicant: bool
) -> Iterator[dict[str, Any]]:
    if of_applicant and number.strip().upper() != applicant.id_number:
        yield finding(
            "id_number_mismatch",
            "warning",
            f"“{material.name}”上的证件号码与申请人的不一致。",
            f"The ID number on “{material.name_en}” is not the applicant's.",
            material.code,
            "document.id_number",
        )


def _expiry(material: MaterialFacts, today: date, completion: date) -> Iterator[dict[str, Any]]:
    valid_until = _as_date(material.document.get("valid_until")) or material.licence_valid_to
    code = material.code
    if valid_until is None:
        if material.needs_expiry_check and material.provided_as != "e_licence":
            yield finding(
                "expiry_not_recorded",
                "info",
                f"“{material.name}”需核验有效期，请录入证件有效期。",
                f"“{material.name_en}” needs an expiry check: record its expiry date.",
                code,
                "document.valid_until",
            )
        return
    if valid_until < today:
        yield finding(
            "document_expired",
            "error",
            f"“{material.name}”已于{valid_until.isoformat()}过期。",
            f"“{material.name_en}” expired on {valid_until.isoformat()}.",
            code,
            "document.valid_until",
        )
    elif valid_until < completion:
        yield finding(
            "document_expires_before_completion",
            "warning",
            f"“{material.name}”将于{valid_until.isoformat()}到期，早于承诺办结日期"
            f"{completion.isoformat()}。",
            f"“{material.name_en}” expires on {valid_until.isoformat()}, before the promised "
            f"completion date {completion.isoformat()}.",
            code,
            "document.valid_until",
        )


def _name(material: MaterialFacts, applicant: ApplicantFacts) -> Iterator[dict[str, Any]]:
    if not material.document.get("of_applicant", True):
        return
    expected = _plain(applicant.name)
    for name in (material.document.get("holder_name"), material.licence_holder_name):
        if name and _plain(name) != expected:
            yield finding(
                "name_mismatch",
                "warning",
                f"“{material.name}”上的姓名/名称“{name}”与申请人“{applicant.name}”不一致。",
                f"The name on “{material.name_en}” ({name}) differs from the applicant's "
                f"({applicant.name}).",
                material.code,
                "document.holder_name",
            )
            return


def _birth_and_sex(
    encoded_birth: date,
    encoded_sex: str,
    birth: date | None,
    sex: str | None,
    source_zh: str,
    source_en: str,
    material: str | None,
    severity: str,
) -> Iterator[dict[str, Any]]:
    if birth is not None and birth != encoded_birth:
        yield finding(
            "birth_date_mismatch",
            severity,
            f"身份证号码中的出生日期{encoded_birth.isoformat()}与{source_zh}的"
            f"{birth.isoformat()}不一致。",
            f"The birth date in the resident ID number ({encoded_birth.isoformat()}) differs "
            f"from the {source_en}'s ({birth.isoformat()}).",
            material,
            "birth_date",
        )
    if sex is not None and sex != encoded_sex:
        yield finding(
            "sex_mismatch",
            severity,
            f"身份证号码中的性别（{SEX_ZH[encoded_sex]}）与{source_zh}的性别"
            f"（{SEX_ZH.get(sex, sex)}）不一致。",
            f"The sex in the resident ID number ({encoded_sex}) differs from the "
            f"{source_en}'s ({sex}).",
            material,
            "sex",
        )


def _resident_id(number: str) -> Any:
    """The parsed number, or the reason it is invalid."""
    try:
        return parse_resident_id(number)
    except ValueError as exc:
        return str(exc)


def _resident_id_invalid(reason: str, material: str | None, field_name: str) -> dict[str, Any]:
    return finding(
        "resident_id_invalid",
        "error",
        "居民身份证号码无效（校验位、长度、地区码或出生日期不符合 GB 11643-1999）。",
        f"The resident ID number is not valid: {reason}.",
        material,
        field_name,
    )


def _credit_code_findings(
    number: str, material: str | None, field_name: str
) -> Iterator[dict[str, Any]]:
    try:
        info = parse_credit_code(number)
    except ValueError as exc:
        yield finding(
            "credit_code_invalid",
            "error",
            "统一社会信用代码无效（不符合 GB 32100-2015 的校验规则）。",
            f"The unified social credit code is not valid: {exc}.",
            material,
            field_name,
        )
        return
    for warning in info.warnings:
        yield finding(
            "credit_code_inner_check",
            "warning",
            "统一社会信用代码中的组织机构代码校验位不正确（GB 11714）。",
            f"The unified social credit code's inner organisation code is off: {warning}.",
            material,
            field_name,
        )


def _plain(name: str) -> str:
    return "".join(name.split()).replace("·", "").replace("•", "").casefold()


def _as_date(value: Any) -> date | None:
    if value is None or isinstance(value, date):
        return value
    return date.fromisoformat(str(value))

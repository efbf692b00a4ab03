"""Provides the e-licence (电子证照) registry: look-up by holder and the checks that decide
whether a licence may stand in for a paper material."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import Connection, select

from api_client.identity import mask_resident_id
from backend.db.schema import e_licences
from backend.problems import ELicenceUnusable, InvalidInput, NotFound

REFUSALS = {
    "revoked": ("该电子证照已被吊销/注销，不能使用。", "The e-licence has been revoked."),
    "expired": ("该电子证照已超过有效期，不能使用。", "The e-licence has expired."),
}


def effective_state(row: Any, today: date) -> str:
    """`revoked`, `expired` (by its status or its valid-to date) or `valid`."""
    if row.status == "revoked":
        return "revoked"
    if row.status == "expired" or (row.valid_to is not None and row.valid_to < today):
        return "expired"
    return "valid"


def licence_to_wire(row: Any, today: date) -> dict[str, Any]:
    state = effective_state(row, today)
    refusal = REFUSALS.get(state, (None, None))
    return {
        "id": row.id,
        "type": row.type,
        "type_name": row.type_name,
        "type_name_en": row.type_name_en,
        "number_masked": mask_number(row.number, row.holder_id),
        "holder_id_masked": mask_resident_id(row.holder_id),
        "holder_name": row.holder_name,
        "issuer": row.issuer,
        "valid_from": row.valid_from,
        "valid_to": row.valid_to,
        "status": row.status,
        "state": state,
        "usable": state == "valid",
        "refusal_zh": refusal[0],
        "refusal_en": refusal[1],
    }


def mask_number(number: str, holder_id: str) -> str:
    """A licence number that is the holder's ID number is masked like one."""
    return mask_resident_id(number) if number == holder_id else number


def attached_to_wire(row: Any) -> dict[str, Any]:
    return {
        "id": row.id,
        "type": row.type,
        "type_name": row.type_name,
        "number_masked": mask_number(row.number, row.holder_id),
        "holder_name": row.holder_name,
        "issuer": row.issuer,
        "valid_from": row.valid_from,
        "valid_to": row.valid_to,
    }


def licences_of_holder(
    conn: Connection, holder_id: str, licence_type: str | None, today: date
) -> list[dict[str, Any]]:
    query = select(e_licences).where(e_licences.c.holder_id == holder_id)
    if licence_type:
        query = query.where(e_licences.c.type == licence_type)
    rows = conn.execute(query.order_by(e_licences.c.type, e_licences.c.id)).all()
    return [licence_to_wire(row, today) for row in rows]


def licence_row(conn: Connection, licence_id: int) -> Any:
    row = conn.execute(select(e_licences).where(e_licences.c.id == licence_id)).first()
    if row is None:
        raise NotFound(f"There is no e-licence {licence_id}.")
    return row


def usable_licence(
    conn: Connection,
    licence_id: int,
    *,
    material: Any,
    holder_id: str,
    of_applicant: bool,
    today: date,
) -> Any:
    """The licence row, when it may stand in for `material`; otherwise a refusal naming why."""
    row = licence_row(conn, licence_id)
    if material.e_licence_type is None or row.type != material.e_licence_type:
        wanted = material.e_licence_type or "none"
        raise InvalidInput(
            f"e_licence_id: a {row.type} cannot stand in for material {material.code} "
            f"(it takes: {wanted}).",
            errors=[{"loc": ["body", "e_licence_id"], "msg": "wrong type", "type": "value_error"}],
        )
    if of_applicant and row.holder_id != holder_id:
        raise ELicenceUnusable(
            "The e-licence belongs to someone else than the applicant.",
            reason="wrong_holder",
            reason_zh="该电子证照的持证人不是申请人。",
        )
    state = effective_state(row, today)
    if state != "valid":
        zh, en = REFUSALS[state]
        raise ELicenceUnusable(en, reason=state, reason_zh=zh, valid_to=row.valid_to)
    return row

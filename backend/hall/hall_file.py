"""Provides the hall file format (TOML) and the packaged demo hall.

A hall file defines one service hall: its settings, priority classes, departments, the service
item catalogue with each item's required materials, windows, user accounts, and demo data
(applicants, e-licences, reject reasons). ``workbench seed --hall-file FILE`` loads one; with no
file the demo hall packaged as ``backend/data/demo_hall.toml`` is used.

:func:`load_hall_file` and :func:`load_demo_hall` return a validated, frozen :class:`HallFile`.
Every problem in a file is reported at once in a :class:`HallFileError`, one message per problem,
each naming its place in the TOML document, e.g. ``service_items[3].materials[1].code: field
required``. Array indices count from 0, in the order the tables appear in the file.

Beyond the shape of each table, :class:`HallFile` checks the cross-references: codes are unique,
windows serve existing service items, service items belong to existing departments, related
items exist, ticket prefixes are unique, users' default windows exist, e-licence holders are
among the applicants, and no promised time limit exceeds the statutory one.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterable, Sequence
from datetime import date
from decimal import Decimal
from importlib.resources import files
from pathlib import Path
from typing import Annotated, Any, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from api_client.material_kinds import MaterialKind

__all__ = [
    "DEMO_HALL_RESOURCE",
    "Applicant",
    "Department",
    "ELicence",
    "Hall",
    "HallFile",
    "HallFileError",
    "Material",
    "MaterialFormat",
    "PriorityClass",
    "RejectReason",
    "Role",
    "ServiceItem",
    "User",
    "Window",
    "load_demo_hall",
    "load_hall_file",
    "parse_hall_data",
    "parse_hall_text",
]

DEMO_HALL_RESOURCE = "data/demo_hall.toml"
"""Where the demo hall lives inside the ``backend`` package."""

Role = Literal["clerk", "supervisor", "admin", "terminal", "portal"]
MaterialFormat = Literal["original", "copy", "original_and_copy", "electronic", "any"]
ApplicantKind = Literal["person", "organisation"]
Sex = Literal["male", "female"]
LicenceStatus = Literal["valid", "revoked", "expired"]

Loc = tuple[str | int, ...]

Code = Annotated[str, Field(min_length=1, max_length=64)]
Text = Annotated[str, Field(min_length=1)]
_SLUG_PATTERN = r"^[a-z0-9]+(?:[_-][a-z0-9]+)*$"


class _Problems(ValueError):
    """Problems found by a model validator, each with a location relative to the model."""

    def __init__(self, problems: Sequence[tuple[Loc, str]]) -> None:
        self.problems: tuple[tuple[Loc, str], ...] = tuple(problems)
        super().__init__("\n".join(f"{_format_loc(loc)}: {msg}" for loc, msg in self.problems))


def _format_loc(loc: Iterable[str | int]) -> str:
    """Render a pydantic location as a TOML path: ``service_items[3].materials[1].code``."""
    text = ""
    for part in loc:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else str(part)
    return text or "(top level)"


def _duplicates(
    values: Iterable[Any],
    prefix: Loc,
    suffix: Loc,
    what: str,
    problems: list[tuple[Loc, str]],
) -> None:
    """Report every repeat of a value after its first; its location is prefix[index]suffix."""
    first: dict[Any, int] = {}
    for index, value in enumerate(values):
        if value in first:
            problems.append(
                (
                    (*prefix, index, *suffix),
                    f"duplicate {what} {value!r} (first used at index {first[value]})",
                )
            )
        else:
            first[value] = index


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Hall(_Model):
    """The hall itself and the settings its queues and clocks run by."""

    code: str = Field(min_length=1, max_length=32, description='e.g. "DL-ZS"')
    name: Text
    name_en: Text
    address: Text
    address_en: Text
    phone: Text
    recall_min_gap_seconds: int = Field(default=30, ge=0)
    """A called ticket may be announced again only after this many seconds."""
    priority_interleave: int = Field(default=3, ge=1)
    """Serve N normal tickets, then one priority ticket, so neither queue starves."""
    appointment_grace_minutes: int = Field(default=15, ge=0)
    """How late an appointment holder may arrive and keep the appointment's priority."""
    due_soon_working_days: int = Field(default=1, ge=0)
    """A case is flagged "due soon" this many working days before its deadline."""
    unmerge_period_days: int = Field(default=7, ge=0)
    """How long after a merge a supervisor may still undo it."""
    rating_follow_up_working_days: int = Field(default=15, ge=1)
    """A bad rating must be followed up (整改) within this many working days."""
    wait_warning_minutes: int = Field(default=15, ge=1)
    """The supervisor board warns when someone has waited this long (a service item may differ)."""
    wait_critical_minutes: int = Field(default=30, ge=1)
    """The supervisor board raises a critical alert at this wait (a service item may differ)."""


class PriorityClass(_Model):
    """A class of visitors served before plain FIFO (elderly, disabled, veterans...)."""

    code: Code
    name: Text
    name_en: Text
    weight: int = Field(gt=0, description="Higher weights are served first.")


class Department(_Model):
    """A department whose service items the hall handles."""

    code: Code
    name: Text
    name_en: Text


class Material(_Model):
    """One entry of a service item's required-materials list."""

    code: str = Field(min_length=1, max_length=64, pattern=_SLUG_PATTERN)
    name: Text
    name_en: Text
    mandatory: bool
    may_be_owed: bool = False
    """容缺: may be supplied after acceptance."""
    e_licence_type: str | None = Field(default=None, min_length=1)
    """A licence type code whose e-licence can stand in for the paper document."""
    copies: int = Field(default=1, ge=1)
    format: MaterialFormat
    needs_expiry_check: bool = False
    kind: MaterialKind = "other"
    """What it is (id_card, business_licence, certificate, form, other): the facts the clerk
    types from it and the checks they get."""
    note: str | None = None
    note_en: str | None = None


class ServiceItem(_Model):
    """A catalogued service item (事项) and its required materials."""

    code: Code
    name: Text
    name_en: Text
    department: Code
    ticket_prefix: str = Field(pattern=r"^[A-Z]{1,2}$")
    promised_days: int = Field(ge=0, description="Promised time limit in working days.")
    statutory_days: int = Field(ge=0, description="Statutory time limit in working days.")
    fee_yuan: Decimal = Field(default=Decimal(0), ge=0, max_digits=12, decimal_places=2)
    fee_note: str | None = None
    fee_note_en: str | None = None
    online: bool = True
    related: list[str] = Field(default_factory=list)
    """Codes of related service items (candidates when merging cases)."""
    guideline: Text
    guideline_en: Text
    materials: list[Material] = Field(default_factory=list)
    wait_warning_minutes: int | None = Field(default=None, ge=1)
    """This item's board warning wait; None: the hall's."""
    wait_critical_minutes: int | None = Field(default=None, ge=1)
    """This item's board critical wait; None: the hall's."""

    @model_validator(mode="after")
    def _check_item(self) -> Self:
        problems: list[tuple[Loc, str]] = []
        warning, critical = self.wait_warning_minutes, self.wait_critical_minutes
        if warning is not None and critical is not None and critical <= warning:
            problems.append(
                (
                    ("wait_critical_minutes",),
                    f"wait_critical_minutes ({critical}) must exceed wait_warning_minutes "
                    f"({warning})",
                )
            )
        if self.promised_days > self.statutory_days:
            problems.append(
                (
                    ("promised_days",),
                    f"promised_days ({self.promised_days}) exceeds statutory_days "
                    f"({self.statutory_days})",
                )
            )
        _duplicates(
            (m.code for m in self.materials),
            ("materials",),
            ("code",),
            "material code",
            problems,
        )
        _duplicates(self.related, ("related",), (), "related item", problems)
        for index, code in enumerate(self.related):
            if code == self.code:
                problems.append((("related", index), "a service item cannot be related to itself"))
        if problems:
            raise _Problems(problems)
        return self


class Window(_Model):
    """A counter and the service items it serves."""

    code: Code
    number: int = Field(ge=1)
    name: Text
    name_en: Text
    service_items: list[str] = Field(min_length=1)
    comprehensive: bool = False
    """综合窗口: serves items of several departments."""


class User(_Model):
    """A staff or integration account."""

    username: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.-]+$")
    display_name: Text
    role: Role
    window: str | None = None
    """A clerk's default window (optional)."""


class Applicant(_Model):
    """A demo applicant: a person (resident ID number) or an organisation (credit code)."""

    kind: ApplicantKind
    id_number: str = Field(min_length=1, max_length=32)
    """Resident ID number for persons, unified social credit code for organisations."""
    name: Text
    phone: Text
    birth_date: date | None = None
    sex: Sex | None = None
    legal_representative: str | None = None

    @model_validator(mode="after")
    def _check_kind(self) -> Self:
        problems: list[tuple[Loc, str]] = []
        if self.kind == "person" and self.legal_representative is not None:
            problems.append((("legal_representative",), "only organisations have one"))
        if self.kind == "organisation":
            if self.birth_date is not None:
                problems.append((("birth_date",), "only persons have one"))
            if self.sex is not None:
                problems.append((("sex",), "only persons have one"))
        if problems:
            raise _Problems(problems)
        return self


class ELicence(_Model):
    """An electronic licence (电子证照) held by a demo applicant."""

    type: Code
    type_name: Text
    type_name_en: Text
    number: Text
    holder_id: Text
    holder_name: Text
    issuer: Text
    valid_from: date
    valid_to: date | None = None
    """None means valid for the long term (长期)."""
    status: LicenceStatus = "valid"

    @model_validator(mode="after")
    def _check_dates(self) -> Self:
        if self.valid_to is not None and self.valid_to < self.valid_from:
            raise _Problems(
                [
                    (
                        ("valid_to",),
                        f"valid_to {self.valid_to.isoformat()} is before valid_from "
                        f"{self.valid_from.isoformat()}",
                    )
                ]
            )
        return self


class RejectReason(_Model):
    """A standard reason a clerk picks when rejecting a case."""

    code: Code
    text: Text
    text_en: Text


class HallFile(_Model):
    """A whole hall file, with its cross-references checked."""

    hall: Hall
    priority_classes: list[PriorityClass] = Field(default_factory=list)
    departments: list[Department] = Field(default_factory=list)
    service_items: list[ServiceItem] = Field(default_factory=list)
    windows: list[Window] = Field(default_factory=list)
    users: list[User] = Field(default_factory=list)
    applicants: list[Applicant] = Field(default_factory=list)
    e_licences: list[ELicence] = Field(default_factory=list)
    reject_reasons: list[RejectReason] = Field(default_factory=list)

    @model_validator(mode="after")
    def _check_references(self) -> Self:
        problems: list[tuple[Loc, str]] = []

        def unique(table: str, field: str, values: Iterable[Any], what: str) -> None:
            _duplicates(values, (table,), (field,), what, problems)

        unique("priority_classes", "code", (p.code for p in self.priority_classes), "code")
        unique("departments", "code", (d.code for d in self.departments), "code")
        unique("service_items", "code", (s.code for s in self.service_items), "code")
        unique(
            "service_items",
            "ticket_prefix",
            (s.ticket_prefix for s in self.service_items),
            "ticket prefix",
        )
        unique("windows", "code", (w.code for w in self.windows), "code")
        unique("windows", "number", (w.number for w in self.windows), "window number")
        unique("users", "username", (u.username for u in self.users), "username")
        unique("applicants", "id_number", (a.id_number for a in self.applicants), "id_number")
        unique(
            "e_licences",
            "number",
            ((e.type, e.number, e.holder_id) for e in self.e_licences),
            "(type, number, holder_id)",
        )
        unique("reject_reasons", "code", (r.code for r in self.reject_reasons), "code")

        departments = {d.code for d in self.departments}
        items = {s.code for s in self.service_items}
        windows = {w.code for w in self.windows}
        applicants = {a.id_number for a in self.applicants}

        for i, item in enumerate(self.service_items):
            if item.department not in departments:
                problems.append(
                    (
                        ("service_items", i, "department"),
                        f"unknown department {item.department!r}",
                    )
                )
            for j, code in enumerate(item.related):
                if code not in items:
                    problems.append(
                        (("service_items", i, "related", j), f"unknown service item {code!r}")
                    )
        for i, window in enumerate(self.windows):
            for j, code in enumerate(window.service_items):
                if code not in items:
                    problems.append(
                        (("windows", i, "service_items", j), f"unknown service item {code!r}")
                    )
            _duplicates(
                window.service_items,
                ("windows", i, "service_items"),
                (),
                "service item",
                problems,
            )
        for i, user in enumerate(self.users):
            if user.window is not None and user.window not in windows:
                problems.append((("users", i, "window"), f"unknown window {user.window!r}"))
        for i, licence in enumerate(self.e_licences):
            if licence.holder_id not in applicants:
                problems.append(
                    (
                        ("e_licences", i, "holder_id"),
                        f"holder {licence.holder_id!r} is not among the applicants",
                    )
                )
        if problems:
            raise _Problems(problems)
        return self

    def service_item(self, code: str) -> ServiceItem:
        """The service item with this code (KeyError when there is none)."""
        for item in self.service_items:
            if item.code == code:
                return item
        raise KeyError(code)

    def department(self, code: str) -> Department:
        """The department with this code (KeyError when there is none)."""
        for department in self.departments:
            if department.code == code:
                return department
        raise KeyError(code)


class HallFileError(ValueError):
    """A hall file that cannot be read, is not TOML, or does not validate.

    ``problems`` holds one message per problem, each starting with its TOML location.
    """

    def __init__(self, source: str, problems: Sequence[str]) -> None:
        self.source = source
        self.problems: tuple[str, ...] = tuple(problems)
        count = len(self.problems)
        header = f"invalid hall file {source}: {count} problem{'s' if count != 1 else ''}"
        super().__init__("\n".join([header, *(f"  {p}" for p in self.problems)]))

    @classmethod
    def from_validation_error(cls, source: str, error: ValidationError) -> HallFileError:
        """One message per problem, from pydantic's error list."""
        problems: list[str] = []
        for detail in error.errors():
            loc: Loc = tuple(detail["loc"])
            cause = (detail.get("ctx") or {}).get("error")
            if isinstance(cause, _Problems):
                problems.extend(
                    f"{_format_loc(loc + sub_loc)}: {msg}" for sub_loc, msg in cause.problems
                )
                continue
            msg = str(detail["msg"])
            msg = msg[:1].lower() + msg[1:]
            problems.append(f"{_format_loc(loc)}: {msg}")
        return cls(source, problems)


def parse_hall_data(data: dict[str, Any], source: str = "<data>") -> HallFile:
    """Validate an already parsed TOML document.

    Raises:
        HallFileError: listing every problem with its TOML location.
    """
    try:
        return HallFile.model_validate(data)
    except ValidationError as exc:
        raise HallFileError.from_validation_error(source, exc) from None


def parse_hall_text(text: str, source: str = "<text>") -> HallFile:
    """Parse and validate a hall file's TOML text.

    Raises:
        HallFileError: for invalid TOML or an invalid hall file.
    """
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise HallFileError(source, [f"not valid TOML: {exc}"]) from None
    return parse_hall_data(data, source)


def load_hall_file(path: Path) -> HallFile:
    """Read, parse and validate the hall file at ``path``.

    Raises:
        HallFileError: when the file cannot be read, is not UTF-8 TOML, or does not validate.
    """
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise HallFileError(str(path), [f"cannot read the file: {exc}"]) from None
    return parse_hall_text(text, str(path))


def load_demo_hall() -> HallFile:
    """Load the demo hall packaged with the backend (大连市中山区政务服务中心)."""
    resource = files("backend").joinpath(DEMO_HALL_RESOURCE)
    return parse_hall_text(resource.read_text(encoding="utf-8"), f"backend/{DEMO_HALL_RESOURCE}")

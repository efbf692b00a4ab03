"""Provides the database schema as SQLAlchemy Core tables (portable SQL: SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator


class UtcDateTime(TypeDecorator[datetime]):
    """Stores aware datetimes as UTC and gives them back aware, on every engine."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC).replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


metadata = MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)


def _ts(name: str, nullable: bool = True) -> Column[object]:
    return Column(name, UtcDateTime(), nullable=nullable)


halls = Table(
    "halls",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("code", String(32), nullable=False, unique=True),
    Column("name", String(200), nullable=False),
    Column("name_en", String(200), nullable=False),
    Column("address", String(300), nullable=False, default=""),
    Column("address_en", String(300), nullable=False, default=""),
    Column("phone", String(40), nullable=False, default=""),
    Column("timezone", String(64), nullable=False, default="Asia/Shanghai"),
    Column("rules", JSON, nullable=False, default=dict),
)

departments = Table(
    "departments",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("hall_id", ForeignKey("halls.id"), nullable=False),
    Column("code", String(32), nullable=False),
    Column("name", String(200), nullable=False),
    Column("name_en", String(200), nullable=False),
    UniqueConstraint("hall_id", "code"),
)

service_items = Table(
    "service_items",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("hall_id", ForeignKey("halls.id"), nullable=False),
    Column("department_id", ForeignKey("departments.id"), nullable=False),
    Column("code", String(32), nullable=False),
    Column("name", String(200), nullable=False),
    Column("name_en", String(200), nullable=False),
    Column("ticket_prefix", String(2), nullable=False),
    Column("promised_days", Integer, nullable=False),
    Column("statutory_days", Integer, nullable=False),
    Column("details", JSON, nullable=False, default=dict),
    UniqueConstraint("hall_id", "code"),
    UniqueConstraint("hall_id", "ticket_prefix"),
)

materials = Table(
    "materials",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("service_item_id", ForeignKey("service_items.id"), nullable=False),
    Column("position", Integer, nullable=False),
    Column("code", String(64), nullable=False),
    Column("name", String(200), nullable=False),
    Column("name_en", String(200), nullable=False),
    Column("mandatory", Boolean, nullable=False),
    Column("may_be_owed", Boolean, nullable=False, default=False),
    Column("e_licence_type", String(64)),
    Column("copies", Integer, nullable=False, default=1),
    Column("format", String(32), nullable=False, default="any"),
    Column("needs_expiry_check", Boolean, nullable=False, default=False),
    Column("kind", String(32), nullable=False, default="other", server_default="other"),
    UniqueConstraint("service_item_id", "code"),
)

priority_classes = Table(
    "priority_classes",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("hall_id", ForeignKey("halls.id"), nullable=False),
    Column("code", String(32), nullable=False),
    Column("name", String(100), nullable=False),
    Column("name_en", String(100), nullable=False),
    Column("weight", Integer, nullable=False),
    UniqueConstraint("hall_id", "code"),
)

users = Table(
    "users",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("hall_id", ForeignKey("halls.id"), nullable=False),
    Column("username", String(64), nullable=False, unique=True),
    Column("display_name", String(100), nullable=False),
    Column("role", String(16), nullable=False),
    Column("default_window_id", Integer),
    Column("password_hash", String(255), nullable=False),
    Column("failed_logins", Integer, nullable=False, default=0),
    _ts("locked_until"),
    Column("active", Boolean, nullable=False, default=True),
)

windows = Table(
    "windows",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("hall_id", ForeignKey("halls.id"), nullable=False),
    Column("code", String(32), nullable=False),
    Column("number", Integer, nullable=False),
    Column("name", String(100), nullable=False),
    Column("name_en", String(100), nullable=False),
    Column("comprehensive", Boolean, nullable=False, default=False),
    Column("state", String(16), nullable=False, default="open"),
    Column("pause_reason", String(200)),
    Column("clerk_id", ForeignKey("users.id")),
    Column("normal_since_priority", Integer),
    Column("version", Integer, nullable=False, default=1),
    UniqueConstraint("hall_id", "code"),
)

window_items = Table(
    "window_items",
    metadata,
    Column("window_id", ForeignKey("windows.id"), primary_key=True),
    Column("service_item_id", ForeignKey("service_items.id"), primary_key=True),
)

sessions = Table(
    "sessions",
    metadata,
    Column("token_hash", String(64), primary_key=True),
    Column("user_id", ForeignKey("users.id"), nullable=False),
    Column("window_id", ForeignKey("windows.id")),
    _ts("created_at", nullable=False),
    _ts("expires_at", nullable=False),
    _ts("revoked_at"),
)

applicants = Table(
    "applicants",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("kind", String(16), nullable=False),
    Column("id_number", String(18), nullable=False, unique=True),
    Column("name", String(100), nullable=False),
    Column("phone", String(20)),
    Column("birth_date", Date),
    Column("sex", String(8)),
    Column("details", JSON, nullable=False, default=dict),
)

ticket_counters = Table(
    "ticket_counters",
    metadata,
    Column("service_item_id", ForeignKey("service_items.id"), primary_key=True),
    Column("day", Date, primary_key=True),
    Column("last_seq", Integer, nullable=False),
)

tickets = Table(
    "tickets",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("hall_id", ForeignKey("halls.id"), nullable=False),
    Column("day", Date, nullable=False),
    Column("number", String(8), nullable=False),
    Column("service_item_id", ForeignKey("service_items.id"), nullable=False),
    Column("priority_class_id", ForeignKey("priority_classes.id")),
    Column("priority_weight", Integer, nullable=False, default=0),
    Column("applicant_id", ForeignKey("applicants.id")),
    _ts("appointment_at"),
    Column("status", String(16), nullable=False),
    Column("window_id", ForeignKey("windows.id")),
    Column("target_window_id", ForeignKey("windows.id")),
    Column("walk_in", Boolean, nullable=False, default=False),
    _ts("issued_at", nullable=False),
    _ts("queued_at", nullable=False),
    _ts("called_at"),
    _ts("recalled_at"),
    Column("recall_count", Integer, nullable=False, default=0),
    _ts("serving_started_at"),
    _ts("finished_at"),
    Column("outcome", String(32)),
    Column("transfer_count", Integer, nullable=False, default=0),
    Column("case_id", Integer),
    Column("archived", Boolean, nullable=False, default=False),
    Column("version", Integer, nullable=False, default=1),
    UniqueConstraint("hall_id", "day", "number"),
    # call next: walk today's waiting tickets in arrival order per weight class; `id` ends both
    # indexes because it ends the ORDER BY, so the first row is read off the index instead of
    # sorting every waiting ticket on each call
    Index("ix_tickets_waiting", "hall_id", "status", "day", "priority_weight", "queued_at", "id"),
    Index("ix_tickets_appointments", "hall_id", "status", "day", "appointment_at", "id"),
    Index("ix_tickets_day", "hall_id", "day"),
    # a new ticket's "waiting ahead of you": counted in the index, not over the day's tickets
    Index("ix_tickets_item_waiting", "hall_id", "day", "service_item_id", "status", "id"),
)

cases = Table(
    "cases",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("hall_id", ForeignKey("halls.id"), nullable=False),
    Column("number", String(32), nullable=False, unique=True),
    Column("service_item_id", ForeignKey("service_items.id"), nullable=False),
    Column("applicant_id", ForeignKey("applicants.id"), nullable=False),
    Column("channel", String(16), nullable=False),
    Column("status", String(24), nullable=False),
    Column("assignee_id", ForeignKey("users.id")),
    _ts("submitted_at", nullable=False),
    _ts("claimed_at"),
    Column("portal_reference", String(64)),
    Column("ticket_id", ForeignKey("tickets.id")),
    Column("details", JSON, nullable=False, default=dict),
    Column("version", Integer, nullable=False, default=1),
    Column("accepted_on", Date),
    Column("deadline_on", Date),
    Column("clock_state", String(12), nullable=False, default="not_started"),
    Column("completed_on", Date),
    Column("merged_into_id", ForeignKey("cases.id")),
    Index("ix_cases_claim", "hall_id", "status", "assignee_id", "channel", "id"),
    # claim next case: the oldest claimable case read off this small index in id order (the
    # planner cannot take `ORDER BY id` from ix_cases_claim past `assignee_id IS NULL` and
    # `channel IN (...)`, and walked the primary key past every case ever filed instead)
    Index(
        "ix_cases_claimable",
        "hall_id",
        "id",
        postgresql_where=text("status = 'submitted' AND assignee_id IS NULL"),
        sqlite_where=text("status = 'submitted' AND assignee_id IS NULL"),
    ),
    Index("ix_cases_applicant", "applicant_id"),
    Index("ix_cases_deadline", "hall_id", "clock_state", "deadline_on", "id"),
)

case_materials = Table(
    "case_materials",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("case_id", ForeignKey("cases.id"), nullable=False),
    Column("material_code", String(64), nullable=False),
    Column("origin", String(16), nullable=False),
    Column("file_name", String(255)),
    Column("content_type", String(100)),
    Column("size", BigInteger),
    Column("sha256", String(64)),
    Column("document", JSON),
    Column("merged_from", String(32)),
    Index("ix_case_materials_case", "case_id"),
    Index("ix_case_materials_sha256", "sha256"),  # who may read a document (issue 20)
)

events = Table(
    "events",
    metadata,
    Column("seq", BigInteger().with_variant(Integer, "sqlite"), primary_key=True),
    Column("hall_id", Integer),
    Column("type", String(48), nullable=False),
    Column("subject_type", String(24), nullable=False),
    Column("subject_id", String(64), nullable=False),
    Column("actor_id", Integer),
    Column("actor", String(64)),
    _ts("at", nullable=False),
    Column("payload", Text, nullable=False),
    Column("prev_hash", String(64), nullable=False),
    Column("hash", String(64), nullable=False),
    Index("ix_events_hall_seq", "hall_id", "seq"),
    Index("ix_events_subject", "subject_type", "subject_id"),
)

chain_head = Table(
    "chain_head",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("seq", BigInteger, nullable=False),
    Column("hash", String(64), nullable=False),
)

idempotency_keys = Table(
    "idempotency_keys",
    metadata,
    Column("user_id", Integer, primary_key=True),
    Column("key", String(255), primary_key=True),
    Column("request_hash", String(64), nullable=False),
    Column("state", String(12), nullable=False),
    Column("status_code", Integer),
    Column("response_headers", JSON),
    Column("response_body", LargeBinary),
    _ts("created_at", nullable=False),
    Index("ix_idempotency_created", "created_at"),
)

e_licences = Table(
    "e_licences",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("type", String(64), nullable=False),
    Column("type_name", String(100), nullable=False),
    Column("type_name_en", String(100), nullable=False),
    Column("number", String(64), nullable=False),
    Column("holder_id", String(18), nullable=False),
    Column("holder_name", String(100), nullable=False),
    Column("issuer", String(200), nullable=False),
    Column("valid_from", Date, nullable=False),
    Column("valid_to", Date),
    Column("status", String(16), nullable=False),
    # spouses share a marriage certificate's number, a household its register's
    UniqueConstraint("type", "number", "holder_id"),
    Index("ix_e_licences_holder", "holder_id"),
)

case_checklist = Table(
    "case_checklist",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("case_id", ForeignKey("cases.id"), nullable=False),
    Column("material_code", String(64), nullable=False),
    Column("status", String(16), nullable=False),
    Column("provided_as", String(16)),
    Column("note", String(500)),
    Column("document", JSON),
    Column("e_licence_id", ForeignKey("e_licences.id")),
    Column("file_sha256", String(64)),
    Column("owed_due_on", Date),
    Column("revision", Integer, nullable=False, default=1),
    Column("updated_by", String(64)),
    _ts("updated_at"),
    UniqueConstraint("case_id", "material_code"),
)

case_notices = Table(
    "case_notices",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("case_id", ForeignKey("cases.id"), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("number", String(48), nullable=False, unique=True),
    _ts("issued_at", nullable=False),
    Column("content", JSON, nullable=False),
    Index("ix_case_notices_case", "case_id"),
)

case_decisions = Table(
    "case_decisions",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("case_id", ForeignKey("cases.id"), nullable=False),
    Column("decision", String(24), nullable=False),
    Column("from_status", String(24), nullable=False),
    Column("to_status", String(24), nullable=False),
    Column("actor_id", Integer),
    Column("actor", String(64)),
    _ts("at", nullable=False),
    Column("reason_code", String(64)),
    Column("note", Text),
    Column("notice_id", ForeignKey("case_notices.id")),
    Column("details", JSON, nullable=False, default=dict),
    Index("ix_case_decisions_case", "case_id"),
)

ratings = Table(
    "ratings",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("hall_id", ForeignKey("halls.id"), nullable=False),
    Column("subject_type", String(8), nullable=False),
    Column("subject_id", Integer, nullable=False),
    Column("subject_label", String(48), nullable=False),
    Column("score", Integer, nullable=False),
    Column("categories", JSON, nullable=False, default=list),
    Column("comment", Text),
    Column("channel", String(16), nullable=False),
    Column("clerk", String(64)),
    _ts("submitted_at", nullable=False),
    Column("follow_up_due_on", Date),
    Column("follow_up_state", String(8)),
    _ts("follow_up_closed_at"),
    Column("follow_up_closed_by", String(64)),
    UniqueConstraint("subject_type", "subject_id"),
    Index("ix_ratings_hall", "hall_id", "id"),
)

rating_responses = Table(
    "rating_responses",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("rating_id", ForeignKey("ratings.id"), nullable=False),
    Column("role", String(16), nullable=False),
    Column("author", String(64), nullable=False),
    Column("text", Text, nullable=False),
    _ts("at", nullable=False),
    Index("ix_rating_responses_rating", "rating_id"),
)

alarms = Table(
    "alarms",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("hall_id", ForeignKey("halls.id"), nullable=False),
    Column("window_id", ForeignKey("windows.id"), nullable=False),
    Column("raised_by", ForeignKey("users.id"), nullable=False),
    _ts("raised_at", nullable=False),
    Column("note", String(200)),
    Column("acknowledged_by", ForeignKey("users.id")),
    _ts("acknowledged_at"),
    Index("ix_alarms_hall_open", "hall_id", "acknowledged_at"),
)

case_merges = Table(
    "case_merges",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("hall_id", ForeignKey("halls.id"), nullable=False),
    Column("survivor_id", ForeignKey("cases.id"), nullable=False),
    Column("absorbed_id", ForeignKey("cases.id"), nullable=False),
    Column("state", String(8), nullable=False),
    Column("merged_by", String(64)),
    _ts("merged_at", nullable=False),
    _ts("unmerge_until", nullable=False),
    Column("survivor_version", Integer, nullable=False),
    Column("plan", JSON, nullable=False, default=dict),
    Column("snapshot", JSON, nullable=False, default=dict),
    Column("unmerged_by", String(64)),
    _ts("unmerged_at"),
    Index("ix_case_merges_survivor", "survivor_id"),
    Index("ix_case_merges_absorbed", "absorbed_id"),
)

# Failed logins per account and source address (issue 25, item 7): a lockout holds that source
# only, so someone elsewhere who knows a user name cannot lock the clerk out of the counter.
login_failures = Table(
    "login_failures",
    metadata,
    Column("user_id", ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    Column("source", String(64), primary_key=True),
    Column("failures", Integer, nullable=False, default=0),
    Column("lockouts", Integer, nullable=False, default=0),
    _ts("locked_until"),
)

# Documents (issue 20): named by the SHA-256 of their bytes, stored once. The bytes are sealed
# (AES-256-GCM, `backend.documents.sealing`): in files beside the SQLite file, or on PostgreSQL
# in `document_frames`, one row per sealed 64 KiB frame, so every API instance sees every
# document. The key is never in the database.
documents = Table(
    "documents",
    metadata,
    Column("sha256", String(64), primary_key=True),
    Column("media_type", String(100), nullable=False),
    Column("size", BigInteger, nullable=False),
    Column("pages", Integer, nullable=False),
    _ts("stored_at", nullable=False),
)

document_frames = Table(
    "document_frames",
    metadata,
    Column("sha256", String(64), primary_key=True),
    Column("seq", Integer, primary_key=True),
    Column("data", LargeBinary, nullable=False),
)

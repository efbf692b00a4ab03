"""The client's typed methods for alarms, reveals, ratings and merges, against the real server."""

from __future__ import annotations

import pytest

from api_client.client import Client
from api_client.errors import Conflict, Forbidden
from api_client.models import CaseIntake, IntakeApplicant, TicketActionRequest, TicketIssue
from api_client.models.merges import HallCaseOpen, MergeRequest
from api_client.models.ratings import FollowUpResponseBody, RatingSubmission
from backend.hall.seed import DEMO_PASSWORD
from tests.conftest import Backend

PERSON = IntakeApplicant(id_number="11010519491231002X", name="张三", phone="13800138000")


async def logged_in(backend: Backend, username: str, window: str | None = None) -> Client:
    client = Client(backend.base_url)
    await client.login(username, DEMO_PASSWORD, window)
    return client


async def test_alarm_reveal_and_rating_follow_up(fresh_backend: Backend) -> None:
    clerk = await logged_in(fresh_backend, "clerk04", "W04")
    supervisor = await logged_in(fresh_backend, "super01")
    terminal = await logged_in(fresh_backend, "terminal01")
    try:
        alarm = await clerk.raise_alarm("W04", "needs help")
        assert [a.id for a in (await supervisor.alarms(open_only=True)).items] == [alarm.id]
        with pytest.raises(Forbidden):
            await clerk.acknowledge_alarm(alarm.id)
        acknowledged = await supervisor.acknowledge_alarm(alarm.id)
        assert acknowledged.acknowledged_by == "super01"
        assert (await clerk.alarms(open_only=True)).items == []

        issue = TicketIssue(
            service_item="MZ-001", applicant_id_number=PERSON.id_number, applicant_name="张三"
        )
        ticket = await terminal.issue_ticket(issue)
        assert ticket.applicant is not None
        assert ticket.applicant.id_number_masked == "110105********002X"
        shown = await clerk.reveal("ticket", ticket.id)
        assert shown.id_number == PERSON.id_number

        called = await clerk.call_next("W04")
        assert called is not None
        await clerk.ticket_action(called.id, "start")
        await clerk.ticket_action(called.id, "finish", TicketActionRequest(outcome="completed"))
        rating = await terminal.rate(RatingSubmission(ticket=called.id, score=1, comment="慢"))
        assert rating.follow_up is not None
        answered = await clerk.respond_to_rating(rating.id, FollowUpResponseBody(text="抱歉"))
        assert len(answered.follow_up.responses) == 1  # type: ignore[union-attr]
        with pytest.raises(Conflict):
            await terminal.rate(RatingSubmission(ticket=called.id, score=5))
        assert any(r.id == rating.id for r in (await supervisor.ratings()).items)
    finally:
        for client in (clerk, supervisor, terminal):
            await client.aclose()


async def test_merge_a_hall_visitor_with_the_online_application_and_undo_it(
    fresh_backend: Backend,
) -> None:
    portal = await logged_in(fresh_backend, "portal01")
    terminal = await logged_in(fresh_backend, "terminal01")
    clerk = await logged_in(fresh_backend, "clerk05", "W05")
    supervisor = await logged_in(fresh_backend, "super01")
    try:
        online = await portal.create_case(CaseIntake(service_item="MZ-002", applicant=PERSON))
        ticket = await terminal.issue_ticket(
            TicketIssue(
                service_item="MZ-002", applicant_id_number=PERSON.id_number, applicant_name="张三"
            )
        )
        called = await clerk.call_next("W05")
        assert called is not None and called.id == ticket.id
        await clerk.ticket_action(ticket.id, "start")
        candidates = await clerk.ticket_merge_candidates(ticket.id)
        assert [c.case.id for c in candidates.items] == [online.id]  # type: ignore[attr-defined]
        hall = await clerk.open_hall_case(ticket.id, HallCaseOpen())
        preview = await clerk.merge_preview(hall.id, online.id)
        assert preview is not None
        merged = await clerk.merge(
            hall.id,
            MergeRequest(other_case=online.id, other_version=online.version),
            version=hall.version,
        )
        absorbed = await clerk.case(online.id)
        assert absorbed.status == "merged"
        undone = await supervisor.unmerge(merged.merge.id)  # type: ignore[attr-defined]
        assert undone is not None
        assert (await clerk.case(online.id)).status == online.status
    finally:
        for client in (portal, terminal, clerk, supervisor):
            await client.aclose()

"""A model-based test (hypothesis stateful) of the hall queue and the case lifecycle against the
real backend over HTTP: random sequences of issue / call next / call / recall / no-show /
reactivate / park / resume / start / transfer / finish by three clerks and a supervisor, online
intake / claim next case / a hall case for the visitor being served / decide / merge / unmerge,
the clock moving on, stale If-Match and replays of the last change with its Idempotency-Key.

The model (`tests/model/model_hall.py`) predicts every answer (200/201, or the refusal: 409
naming the
allowed actions, 403, 412, 422) and the state it leaves. After every step the API must agree with
it: every ticket listed once, in the model's state and held by the model's window; each window's
view holds what the model says and no ticket or case is held by two clerks. At the end of each
example every held ticket is driven to a final state and every open case withdrawn; then the
example's events must be exactly the ones the model predicts (each change applied once, refusals
and replays writing nothing) and the whole hash chain must verify, gap-free.

One backend serves every example. Each example is a new hall day (the server's clock is frozen
at 10:00 and moves only when the model waits), so the day's queue holds only that example's
tickets; its cases are told apart by id and closed at its end.

`WORKBENCH_MODEL_EXAMPLES` / `WORKBENCH_MODEL_STEPS` make the run longer (`make soak`).
"""

from __future__ import annotations

import contextlib
import os
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)
from sqlalchemy import create_engine, func, select

from api_client.identity import make_resident_id
from backend.db.paging import encode_cursor
from backend.db.schema import cases, chain_head, events
from backend.events.chain import verify_chain
from backend.hall.seed import DEMO_PASSWORD
from backend.runtime.clock import Clock
from backend.server.embedded import EmbeddedServer
from tests.conftest import seeded_settings
from tests.model.model_hall import (
    CLERKS,
    CLOSED,
    HELD,
    ITEMS,
    OPEN,
    SUPERVISOR,
    TICKET_RULES,
    CaseModel,
    Expect,
    Hall,
    TicketModel,
    allowed_actions,
)
from tests.problems import PROBLEMS

EXAMPLES = int(os.environ.get("WORKBENCH_MODEL_EXAMPLES", "25"))
STEPS = int(os.environ.get("WORKBENCH_MODEL_STEPS", "30"))
# 10:00 in the hall; one day per example (the server's clock gives UTC, as the real one does)
FIRST_DAY = datetime(2026, 1, 5, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai")).astimezone(UTC)
TOKEN_TTL_MINUTES = 50 * 365 * 24 * 60
WAIT = timedelta(seconds=31)  # longer than the hall's recall gap
# Two people, so that about half of the merges are of one applicant's cases.
PEOPLE = {
    make_resident_id("210204", date(1971, 3, 2), 201): "模型甲",
    make_resident_id("210204", date(1984, 7, 9), 314): "模型乙",
}
LOGINS: dict[str, tuple[str, str | None]] = {
    "terminal": ("terminal01", None),
    "portal": ("portal01", None),
    SUPERVISOR: ("super01", None),
    **{window: (username, window) for window, username in CLERKS.items()},
}
STAFF = [*sorted(CLERKS), SUPERVISOR]
# Small examples keep every listing short; what matters is what happens to them.
MAX_TICKETS = 8
MAX_CASES = 6


class HallClock(Clock):
    """The server's clock, standing still between the model's moves."""

    def __init__(self, start: datetime) -> None:
        super().__init__()
        self.start = start

    def now(self) -> datetime:
        return self.start + self.offset


class World:
    """The backend every example shares, one logged-in client per actor, and a read-only look
    at its event log."""

    def __init__(self, base_url: str, clock: HallClock, database_url: str) -> None:
        self.clock = clock
        self.days = 0
        self.engine = create_engine(database_url)
        self.clients: dict[str, httpx.Client] = {}
        # shorter than the server's keep-alive, so the client never reuses a closing connection
        limits = httpx.Limits(keepalive_expiry=1.0)
        for actor, (username, window) in LOGINS.items():
            client = httpx.Client(base_url=base_url, timeout=30.0, limits=limits)
            body: dict[str, Any] = {"username": username, "password": DEMO_PASSWORD}
            if window:
                body["window"] = window
            response = client.post("/api/v1/auth/login", json=body)
            assert response.status_code == 200, response.text
            client.headers["Authorization"] = f"Bearer {response.json()['token']}"
            self.clients[actor] = client

    def next_day(self) -> tuple[int, int]:
        """Move the hall to 10:00 of the next day; return the event log's last sequence number
        and the highest case id so far (what the new example must not see)."""
        self.days += 1
        self.clock.start = FIRST_DAY + timedelta(days=self.days)
        self.clock.offset = timedelta()
        with self.engine.connect() as conn:
            head = conn.execute(select(chain_head.c.seq)).scalar_one()
            top = conn.execute(select(func.max(cases.c.id))).scalar()
        return int(head), int(top or 0)

    def close(self) -> None:
        for client in self.clients.values():
            client.close()
        self.engine.dispose()


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    # the tokens must outlive every day the examples (and hypothesis's shrinking) go through
    backend_settings = seeded_settings(
        tmp_path_factory.mktemp("model"), token_ttl_minutes=TOKEN_TTL_MINUTES
    )
    clock = HallClock(FIRST_DAY)
    with EmbeddedServer(backend_settings, clock=clock) as server:
        shared = World(server.base_url, clock, backend_settings.database_url)
        try:
            yield shared
        finally:
            shared.close()


@dataclass(frozen=True)
class Sent:
    """A change that succeeded, kept to be sent again with its Idempotency-Key."""

    actor: str
    url: str
    body: Any
    headers: dict[str, str]
    status: int
    answer: Any


def _json(response: httpx.Response) -> Any:
    return response.json() if response.content else None


class HallMachine(RuleBasedStateMachine):
    """One example: a hall day of requests, each checked against the model."""

    def __init__(self, world: World) -> None:
        super().__init__()
        self.world = world
        self.hall = Hall()
        self.last: Sent | None = None
        self.views_seen: Sent | None = None  # the last change after which the views were checked
        self.first_seq, self.case_floor = world.next_day()

    # --- talking to the backend --------------------------------------------------------------

    def post(
        self, actor: str, url: str, body: Any = None, if_match: int | None = None
    ) -> httpx.Response:
        headers = {"Idempotency-Key": str(uuid.uuid4())}
        if if_match is not None:
            headers["If-Match"] = f'"{if_match}"'
        response = self.world.clients[actor].post(url, json=body, headers=headers)
        if response.is_success:
            self.last = Sent(actor, url, body, headers, response.status_code, _json(response))
        return response

    def get(self, url: str, **params: Any) -> Any:
        response = self.world.clients[SUPERVISOR].get(url, params=params)
        assert response.status_code == 200, response.text
        return response.json()

    @staticmethod
    def check(response: httpx.Response, expect: Expect, what: str, context: object) -> None:
        assert response.status_code == expect.status, (what, context, response.text)
        if expect.ok:
            return
        assert response.headers["content-type"].startswith("application/problem+json")
        problem = response.json()
        assert problem["type"].removeprefix(PROBLEMS) == expect.kind, (what, context, problem)
        if expect.allowed is not None:
            assert tuple(sorted(problem["allowed"])) == expect.allowed, (what, context, problem)

    def agree_ticket(self, wire: dict[str, Any], ticket: TicketModel) -> None:
        seen = (
            wire["status"],
            wire["window"],
            wire["target_window"],
            wire["service_item"],
            wire["version"],
        )
        expected = (ticket.status, ticket.window, ticket.target, ticket.item, ticket.version)
        assert seen == expected, (ticket.id, seen, expected)

    def agree_case(self, wire: dict[str, Any], case: CaseModel, *, whole: bool = True) -> None:
        """`whole`: a single-case answer, which also names the merges (lists do not)."""
        seen = (wire["status"], wire["assignee"], wire["version"])
        expected = (case.status, case.assignee, case.version)
        assert seen == expected, (case.id, seen, expected)
        if whole:
            merged_into = wire["merged_into"]["case"] if wire["merged_into"] else None
            merged_from = sorted(link["case"] for link in wire["merged_from"])
            assert (merged_into, merged_from) == (case.merged_into, self.hall.merged_from(case))

    # --- the queue ---------------------------------------------------------------------------

    @initialize(
        arrivals=st.lists(
            st.tuples(
                st.sampled_from(ITEMS), st.sampled_from([None, *sorted(PEOPLE)]), st.booleans()
            ),
            min_size=2,
            max_size=4,
        ),
        online=st.lists(st.sampled_from(sorted(PEOPLE)), max_size=2),
    )
    def the_hall_opens(
        self, arrivals: list[tuple[str, str | None, bool]], online: list[str]
    ) -> None:
        """A few visitors (some a while after the one before) and online applications, so
        that every example has something to work on."""
        for item, person, later in arrivals:
            if later:
                self.time_passes()
            self.issue(item, person)
        for person in online:
            self.intake(person)

    @precondition(lambda self: len(self.hall.tickets) < MAX_TICKETS)
    @rule(item=st.sampled_from(ITEMS), person=st.sampled_from([None, *sorted(PEOPLE)]))
    def issue(self, item: str, person: str | None) -> None:
        body: dict[str, Any] = {"service_item": item}
        if person:
            body |= {"applicant_id_number": person, "applicant_name": PEOPLE[person]}
        response = self.post("terminal", "/api/v1/tickets", body)
        assert response.status_code == 201, response.text
        wire = response.json()
        assert wire["id"] not in self.hall.tickets
        assert wire["waiting_ahead"] == self.hall.waiting_ahead(item)
        ticket = TicketModel(wire["id"], item, person, wire["version"])
        self.agree_ticket(wire, ticket)
        self.hall.tickets[ticket.id] = ticket
        self.hall.event("ticket", ticket.id, "ticket.issued")

    @rule(window=st.sampled_from(sorted(CLERKS)))
    def call_next(self, window: str) -> None:
        queue = self.hall.callable_by(window)
        response = self.post(window, f"/api/v1/windows/{window}/call-next")
        if not queue:
            assert response.status_code == 204, (window, response.text)
            return
        assert response.status_code == 200, (window, response.text)
        wire = response.json()
        # the head of this window's queue, which nobody held a moment ago
        assert wire["id"] == queue[0].id, (window, wire["number"], [t.id for t in queue])
        self.hall.apply_call_next(queue[0], window)
        self.agree_ticket(wire, queue[0])

    def act(self, ticket: TicketModel, action: str, who: str, body: Any = None) -> None:
        expect = self.hall.predict_ticket(ticket, action, who)
        url = f"/api/v1/tickets/{ticket.id}/{action}"
        response = self.post(who, url, body, if_match=ticket.version)
        self.check(response, expect, action, (who, action, ticket))
        if expect.ok:
            self.hall.apply_ticket(ticket, action, who, body)
            self.agree_ticket(response.json(), ticket)

    def transfer_target(self, data: st.DataObject) -> dict[str, str]:
        targets = [{"window": w, "reason": "busy"} for w in sorted(CLERKS)]
        targets += [{"service_item": item, "reason": "wrong queue"} for item in ITEMS]
        return data.draw(st.sampled_from(targets), label="to")

    @precondition(lambda self: any(t.status != "done" for t in self.hall.tickets.values()))
    @rule(data=st.data())
    def serve(self, data: st.DataObject) -> None:
        """The day's work: an action the ticket's state allows, by whoever would do it."""
        live = sorted(t.id for t in self.hall.tickets.values() if t.status != "done")
        ticket = self.hall.tickets[data.draw(st.sampled_from(live), label="ticket")]
        action = data.draw(st.sampled_from(allowed_actions(ticket.status)), label="action")
        body: dict[str, str] | None = None
        if action == "finish":
            body = {"outcome": "completed"}
        elif action == "transfer":
            body = self.transfer_target(data)
        self.act(ticket, action, self.hall.fitting_actor(ticket, action), body)

    @precondition(lambda self: bool(self.hall.tickets))
    @rule(
        data=st.data(),
        who=st.sampled_from([*STAFF, "stale"]),
        action=st.sampled_from(sorted(TICKET_RULES)),
    )
    def meddle(self, data: st.DataObject, who: str, action: str) -> None:
        """Any action on any ticket by anyone, or on a version that is no longer current."""
        ticket = self.hall.tickets[data.draw(st.sampled_from(sorted(self.hall.tickets)))]
        body: dict[str, str] | None = None
        if action == "finish":
            body = {"outcome": "completed"}
        elif action == "transfer":
            body = self.transfer_target(data)
        if who != "stale":
            self.act(ticket, action, who, body)
            return
        stale = ticket.version - 1 if ticket.version > 1 else ticket.version + 1
        url = f"/api/v1/tickets/{ticket.id}/{action}"
        response = self.post(ticket.window or SUPERVISOR, url, body, if_match=stale)
        self.check(response, Expect(412, "precondition-failed"), "stale", (action, ticket))
        self.agree_ticket(response.json()["current"], ticket)

    @rule()
    def time_passes(self) -> None:
        self.world.clock.advance(WAIT)
        self.hall.now += int(WAIT.total_seconds())

    # --- cases -------------------------------------------------------------------------------

    @precondition(lambda self: len(self.hall.cases) < MAX_CASES)
    @rule(person=st.sampled_from(sorted(PEOPLE)))
    def intake(self, person: str) -> None:
        body = {
            "service_item": "MZ-002",
            "applicant": {"id_number": person, "name": PEOPLE[person]},
            "materials": [],
        }
        response = self.post("portal", "/api/v1/cases", body)
        assert response.status_code == 201, response.text
        wire = response.json()
        case = CaseModel(wire["id"], "MZ-002", "online", person, wire["version"])
        self.agree_case(wire, case)
        self.hall.cases[case.id] = case
        self.hall.event("case", case.id, "case.submitted")

    @rule(window=st.sampled_from(sorted(CLERKS)))
    def claim_next_case(self, window: str) -> None:
        queue = self.hall.claimable_by(window)
        response = self.post(window, "/api/v1/cases/claim-next")
        if not queue:
            assert response.status_code == 204, (window, response.text)
            return
        assert response.status_code == 200, (window, response.text)
        case = queue[0]
        assert response.json()["id"] == case.id, (window, [c.id for c in queue])
        case.status, case.assignee = "under_review", CLERKS[window]
        case.version += 1
        self.agree_case(response.json(), case)
        self.hall.event("case", case.id, "case.claimed")

    @precondition(lambda self: bool(self.hall.tickets) and len(self.hall.cases) < MAX_CASES)
    @rule(data=st.data(), window=st.sampled_from(["holder", *sorted(CLERKS)]))
    def open_hall_case(self, data: st.DataObject, window: str) -> None:
        held = sorted(t.id for t in self.hall.tickets.values() if t.status in HELD)
        ticket = self.hall.tickets[data.draw(st.sampled_from(held or sorted(self.hall.tickets)))]
        if window == "holder":
            window = ticket.window or sorted(CLERKS)[0]
        expect = self.hall.predict_open_case(ticket, window)
        response = self.post(window, f"/api/v1/tickets/{ticket.id}/case", {})
        self.check(response, expect, "open case", (window, ticket))
        if not expect.ok:
            return
        wire = response.json()
        assert ticket.person is not None
        case = CaseModel(
            wire["id"],
            ticket.item,
            "hall",
            ticket.person,
            wire["version"],
            status="under_review",
            assignee=CLERKS[window],
        )
        self.agree_case(wire, case)
        assert wire["ticket_id"] == ticket.id
        ticket.case = case.id
        self.hall.cases[case.id] = case
        self.hall.event("case", case.id, "case.submitted")
        self.hall.event("case", case.id, "case.opened_at_window")

    def decide(self, case: CaseModel, decision: str, who: str, target: str | None = None) -> None:
        body: dict[str, Any] = {"decision": decision}
        if decision == "reject":
            body |= {"reason_code": "not_in_remit", "reason_text": "模型测试"}
        elif decision == "transfer":
            body |= {"target_window": target, "note": "模型转办"}
        expect = self.hall.predict_decision(case, decision, target)
        url = f"/api/v1/cases/{case.id}/decisions"
        response = self.post(who, url, body, if_match=case.version)
        self.check(response, expect, decision, (who, decision, case))
        if expect.ok:
            self.hall.apply_decision(case, decision, who)
            self.agree_case(response.json()["case"], case)

    @precondition(lambda self: bool(self.hall.cases))
    @rule(
        data=st.data(),
        who=st.sampled_from(STAFF),
        decision=st.sampled_from(["accept", "approve", "reject", "transfer", "withdraw"]),
    )
    def decision(self, data: st.DataObject, who: str, decision: str) -> None:
        case = self.hall.cases[data.draw(st.sampled_from(sorted(self.hall.cases)))]
        target = None
        if decision == "transfer":
            target = data.draw(st.sampled_from(["W01", "W02", "W04", "W05"]), label="to")
        self.decide(case, decision, who, target)

    @precondition(lambda self: len(self.hall.cases) >= 2)
    @rule(
        data=st.data(),
        who=st.sampled_from(STAFF),
        survivor=st.sampled_from(["this", "other"]),
    )
    def merge(self, data: st.DataObject, who: str, survivor: str) -> None:
        """Two cases of one applicant that are still open, when there are such; else any two."""
        pairs = self.hall.mergeable_pairs()
        mergeable: bool = bool(pairs) and data.draw(st.booleans(), label="mergeable")
        if mergeable:
            first, second = data.draw(st.sampled_from(pairs), label="pair")
        else:
            first, second = data.draw(st.permutations(sorted(self.hall.cases)), label="pair")[:2]
        this, other = self.hall.cases[first], self.hall.cases[second]
        self.merge_cases(who, this, other, survivor)

    def merge_cases(
        self, who: str, this: CaseModel, other: CaseModel, survivor: str = "this"
    ) -> int | None:
        """POST /cases/{this}/merge; the merge's id when it was made."""
        kept, absorbed = (this, other) if survivor == "this" else (other, this)
        expect = self.hall.predict_merge(kept, absorbed)
        body = {"other_case": other.id, "survivor": survivor}
        response = self.post(who, f"/api/v1/cases/{this.id}/merge", body, if_match=kept.version)
        self.check(response, expect, "merge", (who, survivor, this, other))
        if not expect.ok:
            return None
        result = response.json()
        merge_id = int(result["merge"]["id"])
        self.hall.apply_merge(merge_id, kept, absorbed)
        self.agree_case(result["survivor"], kept)
        self.agree_case(result["absorbed"], absorbed)
        return merge_id

    @precondition(lambda self: bool(self.hall.merges))
    @rule(data=st.data(), who=st.sampled_from([SUPERVISOR, "W05"]))
    def unmerge(self, data: st.DataObject, who: str) -> None:
        self.undo(data.draw(st.sampled_from(sorted(self.hall.merges))), who)

    def undo(self, merge_id: int, who: str) -> None:
        merge = self.hall.merges[merge_id]
        expect = self.hall.predict_unmerge(merge, who)
        response = self.post(who, f"/api/v1/merges/{merge.id}/unmerge")
        self.check(response, expect, "unmerge", (who, merge))
        if not expect.ok:
            return
        self.hall.apply_unmerge(merge)
        result = response.json()
        assert result["merge"]["state"] == "undone"
        self.agree_case(result["survivor"], self.hall.cases[merge.survivor])
        self.agree_case(result["absorbed"], self.hall.cases[merge.absorbed])

    # --- idempotency -------------------------------------------------------------------------

    @precondition(lambda self: self.last is not None)
    @rule()
    def replay_last_change(self) -> None:
        """The same request with the same key: the stored answer, and nothing applied again
        (the event check at the end counts every change)."""
        sent = self.last
        assert sent is not None
        client = self.world.clients[sent.actor]
        again = client.post(sent.url, json=sent.body, headers=sent.headers)
        assert again.status_code == sent.status, (sent.url, again.text)
        assert _json(again) == sent.answer
        assert again.headers.get("Idempotency-Replayed") == "true"

    # --- what the API shows ------------------------------------------------------------------

    @invariant()
    def the_api_agrees(self) -> None:
        listed = self.get("/api/v1/tickets", limit=500)["items"]
        ids = [t["id"] for t in listed]
        assert sorted(ids) == sorted(self.hall.tickets), "a ticket missing, extra or listed twice"
        for wire in listed:
            self.agree_ticket(wire, self.hall.tickets[wire["id"]])
        # each window's and clerk's own view, after every change (a refusal changes nothing,
        # and the lists above already show who holds what)
        fresh = self.last is not self.views_seen
        self.views_seen = self.last
        if fresh and self.hall.tickets:
            self.each_window_holds_its_own()
        cursor = encode_cursor(self.case_floor)
        listed = self.get("/api/v1/cases", cursor=cursor, limit=500)["items"]
        assert sorted(c["id"] for c in listed) == sorted(self.hall.cases)
        for wire in listed:
            self.agree_case(wire, self.hall.cases[wire["id"]], whole=False)
        for case in self.hall.cases.values():
            if case.merged_into or self.hall.merged_from(case):
                self.agree_case(self.get(f"/api/v1/cases/{case.id}"), case)
        if fresh and self.hall.cases:
            self.each_clerk_holds_own_cases(cursor)

    def each_window_holds_its_own(self) -> None:
        holders: Counter[int] = Counter()
        for window in sorted(CLERKS):
            view = self.get("/api/v1/tickets", window=window, limit=500)["items"]
            expected = {t.id for t in self.hall.tickets.values() if window in (t.window, t.target)}
            assert {t["id"] for t in view} == expected, window
            held = {t["id"] for t in view if t["status"] in HELD and t["window"] == window}
            assert held == self.hall.held_by(window), window
            holders.update(held)
        assert all(n == 1 for n in holders.values()), "a ticket held by two windows"

    def each_clerk_holds_own_cases(self, cursor: str) -> None:
        holders: Counter[int] = Counter()
        for username in sorted(CLERKS.values()):
            view = self.get("/api/v1/cases", assignee=username, cursor=cursor, limit=500)
            mine = {c["id"] for c in view["items"]}
            assert mine == {c.id for c in self.hall.cases.values() if c.assignee == username}
            holders.update(mine)
        assert all(n == 1 for n in holders.values()), "a case held by two clerks"

    # --- the end of the day ------------------------------------------------------------------

    def close_the_day(self) -> None:
        """Every held ticket to a final state, every open case withdrawn: through the API, with
        the model predicting each answer."""
        for ticket in list(self.hall.tickets.values()):
            if ticket.status == "parked":
                self.act(ticket, "resume", ticket.window or "")
            if ticket.status == "serving":
                self.act(ticket, "finish", ticket.window or "", {"outcome": "completed"})
            if ticket.status == "called":
                self.act(ticket, "no-show", ticket.window or "")
        for case in list(self.hall.cases.values()):
            if case.status in OPEN:
                self.decide(case, "withdraw", SUPERVISOR)
        self.the_api_agrees()
        for ticket in self.hall.tickets.values():
            assert ticket.status in ("done", "no_show", "waiting"), ticket
        for case in self.hall.cases.values():
            assert case.status in (*CLOSED, "merged"), case

    def check_the_log(self) -> None:
        with self.world.engine.connect() as conn:
            rows = conn.execute(
                select(events.c.subject_type, events.c.subject_id, events.c.type).where(
                    events.c.seq > self.first_seq
                )
            ).all()
            report = verify_chain(conn)
        written = Counter((r.subject_type, r.subject_id, r.type) for r in rows)
        missing, extra = self.hall.events - written, written - self.hall.events
        assert not missing and not extra, f"events missing {dict(missing)}, extra {dict(extra)}"
        assert report.intact, report

    def sweep(self) -> None:
        """After a failure the model is no guide: withdraw whatever this example left open, so
        the examples hypothesis tries next start clean."""
        cursor = encode_cursor(self.case_floor)
        for case in self.get("/api/v1/cases", cursor=cursor, limit=500)["items"]:
            if case["status"] in OPEN:
                self.world.clients[SUPERVISOR].post(
                    f"/api/v1/cases/{case['id']}/decisions",
                    json={"decision": "withdraw"},
                    headers={
                        "Idempotency-Key": str(uuid.uuid4()),
                        "If-Match": str(case["version"]),
                    },
                )

    def teardown(self) -> None:
        try:
            self.close_the_day()
            self.check_the_log()
        except BaseException:
            with contextlib.suppress(Exception):  # the failure above is what to report
                self.sweep()
            raise


# pytest-timeout: the long profile (`make soak`) runs for minutes, and a failure is shrunk for up
# to five more (a kill by the timeout would lose the shrunk example)
@pytest.mark.timeout(EXAMPLES * STEPS // 4 + 600)
def test_the_hall_follows_the_model(world: World) -> None:
    class OneHall(HallMachine):
        def __init__(self) -> None:
            super().__init__(world)

    run_state_machine_as_test(
        OneHall,
        settings=settings(
            max_examples=EXAMPLES,
            stateful_step_count=STEPS,
            deadline=None,
            derandomize=True,
            database=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
            report_multiple_bugs=False,
        ),
    )


def test_a_recall_waits_for_the_gap_after_every_call(world: World) -> None:
    """What the model found: a ticket called a second time (after a no-show and reactivation,
    or a transfer) kept the recall time of its first call, so it could be recalled the moment
    it was called again. The same oracle, on that sequence."""
    hall = HallMachine(world)
    hall.issue("MZ-001", None)
    hall.issue("MZ-001", None)
    first, second = (hall.hall.tickets[i] for i in sorted(hall.hall.tickets))
    hall.call_next("W04")
    hall.time_passes()
    hall.act(first, "recall", "W04")
    hall.act(first, "no-show", "W04")
    hall.act(first, "reactivate", SUPERVISOR)
    hall.time_passes()
    hall.call_next("W04")
    hall.act(first, "recall", "W04")  # refused: announced 0 s ago
    hall.call_next("W04")
    hall.time_passes()
    hall.act(second, "recall", "W04")
    hall.act(second, "transfer", "W04", {"service_item": "MZ-002", "reason": "wrong queue"})
    hall.time_passes()
    hall.call_next("W05")
    hall.act(second, "recall", "W05")  # refused: announced 0 s ago
    assert (first.status, second.status) == ("called", "called")
    assert {first.window, second.window} == {"W04", "W05"}
    hall.the_api_agrees()
    hall.teardown()


def test_chained_merges_are_undone_last_first(world: World) -> None:
    """A fixed walk through merging with the same oracle, so that every run checks it whatever
    the random examples happen to reach."""
    hall = HallMachine(world)
    one, other = sorted(PEOPLE)
    for person in (one, one, one, other):
        hall.intake(person)
    a, b, c, d = (hall.hall.cases[i] for i in sorted(hall.hall.cases))
    hall.claim_next_case("W05")
    first = hall.merge_cases("W05", a, b)
    assert first is not None
    assert hall.merge_cases("W05", a, d) is None  # another applicant
    assert hall.merge_cases(SUPERVISOR, c, b) is None  # b is merged
    second = hall.merge_cases(SUPERVISOR, c, a, survivor="other")
    assert second is not None
    hall.undo(first, SUPERVISOR)  # refused: a took part in another merge since
    hall.undo(second, "W05")  # refused: only a supervisor undoes a merge
    hall.undo(second, SUPERVISOR)
    hall.undo(first, SUPERVISOR)  # allowed again
    hall.replay_last_change()
    assert [x.status for x in (a, b, c, d)] == ["under_review", *["submitted"] * 3]
    hall.decide(a, "withdraw", "W05")
    assert hall.merge_cases(SUPERVISOR, b, a) is None  # a is closed
    hall.the_api_agrees()
    hall.teardown()

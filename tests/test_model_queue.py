"""A model-based test (hypothesis stateful) of the hall queue and the case lifecycle against the
real backend: random sequences of issue / call next / call / recall / no-show / reactivate / park
/ resume / start / finish / transfer by several clerks and a supervisor, online intake / claim /
reject / withdraw, and replays of the last change with its idempotency key.

The model predicts, from `backend.queue.TRANSITIONS` and who holds what, whether each action may
succeed, and checks the server agrees. Invariants: a claim (call next, claim next case) only ever
hands out something nobody holds, so no ticket or case is held by two clerks; every issued ticket
is in exactly one state, the model's, and still there; every decision is applied once (a replay
is answered from the stored response and writes no second event); and the event log's hash chain
is intact and gap-free."""

from __future__ import annotations

import itertools
import os
import uuid
from collections import Counter
from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule
from sqlalchemy import Connection, func, select, update

from api_client.identity import make_resident_id
from backend.db.engine import Database
from backend.db.schema import cases, events, tickets
from backend.embedded import EmbeddedServer
from backend.event_log import verify_chain
from backend.hall_file import load_demo_hall
from backend.queue import TRANSITIONS
from backend.seed import DEMO_PASSWORD, hall_with_extra_clerks
from tests.conftest import seeded_settings

_people = itertools.count(1)


def new_person() -> str:
    """A valid resident ID number not used before in this run (born 1940..2008)."""
    n = next(_people)
    born = date(1940, 1, 1) + timedelta(days=n % 25_000)
    return make_resident_id("210204", born, 100 + (n // 25_000) % 800)


ITEM = "MZ-001"
CASE_ITEM = "MZ-002"
CLERKS = {f"X0{n}": f"xclerk0{n}" for n in range(1, 4)}
CASE_CLERKS = {"W01": "clerk01", "W05": "clerk05"}  # both serve MZ-002
ACTIONS = ("call", "recall", "no-show", "park", "resume", "start", "finish", "transfer")
EXAMPLES = int(os.environ.get("WORKBENCH_MODEL_EXAMPLES", "12"))
STEPS = int(os.environ.get("WORKBENCH_MODEL_STEPS", "30"))


class World:
    """The backend and one logged-in client per actor, shared by every example."""

    def __init__(self, base_url: str, database_url: str) -> None:
        self.database_url = database_url
        self.clients: dict[str, httpx.Client] = {}
        for login, window in [
            ("terminal01", None),
            ("portal01", None),
            ("super01", None),
            *((user, w) for w, user in {**CLERKS, **CASE_CLERKS}.items()),
        ]:
            client = httpx.Client(base_url=base_url, timeout=30)
            body: dict[str, Any] = {"username": login, "password": DEMO_PASSWORD}
            if window:
                body["window"] = window
            response = client.post("/api/v1/auth/login", json=body)
            assert response.status_code == 200, response.text
            client.headers["Authorization"] = f"Bearer {response.json()['token']}"
            self.clients[window or login] = client

    def close(self) -> None:
        for client in self.clients.values():
            client.close()


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    hall = hall_with_extra_clerks(load_demo_hall(), len(CLERKS), ITEM)
    settings_ = seeded_settings(tmp_path_factory.mktemp("model"), hall)
    with EmbeddedServer(settings_) as server:
        shared = World(server.base_url, settings_.database_url)
        yield shared
        shared.close()


def _close_leftovers(conn: Connection) -> None:
    conn.execute(
        update(tickets)
        .where(tickets.c.status.in_(("waiting", "called", "serving", "parked", "no_show")))
        .values(status="done")
    )
    conn.execute(
        update(cases)
        .where(cases.c.status.in_(("submitted", "under_review")))
        .values(status="withdrawn")
    )


def post(client: httpx.Client, url: str, body: Any = None, **headers: str) -> httpx.Response:
    return client.post(url, json=body, headers={"Idempotency-Key": str(uuid.uuid4()), **headers})


class HallMachine(RuleBasedStateMachine):
    world: World

    def __init__(self) -> None:
        super().__init__()
        self.last: tuple[str, str, Any, dict[str, str], httpx.Response] | None = None
        self.tickets: dict[int, dict[str, Any]] = {}  # id -> status, window, target
        self.cases: dict[int, dict[str, Any]] = {}  # id -> status, assignee window
        self.decisions: Counter[int] = Counter()
        # each example starts from an empty queue: what earlier examples left open is closed
        # directly in the database (no events: the chain is not touched)
        db = Database(self.world.database_url)
        try:
            db.run_write(_close_leftovers)
        finally:
            db.close()

    # ---- the queue --------------------------------------------------------------------------
    @rule()
    def issue(self) -> None:
        response = post(self.world.clients["terminal01"], "/api/v1/tickets", {"service_item": ITEM})
        assert response.status_code == 201, response.text
        ticket = response.json()
        assert ticket["id"] not in self.tickets
        self.tickets[ticket["id"]] = {"status": "waiting", "window": None, "target": None}

    def _callable_by(self, window: str) -> list[int]:
        return [
            tid
            for tid, t in self.tickets.items()
            if t["status"] == "waiting" and t["target"] in (None, window)
        ]

    @rule(window=st.sampled_from(sorted(CLERKS)))
    def call_next(self, window: str) -> None:
        response = post(self.world.clients[window], f"/api/v1/windows/{window}/call-next")
        if response.status_code == 204:
            assert not self._callable_by(window), "a waiting ticket was not handed out"
            return
        assert response.status_code == 200, response.text
        ticket = response.json()
        model = self.tickets[ticket["id"]]
        # the claim: only a waiting ticket nobody holds, never one another window holds
        assert model["status"] == "waiting", (ticket, model)
        assert ticket["id"] in self._callable_by(window)
        self._apply(ticket)

    def _apply(self, ticket: dict[str, Any]) -> None:
        model = self.tickets[ticket["id"]]
        model["status"] = ticket["status"]
        model["window"] = ticket.get("window")
        model["target"] = ticket.get("target_window")

    def _expect(self, tid: int, action: str, window: str | None) -> bool:
        model = self.tickets[tid]
        sources, _ = TRANSITIONS[action]
        if model["status"] not in sources:
            return False
        if window is None:  # the supervisor: anything but call, reactivate included
            return action != "call"
        if action == "call":
            return model["target"] in (None, window)
        return model["status"] != "waiting" and model["window"] == window

    @precondition(lambda self: bool(self.tickets))
    @rule(
        data=st.data(),
        who=st.sampled_from([*sorted(CLERKS), None]),
        action=st.sampled_from([*ACTIONS, "reactivate"]),
    )
    def act(self, data: st.DataObject, who: str | None, action: str) -> None:
        tid = data.draw(st.sampled_from(sorted(self.tickets)[-40:]), label="ticket")
        body: dict[str, Any] | None = None
        if action == "finish":
            body = {"outcome": "completed"}
        elif action == "transfer":
            body = {"window": data.draw(st.sampled_from(sorted(CLERKS)), label="to")}
        client = self.world.clients[who or "super01"]
        expected = self._expect(tid, action, who)
        headers = {"Idempotency-Key": str(uuid.uuid4())}
        url = f"/api/v1/tickets/{tid}/{action}"
        response = client.post(url, json=body, headers=headers)
        if expected:
            assert response.status_code == 200, (
                action,
                who,
                self.tickets[tid],
                response.text,
            )
            self._apply(response.json())
            self.last = (who or "super01", url, body, headers, response)
        else:
            assert response.status_code in (403, 409), (action, who, response.text)

    # ---- cases ------------------------------------------------------------------------------
    @rule()
    def intake(self) -> None:
        body = {
            "service_item": CASE_ITEM,
            "applicant": {"id_number": new_person(), "name": "模型申请人"},
            "materials": [],
        }
        response = post(self.world.clients["portal01"], "/api/v1/cases", body)
        assert response.status_code == 201, response.text
        self.cases[response.json()["id"]] = {"status": "submitted", "assignee": None}

    @rule(window=st.sampled_from(sorted(CASE_CLERKS)))
    def claim_next_case(self, window: str) -> None:
        response = post(self.world.clients[window], "/api/v1/cases/claim-next")
        unassigned = [
            cid
            for cid, c in self.cases.items()
            if c["assignee"] is None and c["status"] == "submitted"
        ]
        if response.status_code == 204:
            assert not unassigned
            return
        assert response.status_code == 200, response.text
        case = response.json()
        assert case["id"] in unassigned, "a case held by another clerk was handed out"
        assert case["status"] == "under_review"
        self.cases[case["id"]] |= {"assignee": window, "status": "under_review"}

    @precondition(lambda self: any(c["assignee"] for c in self.cases.values()))
    @rule(data=st.data(), decision=st.sampled_from(["reject", "withdraw"]))
    def decide(self, data: st.DataObject, decision: str) -> None:
        held = sorted(cid for cid, c in self.cases.items() if c["assignee"])
        cid = data.draw(st.sampled_from(held), label="case")
        model = self.cases[cid]
        client = self.world.clients[model["assignee"]]
        current = client.get(f"/api/v1/cases/{cid}").json()
        body: dict[str, Any] = {"decision": decision}
        if decision == "reject":
            body |= {"reason_code": "not_in_remit", "reason_text": "模型测试"}
        headers = {"Idempotency-Key": str(uuid.uuid4()), "If-Match": f'"{current["version"]}"'}
        url = f"/api/v1/cases/{cid}/decisions"
        response = client.post(url, json=body, headers=headers)
        if model["status"] == "under_review":
            assert response.status_code == 201, response.text
            model["status"] = response.json()["case"]["status"]
            assert model["status"] in ("rejected", "withdrawn")
            self.decisions[cid] += 1
            self.last = (model["assignee"], url, body, headers, response)
        else:
            assert response.status_code in (409, 412), response.text

    # ---- replays ------------------------------------------------------------------------------
    @precondition(lambda self: self.last is not None)
    @rule()
    def replay_last(self) -> None:
        assert self.last is not None
        who, url, body, headers, first = self.last
        before = self._event_count()
        again = self.world.clients[who].post(url, json=body, headers=headers)
        assert again.status_code == first.status_code
        assert again.json() == first.json()
        assert again.headers.get("Idempotency-Replayed") == "true"
        assert self._event_count() == before, "a replay wrote an event"

    def _event_count(self) -> int:
        db = Database(self.world.database_url)
        try:
            return int(db.run_read(lambda c: c.execute(select(func.count(events.c.seq))).scalar()))
        finally:
            db.close()

    @invariant()
    def nobody_holds_what_another_holds(self) -> None:
        held = [
            (t["window"], tid)
            for tid, t in self.tickets.items()
            if t["status"] in ("called", "serving", "parked")
        ]
        assert all(window is not None for window, _ in held)

    def teardown(self) -> None:
        supervisor = self.world.clients["super01"]
        listed: dict[int, dict[str, Any]] = {}
        cursor = None
        while True:
            params: dict[str, Any] = {"service_item": ITEM, "limit": 200}
            if cursor:
                params["cursor"] = cursor
            page = supervisor.get("/api/v1/tickets", params=params).json()
            for ticket in page["items"]:
                assert ticket["id"] not in listed, "a ticket listed twice"
                listed[ticket["id"]] = ticket
            cursor = page.get("next_cursor")
            if not cursor:
                break
        assert set(self.tickets) <= set(listed), "an issued ticket went missing"
        for tid, model in self.tickets.items():
            assert listed[tid]["status"] == model["status"], (tid, listed[tid], model)
            assert listed[tid].get("window") == model["window"], (tid, listed[tid], model)
        db = Database(self.world.database_url)
        try:
            report = db.run_read(verify_chain)
            decided = db.run_read(
                lambda c: Counter(
                    int(r.subject_id)
                    for r in c.execute(
                        select(events.c.subject_id).where(
                            events.c.type.in_(("case.rejected", "case.withdrawn"))
                        )
                    )
                )
            )
        finally:
            db.close()
        assert report.intact, report
        mine = Counter({cid: n for cid, n in decided.items() if cid in self.cases})
        assert mine == self.decisions, "a decision was applied twice or lost"


def test_queue_and_cases_follow_the_model(world: World) -> None:
    HallMachine.world = world
    HallMachine.TestCase.settings = settings(
        max_examples=EXAMPLES,
        stateful_step_count=STEPS,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        database=None,
    )
    HallMachine.TestCase().runTest()

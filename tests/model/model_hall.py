"""Provides the oracle of `tests/model/test_model_queue.py`: what the hall queue and the case
lifecycle must answer to each request, written from the rules in the docstrings of
`backend/queue/tickets.py`, `backend/cases/decisions.py` and `backend/merges/merge.py` (not
imported from them, so a wrong rule in the backend cannot agree with itself), and the state each
change leaves behind.

Time is counted in seconds since the start of the example; the server's clock is frozen and moves
only when the model says so.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

SUPERVISOR = "super"
CLERKS = {"W01": "clerk01", "W04": "clerk04", "W05": "clerk05"}
# the service items of the demo hall's windows, as far as this model uses them
SERVES = {
    "W01": {"MZ-002"},
    "W02": {"MZ-002"},
    "W04": {"MZ-001"},
    "W05": {"MZ-002"},
}
ITEMS = ("MZ-001", "MZ-002")  # marriage: W04 only; subsistence: W01, W02, W05
RECALL_GAP = 30  # the demo hall's recall_min_gap_seconds
HELD = ("called", "serving", "parked")

# action -> (states it may start from, state it leads to)
TICKET_RULES: dict[str, tuple[tuple[str, ...], str]] = {
    "call": (("waiting",), "called"),
    "recall": (("called",), "called"),
    "no-show": (("called",), "no_show"),
    "reactivate": (("no_show",), "waiting"),
    "park": (("called", "serving"), "parked"),
    "resume": (("parked",), "serving"),
    "transfer": (("waiting", "called", "serving", "parked"), "waiting"),
    "start": (("called",), "serving"),
    "finish": (("serving",), "done"),
}

REVIEW = ("submitted", "under_review", "supplement_requested")
OPEN = (*REVIEW, "accepted")
CLOSED = ("approved", "rejected", "withdrawn")
DECISION_SOURCES: dict[str, tuple[str, ...]] = {
    "accept": REVIEW,
    "accept_with_owed": REVIEW,
    "supplement": OPEN,
    "supplement_received": ("supplement_requested",),
    "reject": OPEN,
    "approve": ("accepted",),
    "transfer": OPEN,
    "withdraw": OPEN,
}
DECISION_EVENTS = {
    "reject": "case.rejected",
    "withdraw": "case.withdrawn",
    "transfer": "case.transferred",
}
CLAIMABLE_CHANNELS = ("online",)  # the channels this model creates that claim-next hands out


@dataclass(frozen=True)
class Expect:
    """The answer the backend must give: a status, and for a problem its kind (and, for a refused
    transition, the actions or decisions it must name as allowed)."""

    status: int
    kind: str | None = None
    allowed: tuple[str, ...] | None = None

    @property
    def ok(self) -> bool:
        return self.status < 300


def allowed_actions(status: str) -> list[str]:
    return [action for action, (sources, _) in TICKET_RULES.items() if status in sources]


def refused(status: int, kind: str, allowed: list[str] | None = None) -> Expect:
    return Expect(status, kind, tuple(sorted(allowed)) if allowed is not None else None)


@dataclass
class TicketModel:
    id: int
    item: str
    person: str | None
    version: int
    status: str = "waiting"
    window: str | None = None
    target: str | None = None
    announced_at: int | None = None  # the last call or recall
    case: int | None = None


@dataclass
class CaseModel:
    id: int
    item: str
    channel: str
    person: str
    version: int
    status: str = "submitted"
    assignee: str | None = None
    merged_into: int | None = None

    def state(self) -> tuple[str, str | None, int | None]:
        return (self.status, self.assignee, self.merged_into)


@dataclass
class MergeModel:
    id: int
    survivor: int
    absorbed: int
    survivor_version: int
    before: dict[int, tuple[tuple[str, str | None, int | None], int]]  # case -> (state, version)
    tickets: list[int]
    active: bool = True


@dataclass
class Hall:
    """What the backend should hold for the objects of one example."""

    now: int = 0
    tickets: dict[int, TicketModel] = field(default_factory=dict)
    cases: dict[int, CaseModel] = field(default_factory=dict)
    merges: dict[int, MergeModel] = field(default_factory=dict)
    events: Counter[tuple[str, str, str]] = field(default_factory=Counter)

    def event(self, subject_type: str, subject_id: int, type_: str) -> None:
        self.events[(subject_type, str(subject_id), type_)] += 1

    # --- the queue ------------------------------------------------------------------------------

    def waiting_ahead(self, item: str) -> int:
        return sum(1 for t in self.tickets.values() if t.status == "waiting" and t.item == item)

    def callable_by(self, window: str) -> list[TicketModel]:
        """The window's queue in calling order (every ticket here is a normal one, and tickets
        are issued in time order, so arrival order is id order)."""
        return sorted(
            (
                t
                for t in self.tickets.values()
                if t.status == "waiting"
                and (t.target == window or (t.target is None and t.item in SERVES[window]))
            ),
            key=lambda t: t.id,
        )

    def held_by(self, window: str) -> set[int]:
        return {t.id for t in self.tickets.values() if t.status in HELD and t.window == window}

    def fitting_actor(self, ticket: TicketModel, action: str) -> str:
        """Who would normally do `action` to `ticket` (so that most steps get somewhere)."""
        if action == "call":
            return next(
                (w for w in sorted(CLERKS) if ticket in self.callable_by(w)), sorted(CLERKS)[0]
            )
        if action == "reactivate" or ticket.status == "waiting":
            return SUPERVISOR
        return ticket.window or SUPERVISOR

    def predict_ticket(self, ticket: TicketModel, action: str, who: str) -> Expect:
        sources, _ = TICKET_RULES[action]
        if ticket.status not in sources:
            return refused(409, "invalid-transition", allowed_actions(ticket.status))
        if action == "reactivate":
            if who != SUPERVISOR:
                return refused(403, "forbidden")
        elif who == SUPERVISOR:
            if action == "call":
                return refused(403, "forbidden")
        elif action == "call":
            if not (ticket.target == who or (ticket.target is None and ticket.item in SERVES[who])):
                return refused(403, "forbidden")
        elif ticket.status == "waiting" or ticket.window != who:
            return refused(403, "forbidden")
        if action == "recall":
            assert ticket.announced_at is not None
            if self.now - ticket.announced_at < RECALL_GAP:
                return refused(409, "recall-too-soon")
        return Expect(200)

    def apply_call_next(self, ticket: TicketModel, window: str) -> None:
        """As the action `call` (whose event is `ticket.called` too)."""
        self.apply_ticket(ticket, "call", window, None)

    def apply_ticket(
        self,
        ticket: TicketModel,
        action: str,
        who: str,
        body: dict[str, str] | None,
        event: str | None = None,
    ) -> None:
        _, target = TICKET_RULES[action]
        ticket.status = target
        ticket.version += 1
        if action == "call":
            ticket.window, ticket.target, ticket.announced_at = who, None, self.now
        elif action == "recall":
            ticket.announced_at = self.now
        elif action == "reactivate":
            ticket.window = None
        elif action == "transfer":
            assert body is not None
            ticket.window = None
            ticket.target = body.get("window")
            ticket.item = body.get("service_item", ticket.item)
        named = "ticket.called" if action == "call" else f"ticket.{action.replace('-', '_')}"
        self.event("ticket", ticket.id, event or named)

    # --- cases ----------------------------------------------------------------------------------

    def claimable_by(self, window: str) -> list[CaseModel]:
        return sorted(
            (
                c
                for c in self.cases.values()
                if c.status == "submitted"
                and c.assignee is None
                and c.channel in CLAIMABLE_CHANNELS
                and c.item in SERVES[window]
            ),
            key=lambda c: c.id,
        )

    def predict_open_case(self, ticket: TicketModel, window: str) -> Expect:
        if ticket.status not in HELD:
            return refused(409, "invalid-transition")
        if ticket.window != window:
            return refused(403, "forbidden")
        if ticket.case is not None:
            return refused(409, "conflict")
        if ticket.person is None:
            return refused(422, "validation")
        return Expect(201)

    def predict_decision(self, case: CaseModel, decision: str, target: str | None) -> Expect:
        if case.status == "merged":
            return refused(409, "case-merged")
        allowed = [d for d, sources in DECISION_SOURCES.items() if case.status in sources]
        if decision not in allowed:
            return refused(409, "invalid-transition", allowed)
        if decision == "accept":  # nothing was provided: the mandatory materials are missing
            return refused(409, "materials-incomplete")
        if decision == "transfer" and target is not None and case.item not in SERVES[target]:
            return refused(422, "validation")
        return Expect(201)

    def apply_decision(self, case: CaseModel, decision: str, who: str) -> None:
        if decision == "transfer":
            if case.status in ("submitted", "under_review"):
                case.status = "submitted"
            case.assignee = None
        else:
            case.status = {"reject": "rejected", "withdraw": "withdrawn"}[decision]
            if case.assignee is None and who != SUPERVISOR:
                case.assignee = CLERKS[who]
        case.version += 1
        self.event("case", case.id, DECISION_EVENTS[decision])

    def merged_from(self, case: CaseModel) -> list[int]:
        return sorted(
            m.absorbed for m in self.merges.values() if m.active and m.survivor == case.id
        )

    def mergeable_pairs(self) -> list[tuple[int, int]]:
        """Pairs of cases a merge should accept."""
        return [
            (a.id, b.id)
            for a in self.cases.values()
            for b in self.cases.values()
            if a.id != b.id and self.predict_merge(a, b).ok
        ]

    def predict_merge(self, survivor: CaseModel, absorbed: CaseModel) -> Expect:
        for case in (survivor, absorbed):
            if case.status == "merged":
                return refused(409, "case-merged")
            if case.status in CLOSED:
                return refused(409, "merge-refused")
        if survivor.person != absorbed.person:
            return refused(409, "applicant-mismatch")
        return Expect(201)

    def apply_merge(self, merge_id: int, survivor: CaseModel, absorbed: CaseModel) -> None:
        before = {c.id: (c.state(), c.version) for c in (survivor, absorbed)}
        moved = [t.id for t in self.tickets.values() if t.case == absorbed.id]
        for ticket_id in moved:
            self.tickets[ticket_id].case = survivor.id
        survivor.version += 1
        absorbed.version += 1
        absorbed.status, absorbed.merged_into = "merged", survivor.id
        self.merges[merge_id] = MergeModel(
            merge_id, survivor.id, absorbed.id, survivor.version, before, moved
        )
        self.event("case", survivor.id, "case.merge_received")
        self.event("case", absorbed.id, "case.merged")

    def predict_unmerge(self, merge: MergeModel, who: str) -> Expect:
        if who != SUPERVISOR:
            return refused(403, "forbidden")
        if not merge.active or self.cases[merge.survivor].version != merge.survivor_version:
            return refused(409, "unmerge-refused")
        return Expect(200)

    def apply_unmerge(self, merge: MergeModel) -> None:
        """Both cases return to their state before the merge (their versions move on); an
        earlier merge into either case that it had left unchanged can be undone again."""
        for case_id, (state, version_before) in merge.before.items():
            case = self.cases[case_id]
            case.version += 1
            for other in self.merges.values():
                if (
                    other is not merge
                    and other.active
                    and other.survivor == case_id
                    and other.survivor_version == version_before
                ):
                    other.survivor_version = case.version
            case.status, case.assignee, case.merged_into = state
        for ticket_id in merge.tickets:
            if self.tickets[ticket_id].case == merge.survivor:
                self.tickets[ticket_id].case = merge.absorbed
        merge.active = False
        self.event("case", merge.survivor, "case.unmerged")
        self.event("case", merge.absorbed, "case.unmerged")

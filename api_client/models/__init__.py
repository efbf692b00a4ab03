"""Provides the wire contract: every body the API sends or takes, as pydantic models.

The backend builds its requests and responses from these classes and the client parses the
server's answers into them, so there is one source of truth for the wire format.
"""

from api_client.models.auth import LoginRequest, LoginResponse, Me, Role
from api_client.models.cases import (
    Case,
    CaseIntake,
    CaseList,
    CaseStatus,
    Channel,
    IntakeApplicant,
    IntakeMaterial,
)
from api_client.models.catalogue import (
    Material,
    MaterialFormat,
    PriorityClass,
    ServiceItem,
    ServiceItemList,
    Window,
    WindowList,
    WindowState,
)
from api_client.models.common import Problem, ProblemFieldError
from api_client.models.events import Event, EventList
from api_client.models.tickets import (
    Ticket,
    TicketAction,
    TicketActionRequest,
    TicketIssue,
    TicketList,
    TicketOutcome,
    TicketStatus,
    WalkIn,
)

__all__ = [
    "Case",
    "CaseIntake",
    "CaseList",
    "CaseStatus",
    "Channel",
    "Event",
    "EventList",
    "IntakeApplicant",
    "IntakeMaterial",
    "LoginRequest",
    "LoginResponse",
    "Material",
    "MaterialFormat",
    "Me",
    "PriorityClass",
    "Problem",
    "ProblemFieldError",
    "Role",
    "ServiceItem",
    "ServiceItemList",
    "Ticket",
    "TicketAction",
    "TicketActionRequest",
    "TicketIssue",
    "TicketList",
    "TicketOutcome",
    "TicketStatus",
    "WalkIn",
    "Window",
    "WindowList",
    "WindowState",
]

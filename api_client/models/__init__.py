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

# Cases: verification, decisions, notices, e-licences and ratings (issue 3).
from api_client.models.cases import (
    AttachedELicence,
    CaseDecisionRecord,
    ChecklistRow,
    DocumentFacts,
    DocumentFactsOut,
    Finding,
    MaterialVerification,
    NoticeRef,
    TimeLimit,
)
from api_client.models.decisions import (
    AcceptDecision,
    AcceptWithOwedDecision,
    ApproveDecision,
    DecisionKind,
    DecisionRequest,
    DecisionResult,
    NoticeDecision,
    NoticeDecisionRequest,
    NoticePreview,
    OwedDue,
    RejectDecision,
    SupplementDecision,
    SupplementItem,
    SupplementReceivedDecision,
    TransferDecision,
    WithdrawDecision,
)
from api_client.models.e_licences import ELicence, ELicenceList
from api_client.models.ratings import (
    FollowUp,
    FollowUpResponse,
    FollowUpResponseBody,
    Rating,
    RatingList,
    RatingSubmission,
)

__all__ += [
    "AcceptDecision",
    "AcceptWithOwedDecision",
    "ApproveDecision",
    "AttachedELicence",
    "CaseDecisionRecord",
    "ChecklistRow",
    "DecisionKind",
    "DecisionRequest",
    "DecisionResult",
    "DocumentFacts",
    "DocumentFactsOut",
    "ELicence",
    "ELicenceList",
    "Finding",
    "FollowUp",
    "FollowUpResponse",
    "FollowUpResponseBody",
    "MaterialVerification",
    "NoticeDecision",
    "NoticeDecisionRequest",
    "NoticePreview",
    "NoticeRef",
    "OwedDue",
    "Rating",
    "RatingList",
    "RatingSubmission",
    "RejectDecision",
    "SupplementDecision",
    "SupplementItem",
    "SupplementReceivedDecision",
    "TimeLimit",
    "TransferDecision",
    "WithdrawDecision",
]
from api_client.models.alarms import Alarm, AlarmList, AlarmRaise, PersonalData  # noqa: E402

__all__ += ["Alarm", "AlarmList", "AlarmRaise", "PersonalData"]

# Merging a hall visitor's case with the same person's online application (issue 6).
from api_client.models.cases import MergeLink  # noqa: E402
from api_client.models.merges import (  # noqa: E402
    ApplicantDifference,
    ApplicantResolution,
    CaseSummary,
    HallCaseOpen,
    HallPaperMaterial,
    MaterialChoice,
    MergeCandidate,
    MergeCandidateList,
    MergeList,
    MergeMaterialRow,
    MergeMaterialSide,
    MergePreview,
    MergeRecord,
    MergeRequest,
    MergeResult,
    UnmergeRequest,
)

__all__ += [
    "ApplicantDifference",
    "ApplicantResolution",
    "CaseSummary",
    "HallCaseOpen",
    "HallPaperMaterial",
    "MaterialChoice",
    "MergeCandidate",
    "MergeCandidateList",
    "MergeLink",
    "MergeList",
    "MergeMaterialRow",
    "MergeMaterialSide",
    "MergePreview",
    "MergeRecord",
    "MergeRequest",
    "MergeResult",
    "UnmergeRequest",
]

# The hall's call display: numbers, windows and counts only (issue 7).
from api_client.models.display import (  # noqa: E402
    DisplayBoard,
    DisplayCall,
    DisplayQueue,
    DisplayWindow,
)

__all__ += ["DisplayBoard", "DisplayCall", "DisplayQueue", "DisplayWindow"]

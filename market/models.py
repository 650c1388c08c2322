"""Imports every table model so that SQLModel.metadata is complete (Alembic, tests)."""

from market.accounts.models import Organization, User
from market.contacts.models import ContactReveal
from market.deals.models import Contract
from market.events.models import (
    Event,
    EventReviewer,
    MeetingRequest,
    PitchApplication,
    PitchScore,
    Registration,
)
from market.financing.models import (
    DataRoomFile,
    DataRoomView,
    FinancingEvent,
    FinancingRequest,
    InvestorProfile,
    NdaAcceptance,
    PipelineEntry,
    PipelineStep,
)
from market.listings.models import Interest, ListingEvent, ResearchResult, TechNeed
from market.mail.models import OutgoingMail
from market.matches.models import Match, MatchEvent
from market.notifications.models import Notification
from market.outbox.models import OutboxEntry, WorkerState

__all__ = [
    "ContactReveal",
    "Contract",
    "DataRoomFile",
    "DataRoomView",
    "Event",
    "EventReviewer",
    "FinancingEvent",
    "FinancingRequest",
    "Interest",
    "InvestorProfile",
    "ListingEvent",
    "Match",
    "MatchEvent",
    "MeetingRequest",
    "NdaAcceptance",
    "Notification",
    "Organization",
    "OutboxEntry",
    "OutgoingMail",
    "PipelineEntry",
    "PipelineStep",
    "PitchApplication",
    "PitchScore",
    "Registration",
    "ResearchResult",
    "TechNeed",
    "User",
    "WorkerState",
]

"""Imports every table model so that SQLModel.metadata is complete (Alembic, tests)."""

from market.accounts.models import Organization, User
from market.contacts.models import ContactReveal
from market.deals.models import Contract
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
    "FinancingEvent",
    "FinancingRequest",
    "Interest",
    "InvestorProfile",
    "ListingEvent",
    "Match",
    "MatchEvent",
    "NdaAcceptance",
    "Notification",
    "Organization",
    "OutboxEntry",
    "OutgoingMail",
    "PipelineEntry",
    "PipelineStep",
    "ResearchResult",
    "TechNeed",
    "User",
    "WorkerState",
]

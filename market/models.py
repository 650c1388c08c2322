"""Imports every table model so that SQLModel.metadata is complete (Alembic, tests)."""

from market.accounts.models import Organization, User
from market.contacts.models import ContactReveal
from market.deals.models import Contract, ContractInstalment
from market.directory.models import (
    AgencyProfile,
    BrokerCertificate,
    BrokerProfile,
    BrokerRequest,
    ProfileField,
)
from market.events.models import (
    Event,
    EventReviewer,
    MeetingRequest,
    PitchApplication,
    PitchScore,
    Registration,
)
from market.federation.models import FeedEntry, LinkedRecord, Partner
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
from market.listings.models import Interest, ListingEvent, ListingRevision, ResearchResult, TechNeed
from market.mail.models import OutgoingMail
from market.matches.models import Match, MatchEvent
from market.notices.models import Notice, NoticeAttachment
from market.notifications.models import Notification
from market.outbox.models import OutboxEntry, WorkerState
from market.trade.models import (
    Auction,
    Bid,
    BuyerRegistration,
    Objection,
    ObjectionRuling,
    Publicity,
    SaleListing,
    TradeDeal,
    TradeEvent,
)
from market.verification.models import OrgVerification

__all__ = [
    "AgencyProfile",
    "Auction",
    "Bid",
    "BrokerCertificate",
    "BrokerProfile",
    "BrokerRequest",
    "BuyerRegistration",
    "ContactReveal",
    "Contract",
    "ContractInstalment",
    "DataRoomFile",
    "DataRoomView",
    "Event",
    "EventReviewer",
    "FeedEntry",
    "FinancingEvent",
    "FinancingRequest",
    "Interest",
    "InvestorProfile",
    "LinkedRecord",
    "ListingEvent",
    "ListingRevision",
    "Match",
    "MatchEvent",
    "MeetingRequest",
    "NdaAcceptance",
    "Notice",
    "NoticeAttachment",
    "Notification",
    "Objection",
    "ObjectionRuling",
    "OrgVerification",
    "Organization",
    "OutboxEntry",
    "OutgoingMail",
    "Partner",
    "PipelineEntry",
    "PipelineStep",
    "PitchApplication",
    "PitchScore",
    "ProfileField",
    "Publicity",
    "Registration",
    "ResearchResult",
    "SaleListing",
    "TechNeed",
    "TradeDeal",
    "TradeEvent",
    "User",
    "WorkerState",
]

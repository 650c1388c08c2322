"""Imports every table model so that SQLModel.metadata is complete (Alembic, tests)."""

from market.accounts.models import Organization, User
from market.challenges.models import ChallengeApplication, ChallengeClosing, ChallengeQuestion
from market.contacts.models import ContactReveal
from market.deals.models import Contract, ContractInstalment
from market.directory.models import (
    AgencyProfile,
    BrokerCertificate,
    BrokerProfile,
    BrokerRequest,
    ProfileField,
)
from market.discovery.models import ListingView
from market.events.models import (
    Event,
    EventReviewer,
    MeetingRequest,
    PitchApplication,
    PitchScore,
    Registration,
)
from market.federation.models import (
    FeedEntry,
    IncomingIntroduction,
    IntroductionRequest,
    LinkedRecord,
    Partner,
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
from market.listings.models import Interest, ListingEvent, ListingRevision, ResearchResult, TechNeed
from market.mail.models import OutgoingMail
from market.matches.models import Match, MatchEvent
from market.media.models import ListingFile, ListingImage
from market.messages.models import Message, MessageRead, ThreadReport
from market.notices.models import Notice, NoticeAttachment
from market.notifications.models import Notification
from market.outbox.models import OutboxEntry, WorkerState
from market.saved.models import Favourite, Follow, SavedSearch, SavedSearchHit
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
    "ChallengeApplication",
    "ChallengeClosing",
    "ChallengeQuestion",
    "ContactReveal",
    "Contract",
    "ContractInstalment",
    "DataRoomFile",
    "DataRoomView",
    "Event",
    "EventReviewer",
    "Favourite",
    "FeedEntry",
    "FinancingEvent",
    "FinancingRequest",
    "Follow",
    "IncomingIntroduction",
    "Interest",
    "IntroductionRequest",
    "InvestorProfile",
    "LinkedRecord",
    "ListingEvent",
    "ListingFile",
    "ListingImage",
    "ListingRevision",
    "ListingView",
    "Match",
    "MatchEvent",
    "MeetingRequest",
    "Message",
    "MessageRead",
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
    "SavedSearch",
    "SavedSearchHit",
    "TechNeed",
    "ThreadReport",
    "TradeDeal",
    "TradeEvent",
    "User",
    "WorkerState",
]

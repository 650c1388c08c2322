"""Imports every table model so that SQLModel.metadata is complete (Alembic, tests)."""

from market.accounts.models import Organization, User
from market.contacts.models import ContactReveal
from market.deals.models import Contract, ContractInstalment
from market.listings.models import Interest, ListingEvent, ResearchResult, TechNeed
from market.mail.models import OutgoingMail
from market.matches.models import Match, MatchEvent
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

__all__ = [
    "Auction",
    "Bid",
    "BuyerRegistration",
    "ContactReveal",
    "Contract",
    "ContractInstalment",
    "Interest",
    "ListingEvent",
    "Match",
    "MatchEvent",
    "Notification",
    "Objection",
    "ObjectionRuling",
    "Organization",
    "OutboxEntry",
    "OutgoingMail",
    "Publicity",
    "ResearchResult",
    "SaleListing",
    "TechNeed",
    "TradeDeal",
    "TradeEvent",
    "User",
    "WorkerState",
]

"""Imports every table model so that SQLModel.metadata is complete (Alembic, tests)."""

from market.accounts.models import Organization, User

__all__ = ["Organization", "User"]

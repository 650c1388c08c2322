"""Who may apply to, review and read what of a 揭榜挂帅 challenge. Templates call these (`challenge_perm`)."""

from __future__ import annotations

from market.challenges.models import ChallengeApplication
from market.listings.models import TechNeed
from vocab.taxonomy import SELLER_KINDS, Role


def _signed_in(user) -> bool:
    return bool(getattr(user, "is_authenticated", False))


def is_owner(user, need: TechNeed) -> bool:
    """A member of the enterprise that posted the challenge (发榜方)."""
    return _signed_in(user) and user.role == Role.ENTERPRISE and user.organization_id == need.organization_id


def can_review(user, need: TechNeed) -> bool:
    """The owner, agents and administrators compare applicants, shortlist, ask and choose."""
    return is_owner(user, need) or (_signed_in(user) and user.role in (Role.AGENT, Role.ADMIN))


def can_decide(user, need: TechNeed) -> bool:
    """Shortlisting and choosing: the owner or an agent (who runs the 揭榜 for the owner)."""
    return is_owner(user, need) or (_signed_in(user) and user.role == Role.AGENT)


def eligible_team(user, org) -> bool:
    """我要揭榜 is for members of a verified university, institute or new R&D institution."""
    return (
        _signed_in(user)
        and user.role == Role.UNIVERSITY
        and org is not None
        and org.id == user.organization_id
        and org.kind in SELLER_KINDS
        and org.verified
    )


def can_read_application(user, need: TechNeed, application: ChallengeApplication) -> bool:
    """Reviewers, and the members of the applying team; nobody else (not even the other applicants)."""
    if application.need_id != need.id:
        return False
    return can_review(user, need) or (
        _signed_in(user) and user.organization_id == application.organization_id
    )

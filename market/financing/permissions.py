"""Who may see, edit and open what of a financing request. Templates call these too (`fin_perm`)."""

from __future__ import annotations

import hashlib

from sqlmodel import Session, select

from market.accounts.models import Organization
from market.financing.models import FinancingRequest, NdaAcceptance
from vocab.taxonomy import ListingStatus, OrgKind, Role

#: states anyone may read the public summary of
PUBLIC = (ListingStatus.PUBLISHED, ListingStatus.CLOSED)


def _signed_in(user) -> bool:
    return bool(getattr(user, "is_authenticated", False))


def is_owner(user, request: FinancingRequest) -> bool:
    """A member of the organisation that asks for the money."""
    return _signed_in(user) and user.organization_id == request.organization_id


def can_view(user, request: FinancingRequest) -> bool:
    """The public summary: published for everyone; drafts for the owner and administrators."""
    if request.status in PUBLIC:
        return True
    return is_owner(user, request) or (_signed_in(user) and user.role == Role.ADMIN)


def can_edit(user, request: FinancingRequest) -> bool:
    return is_owner(user, request) and request.status in (
        ListingStatus.DRAFT,
        ListingStatus.PUBLISHED,
        ListingStatus.WITHDRAWN,
    )


def can_create(user) -> bool:
    """Results' owners and enterprises ask for money; investors, agents and admins do not."""
    return _signed_in(user) and user.role in (Role.UNIVERSITY, Role.ENTERPRISE) and user.organization_id


def nda_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def verified_investor(session: Session, user) -> Organization | None:
    """The user's organisation when it is a 投资机构 the platform verified, else None."""
    if not _signed_in(user) or user.role != Role.INVESTOR or user.organization_id is None:
        return None
    org = session.get(Organization, user.organization_id)
    if org is None or org.kind != OrgKind.INVESTOR or not org.verified:
        return None
    return org


def accepted_nda(session: Session, user, request: FinancingRequest) -> bool:
    """The user accepted exactly the request's current NDA text (a changed text asks again)."""
    if not _signed_in(user):
        return False
    row = session.exec(
        select(NdaAcceptance.id).where(
            NdaAcceptance.request_id == request.id,
            NdaAcceptance.user_id == user.id,
            NdaAcceptance.text_hash == nda_hash(request.nda_text),
        )
    ).first()
    return row is not None


def may_accept_nda(session: Session, user, request: FinancingRequest) -> bool:
    return request.status == ListingStatus.PUBLISHED and verified_investor(session, user) is not None


def can_open_data_room(session: Session, user, request: FinancingRequest) -> bool:
    """The owner's members; and verified investors who accepted this request's NDA. Nobody else —
    not other investors, not agents, not administrators."""
    if is_owner(user, request):
        return True
    if request.status != ListingStatus.PUBLISHED:
        return False
    return verified_investor(session, user) is not None and accepted_nda(session, user, request)


def can_work_pipeline(session: Session, user, request: FinancingRequest) -> bool:
    """Verified investors track published requests in their pipeline."""
    return request.status in PUBLIC and verified_investor(session, user) is not None

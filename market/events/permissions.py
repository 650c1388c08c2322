"""Who may organise, see and act at an event; templates call these (`event_perm`)."""

from __future__ import annotations

from sqlmodel import Session, select

from market.events.models import Event, EventReviewer, MeetingRequest, Registration
from vocab.taxonomy import Role

ADMITTED = "已通过"


def _signed_in(user) -> bool:
    return bool(getattr(user, "is_authenticated", False))


def can_create(user) -> bool:
    """Platform operators and technology-transfer agents organise events."""
    return _signed_in(user) and user.role in (Role.ADMIN, Role.AGENT)


def is_organiser(user, event: Event) -> bool:
    if not _signed_in(user):
        return False
    if user.role == Role.ADMIN or user.id == event.created_by_id:
        return True
    return event.organizer_org_id is not None and user.organization_id == event.organizer_org_id


def registration_of(session: Session, user, event: Event) -> Registration | None:
    if not _signed_in(user):
        return None
    return session.exec(
        select(Registration).where(Registration.event_id == event.id, Registration.user_id == user.id)
    ).first()


def is_participant(session: Session, user, event: Event) -> bool:
    """Admitted by the organiser: sees the other participants and may request meetings."""
    reg = registration_of(session, user, event)
    return reg is not None and reg.status == ADMITTED


def is_reviewer(session: Session, user, event: Event) -> bool:
    if not _signed_in(user):
        return False
    return (
        session.exec(
            select(EventReviewer.id).where(
                EventReviewer.event_id == event.id, EventReviewer.user_id == user.id
            )
        ).first()
        is not None
    )


def in_meeting(user, meeting: MeetingRequest) -> bool:
    return _signed_in(user) and user.id in (meeting.from_user_id, meeting.to_user_id)


def can_view(user, event: Event) -> bool:
    return event.published or is_organiser(user, event)

"""The events part of tests/security/support.py's world: an 对接会 organised by the agent, with the
university and the enterprise admitted, another university waiting, a scheduled meeting, a pitch."""

from __future__ import annotations

from market.events.models import MeetingRequest, PitchApplication, Registration
from tests.events.conftest import admit, make_event


def events_world(session, people, result) -> dict[str, int]:
    uni, ent = people["uni"], people["ent"]
    event = make_event(session, organiser=people["agent"], agenda="初步")
    admit(session, event, uni, ent)
    pending = Registration(event_id=event.id, user_id=people["other_uni"].id, status="待审核")
    meeting = MeetingRequest(
        event_id=event.id,
        from_user_id=ent.id,
        to_user_id=uni.id,
        reason="低温电解液",
        status="已接受",
        slot=0,
        table=1,
    )
    pitch = PitchApplication(
        event_id=event.id,
        user_id=uni.id,
        organization_id=uni.organization_id,
        title=result.title,
        result_id=result.id,
    )
    session.add_all([pending, meeting, pitch])
    session.flush()
    return {
        "event": event.id,
        "ev_reg": pending.id,
        "ev_meeting": meeting.id,
        "ev_pitch": pitch.id,
        "ent_user": ent.id,
    }

"""The demo financing and events load through the services and show every state."""

from __future__ import annotations

from sqlmodel import select

from market.events.models import Event, MeetingRequest
from market.financing.models import DataRoomFile, DataRoomView, FinancingRequest, PipelineEntry
from market.listings.models import Interest
from seed import financing_events, loader


def test_demo_financing_and_events(app, session):
    with app.app_context():
        loader.load_demo(session)
        added = financing_events.load(session, loader.DEMO_PASSWORD)
        session.commit()
        again = financing_events.load(session, loader.DEMO_PASSWORD)
    assert added == {"investors": 3, "requests": 5, "events": 2}
    assert again == {"investors": 0, "requests": 0, "events": 0}
    statuses = {r.status for r in session.exec(select(FinancingRequest)).all()}
    assert statuses == {"已发布", "待审核"}
    states = {e.state for e in session.exec(select(PipelineEntry)).all()}
    assert states == {"关注", "投资意向", "已投资", "放弃"}
    assert len(session.exec(select(DataRoomFile)).all()) == 10
    assert session.exec(select(DataRoomView)).all()
    past, upcoming = (
        session.exec(select(Event).where(Event.title == t)).one()
        for t in (financing_events.PAST_EVENT, financing_events.NEXT_EVENT)
    )
    assert past.agenda == "最终" and upcoming.agenda == "初步"
    past_meetings = session.exec(select(MeetingRequest).where(MeetingRequest.event_id == past.id)).all()
    assert {m.outcome for m in past_meetings} == {"有意向", "无", "后续对接"}
    scheduled = session.exec(
        select(MeetingRequest).where(MeetingRequest.event_id == upcoming.id, MeetingRequest.slot.is_not(None))
    ).all()
    assert len(scheduled) == 7  # every accepted request of the upcoming event got a slot
    assert any("1:1 会谈：有意向" in (i.message or "") for i in session.exec(select(Interest)).all())

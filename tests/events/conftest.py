"""Event fixtures: an 对接会 open for registration with two 1:1 sessions and a pitch track."""

from __future__ import annotations

from datetime import timedelta

import pytest

from market.db import utcnow
from market.events.models import Event, Registration


def make_event(session, *, organiser, open_now=True, **kw) -> Event:
    now = utcnow()
    start = (now + timedelta(days=7)).replace(minute=0, second=0, microsecond=0)
    fields = {
        "title": "科技成果俏津门·新能源专场对接会",
        "description": "储能与新能源汽车方向的供需对接与项目路演",
        "starts_at": start,
        "ends_at": start + timedelta(hours=8),
        "place": "天津市科技成果转化交易中心",
        "capacity": 50,
        "registration_opens": now - timedelta(days=1) if open_now else now - timedelta(days=10),
        "registration_closes": now + timedelta(days=3) if open_now else now - timedelta(days=5),
        "pitch_starts_at": start,
        "criteria": ["技术先进性", "市场前景"],
        "session_starts": [
            (start + timedelta(hours=2)).isoformat(),
            (start + timedelta(hours=5)).isoformat(),
        ],
        "slots_per_session": 3,
        "slot_minutes": 20,
        "tables": 2,
    } | kw
    event = Event(created_by_id=organiser.id, organizer_org_id=organiser.organization_id, **fields)
    session.add(event)
    session.flush()
    return event


def admit(session, event, *users, sessions=None) -> None:
    for user in users:
        session.add(
            Registration(
                event_id=event.id,
                user_id=user.id,
                organization_id=user.organization_id,
                status="已通过",
                sessions=sessions or [],
            )
        )
    session.flush()


@pytest.fixture
def ctx(app):
    with app.app_context():
        yield


@pytest.fixture
def event(session, people):
    row = make_event(session, organiser=people["agent"])
    session.commit()
    return row

"""Events: registration and admission, 1:1 requests, scheduling, agendas, .ics, outcomes, pitches."""

from __future__ import annotations

from datetime import timedelta

import pytest
from icalendar import Calendar
from sqlmodel import select

from market.accounts.models import Organization
from market.errors import ConflictError, DomainError, NotAllowed
from market.events import meetings, service
from market.events.models import MeetingRequest, PitchApplication, Registration
from market.listings.models import Interest
from market.matches.models import Match
from tests.events.conftest import admit, make_event
from tests.factories import make_listing, make_user
from tests.security.support import sign_in


def _client(app, user):
    return sign_in(app.test_client(), user)


def test_registration_admission_and_visibility(app, session, people, event):
    uni, ent = people["uni"], people["ent"]
    assert _client(app, uni).post(f"/events/{event.id}/register", data={"sessions": ["1"]}).status_code == 302
    reg = session.exec(select(Registration).where(Registration.user_id == uni.id)).one()
    assert reg.status == "待审核" and reg.sessions == [1]
    # not yet admitted: no participant list, no meeting requests
    page = _client(app, uni).get(f"/events/{event.id}").get_data(as_text=True)
    assert "参会者（已审核" not in page
    resp = _client(app, uni).post(
        f"/events/{event.id}/meetings", data={"to_user_id": ent.id, "reason": "谈谈合作"}
    )
    assert resp.status_code == 403
    # twice is refused
    assert _client(app, uni).post(f"/events/{event.id}/register").status_code == 303
    # only the organiser admits
    assert _client(app, ent).post(f"/events/{event.id}/registrations/{reg.id}/admit").status_code == 403
    assert (
        _client(app, people["agent"]).post(f"/events/{event.id}/registrations/{reg.id}/admit").status_code
        == 302
    )
    session.expire_all()
    assert session.get(Registration, reg.id).status == "已通过"


def test_registration_window_and_capacity(ctx, session, people):
    closed = make_event(session, organiser=people["agent"], open_now=False)
    with pytest.raises(DomainError, match="不在报名时间内"):
        service.register(session, actor=people["uni"], event=closed)
    full = make_event(session, organiser=people["agent"], capacity=1)
    service.register(session, actor=people["uni"], event=full)
    with pytest.raises(DomainError, match="已满"):
        service.register(session, actor=people["ent"], event=full)


def test_meeting_request_accept_schedule_agenda_ics(app, session, people, event):
    uni, ent = people["uni"], people["ent"]
    admit(session, event, uni, ent)
    session.commit()
    resp = _client(app, ent).post(
        f"/events/{event.id}/meetings", data={"to_user_id": uni.id, "reason": "低温电解液中试合作"}
    )
    assert resp.status_code == 302
    meeting = session.exec(select(MeetingRequest)).one()
    assert _client(app, ent).post(f"/events/{event.id}/meetings/{meeting.id}/accept").status_code == 403
    assert _client(app, uni).post(f"/events/{event.id}/meetings/{meeting.id}/accept").status_code == 302
    assert _client(app, uni).post(f"/events/{event.id}/schedule").status_code == 403  # not the organiser
    assert _client(app, people["agent"]).post(f"/events/{event.id}/schedule").status_code == 302
    session.expire_all()
    meeting = session.get(MeetingRequest, meeting.id)
    assert meeting.slot is not None and meeting.table in (1, 2)
    agenda = _client(app, ent).get(f"/events/{event.id}/agenda").get_data(as_text=True)
    assert "初步" in agenda and people["uni"].display_name in agenda
    ics = _client(app, ent).get(f"/events/{event.id}/agenda.ics")
    assert ics.status_code == 200 and ics.mimetype == "text/calendar"
    cal = Calendar.from_ical(ics.data)
    entries = [c for c in cal.walk("VEVENT")]
    assert len(entries) == 1
    start, _ = meetings.slot_time(event, meeting.slot)
    assert entries[0].decoded("dtstart") == start
    assert "号桌" in str(entries[0].get("location"))
    assert _client(app, people["other_uni"]).get(f"/events/{event.id}/agenda.ics").status_code == 403


def test_declined_requests_are_not_scheduled_and_locks_are_kept(ctx, session, people, event):
    uni, ent, uni2, other = people["uni"], people["ent"], people["uni2"], people["other_uni"]
    admit(session, event, uni, ent, uni2, other)
    a = meetings.request_meeting(session, actor=ent, event=event, to_user_id=uni.id, reason="电解液合作")
    b = meetings.request_meeting(session, actor=ent, event=event, to_user_id=uni2.id, reason="隔膜涂层")
    c = meetings.request_meeting(session, actor=other, event=event, to_user_id=ent.id, reason="储能项目")
    with pytest.raises(ConflictError):
        meetings.request_meeting(session, actor=uni, event=event, to_user_id=ent.id, reason="反方向重复")
    meetings.respond(session, actor=uni, meeting=a, accept=True)
    meetings.respond(session, actor=uni2, meeting=b, accept=False)
    meetings.respond(session, actor=ent, meeting=c, accept=True)
    meetings.schedule(session, actor=people["agent"], event=event, time_limit=2)
    assert b.slot is None
    assert a.slot is not None and c.slot is not None and a.slot != c.slot  # ent is in both
    # move the lock target somewhere else and re-run: the locked meeting stays where the organiser put it
    a.slot, a.table = 5, 2
    meetings.set_locked(session, actor=people["agent"], event=event, meeting=a, locked=True)
    meetings.schedule(session, actor=people["agent"], event=event, time_limit=2)
    assert (a.slot, a.table) == (5, 2)
    assert c.slot is not None and c.slot != 5
    meetings.finalize(session, actor=people["agent"], event=event)
    with pytest.raises(ConflictError):
        meetings.schedule(session, actor=people["agent"], event=event, time_limit=1)


def test_availability_windows_are_honoured(ctx, session, people, event):
    uni, ent = people["uni"], people["ent"]
    admit(session, event, uni, sessions=[1])
    admit(session, event, ent)
    m = meetings.request_meeting(session, actor=ent, event=event, to_user_id=uni.id, reason="只在下午")
    meetings.respond(session, actor=uni, meeting=m, accept=True)
    meetings.schedule(session, actor=people["agent"], event=event, time_limit=1)
    assert m.slot is not None and m.slot >= event.slots_per_session  # the second session


def test_outcome_interest_becomes_a_match_item_for_agents(ctx, session, people, event):
    uni, ent = people["uni"], people["ent"]
    result = make_listing(session, kind="result", org=session.get(Organization, uni.organization_id))
    need = make_listing(session, kind="need", org=session.get(Organization, ent.organization_id))
    admit(session, event, uni, ent)
    reg = session.exec(select(Registration).where(Registration.user_id == uni.id)).one()
    reg.listing_kind, reg.listing_id = "result", result.id
    m = meetings.request_meeting(session, actor=ent, event=event, to_user_id=uni.id, reason="看电解液")
    with pytest.raises(DomainError):
        meetings.record_outcome(session, actor=ent, meeting=m, outcome="有意向", note=None)  # not scheduled
    meetings.respond(session, actor=uni, meeting=m, accept=True)
    meetings.schedule(session, actor=people["agent"], event=event, time_limit=1)
    with pytest.raises(NotAllowed):
        meetings.record_outcome(session, actor=people["other_uni"], meeting=m, outcome="无", note=None)
    with pytest.raises(DomainError):
        meetings.record_outcome(session, actor=ent, meeting=m, outcome="已签约", note=None)
    meetings.record_outcome(session, actor=ent, meeting=m, outcome="有意向", note="下周看中试线")
    interest = session.exec(select(Interest).where(Interest.user_id == ent.id)).one()
    assert interest.listing_id == result.id
    match = session.exec(select(Match).where(Match.result_id == result.id, Match.need_id == need.id)).one()
    assert match.raised_at is not None and match.status == "推荐"  # an 意向 is never a deal


def test_pitch_track_scores_veto_and_fixed_slots(ctx, session, people, event):
    org = session.get(Organization, people["uni"].organization_id)
    r1 = make_listing(session, kind="result", org=org, title="钠电正极")
    r2 = make_listing(session, kind="result", org=org, title="固态电解质")
    r3 = make_listing(session, kind="result", org=org, title="隔膜涂层")
    apps = [
        service.apply_pitch(session, actor=people["uni"], event=event, result_id=r.id, financing_id=None)
        for r in (r1, r2, r3)
    ]
    reviewer = make_user(session, role="agent")
    with pytest.raises(NotAllowed):
        service.score_pitch(
            session, actor=reviewer, event=event, application=apps[0], scores={}, veto=False, comment=None
        )
    service.add_reviewer(session, actor=people["agent"], event=event, email=reviewer.email)
    good = {"技术先进性": 5, "市场前景": 4}
    with pytest.raises(DomainError):
        service.score_pitch(
            session,
            actor=reviewer,
            event=event,
            application=apps[0],
            scores={"技术先进性": 9},
            veto=False,
            comment=None,
        )
    for app_ in apps:
        service.score_pitch(
            session, actor=reviewer, event=event, application=app_, scores=good, veto=False, comment="扎实"
        )
    with pytest.raises(DomainError, match="理由"):
        service.score_pitch(
            session, actor=reviewer, event=event, application=apps[1], scores=good, veto=True, comment=""
        )
    service.score_pitch(
        session,
        actor=reviewer,
        event=event,
        application=apps[1],
        scores=good,
        veto=True,
        comment="知识产权不清",
    )
    with pytest.raises(DomainError, match="否决"):
        service.decide_pitch(session, actor=people["agent"], event=event, application=apps[1], accept=True)
    first = service.decide_pitch(
        session, actor=people["agent"], event=event, application=apps[0], accept=True
    )
    third = service.decide_pitch(
        session, actor=people["agent"], event=event, application=apps[2], accept=True
    )
    assert third.slot_starts_at - first.slot_starts_at == timedelta(minutes=15)  # 8 + 7
    assert first.feedback == "扎实"
    with pytest.raises(NotAllowed):
        service.decide_pitch(session, actor=people["uni"], event=event, application=apps[1], accept=False)
    assert session.get(PitchApplication, apps[1].id).status == "待评审"


def test_event_creation_validates_in_chinese(app, session, people):
    client = _client(app, people["admin"])
    resp = client.post("/events/new", data={"title": ""})
    body = resp.get_data(as_text=True)
    assert resp.status_code == 200 and "请填写活动名称" in body and "请填写地点或线上链接" in body
    resp = client.post(
        "/events/new",
        data={
            "title": "京津冀储能路演",
            "starts_at": "2027-03-10T09:00",
            "ends_at": "2027-03-10T17:00",
            "registration_opens": "2027-02-01T09:00",
            "registration_closes": "2027-03-05T18:00",
            "place": "滨海新区",
            "capacity": "80",
            "session1": "2027-03-10T14:00",
        },
    )
    assert resp.status_code == 302
    assert _client(app, people["uni"]).get("/events/new").status_code == 403


def test_event_grid_limits(app, session, people):
    resp = sign_in(app.test_client(), people["admin"]).post(
        "/events/new",
        data={"title": "x", "place": "y", "slots_per_session": "0", "tables": "-3", "slot_minutes": "500"},
    )
    body = resp.get_data(as_text=True)
    assert resp.status_code == 200
    assert "每场时段数应在 1 到 24 之间" in body and "会谈桌数应在 1 到 500 之间" in body
    assert "每个时段应在 10 到 60 分钟之间" in body


def test_schedule_written_only_if_nothing_changed_while_solving(ctx, session, people, event):
    uni, ent, uni2 = people["uni"], people["ent"], people["uni2"]
    admit(session, event, uni, ent, uni2)
    m = meetings.request_meeting(session, actor=ent, event=event, to_user_id=uni.id, reason="电解液合作")
    meetings.respond(session, actor=uni, meeting=m, accept=True)
    problem = meetings.prepare(session, actor=people["agent"], event=event)
    result = meetings.solve_problem(problem, time_limit=1)
    late = meetings.request_meeting(session, actor=ent, event=event, to_user_id=uni2.id, reason="隔膜涂层")
    meetings.respond(session, actor=uni2, meeting=late, accept=True)  # accepted while the solver ran
    with pytest.raises(ConflictError, match="重新排程"):
        meetings.apply_schedule(session, actor=people["agent"], event=event, problem=problem, result=result)
    assert m.slot is None and event.agenda == ""

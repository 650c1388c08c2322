"""Demo financing and events: investors, requests in each pipeline state with a data room, one past
event with outcomes and one upcoming with registrations, a pitch track and a scheduled 1:1 agenda.

Everything goes through the same services as the pages (requests are reviewed by the demo admin,
investors accept the NDA before opening the data room, meetings are requested, accepted and scheduled
by the solver), so loading the demo also exercises the rules. Idempotent: skipped once loaded.
"""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

from sqlmodel import Session, select

from market.accounts import service as accounts
from market.accounts.models import User
from market.db import utcnow
from market.events import meetings
from market.events import service as events
from market.events.models import Event, MeetingRequest, Registration
from market.financing import pipeline
from market.financing import service as financing
from market.financing.models import FinancingRequest
from market.financing.permissions import nda_hash
from market.listings.models import ResearchResult, TechNeed
from vocab.taxonomy import OrgKind, Role

DATA = Path(__file__).resolve().parent / "data" / "financing.json"
PAST_EVENT = "科技成果俏津门·新能源与储能专场（第一期）"
NEXT_EVENT = "科技成果俏津门·智能制造专场（第二期）"


def _pdf(text: str) -> bytes:
    """A small, valid one-page PDF (the data room checks content, not names)."""
    stream = f"BT /F1 12 Tf 72 720 Td ({text}) Tj ET".encode("latin-1", "replace")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
    ]
    out = b"%PDF-1.4\n"
    offsets = []
    for i, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % i + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return out


def demo_investors() -> list[dict]:
    """The demo investors' accounts (same demo password)."""
    return json.loads(DATA.read_text(encoding="utf-8"))["investors"]


def _user(session: Session, email: str) -> User | None:
    return accounts.find_user_by_email(session, email)


def load(session: Session, password: str) -> dict[str, int]:
    """Load the demo financing and events (once); returns what was added."""
    added = {"investors": 0, "requests": 0, "events": 0}
    if session.exec(select(FinancingRequest.id).limit(1)).first() is not None:
        return added
    spec = json.loads(DATA.read_text(encoding="utf-8"))
    admin = session.exec(select(User).where(User.role == Role.ADMIN)).first()
    investors: dict[str, User] = {}
    for row in spec["investors"]:
        accounts.get_or_create_org(
            session, name=row["name"], kind=OrgKind.INVESTOR, region="天津", verified=True
        )
        user = _user(session, row["email"]) or accounts.register_user(
            session,
            email=row["email"],
            display_name=row["person"],
            password=password,
            role=Role.INVESTOR,
            org_name=row["name"],
        )
        if user.pending_organization_id is not None:
            accounts.decide_membership(session, user=user, approve=True)
        financing.save_profile(
            session,
            actor=user,
            data={k: row[k] for k in ("fields", "stages", "ticket_min_wan", "ticket_max_wan", "thesis")},
        )
        investors[row["email"]] = user
        added["investors"] += 1

    for row in spec["requests"]:
        owner = _user(session, row["owner"])
        if owner is None:
            continue
        linked = session.exec(
            select(ResearchResult.id).where(ResearchResult.organization_id == owner.organization_id).limit(2)
        ).all()
        data = {k: row.get(k) for k in ("title", "summary", "field", "amount_wan", "instrument", "stage")}
        data |= {k: row.get(k) for k in ("use_of_funds", "valuation_basis", "team")}
        request = financing.create_request(session, actor=owner, data=data | {"result_ids": list(linked)})
        financing.add_file(
            session,
            actor=owner,
            request=request,
            name="商业计划书.pdf",
            category="商业计划书",
            data=_pdf(f"Business plan #{request.id}"),
        )
        financing.add_file(
            session,
            actor=owner,
            request=request,
            name="2025 年财务报表.pdf",
            category="财务报表",
            data=_pdf(f"Financials #{request.id}"),
        )
        financing.move(session, actor=owner, request=request, action="submit")
        if row.get("status") != "待审核" and admin is not None:
            financing.move(session, actor=admin, request=request, action="approve")
            for email in row.get("views", []):
                investor = investors[email]
                financing.accept_nda(
                    session,
                    actor=investor,
                    request=request,
                    text_hash=nda_hash(request.nda_text),
                    ip="127.0.0.1",
                )
                financing.log_view(session, actor=investor, request=request, file=None, ip="127.0.0.1")
            for email, actions in row.get("pipeline", {}).items():
                for i, action in enumerate(actions):
                    pipeline.move(
                        session,
                        actor=investors[email],
                        request=request,
                        action=action,
                        note=f"演示：{pipeline.LABELS[action]}",
                        on_date=(utcnow() - timedelta(days=10 * (len(actions) - i))).date(),
                    )
        added["requests"] += 1
    added["events"] = _events(session, password)
    session.flush()
    return added


def _participants(session: Session) -> list[User]:
    emails = [
        "tju@demo.kjcg.cn",
        "nankai@demo.kjcg.cn",
        "haihe@demo.kjcg.cn",
        "jingu@demo.kjcg.cn",
        "bohai-vc@demo.kjcg.cn",
        "haihe-angel@demo.kjcg.cn",
    ]
    return [u for u in (_user(session, e) for e in emails) if u is not None]


def _presented(session: Session, user: User) -> tuple[str | None, int | None]:
    for model, kind in ((ResearchResult, "result"), (TechNeed, "need")):
        row = session.exec(
            select(model.id)
            .where(model.organization_id == user.organization_id, model.status == "已发布")
            .limit(1)
        ).first()
        if row is not None:
            return kind, row
    return None, None


def _events(session: Session, password: str) -> int:
    agent = _user(session, "agent@demo.kjcg.cn")
    if agent is None or session.exec(select(Event.id).limit(1)).first() is not None:
        return 0
    people = _participants(session)
    if len(people) < 4:
        return 0
    now = utcnow().replace(minute=0, second=0, microsecond=0)

    # an upcoming event: registrations admitted, requests accepted, a preliminary agenda by the solver
    start = now + timedelta(days=14)
    upcoming = events.create_event(
        session,
        actor=agent,
        data={
            "title": NEXT_EVENT,
            "description": "工业机器人、人工智能与高端仪器方向的 1:1 对接与项目路演",
            "starts_at": start,
            "ends_at": start + timedelta(hours=8),
            "place": "天津市科技成果转化交易中心 三楼路演厅",
            "capacity": 120,
            "registration_opens": now - timedelta(days=3),
            "registration_closes": start - timedelta(days=2),
            "pitch_starts_at": start + timedelta(hours=1),
            "session_starts": [start + timedelta(hours=3), start + timedelta(hours=6)],
            "slots_per_session": 6,
            "slot_minutes": 20,
            "tables": 4,
        },
    )
    for i, user in enumerate(people):
        kind, listing_id = _presented(session, user)
        reg = events.register(
            session,
            actor=user,
            event=upcoming,
            sessions=[1] if i == 1 else [],
            listing_kind=kind,
            listing_id=listing_id,
        )
        events.decide_registration(session, actor=agent, event=upcoming, reg=reg, admit=True)
    pairs = [(2, 0), (3, 0), (4, 1), (5, 3), (4, 0), (2, 1), (5, 1), (3, 1)]
    for a, b in pairs:
        m = meetings.request_meeting(
            session, actor=people[a], event=upcoming, to_user_id=people[b].id, reason="了解成果与合作方式"
        )
        meetings.respond(session, actor=people[b], meeting=m, accept=(a, b) != (3, 1))
    meetings.schedule(session, actor=agent, event=upcoming, time_limit=3.0)
    result = session.exec(
        select(ResearchResult.id).where(
            ResearchResult.organization_id == people[1].organization_id, ResearchResult.status == "已发布"
        )
    ).first()
    if result is not None:
        events.apply_pitch(session, actor=people[1], event=upcoming, result_id=result, financing_id=None)

    # a past event: a final agenda whose meetings all have outcomes (an 意向 raised a match)
    start = now - timedelta(days=30)
    past = Event(
        organizer_org_id=agent.organization_id,
        created_by_id=agent.id,
        title=PAST_EVENT,
        description="储能与新能源汽车方向的供需对接与项目路演",
        starts_at=start,
        ends_at=start + timedelta(hours=8),
        place="滨海新区 科技成果转化示范基地",
        capacity=80,
        registration_opens=start - timedelta(days=20),
        registration_closes=start - timedelta(days=2),
        criteria=list(events.DEFAULT_CRITERIA),
        session_starts=[(start + timedelta(hours=2)).isoformat()],
        slots_per_session=6,
        tables=4,
        agenda="最终",
        agenda_note="已排 3/3 场会谈（求解器）",
    )
    session.add(past)
    session.flush()
    for user in people:
        kind, listing_id = _presented(session, user)
        session.add(
            Registration(
                event_id=past.id,
                user_id=user.id,
                organization_id=user.organization_id,
                status="已通过",
                listing_kind=kind,
                listing_id=listing_id,
            )
        )
    session.flush()
    outcomes = [(2, 0, "有意向"), (3, 1, "后续对接"), (4, 0, "无")]
    for slot, (a, b, outcome) in enumerate(outcomes):
        m = MeetingRequest(
            event_id=past.id,
            from_user_id=people[a].id,
            to_user_id=people[b].id,
            reason="对接会现场预约",
            status="已接受",
            slot=slot,
            table=1 + slot % 4,
        )
        session.add(m)
        session.flush()
        meetings.record_outcome(session, actor=people[a], meeting=m, outcome=outcome, note="演示数据")
    return 2

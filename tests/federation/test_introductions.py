"""Introduction requests between partner platforms: an agent asks on a linked record's page, the worker
delivers the request (retrying with back-off, once however often it tries), the partner's owner accepts
or declines, and the answer comes back by polling. The app here is both sides (its partner harvests
"itself", as in the harvest tests), talking over its own WSGI interface."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from sqlmodel import select, update

from market.accounts.models import Organization
from market.db import utcnow
from market.federation import introductions
from market.federation.harvest import harvest_partner, index_pending
from market.federation.introductions import Unreachable
from market.federation.models import IncomingIntroduction, IntroductionRequest, LinkedRecord, Partner
from market.notifications.models import Notification
from market.outbox.worker import tx
from tests.factories import login, make_listing
from tests.federation.conftest import bearer, published, withdraw, wsgi_fetch
from tests.fuzzing import fuzz

MESSAGE = "贵方的低温电解液成果与我方企业的物流车续航需求高度匹配，建议技术许可合作"


def wsgi_call(app, log: list | None = None):
    """The worker's HTTP call over this app's WSGI interface."""
    client = app.test_client()

    def call(url: str, token: str, body: dict | None):
        path = urlsplit(url).path
        if log is not None:
            log.append((path, body))
        if body is None:
            resp = client.get(path, headers=bearer(token))
        else:
            resp = client.post(path, json=body, headers=bearer(token))
        return resp.status_code, resp.get_json(silent=True) or {}

    return call


def aware(value):
    return value if value.tzinfo else value.replace(tzinfo=utcnow().tzinfo)


def down(url: str, token: str, body: dict | None):
    raise Unreachable("无法连接合作平台：Connection refused")


@pytest.fixture
def world(app, session, people, partner):
    """A result of 天津大学 harvested as a partner record, and a published need of the enterprise."""
    uni_org = session.get(Organization, people["uni"].organization_id)
    (result,) = published(app, session, 1, title="低温锂电池电解液", org=uni_org)
    harvest_partner(app, partner["id"], fetch=wsgi_fetch(app))
    index_pending(app)
    need = make_listing(
        session,
        kind="need",
        title="物流车锂电池低温续航",
        description="物流车锂电池冬天续航下降，需要低温电解液",
        org=session.get(Organization, people["ent"].organization_id),
    )
    session.commit()
    with tx(app).read() as s:
        record = s.exec(select(LinkedRecord)).one()
    return {"result": result, "need": need, "record": record}


def agent_client(app, people):
    c = app.test_client()
    login(c, people["agent"])
    return c


def ask(client, record_id: int, listing_id, message: str = MESSAGE):
    return client.post(
        f"/linked/{record_id}/introductions", data={"listing_id": str(listing_id), "message": message}
    )


def requests(app) -> list[IntroductionRequest]:
    with tx(app).read() as s:
        return list(s.exec(select(IntroductionRequest).order_by(IntroductionRequest.id)).all())


def incoming(app) -> list[IncomingIntroduction]:
    with tx(app).read() as s:
        return list(s.exec(select(IncomingIntroduction).order_by(IncomingIntroduction.id)).all())


def due_now(app) -> None:
    with tx(app).write() as s:
        s.exec(update(IntroductionRequest).values(next_attempt_at=utcnow() - timedelta(seconds=1)))


def test_an_agent_asks_the_owner_accepts_and_the_sender_learns_it(app, session, people, world):
    agent = agent_client(app, people)
    assert "intro-form" in agent.get(f"/linked/{world['record'].id}").get_data(as_text=True)
    assert ask(agent, world["record"].id, world["need"].id).status_code == 302
    (req,) = requests(app)
    assert req.status == "待发送" and req.listing_kind == "need"
    assert "待发送" in agent.get(f"/linked/{world['record'].id}").get_data(as_text=True)

    introductions.run_due(app, call=wsgi_call(app))
    (req,) = requests(app)
    assert req.status == "已送达"
    (row,) = incoming(app)
    assert (row.kind, row.listing_id, row.status) == ("result", world["result"].id, "待处理")
    assert row.from_identifier == f"TJ.need.{world['need'].id}" and row.message == MESSAGE
    with tx(app).read() as s:
        told = set(
            s.exec(
                select(Notification.user_id).where(Notification.link == f"/introductions/incoming/{row.id}")
            )
        )
    assert {people["uni"].id, people["uni2"].id, people["admin"].id} <= told
    assert people["ent"].id not in told

    owner = app.test_client()
    login(owner, people["uni"])
    page = owner.get(f"/introductions/incoming/{row.id}").get_data(as_text=True)
    assert "物流车锂电池低温续航" in page  # the sender's listing, by its title
    assert MESSAGE in page
    assert "接受" in page
    resp = owner.post(f"/introductions/incoming/{row.id}/decide", data={"decision": "accept"})
    assert resp.status_code == 302
    assert incoming(app)[0].status == "已接受"

    introductions.run_due(app, call=wsgi_call(app))  # the poll is not due yet
    assert requests(app)[0].status == "已送达"
    due_now(app)
    introductions.run_due(app, call=wsgi_call(app))
    (req,) = requests(app)
    assert req.status == "对方已接受" and req.next_attempt_at is None
    with tx(app).read() as s:
        notes = s.exec(select(Notification).where(Notification.user_id == people["agent"].id)).all()
    assert any("对方已接受" in n.message for n in notes)
    assert "对方已接受" in agent.get(f"/linked/{world['record'].id}").get_data(as_text=True)


def test_a_declined_request_reads_declined(app, session, people, world):
    ask(agent_client(app, people), world["record"].id, world["need"].id)
    introductions.run_due(app, call=wsgi_call(app))
    with tx(app).write() as s:
        row = s.exec(select(IncomingIntroduction)).one()
        introductions.decide(s, actor=s.get(type(people["uni"]), people["uni"].id), row=row, accept=False)
    due_now(app)
    introductions.run_due(app, call=wsgi_call(app))
    assert requests(app)[0].status == "已拒绝"


def test_partner_down_backs_off_then_delivers_exactly_once(app, session, people, world):
    ask(agent_client(app, people), world["record"].id, world["need"].id)
    introductions.run_due(app, call=down)
    (req,) = requests(app)
    assert req.status == "待发送" and req.attempts == 1 and "无法连接" in req.last_error
    first_wait = aware(req.next_attempt_at) - utcnow()
    introductions.run_due(app, call=down)  # not due yet: no attempt
    assert requests(app)[0].attempts == 1
    due_now(app)
    introductions.run_due(app, call=down)
    req = requests(app)[0]
    assert req.attempts == 2 and aware(req.next_attempt_at) - utcnow() > first_wait  # exponential
    # the partner got it, but the answer was lost: the retry is a no-op on its side
    log: list = []
    call = wsgi_call(app, log)
    _status, _ = call("http://localhost/api/v1/federation/introductions", world_token(app), payload_of(app))
    due_now(app)
    introductions.run_due(app, call=call)
    assert requests(app)[0].status == "已送达"
    assert len(incoming(app)) == 1
    assert [p for p, b in log if b is not None] == ["/api/v1/federation/introductions"] * 2


def world_token(app) -> str:
    with tx(app).read() as s:
        return s.exec(select(Partner)).one().harvest_token


def payload_of(app) -> dict:
    with tx(app).read() as s:
        return introductions._payload(s, app, s.exec(select(IntroductionRequest)).one())


def test_a_request_for_a_listing_withdrawn_there_ends_undeliverable(app, session, people, world):
    ask(agent_client(app, people), world["record"].id, world["need"].id)
    withdraw(app, session, world["result"], people)
    introductions.run_due(app, call=wsgi_call(app))
    (req,) = requests(app)
    assert req.status == "未能送达" and "404" in req.last_error
    assert incoming(app) == []


@pytest.mark.parametrize(
    ("listing_id", "message", "error"),
    [
        ("", MESSAGE, "请填写本平台已发布需求的编号"),
        ("abc", MESSAGE, "请填写本平台已发布需求的编号"),
        ("999999", MESSAGE, "本平台没有编号为 999999 的已发布需求"),
        ("{need}", "太短", "请写明引荐的理由"),
    ],
)
def test_the_form_names_what_is_wrong_in_chinese(app, session, people, world, listing_id, message, error):
    resp = ask(
        agent_client(app, people), world["record"].id, listing_id.format(need=world["need"].id), message
    )
    assert resp.status_code == 400
    assert error in resp.get_data(as_text=True)
    assert requests(app) == []


@pytest.mark.parametrize("who", ["uni", "ent", "admin"])
def test_only_verified_agents_ask(app, people, world, who):
    c = app.test_client()
    login(c, people[who])
    page = c.get(f"/linked/{world['record'].id}").get_data(as_text=True)
    assert "intro-form" not in page
    resp = c.post(f"/linked/{world['record'].id}/introductions", data={"listing_id": "1", "message": MESSAGE})
    assert resp.status_code == 403
    assert requests(app) == []


def test_another_organisation_does_not_see_an_incoming_request(app, people, world):
    ask(agent_client(app, people), world["record"].id, world["need"].id)
    introductions.run_due(app, call=wsgi_call(app))
    (row,) = incoming(app)
    other = app.test_client()
    login(other, people["other_uni"])
    assert other.get(f"/introductions/incoming/{row.id}").status_code == 404
    assert "低温锂电池" not in other.get("/introductions").get_data(as_text=True)
    owner = app.test_client()
    login(owner, people["uni"])
    assert "待处理" in owner.get("/introductions").get_data(as_text=True)


# -- the API ---------------------------------------------------------------------------------------


def body(world, **changes) -> dict:
    out = {
        "request_id": "0b7a5a8e-1111-4222-8333-444455556666",
        "target": f"TJ.result.{world['result'].id}",
        "message": MESSAGE,
        "from": {
            "identifier": "TJ.need.77",
            "title": "对方平台的需求",
            "url": "https://bj.example.cn/needs/77",
        },
        "agency": "北京某技术转移中心",
    }
    out.update(changes)
    return out


def test_the_api_is_idempotent_by_request_id(client, partner, world):
    first = client.post(
        "/api/v1/federation/introductions", json=body(world), headers=bearer(partner["token"])
    )
    again = client.post(
        "/api/v1/federation/introductions", json=body(world), headers=bearer(partner["token"])
    )
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.get_json()["status"] == again.get_json()["status"] == "received"
    status = client.get(
        "/api/v1/federation/introductions/0b7a5a8e-1111-4222-8333-444455556666",
        headers=bearer(partner["token"]),
    )
    assert status.status_code == 200 and status.get_json()["status"] == "received"
    assert (
        client.get(
            "/api/v1/federation/introductions/unknown-id-1", headers=bearer(partner["token"])
        ).status_code
        == 404
    )


@pytest.mark.parametrize(
    ("change", "status", "field"),
    [
        ({"extra": 1}, 422, "extra"),
        ({"request_id": "短"}, 422, "request_id"),
        ({"target": "XX.result.1"}, 422, "target"),
        ({"target": "TJ.result.99999"}, 404, "target"),
        ({"message": ""}, 422, "message"),
        ({"message": 12}, 422, "message"),
        ({"from": "x"}, 422, "from"),
        ({"from": {"identifier": "BJ.need.1", "title": "t"}}, 422, "from.identifier"),
        ({"from": {"identifier": "TJ.need.1", "title": "t", "url": "javascript:alert(1)"}}, 422, "from.url"),
        ({"from": {"identifier": "TJ.need.1", "title": ""}}, 422, "from.title"),
    ],
)
def test_the_api_refuses_bad_bodies_with_structured_errors(client, partner, world, change, status, field):
    resp = client.post(
        "/api/v1/federation/introductions", json=body(world, **change), headers=bearer(partner["token"])
    )
    assert resp.status_code == status
    error = resp.get_json()
    assert error["error"] == "invalid" and error["fields"][0]["field"] == field
    assert incoming_count(client.application) == 0


def incoming_count(app) -> int:
    return len(incoming(app))


def test_the_api_needs_a_partner_token_and_a_json_object(client, people, partner, world):
    assert client.post("/api/v1/federation/introductions", json=body(world)).status_code == 401
    assert (
        client.post(
            "/api/v1/federation/introductions", json=body(world), headers=bearer("kjfd_wrong")
        ).status_code
        == 401
    )
    resp = client.post(
        "/api/v1/federation/introductions",
        data="[1]",
        headers={**bearer(partner["token"]), "Content-Type": "application/json"},
    )
    assert resp.status_code == 400 and "JSON" in resp.get_json()["message"]


def test_introductions_are_in_the_openapi_document_and_fuzz_clean(app, partner):
    spec = app.test_client().get("/api/v1/openapi.json").get_json()
    assert "/api/v1/federation/introductions" in spec["paths"]
    assert "/api/v1/federation/introductions/{request_id}" in spec["paths"]
    assert fuzz(app, bearer(partner["token"]), only="federation/introductions") == []


def test_the_matches_page_offers_agents_the_request_for_that_listing(app, people, world):
    agent = agent_client(app, people)
    page = agent.get(f"/needs/{world['need'].id}/matches").get_data(as_text=True)
    assert f"/linked/{world['record'].id}?listing={world['need'].id}" in page
    form = agent.get(f"/linked/{world['record'].id}?listing={world['need'].id}").get_data(as_text=True)
    assert f'value="{world["need"].id}"' in form
    owner = app.test_client()
    login(owner, people["ent"])
    assert "申请引荐" not in owner.get(f"/needs/{world['need'].id}/matches").get_data(as_text=True)


def test_without_site_url_the_request_carries_no_link_back(app, people, world):
    app.config["SITE_URL"] = ""
    ask(agent_client(app, people), world["record"].id, world["need"].id)
    introductions.run_due(app, call=wsgi_call(app))
    assert requests(app)[0].status == "已送达"
    assert incoming(app)[0].from_url == ""


def test_a_paused_partner_keeps_its_requests_queued(app, session, people, world, partner):
    ask(agent_client(app, people), world["record"].id, world["need"].id)
    with tx(app).write() as s:
        s.get(Partner, partner["id"]).enabled = False
    introductions.run_due(app, call=wsgi_call(app))
    (req,) = requests(app)
    assert (req.status, req.attempts) == ("待发送", 0)
    with tx(app).write() as s:
        s.get(Partner, partner["id"]).enabled = True
    introductions.run_due(app, call=wsgi_call(app))
    assert requests(app)[0].status == "已送达"

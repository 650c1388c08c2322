"""The review loop talks: owners hear the decision with the reason, a returned listing reads 已退回,
a pending submission can be taken back."""

from __future__ import annotations

from sqlmodel import select

from market.listings.models import ResearchResult
from market.mail.models import OutgoingMail
from market.mail.service import send_due
from tests.factories import create, latest
from tests.mailserver import running
from tests.review.conftest import notes_of


def submitted(session, clients) -> ResearchResult:
    assert create(clients["uni"]).status_code == 302
    result = latest(session, ResearchResult)
    assert clients["uni"].post(f"/results/{result.id}/submit").status_code == 302
    return result


def decide(clients, result, **data):
    return clients["admin"].post(f"/admin/review/results/{result.id}", data=data)


def test_a_returned_listing_reads_returned_and_its_owners_hear_why(app, session, people, clients, tmp_path):
    result = submitted(session, clients)
    reason = "请补充低温循环测试的条件与样品数量"
    with running(tmp_path / "smtp") as smtp:
        app.config["MAIL_URL"] = smtp.url
        assert decide(clients, result, decision="reject", reason=reason).status_code == 302
        session.expire_all()
        assert session.get(ResearchResult, result.id).status == "已退回"
        for member in ("uni", "uni2"):
            [note] = notes_of(session, people[member])
            assert reason in note.message and note.link == f"/results/{result.id}"
        send_due(app)
        mails = smtp.wait_for(2)
        assert {m["To"] for m in mails} == {people["uni"].email, people["uni2"].email}
        assert all(reason in m.get_content() for m in mails)
    page = clients["uni"].get(f"/results/{result.id}").data.decode()
    assert "已退回" in page and reason in page
    assert "已退回" in clients["uni"].get("/mine").data.decode()
    # fixed and submitted again
    assert clients["uni"].get(f"/results/{result.id}/edit").status_code == 200
    assert clients["uni"].post(f"/results/{result.id}/submit").status_code == 302
    session.expire_all()
    assert session.get(ResearchResult, result.id).status == "待审核"


def test_approval_tells_the_owners(app, session, people, clients):
    result = submitted(session, clients)
    assert decide(clients, result, decision="approve").status_code == 302
    [note] = notes_of(session, people["uni"])
    assert "审核通过" in note.message and result.title in note.message
    assert notes_of(session, people["ent"]) == []
    # without MAIL_URL nothing is mailed (the in-site notification is the record)
    assert session.exec(select(OutgoingMail)).all() == []


def test_the_owner_takes_a_pending_submission_back(session, people, clients):
    result = submitted(session, clients)
    assert "撤回审核" in clients["uni"].get(f"/results/{result.id}").data.decode()
    assert clients["ent"].post(f"/results/{result.id}/retract").status_code == 404  # not theirs
    assert clients["uni2"].post(f"/results/{result.id}/retract").status_code == 302
    session.expire_all()
    assert session.get(ResearchResult, result.id).status == "草稿"
    assert "撤回审核" in clients["uni"].get(f"/results/{result.id}").data.decode()  # in the history
    # nothing left to decide
    decide(clients, result, decision="approve")
    session.expire_all()
    assert session.get(ResearchResult, result.id).status == "草稿"

"""The data room: who may open it, the NDA, and the log of every view and download."""

from __future__ import annotations

import io

import pytest
from sqlmodel import select

from market.accounts.models import Organization
from market.financing.models import DataRoomFile, DataRoomView, FinancingRequest, NdaAcceptance
from market.financing.permissions import nda_hash
from tests.factories import make_listing, make_org, make_user
from tests.financing.conftest import PDF, REQUEST
from tests.security.support import sign_in


def _client(app, user=None):
    client = app.test_client()
    return sign_in(client, user) if user is not None else client


def _accept(app, user, request):
    return _client(app, user).post(
        f"/financing/{request.id}/nda", data={"text_hash": nda_hash(request.nda_text)}
    )


def _views(session, request_id):
    session.expire_all()
    return session.exec(select(DataRoomView).where(DataRoomView.request_id == request_id)).all()


@pytest.mark.parametrize(
    "who", ["visitor", "unverified", "other_investor", "other_uni", "agent", "admin", "ent"]
)
def test_data_room_is_closed_to_everyone_without_verified_investor_and_nda(app, session, people, fin, who):
    user = None if who == "visitor" else fin.get(who) or people[who]
    client = _client(app, user)
    request, file = fin["request"], fin["file"]
    room = client.get(f"/financing/{request.id}/dataroom")
    download = client.get(f"/financing/{request.id}/files/{file.id}")
    if who == "visitor":
        assert room.status_code == 302 and "/login" in room.headers["Location"]
        assert download.status_code == 302
    else:
        assert room.status_code == 403
        assert download.status_code == 403
    assert PDF not in download.data
    assert _views(session, request.id) == []


def test_unverified_investor_cannot_accept_the_nda(app, session, fin):
    resp = _accept(app, fin["unverified"], fin["request"])
    assert resp.status_code == 403
    assert session.exec(select(NdaAcceptance)).all() == []


def test_verified_investor_accepts_nda_opens_the_room_and_every_open_is_logged(app, session, people, fin):
    investor, request, file = fin["investor"], fin["request"], fin["file"]
    client = _client(app, investor)
    assert client.get(f"/financing/{request.id}/dataroom").status_code == 403
    resp = client.post(
        f"/financing/{request.id}/nda",
        data={"text_hash": nda_hash(request.nda_text)},
        environ_base={"REMOTE_ADDR": "10.1.2.3"},
    )
    assert resp.status_code == 302
    acceptance = session.exec(select(NdaAcceptance)).one()
    assert acceptance.text_hash == nda_hash(request.nda_text)
    assert acceptance.ip_address == "10.1.2.3"
    assert acceptance.accepted_at is not None

    room = client.get(f"/financing/{request.id}/dataroom")
    assert room.status_code == 200
    assert "商业计划书.pdf" in room.get_data(as_text=True)
    got = client.get(f"/financing/{request.id}/files/{file.id}")
    assert got.status_code == 200
    assert got.data == PDF
    client.get(f"/financing/{request.id}/dataroom")
    views = _views(session, request.id)
    assert [v.action for v in sorted(views, key=lambda v: v.id)] == ["view", "download", "view"]
    assert {v.user_id for v in views} == {investor.id}

    # the owner sees who looked and when; another investor still cannot get in
    log = _client(app, people["uni"]).get(f"/financing/{request.id}/views").get_data(as_text=True)
    assert "渤海创投" in log and "下载 商业计划书.pdf" in log
    assert _client(app, fin["other_investor"]).get(f"/financing/{request.id}/dataroom").status_code == 403
    assert _client(app, people["agent"]).get(f"/financing/{request.id}/views").status_code == 403


def test_a_stale_nda_hash_is_refused(app, session, fin):
    resp = _client(app, fin["investor"]).post(
        f"/financing/{fin['request'].id}/nda", data={"text_hash": "0" * 64}
    )
    assert resp.status_code == 303
    assert session.exec(select(NdaAcceptance)).all() == []


def test_a_changed_nda_text_closes_the_room_until_accepted_again(app, session, fin):
    investor, request = fin["investor"], fin["request"]
    assert _accept(app, investor, request).status_code == 302
    assert _client(app, investor).get(f"/financing/{request.id}/dataroom").status_code == 200
    row = session.get(FinancingRequest, request.id)
    row.nda_text = row.nda_text + "（第二版：增加保密期限三年）"
    session.add(row)
    session.commit()
    assert _client(app, investor).get(f"/financing/{request.id}/dataroom").status_code == 403
    assert _accept(app, investor, row).status_code == 302
    assert _client(app, investor).get(f"/financing/{request.id}/dataroom").status_code == 200


def test_owner_opens_own_room_without_being_logged(app, session, people, fin):
    request = fin["request"]
    client = _client(app, people["uni2"])  # a colleague of the owner
    assert client.get(f"/financing/{request.id}/dataroom").status_code == 200
    assert client.get(f"/financing/{request.id}/files/{fin['file'].id}").data == PDF
    assert _views(session, request.id) == []


def test_file_of_another_request_is_404(app, session, people, fin):
    investor = fin["investor"]
    other = FinancingRequest(
        organization_id=people["ent"].organization_id,
        status="已发布",
        nda_text="x",
        **{
            k: v
            for k, v in {
                "title": "别人的项目",
                "summary": "s" * 30,
                "amount_wan": 10.0,
                "instrument": "股权",
                "stage": "种子",
            }.items()
        },
    )
    session.add(other)
    session.commit()
    _accept(app, investor, other)
    assert _client(app, investor).get(f"/financing/{other.id}/files/{fin['file'].id}").status_code == 404


def test_upload_checks_content_and_size(app, session, people, fin):
    client = _client(app, people["uni"])
    url = f"/financing/{fin['request'].id}/files"
    exe = b"MZ\x90\x00" + bytes(200)

    resp = client.post(
        url,
        data={"category": "财务报表", "file": (io.BytesIO(exe), "财务.pdf")},
        content_type="multipart/form-data",
    )
    assert resp.status_code == 303
    resp = client.post(
        url,
        data={"category": "财务报表", "file": (io.BytesIO(PDF), "2025 财务.pdf")},
        content_type="multipart/form-data",
    )
    assert resp.status_code == 302
    session.expire_all()
    names = [f.name for f in session.exec(select(DataRoomFile)).all()]
    assert "2025 财务.pdf" in names and "财务.pdf" not in names
    assert (
        client.post(url, data={"category": "财务报表"}, content_type="multipart/form-data").status_code == 303
    )
    # not the owner: refused
    other = _client(app, people["ent"]).post(
        url,
        data={"category": "其他资料", "file": (io.BytesIO(PDF), "x.pdf")},
        content_type="multipart/form-data",
    )
    assert other.status_code == 403


def test_lifecycle_create_submit_review_publish(app, session, people):
    owner = _client(app, people["ent"])
    resp = owner.post("/financing/new", data=REQUEST)
    assert resp.status_code == 302
    row = session.exec(select(FinancingRequest)).one()
    assert row.status == "草稿"
    assert _client(app).get(f"/financing/{row.id}").status_code == 404  # drafts are not public
    assert owner.post(f"/financing/{row.id}/submit").status_code == 302
    admin = _client(app, people["admin"])
    assert admin.post(f"/financing/{row.id}/reject", data={"reason": ""}).status_code == 303  # reason needed
    assert admin.post(f"/financing/{row.id}/reject", data={"reason": "请补充估值依据"}).status_code == 302
    session.expire_all()
    assert (
        session.get(FinancingRequest, row.id).status == "已退回"
    )  # returned with the reason, not a plain draft (the review loop)
    owner.post(f"/financing/{row.id}/submit")
    assert owner.post(f"/financing/{row.id}/approve").status_code == 403  # owners do not approve themselves
    assert "宽温域电解液中试线建设" in admin.get("/financing/review").get_data(as_text=True)
    admin.post(f"/financing/{row.id}/approve")
    session.expire_all()
    assert session.get(FinancingRequest, row.id).status == "已发布"
    page = _client(app).get(f"/financing/{row.id}").get_data(as_text=True)
    assert REQUEST["summary"] in page and "打开数据室" not in page
    assert REQUEST["title"] in _client(app).get("/financing").get_data(as_text=True)


def test_validation_errors_are_shown_in_chinese(app, session, people):
    resp = _client(app, people["ent"]).post("/financing/new", data={"title": "", "amount_wan": "abc"})
    body = resp.get_data(as_text=True)
    assert resp.status_code == 200
    assert "请填写项目名称" in body and "请选择融资方式" in body
    assert session.exec(select(FinancingRequest)).all() == []


def test_investors_and_agents_cannot_post_requests(app, people, fin):
    assert _client(app, fin["investor"]).post("/financing/new", data=REQUEST).status_code == 403
    assert _client(app, people["agent"]).get("/financing/new").status_code == 403


def test_linked_results_must_be_the_owners(app, session, people):
    theirs = make_listing(
        session, kind="result", org=session.get(Organization, people["other_uni"].organization_id)
    )
    session.commit()
    resp = _client(app, people["uni"]).post("/financing/new", data=REQUEST | {"result_ids": [str(theirs.id)]})
    assert "只能关联本机构的科技成果" in resp.get_data(as_text=True)


def test_new_investor_registers_unverified(app, session):
    user = make_user(session, role="investor", org=make_org(session, kind="投资机构", verified=False))
    session.commit()
    assert _client(app, user).get("/investor").status_code == 200

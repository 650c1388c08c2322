"""A material edit of a published listing goes back to review; the published version stays visible
until the new one is approved; both versions are kept and the history shows the diff."""

from __future__ import annotations

import re

from sqlmodel import select

from market.listings.models import ListingRevision, ResearchResult
from market.outbox.models import OutboxEntry
from tests.factories import RESULT, publish
from tests.review.conftest import notes_of

OLD_TITLE = RESULT["title"]
NEW_TITLE = "宽温域锂离子电池电解液（第二代）"


def edit(client, listing, **changes):
    page = client.get(f"/results/{listing.id}/edit").data.decode()
    version = re.search(r'name="version" type="hidden" value="(\d+)"', page).group(1)
    return client.post(f"/results/{listing.id}/edit", data=dict(RESULT, version=version, **changes))


def revision_of(session, listing) -> ListingRevision:
    session.expire_all()
    return session.exec(
        select(ListingRevision)
        .where(ListingRevision.listing_id == listing.id)
        .order_by(ListingRevision.id.desc())
    ).first()


def test_the_public_page_keeps_the_old_text_until_the_edit_is_approved(app, session, people, clients, client):
    listing = publish(app, session, people)
    saved = edit(clients["uni"], listing, title=NEW_TITLE, price_wan="150")
    assert saved.status_code == 302
    assert "已提交平台审核" in clients["uni"].get(saved.headers["Location"]).data.decode()
    session.expire_all()
    stored = session.get(ResearchResult, listing.id)
    assert (stored.status, stored.title, stored.price_wan) == ("已发布", OLD_TITLE, 120)

    public = client.get(f"/results/{listing.id}").data.decode()
    assert OLD_TITLE in public and NEW_TITLE not in public

    owner_page = clients["uni"].get(f"/results/{listing.id}").data.decode()
    history = owner_page[owner_page.index("修改记录") :]
    assert OLD_TITLE in history and NEW_TITLE in history  # the diff: before and after
    assert "价格（万元）" in history and "120" in history and "150" in history
    assert "正在审核" in owner_page
    # the editor opens on the pending edit
    assert NEW_TITLE in clients["uni"].get(f"/results/{listing.id}/edit").data.decode()

    review = clients["admin"].get("/admin/review").data.decode()
    assert NEW_TITLE in review
    revision = revision_of(session, listing)
    done = clients["admin"].post(f"/admin/revisions/{revision.id}", data={"decision": "approve"})
    assert done.status_code == 302

    public = client.get(f"/results/{listing.id}").data.decode()
    assert NEW_TITLE in public
    session.expire_all()
    assert session.get(ResearchResult, listing.id).price_wan == 150
    assert revision_of(session, listing).status == "已通过"
    assert any("修改已审核通过" in n.message for n in notes_of(session, people["uni"]))
    assert session.exec(select(OutboxEntry).where(OutboxEntry.listing_id == listing.id)).all()
    history = clients["uni"].get(f"/results/{listing.id}").data.decode()
    assert "修改通过" in history and OLD_TITLE in history  # the old version stays in the history


def test_a_returned_edit_leaves_the_published_version_and_says_why(app, session, people, clients, client):
    listing = publish(app, session, people)
    edit(clients["uni"], listing, summary="一种全新的说法，夸大了十倍的性能指标，需要审核确认。")
    revision = revision_of(session, listing)
    assert [c[0] for c in revision.changes] == ["summary"]
    url = f"/admin/revisions/{revision.id}"
    clients["admin"].post(url, data={"decision": "reject", "reason": ""})
    assert revision_of(session, listing).status == "待审核"  # a return needs a reason
    clients["admin"].post(url, data={"decision": "reject", "reason": "性能指标缺少测试依据"})
    assert revision_of(session, listing).status == "已退回"
    assert RESULT["summary"] in client.get(f"/results/{listing.id}").data.decode()
    assert any("性能指标缺少测试依据" in n.message for n in notes_of(session, people["uni2"]))


def test_a_minor_edit_is_saved_at_once_and_a_second_edit_replaces_a_pending_one(
    app, session, people, clients
):
    listing = publish(app, session, people)
    assert edit(clients["uni"], listing, keywords="锂电、低温、电解液、储能").status_code == 302
    session.expire_all()
    assert session.get(ResearchResult, listing.id).keywords == ["锂电", "低温", "电解液", "储能"]
    assert revision_of(session, listing) is None
    edit(clients["uni"], listing, title=NEW_TITLE)
    first = revision_of(session, listing)
    edit(clients["uni"], listing, title=NEW_TITLE + "改", keywords="锂电")
    session.expire_all()
    assert session.get(ListingRevision, first.id).status == "已取代"
    latest = revision_of(session, listing)
    assert latest.status == "待审核" and latest.data["keywords"] == ["锂电"]
    # the owner takes it back: nothing changes in public
    assert clients["uni"].post(f"/results/{listing.id}/revision/retract").status_code == 302
    assert revision_of(session, listing).status == "已撤回"
    session.expire_all()
    assert session.get(ResearchResult, listing.id).title == OLD_TITLE


def test_a_decided_revision_cannot_be_decided_again(app, session, people, clients):
    listing = publish(app, session, people)
    edit(clients["uni"], listing, title=NEW_TITLE)
    revision = revision_of(session, listing)
    clients["admin"].post(f"/admin/revisions/{revision.id}", data={"decision": "approve"})
    again = clients["admin"].post(
        f"/admin/revisions/{revision.id}", data={"decision": "reject", "reason": "再退回一次看看"}
    )
    assert again.status_code == 302
    assert revision_of(session, listing).status == "已通过"
    assert clients["admin"].post("/admin/revisions/99999", data={"decision": "approve"}).status_code == 404

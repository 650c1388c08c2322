"""The demo pictures, PDF attachment and message thread: generated locally, stored through the services, loaded once."""

from __future__ import annotations

from sqlmodel import select

from market.accounts.models import Organization
from market.db import utcnow
from market.media import pdfs
from market.media.models import ListingFile, ListingImage
from market.messages.models import Message
from market.storage import storage
from seed import media_messages as demo
from tests.factories import make_listing, make_match


def test_demo_pictures_and_thread_load_once(app, session, people):
    uni_org = session.get(Organization, people["uni"].organization_id)
    ent_org = session.get(Organization, people["ent"].organization_id)
    result = make_listing(session, kind="result", org=uni_org)
    need = make_listing(session, kind="need", org=ent_org)
    make_match(session, result=result, need=need, status="已对接", introduced_at=utcnow())
    with app.test_request_context():
        assert demo.load(session) == {"images": 2, "files": 1, "messages": 3}
        assert demo.load(session) == {"images": 0, "files": 0, "messages": 0}
        session.commit()  # the staged files move into place
    alts = [i.alt for i in session.exec(select(ListingImage)).all()]
    assert alts == list(demo.CAPTIONS)
    assert [m.body for m in session.exec(select(Message).order_by(Message.id)).all()] == [
        t for _s, t in demo.THREAD
    ]
    assert demo.picture(1) == demo.picture(1)  # deterministic
    [attached] = session.exec(select(ListingFile)).all()
    assert (attached.kind, attached.listing_id, attached.title) == ("result", result.id, demo.ATTACHMENT[0])
    assert attached.pages == 1 and attached.name == "成果简介.pdf"
    with app.app_context():
        assert storage().read(attached.key) == demo.demo_pdf() == demo.demo_pdf()  # deterministic
        assert pdfs.check(demo.demo_pdf(), max_bytes=10**7) == 1

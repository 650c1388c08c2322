"""The listing lifecycle table is the rule: the service refuses every move it does not list, and the
permission predicates agree with it."""

from __future__ import annotations

import pytest

from market.accounts.models import Organization
from market.errors import DomainError
from market.listings import permissions as perm
from market.listings import service
from market.listings.lifecycle import TRANSITIONS
from tests.factories import make_listing
from vocab.taxonomy import ListingStatus

ACTIONS = {
    "submit": lambda s, actor, lst: service.submit(s, actor=actor, listing=lst),
    "approve": lambda s, actor, lst: service.approve(s, actor=actor, listing=lst),
    "reject": lambda s, actor, lst: service.reject(s, actor=actor, listing=lst, reason="请补充量化指标"),
    "withdraw": lambda s, actor, lst: service.withdraw(s, actor=actor, listing=lst),
    "close": lambda s, actor, lst: service.close(s, actor=actor, listing=lst),
}
PREDICATE = {
    "submit": perm.can_submit,
    "approve": perm.can_review,
    "reject": perm.can_review,
    "withdraw": perm.can_withdraw,
    "close": perm.can_close,
}


@pytest.mark.parametrize("action", sorted(ACTIONS))
@pytest.mark.parametrize("status", list(ListingStatus))
def test_every_move_follows_the_table(session, people, action, status):
    actor = people["admin"] if action in ("approve", "reject") else people["uni"]
    org = session.get(Organization, people["uni"].organization_id)
    listing = make_listing(session, kind="result", org=org, status=status)
    allowed, to = TRANSITIONS[action]
    assert PREDICATE[action](actor, listing) == (status in allowed)
    if status in allowed:
        assert ACTIONS[action](session, actor, listing).status == to
    else:
        with pytest.raises(DomainError):
            ACTIONS[action](session, actor, listing)
        assert listing.status == status


def test_publishing_an_import_skips_review_but_not_the_table(session, people):
    org = session.get(Organization, people["uni"].organization_id)
    closed = make_listing(session, kind="result", org=org, status=ListingStatus.CLOSED)
    with pytest.raises(DomainError):
        service.publish_directly(session, actor=None, listing=closed, reason="导入")
    draft = make_listing(session, kind="result", org=org, status=ListingStatus.DRAFT)
    assert service.publish_directly(session, actor=None, listing=draft, reason="导入").status == "已发布"

"""The review-loop part of tests/security/support.py's world: a pending edit of the published result."""

from __future__ import annotations

from market.listings.models import ListingRevision


def review_world(session, result, uni) -> dict[str, int]:
    revision = ListingRevision(
        kind="result",
        listing_id=result.id,
        data={"title": result.title + "（修改待审）", "summary": result.summary},
        changes=[["title", "名称", result.title, result.title + "（修改待审）"]],
        base_version=result.version,
        submitted_by_id=uni.id,
    )
    session.add(revision)
    session.flush()
    return {"revision": revision.id}

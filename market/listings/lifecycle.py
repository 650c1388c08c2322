"""The listing lifecycle as one table: which action moves a listing from which states to which.

Permissions read it (may this user act now?), the service enforces it (a move from any other state
is refused), and the detail page offers exactly the actions it allows.
"""

from __future__ import annotations

from vocab.taxonomy import ListingStatus as S

#: action -> (allowed from, to)
TRANSITIONS: dict[str, tuple[tuple[S, ...], S]] = {
    "submit": ((S.DRAFT, S.WITHDRAWN, S.RETURNED), S.PENDING),
    "approve": ((S.PENDING,), S.PUBLISHED),
    "reject": ((S.PENDING,), S.RETURNED),
    # the owner takes a submission back (to edit it further) before the reviewer decides
    "retract": ((S.PENDING,), S.DRAFT),
    "withdraw": ((S.PUBLISHED,), S.WITHDRAWN),
    "close": ((S.PUBLISHED,), S.CLOSED),
    # an administrator's bulk import publishes without the review queue
    "publish": ((S.DRAFT, S.PENDING, S.WITHDRAWN, S.RETURNED), S.PUBLISHED),
}

#: states whose content the owner may edit (pending ones wait for review, closed ones are history)
EDITABLE: tuple[S, ...] = (S.DRAFT, S.RETURNED, S.PUBLISHED, S.WITHDRAWN)
#: states anyone may see
PUBLIC: tuple[S, ...] = (S.PUBLISHED, S.CLOSED)


def allows(action: str, status: str) -> bool:
    return status in TRANSITIONS[action][0]

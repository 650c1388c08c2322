"""Who may apply for and decide organisation verification (also Jinja globals)."""

from __future__ import annotations

from vocab.taxonomy import Role


def can_apply(user) -> bool:
    """A signed-in member of an organisation (not an administrator)."""
    return (
        bool(getattr(user, "is_authenticated", False))
        and user.role != Role.ADMIN
        and user.organization_id is not None
    )


def can_decide(user) -> bool:
    """Platform administrators decide."""
    return bool(getattr(user, "is_authenticated", False)) and user.role == Role.ADMIN

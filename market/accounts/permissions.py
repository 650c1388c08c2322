"""Named permission predicates and decorators for accounts and roles."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from flask import abort
from flask_login import current_user

from market.accounts.models import Organization
from market.db import db
from market.extensions import login_manager
from vocab.taxonomy import Role


def is_admin(user) -> bool:
    """Platform administrator."""
    return bool(getattr(user, "is_authenticated", False)) and user.role == Role.ADMIN


def is_agent(user) -> bool:
    """技术经纪人."""
    return bool(getattr(user, "is_authenticated", False)) and user.role == Role.AGENT


def org_verified(user) -> bool:
    """The user's organisation has been verified by the platform."""
    if not getattr(user, "is_authenticated", False) or user.organization_id is None:
        return False
    org = db().get(Organization, user.organization_id)
    return bool(org and org.verified)


def is_verified_agent(user) -> bool:
    """An agent of a verified agency: only they see protected contacts and work the queue."""
    return is_agent(user) and org_verified(user)


def has_role(user, *roles: str) -> bool:
    """Signed in with one of `roles`."""
    return bool(getattr(user, "is_authenticated", False)) and user.role in roles


def role_required(*roles: str) -> Callable:
    """View decorator: signed in (else login redirect) with one of `roles` (else 403)."""

    def decorator(view: Callable) -> Callable:
        @wraps(view)
        def wrapped(*args, **kwargs):
            if not current_user.is_authenticated:
                return login_manager.unauthorized()
            if current_user.role not in roles:
                abort(403)
            return view(*args, **kwargs)

        return wrapped

    return decorator


admin_required = role_required(Role.ADMIN)


def broker_required(view: Callable) -> Callable:
    """Admins, and agents whose agency the platform has verified (else 403 with the reason)."""

    @wraps(view)
    def wrapped(*args, **kwargs):
        if not current_user.is_authenticated:
            return login_manager.unauthorized()
        if not (is_admin(current_user) or is_verified_agent(current_user)):
            abort(403, description="技术经纪人所属机构通过平台认证后才能处理对接")
        return view(*args, **kwargs)

    return wrapped

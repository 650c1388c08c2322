"""Named permission predicates and decorators for accounts and roles."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from flask import abort
from flask_login import current_user

from vocab.taxonomy import Role


def is_admin(user) -> bool:
    """Platform administrator."""
    return bool(getattr(user, "is_authenticated", False)) and user.role == Role.ADMIN


def is_agent(user) -> bool:
    """技术经纪人."""
    return bool(getattr(user, "is_authenticated", False)) and user.role == Role.AGENT


def has_role(user, *roles: str) -> bool:
    """Signed in with one of `roles`."""
    return bool(getattr(user, "is_authenticated", False)) and user.role in roles


def role_required(*roles: str) -> Callable:
    """View decorator: signed in (else login redirect) with one of `roles` (else 403)."""

    def decorator(view: Callable) -> Callable:
        @wraps(view)
        def wrapped(*args, **kwargs):
            from market.extensions import login_manager

            if not current_user.is_authenticated:
                return login_manager.unauthorized()
            if current_user.role not in roles:
                abort(403)
            return view(*args, **kwargs)

        return wrapped

    return decorator


admin_required = role_required(Role.ADMIN)

"""How flask-login finds the user of a request: the session cookie, or an API bearer token."""

from __future__ import annotations

from flask import Request, g

from market.accounts.models import User
from market.accounts.service import load_user
from market.accounts.tokens import user_for_token
from market.db import db


def user_for_session(session_id: str) -> User | None:
    return load_user(db(), session_id)


def user_for_request(req: Request) -> User | None:
    """API clients authenticate with `Authorization: Bearer <token>` (no cookie, so no CSRF)."""
    header = req.headers.get("Authorization", "")
    # A partner platform's token opens the API only, never the pages (account, contracts, tokens).
    if not header.startswith("Bearer ") or not req.path.startswith("/api/"):
        return None
    user = user_for_token(db(), header[7:].strip())
    g.token_auth = user is not None
    return user

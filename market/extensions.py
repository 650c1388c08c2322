"""Flask extensions, created unbound and initialised in create_app."""

from __future__ import annotations

from flask import request
from flask_bootstrap import Bootstrap5
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_wtf.csrf import CSRFProtect

login_manager = LoginManager()
login_manager.login_view = "accounts.login"
login_manager.login_message = "请先登录"
login_manager.login_message_category = "warning"
login_manager.session_protection = "basic"

csrf = CSRFProtect()
bootstrap = Bootstrap5()
limiter = Limiter(key_func=get_remote_address, default_limits=[])


def account_key() -> str:
    """Rate-limit key for the account being tried (e-mail from the login form)."""
    return "account:" + (request.form.get("email") or "").strip().lower()


def register_extensions(app) -> None:
    """Bind the extensions to `app` and teach flask-login how to load a user."""
    from market.accounts.service import load_user
    from market.db import db

    login_manager.init_app(app)
    csrf.init_app(app)
    bootstrap.init_app(app)
    limiter.init_app(app)
    login_manager.user_loader(lambda session_id: load_user(db(), session_id))
    login_manager.request_loader(_user_from_bearer_token)


def _user_from_bearer_token(req):
    """API clients authenticate with `Authorization: Bearer <token>` (no cookie, so no CSRF)."""
    from flask import g

    from market.accounts.tokens import user_for_token
    from market.db import db

    header = req.headers.get("Authorization", "")
    # A partner platform's token opens the API only, never the pages (account, contracts, tokens).
    if not header.startswith("Bearer ") or not req.path.startswith("/api/"):
        return None
    user = user_for_token(db(), header[7:].strip())
    g.token_auth = user is not None
    return user

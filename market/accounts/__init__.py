"""Organisations, users, registration and login."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Registration, login and tokens; how flask-login loads a user (session cookie or API bearer
    token); `flask users …`."""
    from market.accounts import cli, loaders, routes
    from market.extensions import login_manager

    app.register_blueprint(routes.bp)
    app.cli.add_command(cli.users_cli)
    login_manager.user_loader(loaders.user_for_session)
    login_manager.request_loader(loaders.user_for_request)

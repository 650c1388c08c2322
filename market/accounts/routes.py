"""Login, logout, registration and the account page."""

from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required, login_user, logout_user

from market.accounts import service
from market.accounts.forms import ChangePasswordForm, LoginForm, RegisterForm
from market.db import db
from market.errors import DomainError, apply_to_form
from market.extensions import account_key, limiter
from market.security import safe_next

bp = Blueprint("accounts", __name__)


def _failed(response) -> bool:
    """Only failed attempts count against the limits (a success redirects)."""
    return response.status_code != 302


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["RATELIMIT_LOGIN_IP"], methods=["POST"], deduct_when=_failed)
@limiter.limit(
    lambda: current_app.config["RATELIMIT_LOGIN_ACCOUNT"],
    key_func=account_key,
    methods=["POST"],
    deduct_when=_failed,
)
def login():
    if current_user.is_authenticated:
        return redirect(safe_next(request.args.get("next"), url_for("main.home")))
    form = LoginForm(next=request.args.get("next", ""))
    if form.validate_on_submit():
        session = db()
        try:
            user = service.authenticate(session, email=form.email.data, password=form.password.data)
        except DomainError as exc:
            apply_to_form(form, exc)
        else:
            session.commit()
            login_user(user)
            flash(f"欢迎回来，{user.display_name}", "success")
            return redirect(safe_next(form.next.data, url_for("main.home")))
    status = 200 if request.method == "GET" else 400
    return render_template("accounts/login.html", form=form), status


@bp.route("/logout", methods=["POST"])
@login_required
def logout():
    session = db()
    service.end_all_sessions(session, session.merge(current_user._get_current_object()))
    session.commit()
    logout_user()
    flash("已退出登录", "info")
    return redirect(url_for("main.home"))


@bp.route("/register", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["RATELIMIT_REGISTER_IP"], methods=["POST"])
def register():
    if current_user.is_authenticated:
        return redirect(url_for("main.home"))
    form = RegisterForm()
    if form.validate_on_submit():
        session = db()
        try:
            user = service.register_user(
                session,
                email=form.email.data,
                display_name=form.display_name.data,
                password=form.password.data,
                role=form.role.data,
                org_name=form.org_name.data,
                org_kind=form.org_kind.data or None,
                region=form.region.data,
                district=form.district.data,
                agency_type=form.agency_type.data or None,
                growth_tier=form.growth_tier.data or None,
                high_tech=form.high_tech.data,
            )
        except DomainError as exc:
            session.rollback()
            apply_to_form(form, exc)
        else:
            session.commit()
            login_user(user)
            flash("注册成功。所属机构经平台认证后即可提交发布。", "success")
            return redirect(url_for("accounts.account"))
    status = 200 if request.method == "GET" else 400
    return render_template("accounts/register.html", form=form), status


@bp.route("/account", methods=["GET", "POST"])
@login_required
def account():
    form = ChangePasswordForm()
    session = db()
    user = session.merge(current_user._get_current_object())
    if form.validate_on_submit():
        try:
            service.change_password(
                session, user=user, current=form.current_password.data, new=form.new_password.data
            )
        except DomainError as exc:
            apply_to_form(form, exc)
        else:
            session.commit()
            login_user(user)  # this browser stays signed in with the new nonce; others are out
            flash("密码已修改，其他设备上的登录已失效", "success")
            return redirect(url_for("accounts.account"))
    org = session.get(service.Organization, user.organization_id) if user.organization_id else None
    status = 400 if request.method == "POST" else 200
    return render_template("accounts/account.html", form=form, user=user, org=org), status

"""Login, logout, registration and the account page."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required, login_user, logout_user

from market.accounts import reset, service, tokens
from market.accounts.forms import (
    ChangePasswordForm,
    ForgotPasswordForm,
    LoginForm,
    LogoutForm,
    RegisterForm,
    ResetPasswordForm,
    TokenForm,
)
from market.accounts.models import Organization
from market.db import db, new_session
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
        try:
            # The password check takes a moment of CPU: it runs on a read, outside the write lock.
            with new_session(write=False) as reading:
                user, new_hash = service.check_credentials(
                    reading, email=form.email.data, password=form.password.data
                )
        except DomainError as exc:
            apply_to_form(form, exc)
        else:
            session = db()
            user = service.record_login(session, user=user, new_hash=new_hash)
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
        except service.AddressTaken as taken:
            # The same answer as for a free address; the address's owner hears about it by mail.
            session.rollback()
            reset.mail_existing_owner(session, user=session.merge(taken.owner))
            session.commit()
            return _registered()
        except DomainError as exc:
            session.rollback()
            apply_to_form(form, exc)
        else:
            reset.mail_welcome(session, user=user)
            session.commit()
            return _registered()
    status = 200 if request.method == "GET" else 400
    return render_template("accounts/register.html", form=form), status


REGISTERED = (
    "注册申请已受理，我们已向该邮箱发送了一封邮件。请用刚才设置的密码登录；"
    "如果该邮箱此前已注册，请按邮件提示登录或重置密码。"
)


def _registered():
    """What a registration answers, whether or not the address already had an account."""
    flash(REGISTERED, "success")
    return redirect(url_for("accounts.login", next=url_for("accounts.account")))


FORGOT_SENT = (
    "如果该邮箱已在本平台注册，我们已向它发送了重置密码的邮件，"
    "请在 {minutes} 分钟内按邮件中的链接设置新密码。没有收到请检查垃圾邮件，或稍后重试。"
)


@bp.route("/password/forgot", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["RATELIMIT_RESET_IP"], methods=["POST"])
@limiter.limit(lambda: current_app.config["RATELIMIT_RESET_ACCOUNT"], key_func=account_key, methods=["POST"])
def forgot_password():
    form = ForgotPasswordForm()
    if form.validate_on_submit():
        session = db()
        reset.request_reset(session, email=form.email.data)
        session.commit()
        flash(FORGOT_SENT.format(minutes=reset.max_age() // 60), "info")
        return redirect(url_for("accounts.login"))
    status = 200 if request.method == "GET" else 400
    return render_template("accounts/forgot.html", form=form), status


@bp.route("/password/reset/<token>", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["RATELIMIT_LOGIN_IP"], methods=["POST"], deduct_when=_failed)
def reset_password(token: str):
    session = db()
    form = ResetPasswordForm()
    try:
        reset.user_for_token(session, token)
    except DomainError as exc:
        return render_template("accounts/reset.html", form=None, problem=exc.message), 400
    if form.validate_on_submit():
        try:
            user = reset.reset_password(session, token=token, new=form.password.data)
        except DomainError as exc:
            session.rollback()
            apply_to_form(form, exc)
        else:
            session.commit()
            if current_user.is_authenticated:
                logout_user()
            flash(
                f"密码已重置，请用新密码登录（{user.email}）。其他设备上的登录和全部 API 令牌已失效。",
                "success",
            )
            return redirect(url_for("accounts.login"))
    status = 200 if request.method == "GET" else 400
    return render_template("accounts/reset.html", form=form, problem=None), status


@bp.route("/account", methods=["GET", "POST"])
@login_required
def account():
    form = ChangePasswordForm()
    session = db()
    user = session.merge(current_user._get_current_object())
    if form.validate_on_submit():
        try:
            revoked = service.change_password(
                session, user=user, current=form.current_password.data, new=form.new_password.data
            )
        except DomainError as exc:
            apply_to_form(form, exc)
        else:
            session.commit()
            login_user(user)  # this browser stays signed in with the new nonce; others are out
            tokens_note = f"，已撤销 {revoked} 个 API 令牌（合作平台需改用新令牌）" if revoked else ""
            flash(f"密码已修改，其他设备上的登录已失效{tokens_note}", "success")
            return redirect(url_for("accounts.account"))
    status = 400 if request.method == "POST" else 200
    return _account_page(session, user, form=form), status


def _account_page(session, user, *, form=None, token_form=None, new_token: str | None = None):
    org = session.get(Organization, user.organization_id) if user.organization_id else None
    pending_org = (
        session.get(Organization, user.pending_organization_id) if user.pending_organization_id else None
    )
    return render_template(
        "accounts/account.html",
        form=form or ChangePasswordForm(),
        user=user,
        org=org,
        token_form=token_form or TokenForm(),
        tokens=tokens.active_tokens(session, user.id),
        new_token=new_token,
        pending_org=pending_org,
        revoke_form=LogoutForm(),
    )


@bp.route("/account/tokens", methods=["POST"])
@login_required
def create_token():
    session = db()
    user = session.merge(current_user._get_current_object())
    form = TokenForm()
    if form.validate_on_submit():
        try:
            raw, _ = tokens.create_token(session, user=user, name=form.name.data)
        except DomainError as exc:
            apply_to_form(form, exc)
        else:
            session.commit()
            # Shown this once, never stored in plain text.
            return _account_page(session, user, new_token=raw)
    return _account_page(session, user, token_form=form), 400


@bp.route("/account/tokens/<int:token_id>/revoke", methods=["POST"])
@login_required
def revoke_token(token_id: int):
    session = db()
    if not LogoutForm().validate_on_submit():
        abort(400)
    try:
        tokens.revoke_token(session, user=current_user, token_id=token_id)
    except DomainError:
        abort(404)
    session.commit()
    flash("令牌已撤销，使用它的请求将被拒绝", "success")
    return redirect(url_for("accounts.account"))

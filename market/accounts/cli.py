"""`flask users …`: administrators and organisation verification from the command line."""

from __future__ import annotations

import getpass

import click
from flask.cli import AppGroup

from market.accounts import service as accounts
from market.db import db
from market.errors import DomainError

users_cli = AppGroup("users", help="用户与机构管理")


@users_cli.command("create-admin")
@click.option("--email", prompt="管理员邮箱")
@click.option("--name", "display_name", default="平台运营", show_default=True)
@click.option("--password", envvar="ADMIN_PASSWORD", default=None, help="或设置环境变量 ADMIN_PASSWORD")
def create_admin(email: str, display_name: str, password: str | None) -> None:
    """Create a platform administrator; the password is asked for when not given."""
    if not password:
        password = getpass.getpass("密码：")
    session = db()
    try:
        user = accounts.create_admin(session, email=email, display_name=display_name, password=password)
    except DomainError as exc:
        raise click.ClickException(exc.message) from exc
    session.commit()
    click.echo(f"已创建管理员 {user.email}")


@users_cli.command("verify-org")
@click.argument("name")
def verify_org(name: str) -> None:
    """Mark the organisation NAME as verified."""
    session = db()
    org = accounts.find_org_by_name(session, name)
    if org is None:
        raise click.ClickException(f"找不到机构：{name}")
    accounts.set_verified(session, org=org, verified=True)
    session.commit()
    click.echo(f"已认证：{org.name}")

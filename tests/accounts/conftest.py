"""Account fixtures: a member with an API token, and a way to read the reset link out of a mail."""

from __future__ import annotations

import re

import pytest
from sqlmodel import select

from market.accounts import tokens
from market.mail.models import OutgoingMail
from tests.factories import make_user

LINK = re.compile(r"https?://\S+/password/reset/(\S+)")


def reset_link_in(text: str) -> str:
    """The path of the reset link in a mail's text."""
    found = LINK.search(text)
    assert found, f"no reset link in:\n{text}"
    return f"/password/reset/{found.group(1)}"


def queued_to(session, address: str) -> list[OutgoingMail]:
    session.expire_all()
    return list(session.exec(select(OutgoingMail).where(OutgoingMail.to_address == address)).all())


@pytest.fixture
def member(session):
    """A member with one API token; returns (user, raw token)."""
    user = make_user(session, email="reset-me@example.cn")
    raw, _ = tokens.create_token(session, user=user, name="对接平台")
    session.commit()
    return user, raw

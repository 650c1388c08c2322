"""The need form shows every problem at once, each next to its field (not one at a time)."""

from __future__ import annotations

import re

from tests.factories import NEED, login

BAD = dict(
    NEED,
    title="",
    description="太短",
    budget_min_wan="五十",
    budget_max_wan="80",
    deadline="明年六月",
    is_challenge="y",
    reward_wan="",
    no_secret_confirmed="",
)


def feedback_after(page: str, name: str) -> str:
    """The error text rendered right after the input named `name` (before the next field)."""
    start = page.index(f'name="{name}"')
    rest = page[start:]
    nxt = re.search(r'<(?:input|textarea|select)[^>]*name="(?!' + name + r'")', rest[1:])
    block = rest[: nxt.start() + 1] if nxt else rest
    return " ".join(re.findall(r'class="invalid-feedback[^"]*"[^>]*>\s*([^<]+)', block))


def test_every_error_at_once_next_to_its_field(client, people):
    login(client, people["ent"])
    resp = client.post("/needs/new", data=BAD)
    page = resp.data.decode()
    assert resp.status_code == 400
    assert "此项必填" in feedback_after(page, "title")
    assert "需求描述" in feedback_after(page, "description")
    assert "应为数字" in feedback_after(page, "budget_min_wan")
    assert "日期格式" in feedback_after(page, "deadline")
    assert "悬赏金额" in feedback_after(page, "reward_wan")
    assert "商业秘密" in feedback_after(page, "no_secret_confirmed")
    assert "Not a valid" not in page


def test_rules_across_fields_are_reported_with_field_errors(client, people):
    login(client, people["ent"])
    data = dict(NEED, title="", budget_min_wan="90", budget_max_wan="80", no_secret_confirmed="")
    page = client.post("/needs/new", data=data).data.decode()
    assert "此项必填" in feedback_after(page, "title")
    assert "预算上限不能小于下限" in feedback_after(page, "budget_max_wan")
    assert "商业秘密" in feedback_after(page, "no_secret_confirmed")

"""Template globals: navigation by role and labels."""

from __future__ import annotations

from pathlib import Path

from flask import Flask, current_app
from flask_login import current_user

from vocab.taxonomy import ROLE_LABELS
from vocab.values import format_wan

# (endpoint, label, roles or None for everyone); endpoints not registered are skipped.
NAV: list[tuple[str, str, tuple[str, ...] | None]] = [
    ("listings.results", "科技成果库", None),
    ("listings.needs", "企业技术需求库", None),
    ("search.page", "搜索", None),
    ("directory.agencies", "技术转移机构", None),
    ("financing.index", "成果融资", None),
    ("events.index", "活动路演", None),
    ("financing.mine", "我的融资", ("university", "enterprise")),
    ("financing.investor_desk", "投资工作台", ("investor",)),
    ("listings.mine", "我的发布", ("university", "enterprise")),
    ("saved.index", "我的收藏", ("university", "enterprise", "agent", "investor")),
    ("messages.inbox", "消息", ("university", "enterprise")),
    ("imports.upload", "批量导入", ("university", "enterprise")),
    ("matches.queue", "待认领对接", ("agent", "admin")),
    ("matches.board", "我的对接", ("agent",)),
    ("directory.requests", "经纪人委托", ("university", "enterprise", "agent")),
    ("admin.review", "审核", ("admin",)),
    ("financing.review", "融资审核", ("admin",)),
    ("admin.organizations", "机构认证", ("admin",)),
    ("directory.certificates", "证书核验", ("admin",)),
    ("notices.manage", "公告管理", ("admin",)),
    ("federation.partners", "合作平台", ("admin",)),
    ("freshness.report", "过期信息", ("admin",)),
    ("stats.dashboard", "统计", ("admin",)),
    ("admin.system", "系统状态", ("admin",)),
    ("trade.board", "展示交易", None),
    ("challenges.board", "揭榜挂帅", None),
    ("stats.public", "交易概况", None),
    ("notices.index", "公告", None),
]


def nav_links() -> list[tuple[str, str]]:
    role = current_user.role if current_user.is_authenticated else None
    endpoints = current_app.view_functions
    return [
        (endpoint, label)
        for endpoint, label, roles in NAV
        if endpoint in endpoints and (roles is None or role in roles)
    ]


#: always in the bar; every other public page goes under 交易与服务, the rest under 我的工作 / 运营管理
NAV_TOP = ("listings.results", "listings.needs", "search.page")
PUBLIC_GROUP, WORK_GROUP, ADMIN_GROUP = "交易与服务", "我的工作", "运营管理"


def nav_groups() -> list[tuple[str | None, list[tuple[str, str]]]]:
    """The navbar: a few links, then dropdown groups, so it never wraps at 1280 px whatever the role
    (a new NAV entry falls into a group). (None, [link]) is a plain link; (label, links) a dropdown."""
    role = current_user.role if current_user.is_authenticated else None
    public_endpoints = {endpoint for endpoint, _label, roles in NAV if roles is None}
    top: list[tuple[str | None, list[tuple[str, str]]]] = []
    groups: dict[str, list[tuple[str, str]]] = {PUBLIC_GROUP: [], WORK_GROUP: [], ADMIN_GROUP: []}
    for endpoint, label in nav_links():
        if endpoint in NAV_TOP:
            top.append((None, [(endpoint, label)]))
        elif endpoint in public_endpoints:
            groups[PUBLIC_GROUP].append((endpoint, label))
        else:
            groups[ADMIN_GROUP if role == "admin" else WORK_GROUP].append((endpoint, label))
    return top + [(label, links) for label, links in groups.items() if links]


def user_label(user) -> str:
    """The name in the navbar, with the role unless the name already says it (技术经纪人 周航)."""
    role = role_label(user.role)
    name = user.display_name or ""
    return name if role and role in name else f"{name}（{role}）"


def role_label(role: str) -> str:
    return ROLE_LABELS.get(role, role)


def demo_mark(app: Flask) -> Path:
    """The file `flask seed demo` leaves in the instance folder: this database holds demo data."""
    return Path(app.instance_path) / "demo-data"


def demo_data() -> bool:
    """Whether the site shows demo data (演示数据), for the footer's notice: DEMO_DATA "1"/"0" says
    so; "auto" (the default) looks for the mark `flask seed demo` leaves (a file, so that no page
    pays a query for it)."""
    setting = str(current_app.config.get("DEMO_DATA", "auto")).strip().lower()
    if setting in ("1", "true", "yes", "on"):
        return True
    if setting != "auto":
        return False
    return demo_mark(current_app).exists()


def init_app(app: Flask) -> None:
    app.jinja_env.globals.update(
        nav_links=nav_links,
        nav_groups=nav_groups,
        role_label=role_label,
        user_label=user_label,
        demo_data=demo_data,
    )
    # amounts already in 万元, written once with their unit (vocab.values.format_wan)
    app.jinja_env.filters["wan"] = format_wan

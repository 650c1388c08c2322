"""Template helpers for the search page: facet labels and links that add or remove one filter."""

from __future__ import annotations

from urllib.parse import urlencode

from flask import g, request, url_for

FACET_LABELS = {
    "kind": "类型",
    "field_top": "技术领域",
    "field": "细分领域",
    "maturity": "成熟度",
    "modes": "转化 / 合作方式",
    "region": "地区",
    "is_challenge": "揭榜挂帅",
}
VALUE_LABELS = {
    "kind": {"result": "科技成果", "need": "技术需求"},
    "is_challenge": {"true": "是", "false": "否"},
}
#: facet -> query argument it filters on
FACET_ARG = {"kind": "kind", "is_challenge": "challenge"}


def facet_value_label(facet: str, value: str) -> str:
    return VALUE_LABELS.get(facet, {}).get(str(value).lower(), str(value))


def _args() -> dict[str, str]:
    """The current search's arguments, each key's values already URL-encoded (once per request:
    a page has dozens of facet links, each changing one key)."""
    encoded = g.get("search_args")
    if encoded is None:
        encoded = g.search_args = {
            key: urlencode([(key, v) for v in values]) for key, values in request.args.lists()
        }
    return encoded


def _url(encoded: dict[str, str]) -> str:
    """The search page with these encoded arguments (one url_for per request for all links)."""
    base = g.get("search_base")
    if base is None:
        base = g.search_base = url_for("search.page")
    query = "&".join(part for part in encoded.values() if part)
    return f"{base}?{query}" if query else base


def toggle_url(facet: str, value: str) -> tuple[str, bool]:
    """(url, active): the current search with this facet value switched on or off."""
    arg = FACET_ARG.get(facet, facet)
    value = {"true": "1", "false": "0"}.get(str(value).lower(), str(value))
    current = request.args.getlist(arg)
    active = value in current
    if arg in ("kind", "challenge"):
        values = [] if active else [value]
    else:
        values = [v for v in current if v != value] if active else [*current, value]
    args = {k: v for k, v in _args().items() if k != "page"}
    args[arg] = urlencode([(arg, v) for v in values])
    return _url(args), active


def page_url(page: int) -> str:
    return _url({**_args(), "page": urlencode([("page", page)])})


def init_app(app) -> None:
    app.jinja_env.globals.update(
        facet_labels=FACET_LABELS,
        facet_value_label=facet_value_label,
        facet_toggle=toggle_url,
        search_page_url=page_url,
    )

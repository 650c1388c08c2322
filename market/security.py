"""Security headers and the safe `next` redirect."""

from __future__ import annotations

import math
import unicodedata
from typing import Any
from urllib.parse import urlsplit

from flask import Flask, Response, abort, g, request, session

from market.errors import DomainError
from market.listings.labels import LABELS

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; "
    "connect-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
)


def safe_next(target: str | None, default: str = "/") -> str:
    """`target` if it is a path on this site, else `default` (no other hosts, no schemes)."""
    if not target:
        return default
    target = target.strip()
    if not target.startswith("/") or target.startswith("//") or "\\" in target:
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or any(ord(c) < 32 for c in target):
        return default
    return target


#: bidirectional overrides and isolates: invisible, and they make "txt.exe" display as "exe.txt"
BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def file_name_problem(name: str | None) -> str | None:
    """Why an uploaded file's name is refused (in Chinese), or None: control characters (NUL, newlines,
    escapes, DEL, C1), lone surrogates and bidirectional overrides are never part of a real name, and
    they break headers, logs, the database (NUL) and what a reader sees."""
    for ch in name or "":
        category = unicodedata.category(ch)
        if category == "Cc":
            shown = "NUL" if ch == "\x00" else f"U+{ord(ch):04X}"
            return f"文件名包含控制字符（{shown}），请重命名文件后再上传"
        if category == "Cs":
            return "文件名包含无效的 Unicode 字符（孤立的代理项），请重命名文件后再上传"
        if ch in BIDI_CONTROLS:
            return (
                f"文件名包含改变文字方向的不可见字符（U+{ord(ch):04X}，可用来伪装扩展名），"
                "请重命名文件后再上传"
            )
    return None


def has_surrogate(text: str) -> bool:
    """True when `text` holds a lone surrogate (U+D800–U+DFFF): not encodable as UTF-8, so the database
    driver would fail on it (JSON's "\\ud800" escape decodes to one; a valid pair becomes one character)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def _first_bad(values) -> tuple[str, str] | None:
    """(field, what) of the first value with a NUL or a lone surrogate."""
    for key, value in values.items(multi=True):
        if "\x00" in value or "\x00" in key:
            return key, "NUL"
        if has_surrogate(value) or has_surrogate(key):
            return key, "surrogate"
    return None


def refuse_bad_characters() -> None:
    """NUL characters and lone surrogates are never legitimate text and PostgreSQL refuses them: a 400
    naming the field before any work. (werkzeug decodes form bodies strictly or with replacement, so a
    surrogate cannot arrive that way today; the check keeps it so whatever the server does.)"""
    bad = _first_bad(request.args) or _first_bad(request.form)
    if bad is not None:
        field, what = bad
        name = field if not has_surrogate(field) and "\x00" not in field else "（参数名）"
        if what == "NUL":
            abort(400, description=f"输入项 {name} 包含不允许的控制字符（NUL），请删除后重试")
        abort(400, description=f"输入项 {name} 包含无效的 Unicode 字符（孤立的代理项），请删除后重试")
    raw = request.get_data() if request.is_json else b""
    if b"\\u0000" in raw or b"\x00" in raw:
        try:
            body = request.get_json(silent=True)
        except RecursionError:
            body = None
        if body is not None:
            check_json(body)  # a real NUL is refused naming the field; the text "\\u0000" is fine
        elif b"\x00" in raw:
            abort(400, description="请求体包含不允许的控制字符（\\u0000）")


#: nesting a JSON body may have (the listing schemas need 2: an object of lists)
MAX_JSON_DEPTH = 32


class UnprocessableValue(DomainError):
    """Well-formed JSON carrying a value nothing downstream can hold (NaN, a lone surrogate, NUL)."""

    status = 422


def _label(field: str | None) -> str:
    if field is None:
        return "请求体"
    return f"{LABELS[field]}（{field}）" if field in LABELS else field


def check_json(body: Any) -> None:
    """Refuse what Python's JSON parser lets through but the database cannot hold, naming the top-level
    field: nesting deeper than MAX_JSON_DEPTH (400), NaN / ±Infinity and numbers too large for a float
    such as 1e999 (422), lone surrogates such as "\\ud800" (422) and NUL characters (422).

    Iterative, so no depth of input can exhaust the stack.
    """
    stack: list[tuple[Any, str | None, int]] = [(body, None, 1)]
    while stack:
        value, field, depth = stack.pop()
        if depth > MAX_JSON_DEPTH:
            raise DomainError((field, f"请求体 JSON 嵌套过深（最多 {MAX_JSON_DEPTH} 层）"))
        if isinstance(value, dict):
            for key, item in value.items():
                top = key if field is None else field
                if has_surrogate(key) or "\x00" in key:
                    where = "字段名" if field is None else f"{_label(field)}中的键名"
                    raise UnprocessableValue((field, f"{where}包含无效字符（孤立的代理项或 NUL）"))
                stack.append((item, top, depth + 1))
        elif isinstance(value, list):
            stack.extend((item, field, depth + 1) for item in value)
        elif isinstance(value, float) and not math.isfinite(value):
            raise UnprocessableValue(
                (field, f"{_label(field)}必须是有限的数字（不接受 NaN、Infinity 或超出范围的数，如 1e999）")
            )
        elif isinstance(value, str):
            if has_surrogate(value):
                raise UnprocessableValue(
                    (
                        field,
                        f"{_label(field)}包含无效的 Unicode 字符（孤立的代理项，如 \\ud800），请删除后重试",
                    )
                )
            if "\x00" in value:
                raise UnprocessableValue((field, f"{_label(field)}包含不允许的控制字符（NUL），请删除后重试"))


def is_private_response() -> bool:
    """Whether the response must not be stored by any cache (`Cache-Control: no-store`).

    Private: anything answered to a signed-in user (a session cookie carrying a user, or an API bearer
    token, checked without a database lookup), anything that writes the session cookie (sign-in and
    out, flashes, the login redirect) and any page embedding a CSRF token, which is bound to the
    session. Public pages for anonymous visitors stay cacheable, and so do static files, which are the
    same for everyone.
    """
    if request.endpoint == "static" or (request.endpoint or "").endswith(".static"):
        return False
    bearer = request.path.startswith("/api/") and request.headers.get("Authorization", "").startswith(
        "Bearer "
    )
    return bool(bearer or "_user_id" in session or session.modified or g.get("csrf_token"))


def register_security_headers(app: Flask) -> None:
    """CSP without inline script, nosniff, frame-ancestors, Referrer-Policy on every response."""

    app.before_request(refuse_bad_characters)

    @app.after_request
    def _headers(response: Response) -> Response:
        if is_private_response():
            response.headers["Cache-Control"] = "no-store"
        response.headers.setdefault("Content-Security-Policy", CSP)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")
        response.headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
        if app.config.get("MARKET_ENV") == "production":
            response.headers.setdefault("Strict-Transport-Security", "max-age=31536000")
        return response

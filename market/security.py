"""Security headers and the safe `next` redirect."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Flask, Response

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


def _has_nul(values) -> bool:
    return any("\x00" in v for v in values)


def refuse_nul_bytes() -> None:
    """NUL characters are never legitimate text, and PostgreSQL refuses them: a 400 before any work."""
    from flask import abort, request

    if _has_nul(request.args.values()) or _has_nul(request.form.values()):
        abort(400, description="输入包含不允许的控制字符（NUL），请删除后重试")
    if request.is_json and (b"\\u0000" in request.get_data() or b"\x00" in request.get_data()):
        abort(400, description="请求体包含不允许的控制字符（\\u0000）")


def register_security_headers(app: Flask) -> None:
    """CSP without inline script, nosniff, frame-ancestors, Referrer-Policy on every response."""

    app.before_request(refuse_nul_bytes)

    @app.after_request
    def _headers(response: Response) -> Response:
        response.headers.setdefault("Content-Security-Policy", CSP)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")
        response.headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
        if app.config.get("MARKET_ENV") == "production":
            response.headers.setdefault("Strict-Transport-Security", "max-age=31536000")
        return response

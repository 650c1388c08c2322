"""Domain errors carrying (field, reason) pairs, and the HTTP error pages / JSON bodies."""

from __future__ import annotations

import sqlalchemy as sa
from flask import Flask, g, jsonify, make_response, render_template, request
from werkzeug.exceptions import HTTPException, MethodNotAllowed
from werkzeug.routing import RequestRedirect

from market import health


class DomainError(Exception):
    """A business rule refused the operation; `errors` are (field, reason) pairs in Chinese."""

    status = 400

    def __init__(self, *errors: tuple[str | None, str]) -> None:
        super().__init__("; ".join(reason for _, reason in errors))
        self.errors = list(errors)

    @property
    def message(self) -> str:
        return "；".join(reason for _, reason in self.errors)

    def as_json(self) -> dict:
        return {
            "error": "invalid",
            "message": self.message,
            "fields": [{"field": f, "reason": r} for f, r in self.errors],
        }


class ConflictError(DomainError):
    """The object changed since the caller read it (stale version)."""

    status = 409


class NotAllowed(DomainError):
    """The user may not do this."""

    status = 403


def apply_to_form(form, error: DomainError) -> None:
    """Put a DomainError's reasons on the form's fields (or on the form as a whole)."""
    for field, reason in error.errors:
        target = getattr(form, field, None) if field else None
        if target is not None and hasattr(target, "errors") and target.type != "HiddenField":
            target.errors = [*list(target.errors), reason]
        else:
            form.form_errors.append(reason)


_MESSAGES = {
    400: "请求有误",
    401: "请先登录",
    403: "没有权限访问此页面",
    404: "页面不存在或尚未公开",
    405: "不支持该请求方法",
    409: "内容已有更新的版本（冲突）",
    413: "上传的文件过大",
    429: "操作过于频繁，请稍后再试",
    500: "服务器内部错误，我们已记录，请稍后再试",
}


def database_refusal(exc: BaseException) -> tuple[str, int] | None:
    """(Chinese message, seconds to retry after) when the database refused for a reason that passes:
    a write lock held longer than the busy timeout, a read-only or full disk, a lost connection."""
    if not isinstance(exc, sa.exc.DBAPIError):
        return None
    text = str(getattr(exc, "orig", exc)).lower()
    if "locked" in text or "busy" in text:
        return "系统繁忙：其他操作正在保存，请几秒后重试", 2
    if "readonly" in text or "read-only" in text or "read only" in text:
        return "数据库当前为只读（例如正在维护），修改暂时无法保存，请稍后重试", 30
    if "disk is full" in text or "no space" in text or "database or disk is full" in text:
        return "服务器存储空间已满，修改暂时无法保存；平台运营已能在健康检查中看到，请稍后重试", 60
    if isinstance(exc, sa.exc.OperationalError | sa.exc.InterfaceError):
        return "数据库暂时无法连接，请稍后重试", 5
    return None


def wants_json() -> bool:
    return request.path.startswith("/api/") or request.accept_mimetypes.best == "application/json"


def register_errors(app: Flask) -> None:
    """Chinese error pages for pages, structured JSON for the API."""

    def render(code: int, description: str | None = None):
        message = _MESSAGES.get(code, "出错了")
        if wants_json():
            body = {"error": str(code), "message": message}
            if description and code in (400, 403, 409, 413, 429):
                body["detail"] = description
            return jsonify(body), code
        return render_template("errors/error.html", code=code, message=message, detail=description), code

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException):
        code = exc.code or 500
        # A 403 shows its reason only when a route gave one (werkzeug's default text is English).
        custom = isinstance(exc.description, str) and exc.description != type(exc).description
        detail = exc.description if custom and code in (400, 403, 409, 413, 429) else None
        if code == 400 and "CSRF" in (exc.description or ""):
            detail = "表单已过期或缺少安全令牌（CSRF），请刷新页面后重试"
        routed = isinstance(exc, MethodNotAllowed) and bool(exc.valid_methods)
        allowed = _allowed_methods(exc) if isinstance(exc, MethodNotAllowed) and routed else []
        if routed and not allowed:
            # Only a converter refused the URL (an id past the database's range): no method serves it.
            code = 404
        response = make_response(render(code, detail))
        if allowed:
            response.headers["Allow"] = ", ".join(allowed)  # RFC 9110 requires it on a 405
        return response

    def _allowed_methods(exc: MethodNotAllowed) -> list[str]:
        """The methods that really serve this URL. werkzeug lists a rule's methods once its pattern
        matches, even when its converter then refuses the value, so /api/v1/results/2147483648 would
        answer 405 "Allow: GET" to a PUT although a GET is a 404."""
        adapter = app.url_map.bind_to_environ(request.environ)
        served = []
        for method in exc.valid_methods or []:
            try:
                adapter.match(method=method)
            except RequestRedirect:  # served, at the canonical URL
                pass
            except HTTPException:  # NotFound, or MethodNotAllowed again
                continue
            served.append(method)
        return served if any(m not in ("OPTIONS", "HEAD") for m in served) else []

    @app.errorhandler(DomainError)
    def _domain_error(exc: DomainError):
        if wants_json():
            return jsonify(exc.as_json()), exc.status
        return render(exc.status, exc.message)

    @app.errorhandler(sa.exc.DBAPIError)
    def _database(exc: sa.exc.DBAPIError):
        refusal = database_refusal(exc)
        if refusal is None:
            return _unexpected(exc)
        message, retry_after = refusal
        app.logger.warning("database refused (%s): %s", request.path, str(getattr(exc, "orig", exc))[:200])
        health.forget()
        session = g.get("db_session")
        if session is not None:
            session.rollback()
        g.db_unavailable = True  # the page below must not touch the database again
        if wants_json():
            response = jsonify({"error": "503", "message": message, "retry_after": retry_after})
        else:
            response = app.make_response(
                render_template("errors/unavailable.html", message=message, retry_after=retry_after)
            )
        response.status_code = 503
        response.headers["Retry-After"] = str(retry_after)
        return response

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception):
        app.logger.exception("unhandled error")
        session = g.get("db_session")
        if session is not None:
            session.rollback()  # the error page itself reads the database (navigation, unread count)
        return render(500)

"""A user's browser, minus the rendering: cookies, CSRF tokens from the pages, form posts (requests)."""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from typing import Any

import requests

CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
DEMO_PASSWORD = "kejichengguo-demo-2026"


class User:
    """One signed-in (or anonymous) visitor of a live site."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.http = requests.Session()

    def get(self, path: str, **kw: Any) -> requests.Response:
        return self.http.get(self.base + path, timeout=60, **kw)

    def token(self, path: str) -> str:
        page = self.get(path)
        found = CSRF.search(page.text)
        if not found:
            raise AssertionError(f"no CSRF token on {path} ({page.status_code})")
        return found.group(1)

    def post(self, path: str, data: dict | None = None, *, token_from: str | None = None, **kw: Any):
        form = dict(data or {})
        form.setdefault("csrf_token", self.token(token_from or path))
        return self.http.post(self.base + path, data=form, timeout=120, allow_redirects=False, **kw)

    def login(self, email: str, password: str = DEMO_PASSWORD) -> User:
        response = self.post("/login", {"email": email, "password": password})
        if response.status_code != 302:
            raise AssertionError(f"login of {email} failed: {response.status_code}")
        return self


def at_once(calls: list[Callable[[], Any]]) -> list[Any]:
    """Run the calls in threads released together; returns each result (or the exception raised)."""
    barrier = threading.Barrier(len(calls))
    results: list[Any] = [None] * len(calls)

    def run(i: int) -> None:
        barrier.wait()
        try:
            results[i] = calls[i]()
        except Exception as exc:  # the caller asserts on it
            results[i] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results

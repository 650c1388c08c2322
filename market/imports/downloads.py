"""Import reports kept for download: one CSV per upload, readable only by the user who uploaded it."""

from __future__ import annotations

import re
import secrets
import time

from flask import Response

from market.imports.export import FORMATS
from market.imports.service import REPORT_HEADER, ImportReport
from market.imports.tabular import write_csv
from market.storage import storage

KEEP_SECONDS = 24 * 3600
FOLDER = "import-reports"
_TOKEN = re.compile(r"^[A-Za-z0-9_-]{16,64}$")


def save_report(*, user_id: int, report: ImportReport) -> str:
    """Keep the report's CSV and return the token that names it; reports older than a day are pruned."""
    store = storage()
    cutoff = time.time() - KEEP_SECONDS
    for key, mtime in list(store.keys(FOLDER)):
        if mtime < cutoff:
            store.delete(key)
    token = secrets.token_urlsafe(18)
    store.write(f"{FOLDER}/{user_id}-{token}.csv", write_csv(report.table(), REPORT_HEADER))
    return token


def report_response(*, user_id: int, token: str) -> Response | None:
    """The saved report of this user named by `token` as a download, or None."""
    if not _TOKEN.match(token or ""):
        return None
    response = storage().response(
        f"{FOLDER}/{user_id}-{token}.csv", mimetype=FORMATS["csv"], download_name="导入结果.csv"
    )
    if response is not None:
        response.headers["Cache-Control"] = "no-store"
    return response

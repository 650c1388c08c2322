"""Import reports kept for download: one CSV per upload, readable only by the user who uploaded it."""

from __future__ import annotations

import re
import secrets
import time
from pathlib import Path

from market.imports.service import REPORT_HEADER, ImportReport
from market.imports.tabular import write_csv

KEEP_SECONDS = 24 * 3600
_TOKEN = re.compile(r"^[A-Za-z0-9_-]{16,64}$")


def _folder(base: str | Path) -> Path:
    return Path(base) / "import-reports"


def save_report(base: str | Path, *, user_id: int, report: ImportReport) -> str:
    """Write the report's CSV under `base` and return the token that names it; old reports are pruned."""
    folder = _folder(base)
    folder.mkdir(parents=True, exist_ok=True)
    cutoff = time.time() - KEEP_SECONDS
    for old in folder.glob("*.csv"):
        try:
            if old.stat().st_mtime < cutoff:
                old.unlink()
        except OSError:  # another worker pruned it first
            pass
    token = secrets.token_urlsafe(18)
    (folder / f"{user_id}-{token}.csv").write_bytes(write_csv(report.table(), REPORT_HEADER))
    return token


def report_path(base: str | Path, *, user_id: int, token: str) -> Path | None:
    """The saved report of this user named by `token`, or None."""
    if not _TOKEN.match(token or ""):
        return None
    path = _folder(base) / f"{user_id}-{token}.csv"
    return path if path.is_file() else None

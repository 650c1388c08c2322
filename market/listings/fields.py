"""Field suggestions on the site: the matching library's classifier, trained on this platform's listings.

Trained on every listing whose field a person gave (not one the system inferred) plus the curated
term lists, once per process, and again when the number of such listings has grown by a tenth (checked
at most every five minutes): a suggestion costs a few milliseconds, a fit about a second.
"""

from __future__ import annotations

import threading
import time

from sqlmodel import Session, func, select

from market.listings.models import KINDS, Listing
from matching.fields import FieldClassifier, Suggestion, listing_text

#: the text a listing's field is judged by, besides title and keywords
BODY_FIELDS = {
    "result": ("summary", "problem", "advantage"),
    "need": ("description", "requirements", "target_metrics"),
}
#: refit when the labelled listings grew (or shrank) by this share since the last fit …
REFIT_SHARE = 0.1
#: … and the last fit is this old (seconds): an import of a thousand labelled rows must not refit
#: at every tenth of growth
REFIT_AFTER = 300.0
_lock = threading.Lock()
#: one classifier per process (the database it was fitted on is the process's one database)
_cache: dict[str, tuple[int, FieldClassifier, float]] = {}


def text_of(listing: Listing) -> str:
    body = "\n".join(str(getattr(listing, k) or "") for k in BODY_FIELDS[listing.kind])
    return listing_text(listing.title, listing.keywords or (), body)


def _labelled_count(session: Session) -> int:
    return sum(
        session.exec(
            select(func.count()).select_from(model).where(model.field.is_not(None), ~model.field_inferred)
        ).one()
        for model in KINDS.values()
    )


def classifier(session: Session) -> FieldClassifier:
    """This process's classifier, fitted on the labelled listings (refitted as they grow)."""
    cached = _cache.get("classifier")
    if cached is not None and time.monotonic() - cached[2] < REFIT_AFTER:
        return cached[1]
    count = _labelled_count(session)
    if cached is not None and abs(count - cached[0]) <= REFIT_SHARE * max(cached[0], 10):
        _cache["classifier"] = (cached[0], cached[1], time.monotonic())
        return cached[1]
    with _lock:
        texts: list[str] = []
        fields: list[str] = []
        for model in KINDS.values():
            for listing in session.exec(
                select(model).where(model.field.is_not(None), ~model.field_inferred)
            ).all():
                texts.append(text_of(listing))
                fields.append(listing.field)
        fitted = FieldClassifier().fit(texts, fields)
        _cache["classifier"] = (count, fitted, time.monotonic())
    return fitted


def suggest(session: Session, text: str, k: int = 3) -> list[Suggestion]:
    """The `k` likeliest second-level fields for a text."""
    return classifier(session).suggest(text, k)

"""The site's side of the matcher: records from the database, the fitted model on disk, Match rows.

One fitted `matching.Matcher` is kept at MATCH_MODEL_PATH. A full rebuild refits it on every published
listing; a newly published or edited listing is added to it without refitting (and a withdrawn one
removed), under a file lock so that several processes (web workers, the relay worker) never lose each
other's changes. Recomputing matches only ever writes scores and reasons: the state agents gave a match
(claimed, introduced, …) is never touched, and a pair someone acted on is never deleted.
"""

from __future__ import annotations

import fcntl
import os
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from flask import Flask
from sqlmodel import Session, delete, select

from market.accounts.models import Organization
from market.db import utcnow
from market.listings.models import KINDS, Listing, ResearchResult, TechNeed
from market.matches.models import Match
from matching.matcher import Matcher, ModelFormatError
from matching.records import NeedRecord, ResultRecord
from vocab.taxonomy import ListingStatus, MatchStatus

#: matches kept per listing, and the lowest score worth an agent's time
TOP_K = 20
MIN_SCORE = 0.2

_process_lock = threading.Lock()


def result_record(listing: ResearchResult, org: Organization) -> ResultRecord:
    return ResultRecord(
        id=str(listing.id),
        title=listing.title,
        summary=listing.summary or "",
        problem=listing.problem or "",
        advantage=listing.advantage or "",
        keywords=tuple(listing.keywords or ()),
        field=listing.field,
        maturity=listing.maturity,
        transfer_modes=tuple(listing.transfer_modes or ()),
        price=None if listing.price_negotiable else listing.price_wan,
        region=org.region,
    )


def need_record(listing: TechNeed, org: Organization) -> NeedRecord:
    return NeedRecord(
        id=str(listing.id),
        title=listing.title,
        description=listing.description or "",
        requirements=listing.requirements or "",
        target_metrics=listing.target_metrics or "",
        keywords=tuple(listing.keywords or ()),
        field=listing.field,
        cooperation_modes=tuple(listing.cooperation_modes or ()),
        budget_min=listing.budget_min_wan,
        budget_max=listing.budget_max_wan,
        region=org.region,
        is_challenge=listing.is_challenge,
    )


def record_of(listing: Listing, org: Organization) -> ResultRecord | NeedRecord:
    return result_record(listing, org) if listing.kind == "result" else need_record(listing, org)


def published_records(session: Session) -> tuple[list[ResultRecord], list[NeedRecord]]:
    out: dict[str, list] = {"result": [], "need": []}
    for kind, model in KINDS.items():
        rows = session.exec(
            select(model, Organization)
            .join(Organization, Organization.id == model.organization_id)
            .where(model.status == ListingStatus.PUBLISHED)
        ).all()
        out[kind] = [record_of(listing, org) for listing, org in rows]
    return out["result"], out["need"]


class ModelStore:
    """The fitted matcher on disk, cached per process and reloaded when another process saved it."""

    def __init__(self, path: str) -> None:
        self.path = Path(path)
        self._matcher: Matcher | None = None
        self._mtime: float | None = None

    @contextmanager
    def locked(self) -> Iterator[None]:
        """Exclusive access across processes (and threads) for a load–modify–save cycle."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with _process_lock, open(f"{self.path}.lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    def load(self) -> Matcher | None:
        """The current model (None when none was built yet or the file is unreadable)."""
        try:
            mtime = self.path.stat().st_mtime
        except FileNotFoundError:
            return None
        if self._matcher is None or mtime != self._mtime:
            try:
                self._matcher = Matcher.load(self.path)
            except (ModelFormatError, EOFError, OSError, ValueError):
                return None
            self._mtime = mtime
        return self._matcher

    def save(self, matcher: Matcher) -> None:
        tmp = self.path.with_suffix(f".tmp{os.getpid()}")
        matcher.save(tmp)
        os.replace(tmp, self.path)  # atomic: readers see the old or the new model, never half
        self._matcher, self._mtime = matcher, self.path.stat().st_mtime


def store(app: Flask) -> ModelStore:
    s = app.extensions.get("matches.store")
    if s is None or str(s.path) != str(app.config["MATCH_MODEL_PATH"]):
        s = app.extensions["matches.store"] = ModelStore(str(app.config["MATCH_MODEL_PATH"]))
    return s


def _upsert(session: Session, pairs: list[tuple[int, int, float, dict]]) -> int:
    """Write scores and reasons for (result_id, need_id) pairs; state is left as agents set it."""
    if not pairs:
        return 0
    wanted = {(r, n): (score, reasons) for r, n, score, reasons in pairs}
    existing = {
        (m.result_id, m.need_id): m
        for m in session.exec(
            select(Match).where(
                Match.result_id.in_({r for r, _ in wanted}), Match.need_id.in_({n for _, n in wanted})
            )
        ).all()
    }
    now = utcnow()
    for key, (score, reasons) in wanted.items():
        match = existing.get(key)
        if match is None:
            session.add(
                Match(result_id=key[0], need_id=key[1], score=score, reasons=reasons, origin="matcher")
            )
        else:
            match.score, match.reasons, match.stale, match.updated_at = score, reasons, False, now
            session.add(match)
    session.flush()
    return len(wanted)


def stored_reasons(reasons: dict) -> dict:
    """The matcher's reasons in the site's shape: components with value and weight, and key terms."""
    components = {k: v for k, v in reasons.items() if isinstance(v, dict)}
    return {"components": components, "terms": list(reasons.get("key_terms", []))}


def _pairs(matches) -> list[tuple[int, int, float, dict]]:
    return [
        (int(m.result_id), int(m.need_id), round(m.score, 6), stored_reasons(m.reasons))
        for m in matches
        if m.score >= MIN_SCORE
    ]


def _drop_unacted(
    session: Session,
    *,
    result_id: int | None = None,
    need_id: int | None = None,
    keep: set[tuple[int, int]] = frozenset(),
) -> None:
    """Delete suggested pairs nobody acted on (no agent, no interest, no feedback) that are no longer wanted;
    pairs someone acted on are only marked stale."""
    stmt = select(Match).where(Match.origin == "matcher")
    if result_id is not None:
        stmt = stmt.where(Match.result_id == result_id)
    if need_id is not None:
        stmt = stmt.where(Match.need_id == need_id)
    for match in session.exec(stmt).all():
        if (match.result_id, match.need_id) in keep:
            continue
        untouched = (
            match.status == MatchStatus.SUGGESTED
            and match.agent_id is None
            and match.raised_at is None
            and not match.result_feedback
            and not match.need_feedback
        )
        if untouched:
            session.exec(delete(Match).where(Match.id == match.id))
        elif not match.stale:
            match.stale = True
            session.add(match)


def rebuild(
    session: Session, app: Flask, *, progress: Callable[[int], None] | None = None, k: int = TOP_K
) -> dict[str, int]:
    """Refit on every published listing and recompute all matches (agents' states untouched)."""
    results, needs = published_records(session)
    stats = {"results": len(results), "needs": len(needs), "pairs": 0}
    if not results or not needs:
        return stats
    matcher = Matcher().fit(results, needs)
    wanted: dict[tuple[int, int], tuple[float, dict]] = {}
    for chunk_start in range(0, len(needs), 200):
        ids = [n.id for n in needs[chunk_start : chunk_start + 200]]
        for matches in matcher.rank(k, need_ids=ids).values():
            for r, n, score, reasons in _pairs(matches):
                wanted[(r, n)] = (score, reasons)
        if progress:
            progress(len(ids))
    for matches in matcher.rank_results(k).values():
        for r, n, score, reasons in _pairs(matches):
            wanted.setdefault((r, n), (score, reasons))
    if progress:
        progress(len(results))
    # Pairs agents or owners acted on keep a fresh score even when they left everyone's top k.
    acted = session.exec(select(Match).where(Match.status != MatchStatus.SUGGESTED)).all()
    indexed_r = {r.id for r in results}
    indexed_n = {n.id for n in needs}
    for match in acted:
        key = (match.result_id, match.need_id)
        if key not in wanted and str(key[0]) in indexed_r and str(key[1]) in indexed_n:
            m = matcher.score_pair(str(key[1]), str(key[0]))
            wanted[key] = (round(m.score, 6), stored_reasons(m.reasons))
    stats["pairs"] = _upsert(session, [(r, n, s, reasons) for (r, n), (s, reasons) in wanted.items()])
    _drop_unacted(session, keep=set(wanted))
    with store(app).locked():
        store(app).save(matcher)
    return stats


def refresh_listing(
    session: Session,
    app: Flask,
    kind: str,
    listing_id: int,
    listing: Listing | None,
    org: Organization | None,
) -> None:
    """The relay's handler: keep one listing's matches current (no refit)."""
    column = {"result_id": listing_id} if kind == "result" else {"need_id": listing_id}
    published = listing is not None and org is not None and listing.status == ListingStatus.PUBLISHED
    model = store(app)
    with model.locked():
        matcher = model.load()
        if matcher is None:
            results, needs = published_records(session)
            if not results or not needs:
                return
            matcher = Matcher().fit(results, needs)
        if published:
            record = record_of(listing, org)
            (matcher.add_result if kind == "result" else matcher.add_need)(record)
            other = matcher.needs if kind == "result" else matcher.results
            matches = (
                (
                    matcher.matches_for_result(record.id, TOP_K)
                    if kind == "result"
                    else matcher.matches_for_need(record.id, TOP_K)
                )
                if other
                else []
            )
        else:
            matcher.remove(kind, str(listing_id))
            matches = []
        model.save(matcher)
    pairs = _pairs(matches)
    _upsert(session, pairs)
    _drop_unacted(session, keep={(r, n) for r, n, _, _ in pairs}, **column)


def register_matching(app: Flask) -> None:
    """Matches follow listing changes through the outbox, and are part of a full rebuild."""
    from market.outbox import relay
    from market.rebuild import register_rebuild_step

    def handler(session, kind, listing_id, listing, org):
        refresh_listing(session, app, kind, listing_id, listing, org)
        return None

    relay.register_handler(app, handler)

    from market.matches.cli import rebuild_command

    register_rebuild_step(app, lambda echo: rebuild_command.callback())

"""The site's side of the matcher: records from the database, the per-listing match store, Match rows.

The worker keeps one `matching.store.MatchStore` (at MATCH_STORE_PATH) up to date change by change
through the outbox: a listing's change costs what that listing costs, whatever the library's size, and
a restart loads no model. A full rebuild refits the vocabulary into a new store and swaps it in.

Match rows are the store's wanted pairs plus every pair someone acted on. Recomputing only ever writes
scores and reasons: the state agents gave a match (claimed, introduced, …) is never touched, and a pair
someone acted on is never deleted — only marked stale when the matcher no longer recommends it.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable, Iterable
from pathlib import Path

import sqlalchemy as sa
from flask import Flask
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, func, or_, select

from market.accounts.models import Organization
from market.db import utcnow
from market.listings.models import KINDS, Listing
from market.matches import labels
from market.matches.models import Match
from market.matches.records import published_records, record_of
from market.outbox import relay
from market.outbox.worker import tx
from matching.learn import LearnedRanker
from matching.learn import learn as learn_ranker
from matching.matcher import Matcher, score_pairs
from matching.records import Pair
from matching.scoring import Weights
from matching.store import (
    MatchStore,
    PairState,
    StoreConfig,
    StoreError,
    describe,
    read_model,
    remove_stale_builds,
)
from matching.text import TextModel
from vocab.taxonomy import ListingStatus, MatchStatus

#: matches kept per listing, and the lowest score worth an agent's time
TOP_K = 20
MIN_SCORE = 0.2
CONFIG = StoreConfig(k=TOP_K, candidates=5 * TOP_K, min_score=MIN_SCORE)

Progress = Callable[[str], None]
#: batches up to this size write each new listing's own matches before the rest of the batch and
#: offer it to the other side's lists at once; a larger batch (a bulk import) writes every listing's
#: own matches and leaves the offers to the `match-offers` job, a few listings at a time
EARLY_BATCH = 5
#: listings whose put-off offers one run of the `match-offers` job makes
OFFER_SLICE = 10


# -- the store ------------------------------------------------------------------------------------


def store_path(app: Flask) -> Path:
    return Path(str(app.config["MATCH_STORE_PATH"]))


def open_store(app: Flask) -> MatchStore | None:
    """This process's store, reopened when a rebuild swapped the file; None when there is none yet."""
    current: MatchStore | None = app.extensions.get("matches.store")
    if current is not None and not current.replaced():
        return current
    if current is not None:
        current.close()
        app.extensions["matches.store"] = None
    try:
        opened = MatchStore(store_path(app))
    except StoreError:
        return None
    app.extensions["matches.store"] = opened
    return opened


def build_store(app: Flask, progress: Progress | None = None) -> tuple[MatchStore, int]:
    """Refit a new store on every published listing and swap it in; returns it and the last outbox id
    it covers."""
    with tx(app).read() as session:
        upto = relay.last_entry_id(session)
        results, needs = published_records(session)
    store_path(app).parent.mkdir(parents=True, exist_ok=True)
    built = MatchStore.build(
        store_path(app),
        results,
        needs,
        config=CONFIG,
        weights=live_weights(app),
        n_jobs=int(app.config.get("MATCH_JOBS", 1)),
        progress=progress,
    )
    previous = app.extensions.get("matches.store")
    if previous is not None:
        previous.close()
    app.extensions["matches.store"] = built
    return built, upto


def scoring_model(app: Flask) -> tuple[TextModel, Weights] | None:
    """The live store's text model and weights (read once per store file), None before a store exists."""
    path = store_path(app)
    try:
        stamp = (path.stat().st_ino, path.stat().st_mtime_ns)
    except FileNotFoundError:
        return None
    cached = app.extensions.get("matches.model")
    if cached is None or cached[0] != stamp:
        cached = (stamp, read_model(path))
        app.extensions["matches.model"] = cached
    return cached[1]


def best_counterpart(
    app: Flask, session: Session, listing: Listing, others: list[Listing]
) -> tuple[Listing, float, dict] | None:
    """Of `others` (listings of the other kind), the one that matches `listing` best, with its score
    and reasons, scored as the matcher scores any pair; None when none reaches `MIN_SCORE` with some
    text in common."""
    if not others:
        return None
    orgs = {
        o.id: o
        for o in session.exec(
            select(Organization).where(
                Organization.id.in_({listing.organization_id, *(x.organization_id for x in others)})
            )
        ).all()
    }
    mine = record_of(listing, orgs[listing.organization_id])
    theirs = [record_of(x, orgs[x.organization_id]) for x in others]
    model = scoring_model(app)
    if model is None:  # no store yet: a matcher fitted on these listings alone
        fitted = Matcher().fit(*((theirs, [mine]) if listing.kind == "need" else ([mine], theirs)))
        model = (fitted.text, fitted.weights)
    if listing.kind == "result":
        scored = score_pairs(*model, theirs, [mine] * len(theirs))
    else:
        scored = score_pairs(*model, [mine] * len(theirs), theirs)
    ranked = sorted(zip(scored, others, strict=True), key=lambda p: (-p[0].score, p[1].id))
    best, other = ranked[0]
    if best.score < MIN_SCORE or not best.reasons["text"]["cosine"] > 0:
        return None
    return other, best.score, stored_reasons(best.reasons)


# -- the ranker learnt from decisions ---------------------------------------------------------------


def learned_path(app: Flask) -> Path:
    return Path(str(app.config["MATCH_LEARNED_PATH"]))


def learned_ranker(app: Flask) -> LearnedRanker | None:
    """The last `flask match learn` result, None when there is none (or it cannot be read)."""
    try:
        return LearnedRanker.load(learned_path(app))
    except (OSError, ValueError, KeyError, TypeError):
        return None


def live_weights(app: Flask) -> Weights | None:
    """The learnt weights while their cross-validated score is not worse than the first stage's,
    else None (the default weights)."""
    ranker = learned_ranker(app)
    return ranker.weights if ranker is not None and ranker.live else None


def ranker_status(app: Flask) -> dict:
    """Which ranker is live and why (admin page)."""
    ranker = learned_ranker(app)
    if ranker is None:
        return {"live": "first_stage", "reason": "尚未从对接决定中学习（flask match learn）"}
    return {
        "live": "learned" if ranker.live else "first_stage",
        "reason": ranker.cv.get("reason", ""),
        "pairs": ranker.pairs,
        "needs": ranker.needs,
        "weights": ranker.weights.as_dict(),
    }


def learn(app: Flask, progress: Progress | None = None) -> LearnedRanker:
    """Fit the ranker to agents' and owners' decisions (graded as `labels.grade`), cross-validate it,
    save it, and rebuild the store when which weights are live changed."""
    say = progress or (lambda _m: None)
    before = live_weights(app)
    with tx(app).read() as session:
        pairs = [Pair(**line) for line in labels.labels(session)]
        records: dict[str, list] = {"result": [], "need": []}
        for kind, model in KINDS.items():
            for listing, org in session.exec(
                select(model, Organization).join(Organization, Organization.id == model.organization_id)
            ).all():
                record = record_of(listing, org)
                records[kind].append(dataclasses.replace(record, id=labels.listing_id(listing)))
    say(f"{len(pairs)} 条对接决定，成果 {len(records['result'])}，需求 {len(records['need'])}")
    ranker = learn_ranker(records["result"], records["need"], pairs)
    learned_path(app).parent.mkdir(parents=True, exist_ok=True)
    ranker.save(learned_path(app))
    say(ranker.cv.get("reason", "") or "没有可用的标注")
    if live_weights(app) != before and open_store(app) is not None:
        rebuild(app, progress)
    return ranker


# -- match rows -----------------------------------------------------------------------------------

_UNTOUCHED = (
    Match.origin == "matcher",
    Match.status == MatchStatus.SUGGESTED,
    Match.agent_id.is_(None),
    Match.raised_at.is_(None),
    Match.result_feedback.is_(None),
    Match.need_feedback.is_(None),
)


def stored_reasons(reasons: dict) -> dict:
    """The matcher's reasons in the site's shape: components with value and weight, key terms, and
    the other parts in words."""
    components = {k: v for k, v in reasons.items() if isinstance(v, dict)}
    return {
        "components": components,
        "terms": list(reasons.get("key_terms", [])),
        "sentences": list(reasons.get("sentences", [])),
    }


def _upsert_statement(session: Session):
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    stmt = dialect.insert(Match.__table__)
    return stmt.on_conflict_do_update(
        index_elements=["result_id", "need_id"],
        set_={
            "score": stmt.excluded.score,
            "reasons": stmt.excluded.reasons,
            "stale": stmt.excluded.stale,
            "updated_at": stmt.excluded.updated_at,
        },
    )


def write_pairs(session: Session, states: Iterable[PairState], *, stale: frozenset = frozenset()) -> int:
    """Bring match rows in line with pair states: upsert the wanted ones (agents' states untouched;
    those whose (result_id, need_id) is in `stale` are scored but no longer recommended), delete the
    unwanted ones nobody acted on and mark the others stale. Returns the rows written."""
    now = utcnow()
    wanted, unwanted = [], []
    for state in states:
        if state.unchanged:
            continue  # still recommended, same score: the row stands
        key = (int(state.result_id), int(state.need_id))
        if state.wanted:
            wanted.append(
                {
                    "result_id": key[0],
                    "need_id": key[1],
                    "score": round(state.score, 6),
                    "reasons": stored_reasons(state.reasons or {}),
                    "status": MatchStatus.SUGGESTED,
                    "origin": "matcher",
                    "stale": key in stale,
                    "created_at": now,
                    "updated_at": now,
                    "version": 1,
                }
            )
        else:
            unwanted.append(key)
    for start in range(0, len(wanted), 500):
        session.execute(_upsert_statement(session), wanted[start : start + 500])
    _drop(session, unwanted)
    return len(wanted) + len(unwanted)


def _drop(session: Session, pairs: list[tuple[int, int]]) -> None:
    """Pairs the matcher no longer recommends: deleted when nobody acted on them, else marked stale.
    One statement per pair through the (result_id, need_id) unique index."""
    if not pairs:
        return
    table = Match.__table__
    pair = (table.c.result_id == sa.bindparam("r"), table.c.need_id == sa.bindparam("n"))
    params = [{"r": r, "n": n} for r, n in pairs]
    session.execute(sa.delete(table).where(*pair, *_UNTOUCHED), params)
    stale = sa.update(table).where(*pair, table.c.origin == "matcher", table.c.stale.is_(False))
    session.execute(stale.values(stale=True), params)


def _involving(keys: set[tuple[str, int]]):
    results = [i for k, i in keys if k == "result"]
    needs = [i for k, i in keys if k == "need"]
    return or_(Match.result_id.in_(results or [-1]), Match.need_id.in_(needs or [-1]))


def _settle(store: MatchStore, rows, recommended: set[tuple[str, str]]) -> tuple[list[PairState], frozenset]:
    """Existing rows the matcher does not recommend: a pair someone acted on (an agent's state, an
    owner's interest) is rescored and kept, stale; the rest are to be dropped."""
    states, stale = [], set()
    for result_id, need_id, status, origin in rows:
        key = (str(result_id), str(need_id))
        if key in recommended:
            continue
        acted = status != MatchStatus.SUGGESTED or origin != "matcher"
        fresh = store.score_pair(*key) if acted else None
        if fresh is not None:
            states.append(fresh)
            stale.add((int(result_id), int(need_id)))
        else:
            states.append(PairState(*key, None))
    return states, frozenset(stale)


_ROW_KEYS = (Match.result_id, Match.need_id, Match.status, Match.origin)


def match_handler(app: Flask) -> relay.Handler:
    """The relay's handler: apply a batch of listing changes to the store, then to the match rows."""

    def handle(changes: list[relay.Change], batch_tx: relay.Tx) -> None:
        store = open_store(app)
        if store is None or (store.fitted_docs < EAGER_REFIT_DOCS and refit_due(app, store)):
            # A new or still small library: refitting on everything is cheap and gives a vocabulary
            # fitted on what is there now (the changes are committed, so the rebuild includes them).
            rebuild(app)
            return
        batch = [
            (c.kind, str(c.listing_id), record_of(c.listing, c.org) if c.published else None) for c in changes
        ]

        def early(states: list[PairState]) -> None:
            # A newly published listing's own matches are readable before the other side's lists
            # are brought up to date.
            with batch_tx.write() as session:
                write_pairs(session, states)

        # A single approval shows its own matches first; a bulk import gets every listing's own
        # matches in one batch and its offers to the other side's lists after (`offer_deferred`).
        single = len(batch) <= EARLY_BATCH
        diff = store.apply(batch, early=early if single else None, defer_offers=not single)
        recommended = {key for key, state in diff.pairs.items() if state.wanted}
        keys = {(c.kind, c.listing_id) for c in changes}
        with batch_tx.read() as session:
            rows = session.exec(select(*_ROW_KEYS).where(_involving(keys))).all()
        settled, stale = _settle(store, rows, recommended)
        with batch_tx.write() as session:
            write_pairs(session, [*diff.pairs.values(), *settled], stale=stale)

    return handle


def rebuild(app: Flask, progress: Progress | None = None) -> dict[str, int]:
    """Refit the store on every published listing and bring every match row in line (agents' states
    untouched). Changes relayed meanwhile went to the old store: they are queued again."""
    say = progress or (lambda _m: None)
    store, upto = build_store(app, say)
    stats = {"results": store.count("result"), "needs": store.count("need"), "pairs": 0}
    recommended: set[tuple[str, str]] = set()
    batch: list[PairState] = []

    def flush() -> None:
        with tx(app).write() as session:
            stats["pairs"] += write_pairs(session, batch)
        batch.clear()

    for state in store.wanted_pairs():
        recommended.add((state.result_id, state.need_id))
        batch.append(state)
        if len(batch) >= 2000:
            flush()
    flush()
    with tx(app).read() as session:
        rows = session.exec(select(*_ROW_KEYS)).all()
    settled, stale = _settle(store, rows, recommended)
    with tx(app).write() as session:
        write_pairs(session, settled, stale=stale)
        relay.requeue_after(session, upto)
    say(f"匹配已重算：成果 {stats['results']}，需求 {stats['needs']}，匹配 {stats['pairs']} 对")
    return stats


# -- worker jobs ----------------------------------------------------------------------------------


#: a store fitted on fewer listings than this is refitted as soon as the library grows past
#: MATCH_REFIT_GROWTH (cheap at that size); a larger one by the worker's periodic job
EAGER_REFIT_DOCS = 500


def published_total(app: Flask) -> int:
    with tx(app).read() as session:
        return sum(
            session.exec(select(func.count()).select_from(m).where(m.status == ListingStatus.PUBLISHED)).one()
            for m in KINDS.values()
        )


def refit_due(app: Flask, store: MatchStore, published: int | None = None) -> bool:
    """The library grew or shrank by more than MATCH_REFIT_GROWTH since the vocabulary was fitted."""
    published = published_total(app) if published is None else published
    fitted = max(store.fitted_docs, 1)
    return published > 0 and abs(published - fitted) / fitted > float(
        app.config.get("MATCH_REFIT_GROWTH", 0.25)
    )


def keep_store(app: Flask) -> str | None:
    """Worker job: build the store when there is none, refit it when the library grew or shrank by
    more than MATCH_REFIT_GROWTH since its vocabulary was fitted, and checkpoint it when idle."""
    remove_stale_builds(store_path(app))
    store = open_store(app)
    published = published_total(app)
    if store is None:
        if not published:
            return None
        stats = rebuild(app)
        return f"已建立匹配库（成果 {stats['results']}，需求 {stats['needs']}）"
    if refit_due(app, store, published):
        fitted = store.fitted_docs
        rebuild(app)
        return f"词表已按 {published} 条发布重新拟合（上次 {fitted} 条）"
    store.checkpoint()
    return None


def make_deferred_offers(app: Flask) -> str | None:
    """Worker job: offer up to OFFER_SLICE listings of a bulk import to the other side's lists and
    write the pairs that enter or leave those lists' matches. The rows are written before the store
    commits: a worker killed in between makes (and reports) the same offers again."""
    store = open_store(app)
    if store is None or not store.deferred:
        return None

    def record(diff) -> None:
        with tx(app).write() as session:
            write_pairs(session, diff.pairs.values())

    diff = store.offer_deferred(limit=OFFER_SLICE, before_commit=record)
    entered = sum(1 for state in diff.pairs.values() if state.wanted and not state.unchanged)
    left = store.deferred
    return f"新发布已补入对方的匹配列表，新增推荐 {entered} 对" + (f"，还有 {left} 条待补入" if left else "")


def warm_store(app: Flask) -> None:
    """Open the store and run the text analyser once, so the first change after a start is not slower."""
    store = open_store(app)
    if store is not None:
        store.text.transform([("预热", ("预热",), "供需匹配预热")])


def store_status(app: Flask) -> dict | None:
    """What the store file holds (admin page, status command); None before it is built."""
    try:
        return describe(store_path(app))
    except StoreError as exc:
        return {"error": str(exc)}


def store_health(app: Flask) -> dict:
    """The store's state for the system page: "absent" before the worker first builds it."""
    status = store_status(app)
    if status is None:
        return {"ok": True, "absent": True}
    return {"ok": "error" not in status, **status}


def remove_store(app: Flask) -> None:
    """Delete the store file (tests, `make clean`)."""
    for suffix in ("", "-wal", "-shm"):
        path = Path(f"{store_path(app)}{suffix}")
        if path.exists():
            os.unlink(path)

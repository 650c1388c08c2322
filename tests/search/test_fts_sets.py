"""Term sets of the FTS5 engine: kept by a rebuild, kept in memory, brought forward through edits;
and the facet profiles of the in-memory columns."""

from __future__ import annotations

import random
import sqlite3
from collections import Counter

import numpy as np
import pytest

import search.fts.engine as fts_module
import search.fts.sets as fts_sets
from search.base import SearchQuery
from search.columns import PROFILE_FACETS, _build, _profiles
from search.fts import FtsEngine
from search.fts.query import TermSets, _bit_counts
from tests.search.fixtures import fixture_docs

DOCS = fixture_docs()
QUERIES = ["电池", "储能 电池", "检测", "氢能 燃料电池", "材料", "智能", "AI", "固态电池 电解质"]


@pytest.fixture
def path(tmp_path) -> str:
    return str(tmp_path / "index.sqlite3")


@pytest.fixture
def frequent(monkeypatch: pytest.MonkeyPatch) -> None:
    """Sixty listings are few: call a term frequent from five documents on."""
    monkeypatch.setattr(fts_sets, "HOT_MIN_DOCS", 5)


#: filters the engine keeps a mask for, per index state
FILTERS = [{}, {"filters": {"region": ["天津"]}}, {"kind": "need", "price_min": 50.0}]


def answers(engine: FtsEngine) -> dict[tuple[str, int], list[tuple[str, float]]]:
    """Every query's whole ranked list (ids and scores), its total and its facets."""
    out = {}
    for text in [*QUERIES, ""]:
        for i, filters in enumerate(FILTERS):
            result = engine.query(SearchQuery(text=text, per_page=100, **filters))
            out[(text, i)] = [("total", result.total), result.facets, *((h.id, h.score) for h in result.hits)]
    return out


def afresh(path: str, monkeypatch: pytest.MonkeyPatch) -> dict[tuple[str, int], list[tuple[str, float]]]:
    """The answers of an engine that reads every set from FTS5 (no kept or remembered sets)."""
    with monkeypatch.context() as patch:
        patch.setattr(fts_module, "load_hot_set", lambda conn, key: None)
        engine = FtsEngine(path, result_cache=0)
        engine.sets.max_cost = 0
        found = answers(engine)
        engine.close()
    return found


@pytest.mark.usefixtures("frequent")
def test_a_rebuild_keeps_the_sets_of_frequent_terms(path: str, monkeypatch: pytest.MonkeyPatch) -> None:
    engine = FtsEngine(path)
    report = engine.rebuild(DOCS)
    assert report["hot_sets"] > 10
    conn = sqlite3.connect(path)
    (seq,) = conn.execute("SELECT max(seq) FROM changes").fetchone()
    kept = conn.execute("SELECT tbl, expr, seq, rowids FROM hot_sets").fetchall()
    assert len(kept) == report["hot_sets"]
    for table, expr, at, blob in kept:
        assert at == seq  # exact at the rebuild's own change-log entry
        assert np.frombuffer(blob, dtype="<u4").tolist() == fts_sets.read(conn, table, expr).tolist()
    assert ("fts_g", fts_module.expression(fts_module.query_terms("电池"))) in {(t, e) for t, e, _, _ in kept}

    # A fresh process answers 电池 (match and every ranking level) without walking FTS5 at all.
    walked: list[str] = []
    real_read = fts_module.read
    monkeypatch.setattr(
        fts_module, "read", lambda conn, table, expr: walked.append(expr) or real_read(conn, table, expr)
    )
    fresh = FtsEngine(path, result_cache=0)
    battery = fresh.query(SearchQuery(text="电池", per_page=100))
    assert walked == []
    assert battery.total == sum("电池" in " ".join([d["title"], d["body"], *d["keywords"]]) for d in DOCS)
    # Another rebuild retires the sets in memory; the new kept sets replace them, still no walk.
    engine.rebuild(DOCS[1:])
    assert "电池" in DOCS[0]["title"]
    assert fresh.query(SearchQuery(text="电池", per_page=100)).total == battery.total - 1
    assert walked == []
    monkeypatch.undo()
    assert answers(fresh) == afresh(path, monkeypatch)


@pytest.mark.usefixtures("frequent")
def test_sets_are_brought_forward_through_edits(path: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """A writer (the relay) adds, edits and deletes at random, and once rebuilds; a reader that
    keeps its sets answers every query exactly like one that reads everything afresh, whether it
    brought its sets forward by lookups (few changes) or by reading a stretch (more), or had to
    take the rebuild's kept sets."""
    monkeypatch.setattr(fts_sets, "FORWARD_LOOKUPS", 2)
    writer = FtsEngine(path)
    writer.rebuild(DOCS)
    reader = FtsEngine(path, result_cache=0)
    paths = Counter()
    real_forward = fts_module.bring_forward

    def forward(conn, key, rowids, changed):
        paths["lookups" if len(changed) <= fts_sets.FORWARD_LOOKUPS else "stretch"] += 1
        return real_forward(conn, key, rowids, changed)

    monkeypatch.setattr(fts_module, "bring_forward", forward)
    rng = random.Random(11)
    live = {d["id"]: d for d in DOCS}
    next_id = 1000
    assert answers(reader) == afresh(path, monkeypatch)
    for step in range(14):
        changed = []
        if step == 9:
            writer.rebuild(list(live.values()))
            changed.append("rebuild")
        for _ in range(rng.choice([1, 2, 3, 7])):
            doc, donor = rng.choice(list(live.values())), rng.choice(DOCS)
            action = rng.random()
            if action < 0.25 and len(live) > 20:
                writer.delete([doc["id"]])
                del live[doc["id"]]
            elif action < 0.5:  # a new listing: the highest id so far
                next_id += 1
                added = dict(donor, id=f"{donor['kind']}-{next_id}", db_id=next_id)
                writer.upsert([added])
                live[added["id"]] = doc = added
            else:  # another listing's words move into this one: sets gain and lose members
                edited = dict(doc, title=donor["title"], body=donor["body"], keywords=donor["keywords"])
                writer.upsert([edited])
                live[doc["id"]] = edited
            changed.append(doc["id"])
        assert answers(reader) == afresh(path, monkeypatch), changed
    assert paths["lookups"] > 0 and paths["stretch"] > 0


def test_term_sets_keep_the_newest_copy_within_their_bytes() -> None:
    sets = TermSets(2 * 256 + 16)
    old, new = np.arange(2, dtype=np.uint32), np.arange(3, dtype=np.uint32)
    sets.put("a", 5, new)
    sets.put("a", 4, old)  # read under an older sequence: the newer copy stays
    assert sets.get("a") == (5, new)
    sets.put("a", 6, old)
    assert sets.get("a") == (6, old)
    sets.put("b", 6, np.empty(0, dtype=np.uint32))
    sets.put("c", 6, np.empty(0, dtype=np.uint32))  # empty sets cost their entry: "a" goes
    assert sets.get("a") is None and len(sets) == 2


def test_contains() -> None:
    rng = np.random.default_rng(2)
    for _ in range(50):
        before = np.unique(rng.integers(0, 300, rng.integers(0, 100))).astype(np.uint32)
        changed = np.unique(rng.integers(0, 300, rng.integers(0, 10))).astype(np.uint32)
        assert fts_sets.contains(before, changed).tolist() == [c in set(before.tolist()) for c in changed]


@pytest.mark.parametrize("large_codes", [False, True])
def test_facet_profiles_count_like_a_counter(large_codes: bool) -> None:
    """Counting through profiles (many matches) and directly (few) agree with a plain count, also
    when the codes are too large for the mixed-radix key and `np.unique` over rows is used."""

    rng = np.random.default_rng(4)
    n = 6000
    top = 1 << 21 if large_codes else 8
    table = np.vstack(
        [
            np.arange(n) * 2,  # rowid
            rng.integers(0, 2, n),  # kind
            rng.integers(-1, 5, n),  # field_top
            rng.integers(-1, top, n),  # field
            rng.integers(-1, 4, n) if not large_codes else rng.integers(-1, top, n),  # maturity
            rng.integers(-1, 6, n) if not large_codes else rng.integers(-1, top, n),  # region
            rng.integers(0, 2, n),  # is_challenge
            rng.integers(1, 8, n),  # modes
            np.full(n, -1),
            np.full(n, -1),
            rng.integers(0, 10**9, n),
            rng.integers(0, 2, n),  # stale
        ]
    ).astype(np.float64)
    cols = _build(1, table)
    # gathers from strided columns cost three to four times as much
    assert all(a.flags.c_contiguous for a in vars(cols).values() if isinstance(a, np.ndarray))
    if not large_codes:  # so that both ways of counting run below
        assert n // 2 < len(cols.profile_codes["kind"]) < n
    assert all(
        (cols.profile_codes[name][cols.profile] == getattr(cols, name)).all() for name in PROFILE_FACETS
    )
    for size in (n, n // 2, 7, 0):
        pos = np.sort(rng.choice(n, size, replace=False))
        counted = cols.facet_counts(pos, PROFILE_FACETS)
        for name in PROFILE_FACETS:
            expected = Counter(int(v) for v in getattr(cols, name)[pos] if v >= 0)
            assert dict(counted[name]) == expected, (name, size)
    assert _profiles([np.array([3, 3, -1]), np.array([0, 0, 1])])[0].tolist() == [1, 1, 0]


@pytest.mark.parametrize("sparse", [False, True])
def test_positions_of_rowids_drop_the_absent(sparse: bool) -> None:
    """Through the lookup table (dense rowids) and by binary search (sparse), rowids the snapshot
    does not hold, beyond its largest or in its gaps, are dropped."""

    rng = np.random.default_rng(8)
    rowids = np.unique(rng.integers(0, 10**12 if sparse else 5000, 800))
    table = np.zeros((12, len(rowids)))
    table[0] = rowids
    cols = _build(1, table)
    assert (cols.lookup is None) == sparse
    for _ in range(30):
        asked = np.unique(
            np.concatenate([rng.choice(rowids, 50), rng.integers(0, int(rowids.max()) * 2, 20)])
        )
        expected = [i for i, r in enumerate(rowids.tolist()) if r in set(asked.tolist())]
        assert cols.positions(asked.astype(np.uint32 if not sparse else np.int64)).tolist() == expected


def test_bit_counts_match_a_plain_count() -> None:
    """How many mode masks hold each bit: listings without modes, few distinct masks and wide ones."""

    rng = np.random.default_rng(6)
    cases = [np.zeros(5, dtype=np.int64), np.array([], dtype=np.int64), np.array([0, 4, 0, 5])]
    cases += [rng.integers(0, 1 << width, rng.integers(1, 300)) for width in (3, 8, 20, 40) for _ in range(5)]
    for masks in cases:
        expected = Counter(bit for m in masks.tolist() for bit in range(64) if (m >> bit) & 1)
        assert _bit_counts(masks.astype(np.int64)) == dict(expected)


def test_matches_without_any_mode_have_no_mode_facet(path: str) -> None:
    """A listing saved without a cooperation mode (the browser test found it: a 500)."""
    engine = FtsEngine(path)
    engine.upsert([dict(DOCS[0], modes=[]), dict(DOCS[1], modes=[])])
    result = engine.query(SearchQuery(text="电池"))
    assert result.total == 2 and result.facets["modes"] == {}


def test_ids_beyond_a_database_key_are_ignored_by_delete(path: str) -> None:
    """Rowids are kept as uint32: an id no database key can have is refused on upsert (tested with
    the documents) and ignored by delete, so it never reaches the change log."""
    engine = FtsEngine(path)
    engine.upsert(DOCS[:5])
    before = engine.query(SearchQuery(text="电池")).total
    engine.delete([f"result-{2**31}", "result-99999999999", "need-0"])
    assert engine.query(SearchQuery(text="电池")).total == before

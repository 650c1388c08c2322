"""The per-listing match store: the matcher's matches, change by change, equal to a full recompute."""

from __future__ import annotations

import dataclasses
import os
import random
import shutil

import pytest

from matching import Matcher, Weights
from matching.records import load_needs, load_results, read_lines
from matching.store import BUILDING, MatchStore, StoreConfig, remove_stale_builds
from seed.loader import DATA

SMALL = StoreConfig(k=5, candidates=12, spare=4, min_score=0.1)


@pytest.fixture(scope="module")
def records():
    results = load_results(read_lines(DATA / "results.jsonl")).records
    needs = load_needs(read_lines(DATA / "needs.jsonl")).records
    return results, needs


@pytest.fixture(scope="module")
def built(records, tmp_path_factory):
    results, needs = records
    return MatchStore.build(tmp_path_factory.mktemp("store") / "full.sqlite3", results, needs)


def wanted(store: MatchStore) -> dict[tuple[str, str], float]:
    return {(p.result_id, p.need_id): round(p.score, 9) for p in store.wanted_pairs()}


def tops(store: MatchStore) -> dict[tuple[str, str], list]:
    return {(kind, i): store.top_ids(kind, i) for kind in ("result", "need") for i in store.ids(kind)}


def test_a_built_store_gives_exactly_the_matchers_matches(records, built):
    results, needs = records
    matcher = Matcher().fit(sorted(results, key=lambda r: r.id), sorted(needs, key=lambda n: n.id))
    for need_id, found in matcher.rank(20).items():
        assert built.top_ids("need", need_id) == [(m.result_id, m.score) for m in found if m.score >= 0.2]
    for result_id, found in matcher.rank_results(20).items():
        assert built.top_ids("result", result_id) == [(m.need_id, m.score) for m in found if m.score >= 0.2]


def test_matches_carry_reasons(built):
    need_id = built.ids("need")[0]
    found = built.matches("need", need_id)
    assert found and [p.result_id for p in found] == [r for r, _ in built.top_ids("need", need_id)]
    reasons = found[0].reasons
    assert set(reasons) >= {"text", "field", "maturity", "mode", "price", "region", "key_terms"}


#: weights as `matching.learn` may give them: every component and the text exponent moved
LEARNED = Weights(text=0.5, field=0.3, maturity=0.1, mode=0.025, price=0.2, region=0.0, text_exponent=0.75)


@pytest.mark.parametrize(
    ("config", "seed", "weights", "defer"),
    [
        (StoreConfig(), 1, None, False),
        (SMALL, 2, None, False),
        (SMALL, 3, LEARNED, False),
        (StoreConfig(), 4, None, True),
        (SMALL, 5, None, True),
    ],
    ids=["default", "small-lists", "learned-weights", "deferred-offers", "deferred-offers-small-lists"],
)
def test_change_by_change_equals_a_full_recompute(records, built, tmp_path, config, seed, weights, defer):
    """Adds, edits and withdrawals in random batches; the store and a caller's copy of the wanted pairs
    (kept only from the diffs) end exactly where a recompute on the final listings ends — with the
    default weights and with learned ones, and with the offers of some batches put off and made
    later, a few at a time, between other changes (as the worker does after a bulk import)."""
    results, needs = records
    rng = random.Random(seed)
    start_r, start_n = rng.sample(results, len(results) // 2), rng.sample(needs, len(needs) // 2)
    store = MatchStore.build(
        tmp_path / "live.sqlite3", start_r, start_n, text=built.text, config=config, weights=weights
    )
    current = {"result": {r.id: r for r in start_r}, "need": {n.id: n for n in start_n}}
    copy = wanted(store)
    ops = [("result", r.id, r) for r in results if r.id not in current["result"]]
    ops += [("need", n.id, n) for n in needs if n.id not in current["need"]]
    rng.shuffle(ops)
    for kind, listing_id in rng.sample([(k, i) for k in current for i in current[k]], 40):
        record = current[kind][listing_id]
        if rng.random() < 0.5:
            edited = dataclasses.replace(record, title=record.title + "（改进）")
            ops.insert(rng.randrange(len(ops)), (kind, listing_id, edited))
        else:
            ops.insert(rng.randrange(len(ops)), (kind, listing_id, None))
    while ops:
        size = rng.randint(1, 9)
        batch, ops = ops[:size], ops[size:]
        # one change per listing per batch, as the relay sends them
        seen, unique = set(), []
        for op in batch:
            if (op[0], op[1]) not in seen:
                seen.add((op[0], op[1]))
                unique.append(op)
        diffs = [store.apply(unique, defer_offers=defer and rng.random() < 0.6)]
        if defer and rng.random() < 0.3:
            diffs.append(store.offer_deferred(limit=rng.randint(1, 4)))
        for kind, listing_id, record in unique:
            if record is None:
                current[kind].pop(listing_id, None)
            else:
                current[kind][listing_id] = record
        for diff in diffs:
            follow(copy, diff)
    if defer:
        assert store.deferred, "some offers are still put off when the changes end"
        reopened = MatchStore(store.path)  # they are kept in the file, not only in memory
        assert reopened.deferred == store.deferred
        reopened.close()
        while store.deferred:
            follow(copy, store.offer_deferred(limit=7))
    full = MatchStore.build(
        tmp_path / "recompute.sqlite3",
        current["result"].values(),
        current["need"].values(),
        text=built.text,
        config=config,
        weights=weights,
    )
    assert store.weights == (weights or Weights())
    assert tops(store) == tops(full)
    assert wanted(store) == wanted(full)
    assert copy == wanted(full)
    for kind in ("result", "need"):
        for listing_id in full.ids(kind):
            assert store.candidate_ids(kind, listing_id) == full.candidate_ids(kind, listing_id)


def follow(copy: dict, diff) -> None:
    """A caller's copy of the wanted pairs, kept from diffs alone."""
    for key, state in diff.pairs.items():
        if state.wanted:
            copy[key] = round(state.score, 9)
        else:
            copy.pop(key, None)


def test_put_off_offers_survive_a_failed_batch_and_a_removal(records, built, tmp_path, monkeypatch):
    """Offers put off are in the file with the listing: a batch that fails keeps them as they were,
    and a listing withdrawn before its offers were made leaves none behind."""
    results, needs = records
    store = MatchStore.build(tmp_path / "s.sqlite3", results, needs[3:], text=built.text)
    store.apply([("need", n.id, n) for n in needs[:3]], defer_offers=True)
    assert store.deferred == 3

    def broken(self):
        raise OSError("disk full")

    monkeypatch.setattr(MatchStore, "_write_back", broken)
    with pytest.raises(OSError):
        store.offer_deferred(limit=2)
    monkeypatch.undo()
    assert store.deferred == 3 and MatchStore(store.path).deferred == 3
    store.apply([("need", needs[0].id, None)])
    assert store.deferred == 2
    store.offer_deferred(limit=10)
    assert store.deferred == 0 and MatchStore(store.path).deferred == 0
    full = MatchStore.build(tmp_path / "full.sqlite3", results, needs[1:], text=built.text)
    assert tops(store) == tops(full)


def test_a_retried_change_reports_its_pairs_again(records, built, tmp_path):
    """A worker that died after the store committed but before the site did: doing the change again
    reports the same pairs, so the site's rows converge."""
    results, needs = records
    store = MatchStore.build(tmp_path / "s.sqlite3", results, needs[1:], text=built.text)
    change = [("need", needs[0].id, needs[0])]
    first = store.apply(change)
    again = store.apply(change)
    assert {k: s.score for k, s in first.pairs.items() if s.wanted} == {
        k: s.score for k, s in again.pairs.items() if s.wanted
    }
    assert set(first.pairs) <= set(again.pairs)


def test_a_failed_batch_changes_nothing(records, built, tmp_path, monkeypatch):
    results, needs = records
    store = MatchStore.build(tmp_path / "s.sqlite3", results, needs[1:], text=built.text)
    before = tops(store)

    def broken(self):
        raise OSError("disk full")

    monkeypatch.setattr(MatchStore, "_write_back", broken)
    with pytest.raises(OSError):
        store.apply([("need", needs[0].id, needs[0]), ("result", results[0].id, None)])
    monkeypatch.undo()
    assert tops(store) == before
    assert tops(MatchStore(store.path)) == before


def test_reopening_needs_no_model_rebuild_and_sees_the_same(records, built, tmp_path):
    results, needs = records
    path = tmp_path / "s.sqlite3"
    store = MatchStore.build(path, results, needs[1:], text=built.text)
    store.apply([("need", needs[0].id, needs[0])])
    store.checkpoint()
    assert tops(MatchStore(path)) == tops(store)


def test_a_rebuild_swaps_the_file_and_leaves_no_partial_files(records, built, tmp_path):
    results, needs = records
    path = tmp_path / "s.sqlite3"
    old = MatchStore.build(path, results[:50], needs[:30], text=built.text)
    dead = tmp_path / f"s.sqlite3{BUILDING}999999"
    dead.write_bytes(b"half a build")
    new = MatchStore.build(path, results, needs, text=built.text)
    assert old.replaced() and not new.replaced()
    assert not dead.exists()
    assert sorted(p.name for p in tmp_path.iterdir() if BUILDING in p.name) == []
    mine = tmp_path / f"s.sqlite3{BUILDING}{os.getpid()}"
    shutil.copy(path, mine)
    assert remove_stale_builds(path) == []  # a live builder's file is left alone
    mine.unlink()

"""FTS5-specific behaviour: files, several processes on one file, threads, rebuild under load."""

from __future__ import annotations

import glob
import os
import sqlite3
import threading
import time

import numpy as np
import pytest

import search.fts.engine as fts_module
import search.fts.index as fts_index
from search import make_engine
from search.base import EngineUnavailable, SearchQuery
from search.fts import FtsEngine, expression
from search.meili import MeiliEngine
from search.text import phrase_grams, query_terms
from tests.search.fixtures import fixture_docs

DOCS = fixture_docs()


@pytest.fixture
def path(tmp_path) -> str:
    return str(tmp_path / "index.sqlite3")


def ids(engine: FtsEngine, **kwargs) -> set[str]:
    return {h.id for h in engine.query(SearchQuery(per_page=100, **kwargs)).hits}


def test_make_engine_picks_by_target(path: str) -> None:
    assert isinstance(make_engine(path), FtsEngine)
    assert isinstance(make_engine(f"sqlite:///{path}"), FtsEngine)
    assert isinstance(make_engine(":memory:"), FtsEngine)
    assert isinstance(make_engine("http://127.0.0.1:7700", api_key="k"), MeiliEngine)
    assert isinstance(make_engine("HTTPS://search.example.org"), MeiliEngine)


def test_index_survives_reopening(path: str) -> None:
    engine = FtsEngine(path)
    engine.upsert(DOCS)
    engine.close()
    again = FtsEngine(path)
    assert again.count()["total"] == len(DOCS)
    assert "result-5" in ids(again, text="膜电极")


def test_a_second_process_sees_every_kind_of_write(path: str) -> None:
    """Two engines on one file stand for the web app and the relay: the reader's in-memory columns
    follow upserts, deletes, clear and rebuild through the change log."""
    writer, reader = FtsEngine(path), FtsEngine(path)
    writer.upsert(DOCS)
    assert reader.query(SearchQuery(facets=("region",))).facets["region"] == {
        "天津": 42,
        "河北": 12,
        "北京": 6,
    }
    moved = dict(DOCS[2], region="北京")  # a 河北 listing moves to 北京
    writer.upsert([moved])
    facets = reader.query(SearchQuery(facets=("region",))).facets["region"]
    assert facets == {"天津": 42, "河北": 11, "北京": 7}
    assert DOCS[2]["id"] in ids(reader, filters={"region": ["北京"]})
    writer.delete([DOCS[2]["id"]])
    assert reader.query(SearchQuery(facets=("region",))).facets["region"] == {
        "天津": 42,
        "河北": 11,
        "北京": 6,
    }
    writer.rebuild(DOCS[:5])
    assert reader.query(SearchQuery()).total == 5
    writer.clear()
    assert reader.query(SearchQuery()).total == 0


def test_a_reader_far_behind_reloads(path: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(fts_index, "_CHANGES_KEPT", 3)
    writer, reader = FtsEngine(path), FtsEngine(path)
    writer.upsert(DOCS[:10])
    assert reader.query(SearchQuery()).total == 10
    for doc in DOCS[10:20]:  # more single writes than the log keeps
        writer.upsert([doc])
    assert reader.query(SearchQuery()).total == 20
    assert {d["id"] for d in DOCS[:20]} == ids(reader)


def test_new_facet_values_from_another_process(path: str) -> None:
    writer, reader = FtsEngine(path), FtsEngine(path)
    writer.upsert(DOCS[:3])
    reader.query(SearchQuery())  # caches the codes it knows
    writer.upsert([dict(DOCS[3], region="其他", modes=["技术许可", "新型转化方式"])])
    result = reader.query(SearchQuery(filters={"modes": ["新型转化方式"]}))
    assert [h.id for h in result.hits] == [DOCS[3]["id"]]
    assert result.facets["region"] == {"其他": 1}
    assert result.facets["modes"] == {"技术许可": 1, "新型转化方式": 1}


def test_concurrent_queries_while_writing(path: str) -> None:
    engine = FtsEngine(path, pool_size=4)
    engine.upsert(DOCS[:30])
    errors: list[BaseException] = []
    stop = threading.Event()

    def read() -> None:
        try:
            while not stop.is_set():
                result = engine.query(SearchQuery(text="电池", per_page=5))
                assert result.total >= len(result.hits)
        except BaseException as exc:  # collected for the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=read) for _ in range(6)]
    for t in threads:
        t.start()
    for doc in DOCS[30:]:
        engine.upsert([doc])
    stop.set()
    for t in threads:
        t.join()
    assert errors == []
    assert engine.count()["total"] == len(DOCS)


def test_in_memory_engine_is_shared_by_threads() -> None:
    engine = FtsEngine(":memory:")
    engine.upsert(DOCS)
    results: list[int] = []
    threads = [
        threading.Thread(target=lambda: results.append(engine.query(SearchQuery(text="氢能")).total))
        for _ in range(4)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(set(results)) == 1 and results[0] > 0


def test_queries_keep_working_during_a_rebuild(path: str) -> None:
    engine = FtsEngine(path)
    engine.upsert(DOCS)

    def slow_docs():
        for doc in DOCS:
            time.sleep(0.002)
            yield doc

    errors: list[BaseException] = []
    totals: list[int] = []

    def read() -> None:
        try:
            for _ in range(30):
                totals.append(engine.query(SearchQuery(text="储能")).total)
        except BaseException as exc:  # collected for the assertion below
            errors.append(exc)

    reader = threading.Thread(target=read)
    reader.start()
    engine.rebuild(slow_docs())
    reader.join()
    assert errors == [] and totals and min(totals) > 0


def test_rebuild_with_worker_processes(path: str) -> None:
    engine = FtsEngine(path)
    report = engine.rebuild(DOCS, workers=2)
    assert report["indexed"] == len(DOCS)
    assert "result-1" in ids(engine, text="高镍")


def test_single_character_and_long_queries(path: str) -> None:
    engine = FtsEngine(path)
    engine.upsert(DOCS)
    found = ids(engine, text="氢")
    assert found == {
        d["id"] for d in DOCS if "氢" in d["title"] + d["body"] + "".join(d["keywords"]) + (d["field"] or "")
    }
    started = time.perf_counter()
    engine.query(SearchQuery(text="锂电池储能系统热管理" * 200))
    # a guard against a query that explodes (terms × terms), not a speed target: the bound is loose
    assert time.perf_counter() - started < 15.0


def test_match_expression_quotes_everything() -> None:
    text = expression(query_terms('电池" OR title_w:x NEAR(a) *'))
    assert '""' not in text.replace('""', "")  # user quotes never leave a phrase
    assert "NEAR(" not in text and "title_w:x" not in text
    assert '"电池"' in text


def test_unknown_filter_values_match_nothing(path: str) -> None:
    engine = FtsEngine(path)
    engine.upsert(DOCS)
    result = engine.query(SearchQuery(filters={"field": ["没有这个领域"]}))
    assert result.total == 0 and result.hits == []


def test_health_reports_documents(path: str) -> None:
    engine = FtsEngine(path)
    engine.upsert(DOCS[:4])
    assert engine.health() == {
        "status": "ok",
        "engine": "fts5",
        "path": path,
        "documents": 4,
        "sqlite": engine.health()["sqlite"],
    }
    assert engine.task_status(None) == "succeeded"


def test_garbage_over_the_start_of_the_file_is_seen_by_search_and_health(path: str) -> None:
    """An index overwritten in place, while this process holds its pages in cache: the next query
    refuses (the site falls back to the database), health says down, and a recovery starts afresh."""
    engine = FtsEngine(path)
    engine.upsert(DOCS)
    assert "result-5" in ids(engine, text="膜电极")
    with open(path, "r+b") as fh:
        fh.write(bytes(range(256)) * 256)  # 64 KB over the header and the first pages
    engine._checked_at = 0.0  # the file is looked at at most twice a second
    with pytest.raises(EngineUnavailable, match="damaged"):
        engine.query(SearchQuery(text="膜电极"))
    assert engine.health()["status"] == "down"
    assert "moved aside" in engine.discard()
    engine.replace(DOCS)
    assert engine.health()["status"] == "ok"
    assert "result-5" in ids(engine, text="膜电极")
    assert fts_module.header_problem(path) is None and glob.glob(f"{path}.damaged-*")


def test_an_index_being_rebuilt_is_refused_never_partial(path: str) -> None:
    """A recovery takes the index out of use and renames a whole new one into place: another process
    (here another engine on the same file) refuses while it is built, then sees all of it at once."""
    web, worker = FtsEngine(path), FtsEngine(path)
    worker.upsert(DOCS[:1])
    assert worker.discard() == "deleted" and not os.path.exists(path)
    seen = []

    def docs():
        for i, doc in enumerate(DOCS):
            if i == len(DOCS) // 2:  # halfway through the build
                web._checked_at = 0.0
                with pytest.raises(EngineUnavailable, match="missing"):
                    web.query(SearchQuery(text="膜电极"))
                with pytest.raises(EngineUnavailable):  # the worker's own relay waits too
                    worker.upsert(DOCS[:1])
                seen.append(i)
            yield doc

    assert worker.replace(docs())["indexed"] == len(DOCS) and seen
    web._checked_at = 0.0
    assert web.count()["total"] == worker.count()["total"] == len(DOCS)
    assert "result-5" in ids(web, text="膜电极")
    assert not glob.glob(f"{path}.building-*") and not glob.glob(f"{path}.damaged-*")


def test_a_build_killed_midway_leaves_nothing_the_next_one_trips_on(path: str) -> None:
    engine = FtsEngine(path)
    engine.discard()

    def killed():
        yield DOCS[0]
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        engine.replace(killed())
    assert not glob.glob(f"{path}.building-*") and not os.path.exists(path)
    with open(f"{path}.building-99999", "wb") as fh:  # as a SIGKILL would leave it
        fh.write(b"half")
    engine.replace(DOCS)
    assert engine.count()["total"] == len(DOCS) and not glob.glob(f"{path}.building-*")


@pytest.mark.parametrize(
    ("head", "problem"),
    [
        (b"", None),
        (b"SQLite format 3\x00" + (4096).to_bytes(2, "big") + bytes((1, 1, 0, 64, 32, 32)) + bytes(76), None),
        (b"SQLite format 3\x00" + (1).to_bytes(2, "big") + bytes((1, 1, 0, 64, 32, 32)) + bytes(76), None),
        (
            b"SQLite format 3\x00" + (4000).to_bytes(2, "big") + bytes((1, 1, 0, 64, 32, 32)) + bytes(76),
            "malformed",
        ),
        (
            b"SQLite format 3\x00" + (4096).to_bytes(2, "big") + bytes((1, 1, 0, 63, 32, 32)) + bytes(76),
            "malformed",
        ),
        (b"SQLite format 2\x00" + bytes(84), "not an SQLite"),
        (b"SQLite format 3\x00", "not an SQLite"),
    ],
)
def test_header_check(tmp_path, head: bytes, problem: str | None) -> None:
    file = tmp_path / "f.sqlite3"
    file.write_bytes(head)
    found = fts_module.header_problem(str(file))
    assert (found is None) if problem is None else (problem in found)
    assert fts_module.header_problem(str(tmp_path / "missing")) is None


def reference_score(doc: dict, terms: list) -> int:
    """The ranking levels computed from a document's analysed columns, independently of FTS5."""
    _, (title_w, kw_w, body_w, org_w, _all_grams, title_g) = fts_index.analyse(doc)
    title_w, kw_w, rest_w, title_g = (f" {c} " for c in (title_w, kw_w, f"{body_w} {org_w}", title_g))
    # space-padded token strings: a word is " w ", a phrase of bigrams " a b ", a prefix " a"
    words = [f" {t.word} " if t.word else None for t in terms]
    phrases = [[" " + phrase_grams(s) + ("" if t.single_char else " ") for s in t.surfaces] for t in terms]
    in_title = [any(p in title_g for p in ps) for ps in phrases]
    title_word = [w in title_w if w else t for w, t in zip(words, in_title, strict=True)]
    label_word = [tw or (w is not None and w in kw_w) for w, tw in zip(words, title_word, strict=True)]
    # a glued substring term has no whole word: being matched at all stands in
    anywhere = [lw or w is None or w in rest_w for w, lw in zip(words, label_word, strict=True)]
    return 8 * all(title_word) + 4 * all(in_title) + 2 * all(label_word) + all(anywhere)


@pytest.mark.parametrize(
    "text", ["电池", "锂电池 储能", "AI", "氢燃料", "镍 电池", "检测 系统", "氢能 燃料电池", "电"]
)
def test_ranking_levels_match_a_reference_computed_from_the_text(path: str, text: str) -> None:
    """The engine ranks through FTS5 level sets; each hit's level score must be what the analysed
    text says, and the order must follow it (newest first within a score)."""
    engine = FtsEngine(path)
    engine.upsert(DOCS)
    by_id = {d["id"]: d for d in DOCS}
    terms = query_terms(text)
    hits = engine.query(SearchQuery(text=text, per_page=100)).hits
    assert hits
    if len(hits) > 1:
        got = [(h.id, int(h.score)) for h in hits]
        assert got == [(h.id, reference_score(by_id[h.id], terms)) for h in hits]
        keys = [(-int(h.score), -by_id[h.id]["published_at"]) for h in hits]
        assert keys == sorted(keys)
    # a small page may stop after the title-word level: the same first places
    assert [h.id for h in engine.query(SearchQuery(text=text, per_page=3)).hits] == [h.id for h in hits[:3]]


def test_a_file_of_another_layout_is_emptied(path: str) -> None:

    old = sqlite3.connect(path)
    old.execute("CREATE TABLE docs (rowid INTEGER PRIMARY KEY, id TEXT)")
    old.execute("INSERT INTO docs VALUES (2, 'result-1')")
    old.commit()
    old.close()
    engine = FtsEngine(path)
    assert engine.count()["total"] == 0
    engine.upsert(DOCS[:2])
    assert engine.query(SearchQuery(text="高镍")).total == 1
    assert FtsEngine(path).count()["total"] == 2  # reopening the current layout keeps the data


def test_set_cache_answers_like_the_index_and_follows_other_writers(
    path: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Cached term sets give the same answers as fresh reads, and a write by another process
    (the relay) retires them: the reader never serves a set from before the change."""
    writer, reader = FtsEngine(path), FtsEngine(path, result_cache=0)
    writer.upsert(DOCS)
    queries = ["电池", "锂电池 储能", "氢能 燃料电池", "钙钛矿 小麦", "检测 系统"]
    fresh = {t: ids(reader, text=t) for t in queries}
    assert len(reader.sets) > 0
    assert {t: ids(reader, text=t) for t in queries} == fresh  # now from the cache

    battery = next(d for d in DOCS if "电池" in d["title"])
    writer.delete([battery["id"]])
    added = dict(DOCS[0], id="result-9001", db_id=9001, title="新型固态电池隔膜", body="固态电池。")
    writer.upsert([added])
    after = ids(reader, text="电池")
    assert battery["id"] not in after and "result-9001" in after
    assert after == fresh["电池"] - {battery["id"]} | {"result-9001"}


def test_result_cache_serves_repeats_and_never_a_stale_page(path: str) -> None:
    writer, reader = FtsEngine(path), FtsEngine(path)
    writer.upsert(DOCS)
    first = reader.query(SearchQuery(text="电池"))
    first.facets.clear()  # a caller's changes never reach the cache
    first.hits.clear()
    again = reader.query(SearchQuery(text="电池"))
    assert len(reader.results) == 1 and again.hits and again.facets
    writer.upsert([dict(DOCS[0], id="result-9002", db_id=9002, title="钠电池正极", body="钠电池。")])
    assert reader.query(SearchQuery(text="电池")).total == again.total + 1
    assert FtsEngine(path, result_cache=0).query(SearchQuery(text="电池")).total == again.total + 1


def test_seq_cache_bounds_and_retires() -> None:
    cache = fts_module.SeqCache(4 * 8, cost=lambda a: a.nbytes)
    broad, other = np.arange(3, dtype=np.int64), np.arange(4, dtype=np.int64)
    cache.put(1, "b", broad)
    assert cache.get(1, "b") is broad
    cache.put(1, "c", other)  # 7 int64 > budget of 4: the least recently used goes
    assert cache.get(1, "b") is None and cache.get(1, "c") is other
    cache.put(0, "d", broad)  # read under an older sequence
    assert cache.get(0, "d") is None
    cache.put(2, "e", broad)  # a newer sequence retires the rest
    assert cache.get(1, "c") is None and len(cache) == 1
    cache.put(2, "huge", np.arange(5, dtype=np.int64))  # larger than the whole budget
    assert cache.get(2, "huge") is None and cache.get(2, "e") is broad


def test_intersection_of_position_sets() -> None:
    rng = np.random.default_rng(5)
    for _ in range(50):
        sets = [np.unique(rng.integers(0, 200, rng.integers(0, 120))) for _ in range(rng.integers(1, 4))]
        expected = set(sets[0].tolist()).intersection(*(s.tolist() for s in sets[1:]))
        assert fts_module._intersect(sets, 200).tolist() == sorted(expected)

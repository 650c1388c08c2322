"""The FTS5 index layout and the write side: tables, rowids, document analysis, the change log.

`search.fts.engine.FtsEngine` creates and fills these tables; see its module docstring for the design.
"""

from __future__ import annotations

import multiprocessing
import sqlite3
from collections.abc import Iterable, Iterator, Mapping
from functools import lru_cache
from typing import Any

from search.base import clean_document
from search.text import grams
from vocab.analyzer import default_analyzer

#: FTS5 tables and their columns. Words and bigrams live in separate tables so that a word query
#: never walks the (long) doclist of the same characters as a bigram, and the title's bigrams have
#: a small table of their own for the "in the title" level.
FTS_TABLES: dict[str, tuple[str, ...]] = {
    "fts_w": ("title_w", "kw_w", "body_w", "org_w"),  # analyser words: title, keywords+fields, ...
    "fts_g": ("g",),  # bigrams of everything (title, keywords, fields, organisation, body)
    "fts_t": ("g",),  # bigrams of the title
}
_TABLES = ("docs", "stored", *FTS_TABLES)
#: what a rebuild makes anew: the tables of documents, and the sets derived from them
_REBUILT = (*_TABLES, "hot_sets")
#: Words are single tokens with column filters: `detail=column` keeps their doclists small. Bigram
#: tables need positions for phrases. No table keeps column sizes: nothing here uses BM25.
_FTS_DETAIL = {"fts_w": ", detail = column", "fts_g": "", "fts_t": ""}
_KIND_CODE = {"result": 0, "need": 1}
_KIND_NAME = {v: k for k, v in _KIND_CODE.items()}
_MAX_MODE_BITS = 62
#: change-log entries kept; a process further behind reloads its columns
_CHANGES_KEPT = 20_000
_BATCH = 500
#: a clean document and its FTS column texts
Analysed = tuple[dict[str, Any], tuple[str, ...]]


def _schema(suffix: str = "") -> list[str]:
    return [
        f"""CREATE TABLE IF NOT EXISTS docs{suffix} (
            rowid INTEGER PRIMARY KEY,
            id TEXT NOT NULL UNIQUE,
            kind INTEGER NOT NULL,
            field_top INTEGER,
            field INTEGER,
            maturity INTEGER,
            region INTEGER,
            is_challenge INTEGER NOT NULL,
            modes INTEGER NOT NULL,
            price_low REAL,
            price_high REAL,
            published_at INTEGER NOT NULL,
            stale INTEGER NOT NULL DEFAULT 0)""",
        f"CREATE TABLE IF NOT EXISTS stored{suffix} (rowid INTEGER PRIMARY KEY, doc TEXT NOT NULL)",
        # frequent terms' rowid sets (uint32), exact at change-log sequence `seq` (`search.fts.sets`)
        f"""CREATE TABLE IF NOT EXISTS hot_sets{suffix} (
            tbl TEXT NOT NULL, expr TEXT NOT NULL, seq INTEGER NOT NULL, rowids BLOB NOT NULL,
            PRIMARY KEY (tbl, expr))""",
        # unicode61 only splits on the spaces we put between pre-analysed tokens.
        *(
            f"""CREATE VIRTUAL TABLE IF NOT EXISTS {table}{suffix} USING fts5({", ".join(cols)},
                tokenize = 'unicode61 remove_diacritics 0', columnsize = 0{_FTS_DETAIL[table]})"""
            for table, cols in FTS_TABLES.items()
        ),
    ]


_INDEXES = (
    "CREATE INDEX IF NOT EXISTS docs_published ON docs (published_at)",
    "CREATE INDEX IF NOT EXISTS docs_price ON docs (price_low)",
)


def rowid_of(kind: str, db_id: int) -> int:
    """The SQLite rowid of a listing's document."""
    return db_id * 2 + _KIND_CODE[kind]


@lru_cache(maxsize=50_000)
def _short_words(text: str, vocabulary_size: int) -> str:
    """Words of a short, often repeated text (a keyword, a field, an organisation), memoised.

    The analyser's vocabulary size is part of the key: when words are added, entries go stale.
    """
    return " ".join(default_analyzer().tokens(text))


def analyse(doc: Mapping[str, Any]) -> Analysed:
    """Clean a document and compute its FTS column texts (the expensive, parallelisable part)."""
    doc = clean_document(doc)
    analyzer = default_analyzer()
    size = analyzer.vocabulary_size()

    def words(text: str) -> str:
        # Precise mode: a whole word is a strong signal; sub-words are covered by the bigrams.
        return " ".join(analyzer.tokens(text))

    def short(texts: list[str]) -> str:
        return " ".join(_short_words(t, size) for t in texts if t)

    labels = [*doc["keywords"], doc["field"] or "", doc["field_top"] or ""]
    title_grams = grams(doc["title"])
    columns = (
        words(doc["title"]),
        short(labels),
        words(doc["body"]),
        short([doc["org_name"]]),
        title_grams + " " + grams("\n".join([*labels, doc["org_name"], doc["body"]])),
        title_grams,
    )
    return doc, columns


def _analyse_batch(docs: list[Mapping[str, Any]]) -> list[Analysed]:
    return [analyse(d) for d in docs]


def _log_changes(conn: sqlite3.Connection, rowids: list[int]) -> None:
    """Record changed rowids (-1: everything) for the other processes' in-memory columns."""
    conn.executemany("INSERT INTO changes (rowid) VALUES (?)", [(r,) for r in rowids])
    conn.execute("DELETE FROM changes WHERE seq <= (SELECT max(seq) FROM changes) - ?", (_CHANGES_KEPT,))


def _chunks(docs: Iterable[Mapping[str, Any]], size: int) -> Iterator[list[Mapping[str, Any]]]:
    chunk: list[Mapping[str, Any]] = []
    for doc in docs:
        chunk.append(doc)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _analysed_chunks(
    docs: Iterable[Mapping[str, Any]], workers: int
) -> Iterator[list[tuple[dict[str, Any], tuple[str, ...]]]]:
    """Analysed documents in chunks; in forked worker processes when `workers` > 1."""
    if workers <= 1:
        for chunk in _chunks(docs, _BATCH * 4):
            yield _analyse_batch(chunk)
        return
    default_analyzer().tokens("预热")  # load the dictionary once, before forking
    ctx = multiprocessing.get_context("fork")
    with ctx.Pool(workers) as pool:
        yield from pool.imap(_analyse_batch, _chunks(docs, _BATCH), chunksize=1)

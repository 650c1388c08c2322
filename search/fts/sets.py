"""Rowid sets of terms for the FTS5 engine: read from FTS5, kept for frequent terms, brought forward.

A query asks FTS5 for one rowid set per term (and per ranking level). Walking the doclist of a
frequent term (智能, 电池, 关键技术: thousands to tens of thousands of documents) is most of such a
query's cost, so:

* a rebuild computes the sets of every frequent term once and keeps them in the index file
  (`hot_sets`), chosen from FTS5's own vocabulary, whatever is queried later;
* each process keeps the sets it has used in memory (`search.fts.query.TermSets`);
* a set read at an older change-log sequence is brought forward by re-checking only the rowids
  changed since (`bring_forward`), so edits do not throw the sets away; after a rebuild, or when
  the log no longer reaches back, the set is read again.

Rowids fit in 32 bits (rowid = database id * 2 + kind, database ids are 32-bit integers), so sets
are kept as uint32: half the memory and file space of int64.
"""

from __future__ import annotations

import sqlite3

import numpy as np

from search.fts.query import _LEVELS, expression, level_queries
from search.text import query_terms
from vocab.analyzer import default_analyzer

#: terms in at least this many documents get their sets computed at rebuild (1 % of 100,000)
HOT_MIN_DOCS = 1000
#: up to this many changed rowids, a set is brought forward by looking each up; more: by reading
#: the stretch of the doclist they span
FORWARD_LOOKUPS = 16
#: the largest rowid (`search.base.MAX_DB_ID` * 2 + 1)
MAX_ROWID = 2**32 - 1

Key = tuple[str, str]  # (FTS table, MATCH expression)


def read(conn: sqlite3.Connection, table: str, expr: str, low: int = 0, high: int = MAX_ROWID) -> np.ndarray:
    """Rowids from `low` to `high` matching a MATCH expression, ascending (one string from
    SQLite, parsed by numpy)."""
    (joined,) = conn.execute(
        f"SELECT group_concat(rowid) FROM {table} WHERE {table} MATCH ? AND rowid BETWEEN ? AND ?",
        (expr, low, high),
    ).fetchone()
    if not joined:
        return np.empty(0, dtype=np.uint32)
    return np.fromstring(joined, dtype=np.uint32, sep=",")


def term_keys(text: str) -> list[Key]:
    """Every set a query for `text` alone asks for: its match, then each ranking level's."""
    # The analyser passed explicitly: thousands of vocabulary terms must not crowd users' queries
    # out of the memo of query terms.
    terms = query_terms(text, default_analyzer())
    if len(terms) != 1:
        return []
    levels = [part for level, _ in _LEVELS for part in level_queries(terms, level)]
    return list(dict.fromkeys([("fts_g", expression(terms)), *levels]))


def frequent_terms(conn: sqlite3.Connection, suffix: str = "") -> list[str]:
    """Analyser words and bigrams found in at least `HOT_MIN_DOCS` documents (FTS5's vocabulary)."""
    out: dict[str, None] = {}
    for table, where in (("fts_w", ""), ("fts_g", " AND length(term) > 1")):
        vocab = f"temp.hot_vocab_{table}"
        conn.execute(f"CREATE VIRTUAL TABLE {vocab} USING fts5vocab(main, {table}{suffix}, row)")
        try:
            found = conn.execute(f"SELECT term FROM {vocab} WHERE doc >= ?{where}", (HOT_MIN_DOCS,))
            out.update((term, None) for (term,) in found)
        finally:
            conn.execute(f"DROP TABLE {vocab}")
    return list(out)


def hot_sets(conn: sqlite3.Connection, suffix: str = "") -> dict[Key, np.ndarray]:
    """The sets of every frequent term: its match and each ranking level's, however small (read
    only: no transaction is held meanwhile)."""
    keys = dict.fromkeys(key for text in frequent_terms(conn, suffix) for key in term_keys(text))
    return {(table, expr): read(conn, table + suffix, expr) for table, expr in keys}


def store_hot_sets(conn: sqlite3.Connection, sets: dict[Key, np.ndarray], seq: int) -> None:
    """Keep `sets`, exact at change-log sequence `seq`, in the file (inside the caller's transaction)."""
    conn.executemany(
        "INSERT OR REPLACE INTO hot_sets VALUES (?, ?, ?, ?)",
        ((table, expr, seq, rowids.astype("<u4").tobytes()) for (table, expr), rowids in sets.items()),
    )


def load_hot_set(conn: sqlite3.Connection, key: Key) -> tuple[int, np.ndarray] | None:
    """(sequence, rowids) of a kept set, or None."""
    row = conn.execute("SELECT seq, rowids FROM hot_sets WHERE tbl = ? AND expr = ?", key).fetchone()
    if row is None:
        return None
    # A read-only view of the blob (no copy; on a big-endian machine numpy swaps on access).
    return row[0], np.frombuffer(row[1], dtype="<u4")


def changed_rowids(conn: sqlite3.Connection, since: int, seq: int) -> np.ndarray | None:
    """Rowids changed after `since` up to `seq`, ascending; None when unknown (the log was trimmed
    or holds a rebuild)."""
    (first,) = conn.execute("SELECT min(seq) FROM changes").fetchone()
    if first is None or first > since + 1:
        return None
    sql = "SELECT DISTINCT rowid FROM changes WHERE seq > ? AND seq <= ?"
    changed = [r for (r,) in conn.execute(sql, (since, seq))]
    if -1 in changed:
        return None
    return np.array(sorted(changed), dtype=np.uint32)


def contains(ascending: np.ndarray, values: np.ndarray) -> np.ndarray:
    """A boolean per value: is it in `ascending` (sorted, unique)?"""
    if not len(ascending):
        return np.zeros(len(values), dtype=bool)
    at = np.searchsorted(ascending, values)
    at[at == len(ascending)] = 0
    return ascending[at] == values


def bring_forward(conn: sqlite3.Connection, key: Key, rowids: np.ndarray, changed: np.ndarray) -> np.ndarray:
    """`rowids` (the set of `key` before the `changed` rowids changed) as it is now.

    A few changed rows are looked up one by one (FTS5 seeks a rowid within each doclist: about
    20 µs each). More are covered by reading the doclist again between the lowest and the
    highest of them (FTS5 seeks to a rowid range too): new listings have the highest ids, so after
    a day of additions that is a short stretch at the end; scattered edits cost at most a read.
    """
    table, expr = key
    if len(changed) <= FORWARD_LOOKUPS:
        sql = f"SELECT 1 FROM {table} WHERE {table} MATCH ? AND rowid = ?"
        now = np.array([r for r in changed.tolist() if conn.execute(sql, (expr, r)).fetchone()], np.uint32)
        kept = rowids[~contains(changed, rowids)]
    else:
        low, high = int(changed[0]), int(changed[-1])
        now = read(conn, table, expr, low, high)
        kept = rowids[(rowids < low) | (rowids > high)]
    out = np.union1d(kept, now).astype(np.uint32)
    out.setflags(write=False)
    return out

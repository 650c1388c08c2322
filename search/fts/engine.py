"""SQLite FTS5 engine (全文检索, embedded default): no server, one SQLite file of its own.

Layout (all in one file):

* `docs`    narrow row per document: facet attributes as small integer codes (`modes` as a bitmask),
            prices and publication time;
* `stored`  the clean document as JSON, read only for the page of hits shown;
* `fts_w`   FTS5 over analyser words (title, keywords + fields, body, organisation);
* `fts_g`   FTS5 over character bigrams of all the text, so 电池 finds 锂电池 and 蓄电池;
* `fts_t`   FTS5 over the title's bigrams (the "in the title" ranking level);
* `facet_values` the code of each facet value; codes never change for the life of the file, so any
            process can cache them and reload only on a miss;
* `changes` a log of changed rowids, so every process patches its in-memory columns (`search.columns`)
            and brings its term sets forward (`search.fts.sets`);
* `hot_sets` the rowid sets of every frequent term, computed by a rebuild (`search.fts.sets`).

A query asks FTS5 only for sets of rowids, one per term (the bigram match, then four smaller "where
did it match" sets for ranking), intersects them in numpy and does filtering, facet counting and
sorting over numpy columns: joining rows and BM25 over tens of thousands of matches cost 20–80 ms
each at 100,000 documents, this costs a few. A frequent term's sets come from memory or the file's
kept sets, so no query walks its long doclists.

Ranking (relevance): all terms as whole words in the title, then in the title at all, then as whole
words in keywords/fields, then as whole words anywhere, then substrings only; ties newest first.

Rowids are derived from the listing (db_id * 2, +1 for needs), so an upsert needs no lookup.
"""

from __future__ import annotations

import contextlib
import dataclasses
import glob
import json
import logging
import os
import queue
import sqlite3
import threading
import time
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

import numpy as np

from search.base import (
    MAX_DB_ID,
    NO_FILTERS,
    DocumentError,
    EngineUnavailable,
    Hit,
    SearchEngine,
    SearchQuery,
    SearchResults,
)
from search.columns import Columns, refresh
from search.fts.index import (
    _BATCH,
    _INDEXES,
    _KIND_CODE,
    _KIND_NAME,
    _MAX_MODE_BITS,
    _REBUILT,
    _TABLES,
    FTS_TABLES,
    _analysed_chunks,
    _log_changes,
    _schema,
    analyse,
    rowid_of,
)
from search.fts.query import (
    _LEVELS,
    SeqCache,
    TermSets,
    _bit_counts,
    _top,
    expression,
    level_queries,
)
from search.fts.sets import (
    bring_forward,
    changed_rowids,
    contains,
    hot_sets,
    load_hot_set,
    read,
    store_hot_sets,
)
from search.text import QueryTerm, highlight_page, pinyin_terms, query_terms

__all__ = ["FTS_TABLES", "FtsEngine", "analyse", "expression", "level_queries", "rowid_of"]

#: layout version of the index file (PRAGMA user_version); bump it when tables or the text folding change
#: (5: traditional characters folded to simplified ones)
SCHEMA_VERSION = 6
#: memory for the rowid sets of terms kept between queries (each costs its bytes + 256)
SET_CACHE_BYTES = 32 << 20

log = logging.getLogger(__name__)


@contextlib.contextmanager
def _snapshot_read(conn: sqlite3.Connection) -> Iterator[None]:
    """One read transaction: the change-log sequence and every set read agree (cache keys)."""
    conn.execute("BEGIN")
    try:
        yield
    finally:
        conn.execute("COMMIT")


def _intersect(sets: list[np.ndarray], size: int) -> np.ndarray:
    """The positions in every one of `sets` (each ascending, within range(size)), ascending."""
    ordered = sorted(sets, key=len)
    out = ordered[0]
    for other in ordered[1:]:
        if not len(out):
            break
        member = np.zeros(size, dtype=bool)
        member[other] = True
        out = out[member[out]]
    return out


_MAGIC = b"SQLite format 3\x00"


def _sidecars(path: str) -> tuple[str, str]:
    return f"{path}-wal", f"{path}-shm"


def _unlink(*names: str) -> None:
    """Delete the files that exist of `names`."""
    for name in names:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(name)


def header_problem(path: str) -> str | None:
    """What is wrong with the 100-byte header of the SQLite file at `path` (None: nothing, or the
    file is new and still empty). Checks the fields that the file format fixes — the magic string, a
    power-of-two page size, the payload fractions 64/32/32 — so garbage written over the start of
    the file is seen at once, without reading the rest (`PRAGMA quick_check` reads all of it)."""
    try:
        with open(path, "rb") as fh:
            head = fh.read(100)
    except FileNotFoundError:
        return None
    if not head:
        return None
    if len(head) < 100 or not head.startswith(_MAGIC):
        return "not an SQLite file header"
    page_size = int.from_bytes(head[16:18], "big")
    page_size = 65536 if page_size == 1 else page_size
    if page_size < 512 or page_size & (page_size - 1) or head[21:24] != bytes((64, 32, 32)):
        return "malformed SQLite file header"
    return None


class FtsEngine(SearchEngine):
    """SQLite FTS5 engine. Thread-safe: a small pool of connections, one writer at a time."""

    name = "fts5"

    def __init__(self, path: str = ":memory:", *, pool_size: int = 8, result_cache: int = 512) -> None:
        self.path = path
        self._memory = path == ":memory:" or path.startswith("file::memory:")
        # An in-memory database exists once per connection, so it gets exactly one, shared.
        self._pool_size = 1 if self._memory else max(1, pool_size)
        self._pool: queue.LifoQueue[sqlite3.Connection | None] = queue.LifoQueue()
        for _ in range(self._pool_size):
            self._pool.put(None)
        self._all: set[sqlite3.Connection] = set()
        self._pool_lock = threading.Lock()
        self._write_lock = threading.RLock()
        self._writer_conn: sqlite3.Connection | None = None
        self._codes: dict[tuple[str, str], int] = {}
        self._names: dict[str, dict[int, str]] = {}
        self._codes_lock = threading.Lock()
        self._snapshot: Columns | None = None
        self._browse_facets: tuple[Any, dict[str, dict[str, int]]] = (None, {})
        #: rowid sets of the terms queried, least recently used out first
        self.sets = TermSets(SET_CACHE_BYTES)
        #: filter masks (a flag per document) per combination of filters
        self._masks = SeqCache(64)
        #: (rowids changed since a set's sequence or None,) per pair of sequences
        self._changes = SeqCache(64)
        #: whole result pages, bounded in entries (0 turns it off)
        self.results = SeqCache(result_cache)
        self._snapshot_lock = threading.Lock()
        self._identity: tuple[int, int] | None = None
        self._checked_at = 0.0
        self._missing = False
        #: what is wrong with the file's header, when it was last looked at
        self._damaged: str | None = None
        #: a query that met a damaged file leaves this mark; `health` then checks the whole file
        self._suspect = f"{path}.suspect"
        try:
            self.apply_settings()
        except sqlite3.Error as exc:  # a read-only or full disk, a damaged file
            self.close()
            raise EngineUnavailable(f"cannot open search index {path}: {exc}") from exc
        self._identity = self._file_identity()

    # -- connections ---------------------------------------------------------------------------

    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self.path, timeout=10.0, check_same_thread=False, isolation_level=None)
        conn.execute("PRAGMA busy_timeout = 10000")
        if not self._memory:
            conn.execute("PRAGMA journal_mode = WAL")
            conn.execute("PRAGMA synchronous = NORMAL")
            conn.execute("PRAGMA mmap_size = 268435456")
            # A rebuild passes hundreds of megabytes through the WAL: give the disk back afterwards.
            conn.execute("PRAGMA journal_size_limit = 67108864")
        conn.execute("PRAGMA cache_size = -65536")
        conn.execute("PRAGMA temp_store = MEMORY")
        return conn

    def _file_identity(self) -> tuple[int, int] | None:
        try:
            st = os.stat(self.path)
        except FileNotFoundError:
            return None
        return st.st_dev, st.st_ino

    def _check_file(self) -> None:
        """Notice an index file that was deleted (refuse: searching a ghost would hide it), replaced
        (by a recovery in another process: reopen, forgetting everything cached from the old one) or
        overwritten in place (its header no longer SQLite's: connections that hold its pages in cache
        would go on answering from them, and their next checkpoint would write good pages into a bad
        file)."""
        if self._memory:
            return
        now = time.monotonic()
        if now - self._checked_at < 0.5:
            if self._missing:
                raise EngineUnavailable("search index file is missing")
            if self._damaged:
                raise EngineUnavailable(f"search index damaged: {self._damaged}")
            return
        self._checked_at = now
        if self._identity is None:
            return  # not opened yet: the first connection creates the file
        identity = self._file_identity()
        self._missing = identity is None
        if identity is None:
            raise EngineUnavailable("search index file is missing")
        self._damaged = header_problem(self.path)
        if self._damaged:
            raise EngineUnavailable(f"search index damaged: {self._damaged}")
        if identity != self._identity:
            log.warning("search index %s was replaced: reopening", self.path)
            self._reopen()
            self._identity = identity

    def _reopen(self) -> None:
        self.close()
        self._forget_codes()
        with self._snapshot_lock:
            self._snapshot = None
        self.sets = TermSets(SET_CACHE_BYTES)
        self._masks = SeqCache(64)
        self._changes = SeqCache(64)
        self.results = SeqCache(self.results.max_cost)
        self._browse_facets = (None, {})

    def discard(self) -> str:
        """Take a lost, damaged or incomplete index out of use: a damaged file is moved aside (kept for
        inspection), an intact one deleted. Until `replace` puts a whole index in its place this engine,
        and every other process's, refuses (the site falls back to the database and says so), rather
        than answer from an empty or half-built index."""
        if self._memory:
            return "in memory"
        # Judged before closing: the connections' last checkpoint would write good pages over bad ones.
        damaged = bool(self._damaged or header_problem(self.path) or os.path.exists(self._suspect))
        self._reopen()
        note = "missing"
        if os.path.exists(self.path):
            if damaged:
                aside = f"{self.path}.damaged-{int(time.time())}"
                os.replace(self.path, aside)
                note = f"moved aside to {os.path.basename(aside)}"
            else:
                os.unlink(self.path)
                note = "deleted"
        _unlink(*_sidecars(self.path), self._suspect)
        # Refuse until `replace`: the first connection must not create an empty file here.
        self._identity, self._missing, self._damaged, self._checked_at = (0, 0), True, None, 0.0
        return note

    def replace(self, docs: Iterable[Mapping[str, Any]], *, workers: int = 1) -> dict[str, Any]:
        """Build a whole index from `docs` in a file beside this one, then rename it into place: other
        processes see no index, then the whole one, never a partial one (see `discard`)."""
        if self._memory:
            return self.rebuild(docs, workers=workers)
        _unlink(*glob.glob(glob.escape(self.path) + ".building-*"))  # of a build killed midway
        building = f"{self.path}.building-{os.getpid()}"
        fresh = FtsEngine(building, pool_size=1, result_cache=0)
        try:
            result = fresh.rebuild(docs, workers=workers)
            with fresh._writer() as conn:  # one file, no WAL beside it, for the rename
                conn.execute("PRAGMA journal_mode = DELETE")
        except BaseException:
            fresh.close()
            _unlink(building, *_sidecars(building))
            raise
        fresh.close()
        _unlink(*_sidecars(self.path))  # of an empty file another process may have created meanwhile
        os.replace(building, self.path)
        self._reopen()
        self._identity, self._missing, self._damaged = self._file_identity(), False, None
        self._checked_at = 0.0
        return result

    @contextlib.contextmanager
    def _conn(self) -> Iterator[sqlite3.Connection]:
        """A pooled connection. The pool holds connections and free slots (None, opened on demand);
        a connection of a file that was since replaced is closed on return and its slot freed."""
        self._check_file()
        conn = self._pool.get()
        if conn is None:
            try:
                conn = self._connect()
            except sqlite3.Error as exc:
                self._pool.put(None)
                raise EngineUnavailable(f"cannot open search index {self.path}: {exc}") from exc
            with self._pool_lock:
                self._all.add(conn)
        try:
            yield conn
        finally:
            with self._pool_lock:
                current = conn in self._all
            if current:
                self._pool.put(conn)
            else:
                conn.close()
                self._pool.put(None)

    @contextlib.contextmanager
    def _writer(self) -> Iterator[sqlite3.Connection]:
        """The write lock and the writer's own connection, so a stream of queries holding every
        pooled connection never starves a write (an in-memory index has only the shared one)."""
        with self._write_lock:
            if self._memory:
                with self._conn() as conn:
                    yield conn
                return
            self._check_file()
            if self._writer_conn is None:
                try:
                    self._writer_conn = self._connect()
                except sqlite3.Error as exc:
                    raise EngineUnavailable(f"cannot open search index {self.path}: {exc}") from exc
            yield self._writer_conn

    @contextlib.contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        """A write transaction; IMMEDIATE so concurrent writers (the relay, a CLI) queue up."""
        with self._writer() as conn:
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                self._forget_codes()
                raise

    def close(self) -> None:
        """Close the pool's idle connections; those in use are closed when they come back."""
        with self._pool_lock:
            self._all = set()
            freed = 0
            while True:
                try:
                    conn = self._pool.get_nowait()
                except queue.Empty:
                    break
                if conn is not None:
                    conn.close()
                freed += 1
            for _ in range(freed):
                self._pool.put(None)
        with self._write_lock:
            if self._writer_conn is not None:
                self._writer_conn.close()
                self._writer_conn = None

    # -- settings and facet codes -------------------------------------------------------------

    def apply_settings(self) -> None:
        """Create the tables if missing (idempotent).

        The index is derived data: a file written by another layout version is emptied (logged),
        and the next rebuild (`flask search reindex`) fills it again.
        """
        with self._writer() as conn:
            conn.execute("BEGIN IMMEDIATE")
            try:
                (version,) = conn.execute("PRAGMA user_version").fetchone()
                existing = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
                if version != SCHEMA_VERSION and existing:
                    log.warning(
                        "search index %s has layout %s, not %s: emptied", self.path, version, SCHEMA_VERSION
                    )
                    for table in ("fts", *_REBUILT, "changes", "facet_values"):
                        conn.execute(f"DROP TABLE IF EXISTS {table}")
                conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
                conn.execute(
                    """CREATE TABLE IF NOT EXISTS changes (
                        seq INTEGER PRIMARY KEY AUTOINCREMENT, rowid INTEGER NOT NULL)"""
                )
                conn.execute(
                    """CREATE TABLE IF NOT EXISTS facet_values (
                        facet TEXT NOT NULL, value TEXT NOT NULL, code INTEGER NOT NULL,
                        PRIMARY KEY (facet, value)) WITHOUT ROWID"""
                )
                for stmt in (*_schema(), *_INDEXES):
                    conn.execute(stmt)
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise
        return None

    def _load_codes(self, conn: sqlite3.Connection) -> None:
        rows = conn.execute("SELECT facet, value, code FROM facet_values").fetchall()
        with self._codes_lock:
            self._codes = {(f, v): c for f, v, c in rows}
            names: dict[str, dict[int, str]] = {}
            for f, v, c in rows:
                names.setdefault(f, {})[c] = v
            self._names = names

    def _forget_codes(self) -> None:
        with self._codes_lock:
            self._codes, self._names = {}, {}

    def _code(self, conn: sqlite3.Connection, facet: str, value: str) -> int | None:
        """Code of an existing value (None when no document ever had it)."""
        code = self._codes.get((facet, value))
        if code is None:
            self._load_codes(conn)
            code = self._codes.get((facet, value))
        return code

    def _name(self, conn: sqlite3.Connection, facet: str, code: int) -> str:
        name = self._names.get(facet, {}).get(code)
        if name is None:
            self._load_codes(conn)
            name = self._names.get(facet, {}).get(code, str(code))
        return name

    def _code_for_write(self, conn: sqlite3.Connection, facet: str, value: str) -> int:
        """Code of a value, allocating one inside the current write transaction when new."""
        code = self._codes.get((facet, value))
        if code is not None:
            return code
        row = conn.execute(
            "SELECT code FROM facet_values WHERE facet = ? AND value = ?", (facet, value)
        ).fetchone()
        if row is None:
            (top,) = conn.execute("SELECT max(code) FROM facet_values WHERE facet = ?", (facet,)).fetchone()
            code = 0 if top is None else top + 1
            if facet == "modes" and code > _MAX_MODE_BITS:
                raise DocumentError(f"more than {_MAX_MODE_BITS + 1} distinct modes")
            conn.execute("INSERT INTO facet_values VALUES (?, ?, ?)", (facet, value, code))
        else:
            code = row[0]
        # A rollback forgets the cache (`_forget_codes`), so a code is never kept without its row.
        with self._codes_lock:
            self._codes[(facet, value)] = code
            self._names.setdefault(facet, {})[code] = value
        return code

    # -- writes ------------------------------------------------------------------------------

    def _insert(
        self, conn: sqlite3.Connection, rows: list[tuple[dict[str, Any], tuple[str, ...]]], sfx: str = ""
    ) -> None:
        doc_rows, stored_rows, fts_rows = [], [], []
        for doc, columns in rows:
            rid = rowid_of(doc["kind"], doc["db_id"])

            def code(facet: str, value: str | None) -> int | None:
                return None if value is None else self._code_for_write(conn, facet, value)

            mask = 0
            for mode in doc["modes"]:
                mask |= 1 << self._code_for_write(conn, "modes", mode)
            doc_rows.append(
                (
                    rid,
                    doc["id"],
                    _KIND_CODE[doc["kind"]],
                    code("field_top", doc["field_top"]),
                    code("field", doc["field"]),
                    code("maturity", doc["maturity"]),
                    code("region", doc["region"]),
                    int(doc["is_challenge"]),
                    mask,
                    doc["price_low"],
                    doc["price_high"],
                    doc["published_at"],
                    int(doc["stale"]),
                )
            )
            stored_rows.append((rid, json.dumps(doc, ensure_ascii=False)))
            fts_rows.append((rid, *columns))
        conn.executemany(f"INSERT OR REPLACE INTO docs{sfx} VALUES ({', '.join('?' * 13)})", doc_rows)
        conn.executemany(f"INSERT OR REPLACE INTO stored{sfx} VALUES (?, ?)", stored_rows)
        start = 0
        for table, cols in FTS_TABLES.items():
            # FTS5 refuses a second row with the same rowid, so replace = delete + insert.
            conn.executemany(f"DELETE FROM {table}{sfx} WHERE rowid = ?", [(r[0],) for r in doc_rows])
            marks = ", ".join("?" * (len(cols) + 1))
            values = [(r[0], *r[1 + start : 1 + start + len(cols)]) for r in fts_rows]
            conn.executemany(f"INSERT INTO {table}{sfx} (rowid, {', '.join(cols)}) VALUES ({marks})", values)
            start += len(cols)

    def upsert(self, docs: Iterable[Mapping[str, Any]]) -> None:
        """Insert or replace documents by id (applied synchronously; returns None)."""
        rows = [analyse(d) for d in docs]
        if not rows:
            return None
        with self._write() as conn:
            for start in range(0, len(rows), _BATCH):
                self._insert(conn, rows[start : start + _BATCH])
            _log_changes(conn, [rowid_of(doc["kind"], doc["db_id"]) for doc, _ in rows])
        return None

    def delete(self, ids: Iterable[str]) -> None:
        """Delete documents by id; unknown or malformed ids are ignored."""
        rowids: list[tuple[int]] = []
        for doc_id in ids:
            kind, _, num = str(doc_id).rpartition("-")
            if kind in _KIND_CODE and num.isdigit() and 0 < int(num) <= MAX_DB_ID:
                rowids.append((rowid_of(kind, int(num)),))
        if not rowids:
            return None
        with self._write() as conn:
            for table in _TABLES:
                conn.executemany(f"DELETE FROM {table} WHERE rowid = ?", rowids)
            _log_changes(conn, [r for (r,) in rowids])
        return None

    def clear(self) -> None:
        """Delete every document (facet codes stay, they are stable for the file's life)."""
        with self._write() as conn:
            for table in _REBUILT:
                conn.execute(f"DELETE FROM {table}")
            _log_changes(conn, [-1])
        return None

    def rebuild(self, docs: Iterable[Mapping[str, Any]], *, workers: int = 1) -> dict[str, Any]:
        """Build new tables from `docs`, then swap them in with one short transaction.

        Queries keep using the old tables while the new ones fill. `workers` > 1 analyses text in
        forked processes (for the CLI; not in a web request). Writes made to the live index during
        the build are lost with the old tables: replay the outbox from the rebuild's start.
        """
        started = time.perf_counter()
        with self._writer() as conn:
            conn.execute("BEGIN IMMEDIATE")
            for table in _REBUILT:
                conn.execute(f"DROP TABLE IF EXISTS {table}_new")
            for stmt in _schema("_new"):
                conn.execute(stmt)
            conn.execute("COMMIT")
            count = 0
            # Commit in chunks so the WAL stays small and readers are never held back long.
            for rows in _analysed_chunks(docs, workers):
                conn.execute("BEGIN IMMEDIATE")
                try:
                    self._insert(conn, rows, "_new")
                    conn.execute("COMMIT")
                except BaseException:
                    conn.execute("ROLLBACK")
                    raise
                count += len(rows)
            analysed = time.perf_counter()
            # Merge FTS segments once: fewer b-trees to visit per query.
            for table in FTS_TABLES:
                conn.execute(f"INSERT INTO {table}_new({table}_new) VALUES ('optimize')")
            optimized = time.perf_counter()
            # Frequent terms' sets, read now so that no query has to walk their long doclists.
            frequent = hot_sets(conn, "_new")
            conn.execute("BEGIN IMMEDIATE")
            try:
                for table in _REBUILT:
                    conn.execute(f"DROP TABLE {table}")
                    conn.execute(f"ALTER TABLE {table}_new RENAME TO {table}")
                for stmt in _INDEXES:
                    conn.execute(stmt)
                _log_changes(conn, [-1])
                # The sets are exact at the sequence of the rebuild's own change-log entry.
                (seq,) = conn.execute("SELECT max(seq) FROM changes").fetchone()
                store_hot_sets(conn, frequent, seq)
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            # The build passed the whole index through the WAL: give that disk space back, unless
            # readers hold it (a truncating checkpoint would make writers wait for them meanwhile;
            # the size limit trims the file at a later checkpoint instead).
            conn.execute("PRAGMA busy_timeout = 0")
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            conn.execute("PRAGMA busy_timeout = 10000")
        finished = time.perf_counter()
        return {
            "indexed": count,
            "seconds": round(finished - started, 3),
            "optimize_swap_seconds": round(finished - analysed, 3),
            "hot_sets": len(frequent),
            "hot_sets_bytes": sum(rowids.nbytes for rowids in frequent.values()),
            "hot_sets_seconds": round(finished - optimized, 3),
            "engine": self.name,
        }

    # -- reads -------------------------------------------------------------------------------

    def count(self) -> dict[str, int]:
        """Document counts by kind and in total (from the in-memory columns: /healthz asks often)."""
        try:
            with self._conn() as conn, _snapshot_read(conn):
                kinds = np.bincount(self._columns(conn).kind, minlength=2)
        except sqlite3.DatabaseError as exc:
            raise EngineUnavailable(f"search index error: {exc}") from exc
        out = {_KIND_NAME[code]: int(n) for code, n in enumerate(kinds.tolist())}
        return {"total": sum(out.values()), **out}

    def health(self) -> dict[str, Any]:
        """Status of the index file (missing, damaged, readable); never raises."""
        try:
            self._checked_at = 0.0  # look at the file now
            counts = self.count()
            if not self._memory and os.path.exists(self._suspect):
                # A query hit a damaged page: check the whole file (it reads all of it, so only now).
                with self._conn() as conn:
                    (check,) = conn.execute("PRAGMA quick_check(1)").fetchone()
                if check != "ok":
                    raise EngineUnavailable(f"search index damaged: {check}")
                _unlink(self._suspect)
        except Exception as exc:  # health reports, it does not fail
            return {"status": "down", "engine": self.name, "path": self.path, "error": str(exc)}
        return {
            "status": "ok",
            "engine": self.name,
            "path": self.path,
            "documents": counts["total"],
            "sqlite": sqlite3.sqlite_version,
        }

    def _columns(self, conn: sqlite3.Connection) -> Columns:
        """The attribute snapshot, brought up to date with the change log."""
        snapshot = self._snapshot
        fresh = refresh(conn, snapshot)
        if fresh is not snapshot:
            with self._snapshot_lock:
                if self._snapshot is None or fresh.seq >= self._snapshot.seq:
                    self._snapshot = fresh
        return fresh

    def _rowids(self, conn: sqlite3.Connection, seq: int, expr: str, table: str = "fts_g") -> np.ndarray:
        """Rowids matching a MATCH expression, ascending. A frequent term's set comes from memory
        or from the file's kept sets, brought forward to `seq` (`search.fts.sets`)."""
        key = (table, expr)
        found = self.sets.get(key)
        rowids = None if found is None else self._forward(conn, key, *found, seq)
        if rowids is None:  # not in memory, or no longer usable (after a rebuild): the kept set
            found = load_hot_set(conn, key)
            rowids = None if found is None else self._forward(conn, key, *found, seq)
        if rowids is None:
            rowids = read(conn, table, expr)
            rowids.setflags(write=False)  # shared between queries and threads
        self.sets.put(key, seq, rowids)  # kept unless a copy at a later sequence is
        return rowids

    def _forward(
        self, conn: sqlite3.Connection, key: tuple[str, str], at: int, rowids: np.ndarray, seq: int
    ) -> np.ndarray | None:
        """`rowids`, the set of `key` at sequence `at`, as it is at `seq` (None: cannot tell)."""
        if at >= seq:
            return rowids if at == seq else None
        changed = self._changes.get(seq, at)  # memoised: every set of a query asks the same
        if changed is None:
            changed = (changed_rowids(conn, at, seq),)
            self._changes.put(seq, at, changed)
        return None if changed[0] is None else bring_forward(conn, key, rowids, changed[0])

    def _filter(
        self, conn: sqlite3.Connection, cols: Columns, q: SearchQuery, pos: np.ndarray | None
    ) -> np.ndarray:
        """Positions passing the query's filters, ascending (all documents when `pos` is None)."""
        mask = self._filter_mask(conn, cols, q)
        if mask is None:
            return np.arange(len(cols), dtype=np.int64) if pos is None else pos
        if pos is None:
            return np.flatnonzero(mask)
        if len(pos) * 8 < len(cols):
            return pos[mask[pos]]
        # Many matches: one pass over a flag per document beats compressing a long array.
        keep = np.zeros(len(cols), dtype=bool)
        keep[pos] = True
        keep &= mask
        return np.flatnonzero(keep)

    def _filter_mask(self, conn: sqlite3.Connection, cols: Columns, q: SearchQuery) -> np.ndarray | None:
        """A flag per document: does it pass the query's filters? None when nothing is filtered.
        Kept per combination of filters while the index is unchanged (users page and refine)."""
        key = q.filter_key()
        if key == NO_FILTERS:
            return None
        found = self._masks.get(cols.seq, key)
        if found is not None:
            return found
        mask = np.ones(len(cols), dtype=bool)
        # Conditions on single-valued facets become one lookup per document through its profile.
        allowed: dict[str, list[int]] = {}
        if q.kind != "all":
            allowed["kind"] = [_KIND_CODE[q.kind]]
        if q.challenge is not None:
            allowed["is_challenge"] = [int(q.challenge)]
        for facet, values in q.filters.items():
            codes = [c for c in (self._code(conn, facet, v) for v in values) if c is not None]
            if facet == "modes":
                bits = 0
                for c in codes:
                    bits |= 1 << c
                mask &= (cols.modes & bits) != 0
            else:
                allowed[facet] = codes
        if allowed:
            mask &= cols.profiles_where(allowed)[cols.profile]
        with np.errstate(invalid="ignore"):
            # NaN (no price) compares false, so unpriced listings drop out of a price filter.
            if q.price_min is not None:
                mask &= cols.price_high >= q.price_min
            if q.price_max is not None:
                mask &= cols.price_low <= q.price_max
        mask.setflags(write=False)
        self._masks.put(cols.seq, key, mask)
        return mask

    def _facets(
        self, conn: sqlite3.Connection, cols: Columns, pos: np.ndarray, names: tuple[str, ...]
    ) -> dict[str, dict[str, int]]:
        single = cols.facet_counts(pos, tuple(name for name in names if name != "modes"))
        out: dict[str, dict[str, int]] = {}
        for facet in names:
            if facet == "modes":
                per_bit = _bit_counts(cols.modes[pos])
                counts = {self._name(conn, "modes", bit): n for bit, n in per_bit.items()}
            elif facet == "kind":
                counts = {_KIND_NAME[code]: n for code, n in single[facet]}
            elif facet == "is_challenge":
                counts = {"true" if code else "false": n for code, n in single[facet]}
            else:
                counts = {self._name(conn, facet, code): n for code, n in single[facet]}
            out[facet] = dict(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))
        return out

    def query(self, q: SearchQuery) -> SearchResults:
        """Search: analysed text (AND of terms, OR when that finds nothing), filters, facets, sort.

        A page asked for again while the index is unchanged comes from the result cache."""
        key = q.cache_key()
        try:
            with self._conn() as conn, _snapshot_read(conn):
                cols = self._columns(conn)
                cached = self.results.get(cols.seq, key)
                if cached is None:
                    cached = self._search(conn, cols, q)
                    self.results.put(cols.seq, key, cached)
        except sqlite3.DatabaseError as exc:
            # The MATCH text is built from quoted tokens, so this is the file (locked, damaged, not a
            # database), not the user's input.
            if not self._memory and not isinstance(exc, sqlite3.OperationalError):
                # Damage (not a lock): leave a mark for the process that checks and rebuilds the index.
                with contextlib.suppress(OSError), open(self._suspect, "a"):
                    pass
            raise EngineUnavailable(f"search index error: {exc}") from exc
        # Callers get their own containers; the hits themselves are frozen.
        return dataclasses.replace(
            cached,
            hits=list(cached.hits),
            facets={name: dict(counts) for name, counts in cached.facets.items()},
        )

    def _search(self, conn: sqlite3.Connection, cols: Columns, q: SearchQuery) -> SearchResults:
        terms = query_terms(q.text)
        pinyin = pinyin_terms(q.text)
        if pinyin:
            return self._search_pinyin(conn, cols, q, terms, pinyin)
        if not terms:
            return self._page(conn, cols, q, self._filter(conn, cols, q, None), terms, None)
        # One set per term (a broad term's set comes from the cache), intersected in numpy: an
        # AND expression would walk every broad term's doclist on every query.
        sets = [cols.positions(self._rowids(conn, cols.seq, expression([term]))) for term in terms]
        pos = self._filter(conn, cols, q, _intersect(sets, len(cols)))
        if len(pos) or len(terms) == 1:
            return self._page(conn, cols, q, pos, terms, "and")
        # No document has every term: rank those with the most of them first.
        matched = np.zeros(len(cols), dtype=np.int64)
        for found in sets:
            matched[found] += 1
        pos = self._filter(conn, cols, q, np.flatnonzero(matched))
        return self._page(conn, cols, q, pos, terms, "or", matched[pos])

    def _search_pinyin(
        self,
        conn: sqlite3.Connection,
        cols: Columns,
        q: SearchQuery,
        terms: list[QueryTerm],
        pinyin: list[QueryTerm],
    ) -> SearchResults:
        """A query without Han characters that reads as pinyin: the documents matching it as typed
        first (every term), then those matching its reading (every reading, any of its words)."""
        sets = [cols.positions(self._rowids(conn, cols.seq, expression([t]))) for t in terms]
        exact = _intersect(sets, len(cols)) if sets else np.zeros(0, dtype=np.int64)
        read = _intersect(
            [cols.positions(self._rowids(conn, cols.seq, expression([t]))) for t in pinyin], len(cols)
        )
        level = np.zeros(len(cols), dtype=np.int64)
        level[read] = 1
        level[exact] = 2
        pos = self._filter(conn, cols, q, np.flatnonzero(level))
        return self._page(conn, cols, q, pos, [*terms, *pinyin], "or", level[pos])

    def _scores(
        self, conn: sqlite3.Connection, cols: Columns, pos: np.ndarray, terms: list[QueryTerm], k: int
    ) -> np.ndarray:
        """Location score of each match (every term present): all terms whole words in the title
        (8) > in the title (4) > whole words in title/keywords/fields (2) > whole words anywhere (1);
        substrings elsewhere only: 0. A title word is also all the others, so it scores 15.

        Each level is the intersection of one set per term (`level_queries`); a frequent term's
        sets come from the set cache or the file's kept sets, a rare term's are short to read. When
        the title-word set alone fills the first `k` places, the other levels cannot change them
        and are skipped.
        """
        if len(pos) < 2:
            return np.zeros(len(pos), dtype=np.int64)
        score = np.zeros(len(pos), dtype=np.int64)
        seen: dict[tuple[str, str], np.ndarray | None] = {}  # None: no document at all
        for level, weight in _LEVELS:
            hit = np.ones(len(pos), dtype=bool)
            for part in level_queries(terms, level):
                if part not in seen:  # glued terms repeat the same title query at several levels
                    rowids = self._rowids(conn, cols.seq, part[1], part[0])
                    if not len(rowids):
                        seen[part] = None
                    elif len(pos) * 16 < len(cols):  # few matches: look each one up
                        seen[part] = contains(rowids, cols.rowid[pos])
                    else:  # many: one pass over a flag per document
                        seen[part] = cols.flags(rowids)[pos]
                if seen[part] is None:
                    break  # nobody reaches this level
                hit &= seen[part]
            else:
                score += weight * hit  # (np.add with where= is several times slower)
                if level == "title_word" and int(np.count_nonzero(hit)) >= k:
                    return score * 15 // 8
        return score

    def _page(
        self,
        conn: sqlite3.Connection,
        cols: Columns,
        q: SearchQuery,
        pos: np.ndarray,
        terms: list[QueryTerm],
        mode: str | None,
        or_score: np.ndarray | None = None,
    ) -> SearchResults:
        total = len(pos)
        unfiltered = mode is None and len(pos) == len(cols)
        key = (cols.seq, q.facets)
        if unfiltered and self._browse_facets[0] == key:
            # The browse page (no words, no filters) is the most frequent query; its facets only
            # change with the index.
            facets = self._browse_facets[1]
        else:
            facets = self._facets(conn, cols, pos, q.facets)
            if unfiltered:
                self._browse_facets = (key, facets)
        offset = (q.page - 1) * q.per_page
        hits: list[Hit] = []
        if total > offset:
            published = cols.published_at[pos]
            fresh = 1 - cols.stale[pos].astype(np.int64)
            score = np.zeros(0, dtype=np.int64)
            if q.sort == "relevance" and mode is not None:
                score = (
                    or_score
                    if or_score is not None
                    else self._scores(conn, cols, pos, terms, offset + q.per_page)
                )
                # text score first, then current before lapsed (待更新), then newest
                primary = (score << 35) | (fresh << 34) | np.clip(published, 0, (1 << 34) - 1)
            elif q.sort in ("price_asc", "price_desc"):
                price = cols.price_low[pos]
                priced = ~np.isnan(price)
                value = np.where(priced, price if q.sort == "price_desc" else -price, 0.0)
                # listings without a price always come last
                primary = np.where(priced, value + 1e12, -1.0)
            else:
                primary = (fresh << 34) | np.clip(published, 0, (1 << 34) - 1)
            # pos is ascending, so ties in `_top` fall to the lower rowid
            order = _top(primary, published, offset + q.per_page)[offset:]
            rowids = cols.rowid[pos[order]].tolist()
            scores = score[order].tolist() if len(score) else [0] * len(order)
            marks = ", ".join("?" * len(rowids))
            stored = dict(conn.execute(f"SELECT rowid, doc FROM stored WHERE rowid IN ({marks})", rowids))
            docs = [
                (json.loads(stored[rid]), sc) for rid, sc in zip(rowids, scores, strict=True) if rid in stored
            ]
            titles, snippets = highlight_page(
                [d["title"] for d, _ in docs], [d["body"] for d, _ in docs], terms
            )
            hits = [
                self._hit(doc, float(sc), title, body)
                for (doc, sc), title, body in zip(docs, titles, snippets, strict=True)
            ]
        return SearchResults(total, hits, facets, q.page, q.per_page, self.name)

    @staticmethod
    def _hit(doc: dict[str, Any], score: float, title: str, snippet: str) -> Hit:
        extra = {
            k: doc[k]
            for k in (
                "org_name", "field_top", "maturity", "modes", "region", "is_challenge",
                "price_low", "price_high", "published_at", "stale", "keywords",
            )
        }  # fmt: skip
        return Hit(
            id=doc["id"],
            kind=doc["kind"],
            db_id=doc["db_id"],
            external_id=doc["external_id"],
            title=title,
            snippet=snippet,
            field=doc["field"],
            score=round(float(score), 6),
            fields=extra,
        )

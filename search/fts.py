"""SQLite FTS5 engine (全文检索, embedded default): no server, one SQLite file of its own.

Layout (all in one file):

* `docs`    narrow row per document: facet attributes as small integer codes (`modes` as a bitmask),
            prices and publication time, so filtering, counting facets and sorting touch little data;
* `stored`  the clean document as JSON, read only for the page of hits shown;
* `fts`     FTS5 over analyzer words (title, keywords + fields, body, organisation) and character
            bigrams (title, rest), so 电池 finds 锂电池 and 蓄电池 while whole words and titles rank first;
* `facet_values` the code of each facet value; codes never change for the life of the file, so any
            process can cache them and reload only on a miss.

Rowids are derived from the listing (db_id * 2, +1 for needs), so an upsert needs no lookup.
"""

from __future__ import annotations

import contextlib
import json
import logging
import multiprocessing
import queue
import sqlite3
import threading
import time
from collections import OrderedDict
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from search.base import (
    DocumentError,
    EngineUnavailable,
    Hit,
    SearchEngine,
    SearchQuery,
    SearchResults,
    clean_document,
)
from search.text import QueryTerm, grams, highlight, phrase_grams, query_terms, snippet
from vocab.analyzer import default_analyzer

log = logging.getLogger(__name__)

#: FTS columns, in order, and their BM25 weights: title words first, then keywords, then body;
#: substring (bigram) matches count, but less than whole words in the same place.
FTS_COLUMNS: tuple[tuple[str, float], ...] = (
    ("title_w", 12.0),
    ("kw_w", 6.0),
    ("body_w", 3.0),
    ("org_w", 2.0),
    ("title_g", 4.0),
    ("text_g", 0.5),
)
_WORD_COLS = "{title_w kw_w body_w org_w}"
_GRAM_COLS = "{title_g text_g}"
_BM25 = "bm25(fts, " + ", ".join(str(w) for _, w in FTS_COLUMNS) + ")"
_KIND_CODE = {"result": 0, "need": 1}
_KIND_NAME = {v: k for k, v in _KIND_CODE.items()}
#: facets stored as codes in facet_values (modes codes are bit positions)
_CODED = ("field_top", "field", "maturity", "region", "modes")
_MAX_MODE_BITS = 62
_BATCH = 500
#: a clean document and its FTS column texts
Analysed = tuple[dict[str, Any], tuple[str, ...]]


def _schema(suffix: str = "") -> list[str]:
    cols = ", ".join(name for name, _ in FTS_COLUMNS)
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
            published_at INTEGER NOT NULL)""",
        f"CREATE TABLE IF NOT EXISTS stored{suffix} (rowid INTEGER PRIMARY KEY, doc TEXT NOT NULL)",
        # unicode61 only splits on the spaces we put between pre-analysed tokens.
        f"""CREATE VIRTUAL TABLE IF NOT EXISTS fts{suffix} USING fts5({cols},
            tokenize = 'unicode61 remove_diacritics 0')""",
    ]


_INDEXES = (
    "CREATE INDEX IF NOT EXISTS docs_published ON docs (published_at)",
    "CREATE INDEX IF NOT EXISTS docs_price ON docs (price_low)",
)


def rowid_of(kind: str, db_id: int) -> int:
    """The SQLite rowid of a listing's document."""
    return db_id * 2 + _KIND_CODE[kind]


def analyse(doc: Mapping[str, Any]) -> Analysed:
    """Clean a document and compute its FTS column texts (the expensive, parallelisable part)."""
    doc = clean_document(doc)
    analyzer = default_analyzer()

    def words(text: str) -> str:
        # Precise mode: a whole word is a strong signal; sub-words are covered by the bigrams.
        return " ".join(analyzer.tokens(text))

    kw_text = " ".join([*doc["keywords"], doc["field"] or "", doc["field_top"] or ""])
    rest = "\n".join(
        [*doc["keywords"], doc["field"] or "", doc["field_top"] or "", doc["org_name"], doc["body"]]
    )
    columns = (
        words(doc["title"]),
        words(kw_text),
        words(doc["body"]),
        words(doc["org_name"]),
        grams(doc["title"]),
        grams(rest),
    )
    return doc, columns


def _analyse_batch(docs: list[Mapping[str, Any]]) -> list[Analysed]:
    return [analyse(d) for d in docs]


def _quote(token: str) -> str:
    return '"' + token.replace('"', '""') + '"'


def match_expression(terms: list[QueryTerm], mode: str = "and") -> str:
    """An FTS5 MATCH expression built only from quoted analysed tokens (never user syntax)."""
    groups: list[str] = []
    for term in terms:
        alts: list[str] = []
        if term.word:
            alts.append(f"{_WORD_COLS} : {_quote(term.word)}")
        for surface in term.surfaces:
            if term.single_char:
                alts.append(f"{_GRAM_COLS} : {_quote(surface)} *")
            else:
                alts.append(f"{_GRAM_COLS} : {_quote(phrase_grams(surface))}")
        groups.append("(" + " OR ".join(alts) + ")")
    return f" {mode.upper()} ".join(groups)


class FtsEngine(SearchEngine):
    """SQLite FTS5 engine. Thread-safe: a small pool of connections, one writer at a time."""

    name = "fts5"

    def __init__(self, path: str = ":memory:", *, pool_size: int = 8, cache_size: int = 256) -> None:
        self.path = path
        self._memory = path == ":memory:" or path.startswith("file::memory:")
        # An in-memory database exists once per connection, so it gets exactly one, shared.
        self._pool_size = 1 if self._memory else max(1, pool_size)
        self._pool: queue.LifoQueue[sqlite3.Connection] = queue.LifoQueue()
        self._all: list[sqlite3.Connection] = []
        self._pool_lock = threading.Lock()
        self._write_lock = threading.RLock()
        self._codes: dict[tuple[str, str], int] = {}
        self._names: dict[str, dict[int, str]] = {}
        self._codes_lock = threading.Lock()
        self._cache: OrderedDict[tuple[Any, ...], Any] = OrderedDict()
        self._cache_size = cache_size
        self._cache_lock = threading.Lock()
        self.apply_settings()

    # -- connections ---------------------------------------------------------------------------

    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self.path, timeout=10.0, check_same_thread=False, isolation_level=None)
        conn.execute("PRAGMA busy_timeout = 10000")
        if not self._memory:
            conn.execute("PRAGMA journal_mode = WAL")
            conn.execute("PRAGMA synchronous = NORMAL")
            conn.execute("PRAGMA mmap_size = 268435456")
        conn.execute("PRAGMA cache_size = -65536")
        conn.execute("PRAGMA temp_store = MEMORY")
        return conn

    @contextlib.contextmanager
    def _conn(self) -> Iterator[sqlite3.Connection]:
        try:
            conn = self._pool.get_nowait()
        except queue.Empty:
            with self._pool_lock:
                fresh = len(self._all) < self._pool_size
                if fresh:
                    try:
                        conn = self._connect()
                    except sqlite3.Error as exc:
                        raise EngineUnavailable(f"cannot open search index {self.path}: {exc}") from exc
                    self._all.append(conn)
            if not fresh:
                conn = self._pool.get()
        try:
            yield conn
        finally:
            self._pool.put(conn)

    @contextlib.contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        """A write transaction; IMMEDIATE so concurrent writers (the relay, a CLI) queue up."""
        with self._write_lock, self._conn() as conn:
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
                conn.execute("UPDATE meta SET value = value + 1 WHERE key = 'generation'")
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                self._forget_codes()
                raise

    def close(self) -> None:
        """Close every connection of the pool."""
        with self._pool_lock:
            for conn in self._all:
                conn.close()
            self._all.clear()
            self._pool = queue.LifoQueue()

    # -- settings and facet codes -------------------------------------------------------------

    def apply_settings(self) -> None:
        """Create the tables if missing (idempotent)."""
        with self._write_lock, self._conn() as conn:
            conn.execute("BEGIN IMMEDIATE")
            try:
                conn.execute("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL)")
                conn.execute("INSERT OR IGNORE INTO meta VALUES ('generation', 0)")
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
                )
            )
            stored_rows.append((rid, json.dumps(doc, ensure_ascii=False)))
            fts_rows.append((rid, *columns))
        # FTS5 refuses a second row with the same rowid, so replace = delete + insert.
        conn.executemany(f"DELETE FROM fts{sfx} WHERE rowid = ?", [(r[0],) for r in doc_rows])
        conn.executemany(f"INSERT OR REPLACE INTO docs{sfx} VALUES ({', '.join('?' * 12)})", doc_rows)
        conn.executemany(f"INSERT OR REPLACE INTO stored{sfx} VALUES (?, ?)", stored_rows)
        cols = ", ".join(name for name, _ in FTS_COLUMNS)
        marks = ", ".join("?" * (len(FTS_COLUMNS) + 1))
        conn.executemany(f"INSERT INTO fts{sfx} (rowid, {cols}) VALUES ({marks})", fts_rows)

    def upsert(self, docs: Iterable[Mapping[str, Any]]) -> None:
        """Insert or replace documents by id (applied synchronously; returns None)."""
        rows = [analyse(d) for d in docs]
        if not rows:
            return None
        with self._write() as conn:
            for start in range(0, len(rows), _BATCH):
                self._insert(conn, rows[start : start + _BATCH])
        return None

    def delete(self, ids: Iterable[str]) -> None:
        """Delete documents by id; unknown or malformed ids are ignored."""
        rowids: list[tuple[int]] = []
        for doc_id in ids:
            kind, _, num = str(doc_id).rpartition("-")
            if kind in _KIND_CODE and num.isdigit():
                rowids.append((rowid_of(kind, int(num)),))
        if not rowids:
            return None
        with self._write() as conn:
            for table in ("fts", "docs", "stored"):
                conn.executemany(f"DELETE FROM {table} WHERE rowid = ?", rowids)
        return None

    def clear(self) -> None:
        """Delete every document (facet codes stay, they are stable for the file's life)."""
        with self._write() as conn:
            for table in ("fts", "docs", "stored"):
                conn.execute(f"DELETE FROM {table}")
        return None

    def rebuild(self, docs: Iterable[Mapping[str, Any]], *, workers: int = 1) -> dict[str, Any]:
        """Build new tables from `docs`, then swap them in with one short transaction.

        Queries keep using the old tables while the new ones fill. `workers` > 1 analyses text in
        forked processes (for the CLI; not in a web request). Writes made to the live index during
        the build are lost with the old tables: replay the outbox from the rebuild's start.
        """
        started = time.perf_counter()
        with self._write_lock, self._conn() as conn:
            conn.execute("BEGIN IMMEDIATE")
            for table in ("fts_new", "docs_new", "stored_new"):
                conn.execute(f"DROP TABLE IF EXISTS {table}")
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
            conn.execute("INSERT INTO fts_new(fts_new) VALUES ('optimize')")
            conn.execute("BEGIN IMMEDIATE")
            try:
                for table in ("fts", "docs", "stored"):
                    conn.execute(f"DROP TABLE {table}")
                    conn.execute(f"ALTER TABLE {table}_new RENAME TO {table}")
                for stmt in _INDEXES:
                    conn.execute(stmt)
                conn.execute("UPDATE meta SET value = value + 1 WHERE key = 'generation'")
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise
        finished = time.perf_counter()
        return {
            "indexed": count,
            "seconds": round(finished - started, 3),
            "optimize_swap_seconds": round(finished - analysed, 3),
            "engine": self.name,
        }

    # -- reads -------------------------------------------------------------------------------

    def count(self) -> dict[str, int]:
        """Document counts by kind and in total."""
        with self._conn() as conn:
            rows = conn.execute("SELECT kind, count(*) FROM docs GROUP BY kind").fetchall()
        out = {"total": 0, "result": 0, "need": 0}
        for kind, n in rows:
            out[_KIND_NAME[kind]] = n
            out["total"] += n
        return out

    def health(self) -> dict[str, Any]:
        """Status of the index file; never raises."""
        try:
            counts = self.count()
        except Exception as exc:  # health reports, it does not fail
            return {"status": "down", "engine": self.name, "path": self.path, "error": str(exc)}
        return {
            "status": "ok",
            "engine": self.name,
            "path": self.path,
            "documents": counts["total"],
            "sqlite": sqlite3.sqlite_version,
        }

    def _generation(self, conn: sqlite3.Connection) -> int:
        return conn.execute("SELECT value FROM meta WHERE key = 'generation'").fetchone()[0]

    def _where(self, conn: sqlite3.Connection, q: SearchQuery) -> tuple[list[str], list[Any]] | None:
        """SQL conditions on `d` (docs) for the query's filters; None when nothing can match."""
        clauses: list[str] = []
        params: list[Any] = []
        if q.kind != "all":
            clauses.append("d.kind = ?")
            params.append(_KIND_CODE[q.kind])
        for key, values in q.filters.items():
            codes = [c for c in (self._code(conn, key, v) for v in values) if c is not None]
            if not codes:
                return None
            if key == "modes":
                mask = 0
                for c in codes:
                    mask |= 1 << c
                clauses.append("(d.modes & ?) != 0")
                params.append(mask)
            else:
                clauses.append(f"d.{key} IN ({', '.join('?' * len(codes))})")
                params.extend(codes)
        if q.challenge is not None:
            clauses.append("d.is_challenge = ?")
            params.append(int(q.challenge))
        if q.price_min is not None:
            clauses.append("d.price_high >= ?")
            params.append(q.price_min)
        if q.price_max is not None:
            clauses.append("d.price_low <= ?")
            params.append(q.price_max)
        return clauses, params

    def _cached(self, key: tuple[Any, ...], compute: Any) -> Any:
        with self._cache_lock:
            if key in self._cache:
                self._cache.move_to_end(key)
                return self._cache[key]
        value = compute()
        with self._cache_lock:
            self._cache[key] = value
            while len(self._cache) > self._cache_size:
                self._cache.popitem(last=False)
        return value

    def _counts(
        self, conn: sqlite3.Connection, source: str, where: str, params: list[Any], facets: tuple[str, ...]
    ) -> tuple[int, dict[str, dict[str, int]]]:
        """Total and facet counts over the filtered set, in one statement (one pass of the match)."""
        plain = [f for f in facets if f not in ("modes",)]
        parts = ["SELECT '#', 0, count(*) FROM m"]
        parts += [f"SELECT '{f}', {f}, count(*) FROM m GROUP BY {f}" for f in plain]
        if "modes" in facets:
            # Few distinct masks exist; split them into bits in Python.
            parts.append("SELECT 'modes', modes, count(*) FROM m WHERE modes != 0 GROUP BY modes")
        sql = (
            "WITH m AS MATERIALIZED (SELECT d.kind, d.field_top, d.field, d.maturity, d.region, "
            f"d.is_challenge, d.modes FROM {source} WHERE {where}) " + " UNION ALL ".join(parts)
        )
        total = 0
        out: dict[str, dict[str, int]] = {f: {} for f in facets}
        for facet, value, n in conn.execute(sql, params):
            if facet == "#":
                total = n
            elif value is None:
                continue
            elif facet == "kind":
                out["kind"][_KIND_NAME[value]] = n
            elif facet == "is_challenge":
                out["is_challenge"]["true" if value else "false"] = n
            elif facet == "modes":
                bit = 0
                while value:
                    if value & 1:
                        name = self._name(conn, "modes", bit)
                        out["modes"][name] = out["modes"].get(name, 0) + n
                    value >>= 1
                    bit += 1
            else:
                out[facet][self._name(conn, facet, value)] = n
        return total, {f: dict(sorted(c.items(), key=lambda kv: (-kv[1], kv[0]))) for f, c in out.items()}

    def query(self, q: SearchQuery) -> SearchResults:
        """Search: analysed text (AND of terms, OR when that finds nothing), filters, facets, sort."""
        terms = query_terms(q.text)
        try:
            with self._conn() as conn:
                where = self._where(conn, q)
                if where is None:
                    return SearchResults(0, [], {f: {} for f in q.facets}, q.page, q.per_page, self.name)
                if not terms:
                    return self._run(conn, q, None, where, terms)
                result = self._run(conn, q, match_expression(terms, "and"), where, terms)
                if result.total == 0 and len(terms) > 1:
                    result = self._run(conn, q, match_expression(terms, "or"), where, terms)
                return result
        except sqlite3.OperationalError as exc:
            # Our MATCH text is built from quoted tokens, so this is the file, not the user's input.
            raise EngineUnavailable(f"search index error: {exc}") from exc

    def _run(
        self,
        conn: sqlite3.Connection,
        q: SearchQuery,
        match: str | None,
        where: tuple[list[str], list[Any]],
        terms: list[QueryTerm],
    ) -> SearchResults:
        clauses, params = where
        if match is not None:
            # CROSS JOIN keeps the full-text match as the outer loop, whatever the filters.
            source = "fts CROSS JOIN docs d ON d.rowid = fts.rowid"
            clauses = ["fts MATCH ?", *clauses]
            params = [match, *params]
            score = f"-{_BM25}"
        else:
            source = "docs d"
            score = "0.0"
        where_sql = " AND ".join(clauses) or "1"
        key = (self._generation(conn), source, where_sql, tuple(params), q.facets)
        total, facets = self._cached(key, lambda: self._counts(conn, source, where_sql, params, q.facets))
        newest = "d.published_at DESC, d.rowid"
        order = {
            "relevance": f"score DESC, {newest}" if match else newest,
            "newest": newest,
            "price_asc": f"d.price_low IS NULL, d.price_low ASC, {newest}",
            "price_desc": f"d.price_low IS NULL, d.price_low DESC, {newest}",
        }[q.sort]
        hits: list[Hit] = []
        offset = (q.page - 1) * q.per_page
        if total > offset:
            sql = f"SELECT d.rowid, {score} AS score FROM {source} WHERE {where_sql} ORDER BY {order}"
            rows = conn.execute(f"{sql} LIMIT ? OFFSET ?", [*params, q.per_page, offset]).fetchall()
            if rows:
                marks = ", ".join("?" * len(rows))
                sql = f"SELECT rowid, doc FROM stored WHERE rowid IN ({marks})"
                stored = dict(conn.execute(sql, [r[0] for r in rows]))
                hits = [self._hit(json.loads(stored[rid]), sc, terms) for rid, sc in rows if rid in stored]
        return SearchResults(total, hits, facets, q.page, q.per_page, self.name)

    @staticmethod
    def _hit(doc: dict[str, Any], score: float, terms: list[QueryTerm]) -> Hit:
        extra = {
            k: doc[k]
            for k in (
                "org_name", "field_top", "maturity", "modes", "region", "is_challenge",
                "price_low", "price_high", "published_at", "keywords",
            )
        }  # fmt: skip
        return Hit(
            id=doc["id"],
            kind=doc["kind"],
            db_id=doc["db_id"],
            external_id=doc["external_id"],
            title=highlight(doc["title"], terms),
            snippet=snippet(doc["body"], terms),
            field=doc["field"],
            score=round(float(score), 6),
            fields=extra,
        )


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

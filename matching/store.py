"""Per-listing match state on disk (SQLite): the matcher of a live marketplace.

`matching.Matcher` holds every listing in memory, which suits evaluation and batch ranking but not a
site: saving it rewrites the whole model, and every process that loads it pays for the whole library.
A `MatchStore` keeps, per listing, what its matches are made of, so that one change costs what that
listing costs whatever the library's size:

* `meta`      the fitted text model (vocabulary and IDF; it changes only on a refit) and the settings;
* `listings`  per listing: its full TF-IDF row, its candidate-index row, its scoring attributes and its
              candidate list — the best `capacity` listings of the other side by index cosine, each
              with its hybrid score;
* `postings`  the candidate index inverted: per term, the listings carrying it and their weights.

A listing's matches are the best `k` by hybrid score among the first `candidates` entries of its list,
ties by id — the rule of `Matcher.rank` — so a store built from some records gives exactly the matches
a `Matcher` fitted on them gives, and a store kept up to date change by change holds exactly what a
full recompute with the same text model holds (tests pin both).

Adding a listing queries the postings for its candidates, then offers it to every list on the other
side that it beats. Removing one takes it out of the lists it is in; a list left with fewer than
`candidates` entries is queried again (the `spare` entries beyond `candidates` make that rare). An edit
is a removal and an addition. A bulk import may put the offers off (`apply(defer_offers=True)`): each new
listing gets its own matches at once, is indexed for the other side's queries, and is offered to their
lists later by `offer_deferred` (kept in the `offers` table meanwhile; a list queried in between
already holds it and is skipped), ending exactly where offering at once ends. Each `apply` is one
SQLite transaction; one process writes at a time (the site's worker), any number may read.
"""

from __future__ import annotations

import contextlib
import os
import pickle
import sqlite3
import struct
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

import numpy as np
import scipy.sparse as sp

from matching.explain import attributes_row
from matching.matcher import exact_cosines
from matching.records import NeedRecord, ResultRecord
from matching.scoring import Attributes, FieldCodes, Weights, combine, components, encode, explain
from matching.text import TextConfig, TextModel, doc_of
from matching.topk import topk_rows

FORMAT = "techmarket-match-store"
#: bumped whenever the file layout changes; `MatchStore` refuses other versions
VERSION = 1
KINDS = ("result", "need")
_CODE = {"result": 0, "need": 1}
_ATTRS = tuple(Attributes.__dataclass_fields__)
_INT_ATTRS = ("field_raw", "field_sub", "field_top", "maturity", "modes", "related")
#: a build writes here first and renames the file into place when complete
BUILDING = ".building-"
#: a write-ahead log larger than this is checkpointed right after a batch
WAL_LIMIT = 256 << 20

Record = ResultRecord | NeedRecord
_R = TypeVar("_R", ResultRecord, NeedRecord)
#: (kind, listing id, the record to index, or None to remove it)
Change = tuple[str, str, "Record | None"]


class StoreError(RuntimeError):
    """The file is missing, unreadable, or not a match store of this version."""


@dataclass(frozen=True)
class StoreConfig:
    """How many matches a listing keeps and how they are chosen (a change needs a rebuild)."""

    #: matches per listing
    k: int = 20
    #: index candidates re-scored with the hybrid score per listing (`Matcher`: k × candidate_factor)
    candidates: int = 100
    #: further candidates kept so that a withdrawal on the other side rarely needs a new query
    spare: int = 50
    #: a pair below this score is not worth an agent's time: not wanted, whoever ranks it
    min_score: float = 0.2
    #: shared words shown as reasons
    key_terms: int = 5

    @property
    def capacity(self) -> int:
        return self.candidates + self.spare


@dataclass(frozen=True)
class PairState:
    """A (result, need) pair after a change: wanted (in either side's top k at or above `min_score`)
    with its score and reasons, or — `score` None — not wanted any more."""

    result_id: str
    need_id: str
    score: float | None
    reasons: dict | None = None
    #: wanted before and after, with the same score (it only left one side's top k): nothing to write
    unchanged: bool = False

    @property
    def wanted(self) -> bool:
        return self.score is not None


@dataclass
class Diff:
    """What an `apply` changed: every pair it touched, with its final state, and the listings whose
    top k changed. Pairs are reported whenever a step looked at them, so applying the same change
    twice (a retry after a crash) reports them again and a caller's copy converges."""

    pairs: dict[tuple[str, str], PairState] = field(default_factory=dict)
    changed: set[tuple[str, str]] = field(default_factory=set)
    seconds: float = 0.0

    @property
    def wanted(self) -> list[PairState]:
        return [p for p in self.pairs.values() if p.wanted]

    @property
    def dropped(self) -> list[PairState]:
        return [p for p in self.pairs.values() if not p.wanted]


@dataclass
class _Touched:
    """The pairs a batch moved: into some listing's top k, or out of it."""

    entered: set[tuple[str, str]] = field(default_factory=set)
    left: set[tuple[str, str]] = field(default_factory=set)


@dataclass
class _Cand:
    """One listing's candidate list, best index cosine first (ties by id).

    Entries past the first `candidates` may have no score yet (nan): they get one when they move up."""

    slots: np.ndarray  # int64, slots on the other side
    icos: np.ndarray  # float32
    scores: np.ndarray  # float64, hybrid score of each pair
    #: holds every listing of the other side with a positive index cosine
    complete: bool

    def pack(self) -> bytes:
        n = len(self.slots)
        return (
            struct.pack("<IB", n, self.complete)
            + self.slots.astype(np.int32).tobytes()
            + self.icos.astype(np.float32).tobytes()
            + self.scores.astype(np.float64).tobytes()
        )

    @classmethod
    def unpack(cls, blob: bytes) -> _Cand:
        n, complete = struct.unpack_from("<IB", blob)
        off = 5
        slots = np.frombuffer(blob, np.int32, n, off).astype(np.int64)
        icos = np.frombuffer(blob, np.float32, n, off + 4 * n)
        scores = np.frombuffer(blob, np.float64, n, off + 8 * n)
        return cls(slots, icos, scores, bool(complete))

    def floor(self) -> float:
        return 0.0 if self.complete or not len(self.icos) else float(self.icos[-1])


@dataclass
class _Listing:
    """A listing's vectors and attributes (read from the file, or made by an add)."""

    row_idx: np.ndarray
    row_val: np.ndarray
    irow_idx: np.ndarray
    irow_val: np.ndarray
    attrs: np.ndarray  # float64 (9,)


class _Side:
    """Listings of one kind, in memory: slot -> id, each list's floor (known for every slot from the
    start), and the candidate lists themselves as padded arrays, filled from the file on first use."""

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self.ids: list[str | None] = []
        self.slot_of: dict[str, int] = {}
        self.floor = np.zeros(0, np.float32)
        self.complete = np.zeros(0, bool)
        self.loaded = np.zeros(0, bool)
        self.length = np.zeros(0, np.int32)
        self.cand_slots = np.zeros((0, capacity), np.int32)
        self.cand_icos = np.zeros((0, capacity), np.float32)
        self.cand_scores = np.zeros((0, capacity), np.float64)

    def __len__(self) -> int:
        return len(self.slot_of)

    def id_of(self, slot: int) -> str:
        """The id of a slot that holds a listing (every slot a candidate list points to does)."""
        listing_id = self.ids[slot]
        if listing_id is None:
            raise StoreError(f"slot {slot} is free")
        return listing_id

    @property
    def slots(self) -> int:
        return len(self.ids)

    def reserve(self, n: int) -> None:
        """Room for `n` slots (untouched rows of a fresh np.zeros cost no memory until written)."""
        if n <= len(self.floor):
            return
        size = max(n, int(len(self.floor) * 1.5) + 64)

        def grown(old: np.ndarray) -> np.ndarray:
            new = np.zeros((size, *old.shape[1:]), old.dtype)
            new[: len(old)] = old
            return new

        self.floor, self.complete, self.loaded, self.length = (
            grown(self.floor),
            grown(self.complete),
            grown(self.loaded),
            grown(self.length),
        )
        self.cand_slots, self.cand_icos, self.cand_scores = (
            grown(self.cand_slots),
            grown(self.cand_icos),
            grown(self.cand_scores),
        )

    def new_slot(self, listing_id: str | None, slot: int | None = None) -> int:
        """The next slot (or `slot`, when loading; the slots skipped stay free) for `listing_id`."""
        slot = len(self.ids) if slot is None else slot
        self.ids.extend([None] * (slot + 1 - len(self.ids)))
        self.ids[slot] = listing_id
        if listing_id is not None:
            self.slot_of[listing_id] = slot
        self.reserve(slot + 1)
        return slot

    def free(self, slot: int) -> None:
        listing_id = self.ids[slot]
        if listing_id is not None:
            self.slot_of.pop(listing_id, None)
        self.ids[slot] = None
        self.floor[slot] = 0.0
        self.complete[slot] = self.loaded[slot] = False
        self.length[slot] = 0

    def get(self, slot: int) -> _Cand:
        n = int(self.length[slot])
        return _Cand(
            self.cand_slots[slot, :n].astype(np.int64),
            self.cand_icos[slot, :n].copy(),
            self.cand_scores[slot, :n].copy(),
            bool(self.complete[slot]),
        )

    def packed(self, slots: list[int]) -> list[tuple[float, int, bytes]]:
        """(floor, complete, `_Cand.pack` blob) of some lists, straight from the arrays (a batch
        rewrites thousands: no `_Cand` is made for each)."""
        rows = np.asarray(slots, np.int64)
        lengths, complete = self.length[rows].tolist(), self.complete[rows].tolist()
        ids, icos, scores = self.cand_slots[rows], self.cand_icos[rows], self.cand_scores[rows]
        out = []
        for j, (n, whole) in enumerate(zip(lengths, complete, strict=True)):
            floor = 0.0 if whole or not n else float(icos[j, n - 1])
            blob = (
                struct.pack("<IB", n, whole)
                + ids[j, :n].tobytes()
                + icos[j, :n].tobytes()
                + scores[j, :n].tobytes()
            )
            out.append((floor, int(whole), blob))
        return out

    def put(self, slot: int, cand: _Cand) -> None:
        n = len(cand.slots)
        self.cand_slots[slot, :n] = cand.slots
        self.cand_icos[slot, :n] = cand.icos
        self.cand_scores[slot, :n] = cand.scores
        self.length[slot] = n
        self.complete[slot] = cand.complete
        self.floor[slot] = cand.floor()
        self.loaded[slot] = True

    def unload(self) -> None:
        self.loaded[:] = False


def _row_blob(idx: np.ndarray, val: np.ndarray) -> bytes:
    return np.asarray(idx, np.int32).tobytes() + np.asarray(val, np.float32).tobytes()


def _row_of(blob: bytes) -> tuple[np.ndarray, np.ndarray]:
    n = len(blob) // 8
    return np.frombuffer(blob, np.int32, n), np.frombuffer(blob, np.float32, n, 4 * n)


def _attr_rows(attrs: Attributes) -> np.ndarray:
    return np.stack([getattr(attrs, name).astype(np.float64) for name in _ATTRS], axis=1)


def _attributes(rows: np.ndarray) -> Attributes:
    rows = np.atleast_2d(rows)
    values = {}
    for i, name in enumerate(_ATTRS):
        column = rows[:, i]
        if name in _INT_ATTRS:
            values[name] = column.astype(np.int64)
        elif name == "jjj":
            values[name] = column.astype(bool)
        else:
            values[name] = column.copy()
    return Attributes(**values)


def _csr(rows: Sequence[tuple[np.ndarray, np.ndarray]], width: int) -> sp.csr_matrix:
    lengths = [len(i) for i, _ in rows]
    indptr = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
    indices = np.concatenate([i for i, _ in rows]) if rows else np.zeros(0, np.int32)
    data = np.concatenate([v for _, v in rows]) if rows else np.zeros(0, np.float32)
    return sp.csr_matrix((data, indices, indptr), shape=(len(rows), width))


def _unique_sorted(records: Iterable[_R]) -> list[_R]:
    by_id: dict[str, _R] = {}
    for rec in records:
        by_id[rec.id] = rec
    return [by_id[i] for i in sorted(by_id)]


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def remove_stale_builds(path: str | Path) -> list[Path]:
    """Delete half-written builds of `path` whose builder process is gone; returns what was removed."""
    path = Path(path)
    removed = []
    for leftover in path.parent.glob(f"{path.name}{BUILDING}*"):
        pid = leftover.name.rsplit("-", 1)[-1].split(".")[0]
        if not pid.isdigit() or not _pid_alive(int(pid)):
            with contextlib.suppress(FileNotFoundError):
                leftover.unlink()
                removed.append(leftover)
    return removed


#: listings added with their offers to the other side's lists put off (`apply(defer_offers=True)`)
_OFFERS = "CREATE TABLE IF NOT EXISTS offers (key INTEGER PRIMARY KEY)"
#: every table is keyed by one integer: slot * 2 + kind (listings) or term * 2 + kind (postings)
_SCHEMA = (
    "CREATE TABLE meta (key TEXT PRIMARY KEY, value BLOB) WITHOUT ROWID",
    # Small rows read whole when the store opens: which listing has which slot, and its list's floor.
    """CREATE TABLE slots (
        key INTEGER PRIMARY KEY, id TEXT NOT NULL, floor REAL NOT NULL, complete INTEGER NOT NULL)""",
    """CREATE TABLE vectors (
        key INTEGER PRIMARY KEY, row BLOB NOT NULL, irow BLOB NOT NULL, attrs BLOB NOT NULL)""",
    "CREATE TABLE cands (key INTEGER PRIMARY KEY, cand BLOB NOT NULL)",
    "CREATE TABLE postings (key INTEGER PRIMARY KEY, slots BLOB NOT NULL, weights BLOB NOT NULL)",
    _OFFERS,
)


def _key(kind: int, n: int) -> int:
    return 2 * n + kind


def _connect(path: str | Path, *, readonly: bool = False) -> sqlite3.Connection:
    mode = "ro" if readonly else "rw"
    try:
        conn = sqlite3.connect(
            f"file:{path}?mode={mode}", uri=True, isolation_level=None, check_same_thread=False, timeout=30
        )
        conn.execute("PRAGMA busy_timeout = 30000")
        # Derived data, rebuilt from the database when lost: no fsync per commit (WAL keeps it intact
        # through a crash of the process; a power cut may lose the last batches, which a rebuild redoes).
        conn.execute("PRAGMA synchronous = NORMAL")
        # A batch rewrites hundreds of candidate lists; copying them into the file (a checkpoint) is
        # left to `checkpoint()`, which the worker calls when idle, instead of every commit.
        conn.execute("PRAGMA wal_autocheckpoint = 0")
        conn.execute("PRAGMA cache_size = -131072")
        conn.execute("PRAGMA mmap_size = 1073741824")
    except sqlite3.Error as exc:
        raise StoreError(f"cannot open match store {path}: {exc}") from exc
    return conn


def _meta(conn: sqlite3.Connection) -> dict[str, bytes]:
    try:
        return {k: v for k, v in conn.execute("SELECT key, value FROM meta")}
    except sqlite3.DatabaseError as exc:
        raise StoreError(f"not a match store: {exc}") from exc


def describe(path: str | Path) -> dict[str, object] | None:
    """What a store file holds (for status pages), without loading the model; None when missing."""
    if not Path(path).exists():
        return None
    conn = _connect(path, readonly=True)
    try:
        meta = _meta(conn)
        counts = dict(conn.execute("SELECT key % 2, count(*) FROM slots GROUP BY key % 2").fetchall())
        try:
            (deferred,) = conn.execute("SELECT count(*) FROM offers").fetchone()
        except sqlite3.OperationalError:  # written before offers could be put off
            deferred = 0
    finally:
        conn.close()
    return {
        "format": (meta.get("format") or b"").decode(),
        "version": int(meta.get("version") or 0),
        "results": counts.get(0, 0),
        "needs": counts.get(1, 0),
        "fitted_at": float(meta.get("fitted_at") or 0),
        "fitted_docs": int(meta.get("fitted_docs") or 0),
        "deferred_offers": int(deferred),
        "bytes": Path(path).stat().st_size,
    }


def read_model(path: str | Path) -> tuple[TextModel, Weights] | None:
    """The fitted text model and weights of a store file, without opening the store; None when
    there is no store of this version at `path`."""
    if not Path(path).exists():
        return None
    conn = _connect(path, readonly=True)
    try:
        meta = _meta(conn)
    finally:
        conn.close()
    if meta.get("format") != FORMAT.encode() or int(meta.get("version") or 0) != VERSION:
        return None
    payload = pickle.loads(meta["model"])  # written by `build` of this platform only
    return payload["text"], payload["weights"]


class MatchStore:
    """An open store. Writes (`apply`) are serialised by a lock; build a new store with `build`.

    Candidate lists, vectors and postings read from the file are kept in memory between batches (only
    this object writes the file), so a running worker reads each from disk once."""

    def __init__(self, path: str | Path, *, cache_entries: int = 250_000) -> None:
        self.path = Path(path)
        self.cache_entries = cache_entries
        if not self.path.exists():
            raise StoreError(f"match store {self.path} does not exist")
        self._conn = _connect(self.path)
        meta = _meta(self._conn)
        if meta.get("format") != FORMAT.encode() or int(meta.get("version") or 0) != VERSION:
            self._conn.close()
            raise StoreError(f"{self.path} is not a match store of version {VERSION}")
        payload = pickle.loads(meta["model"])  # written by `build` of this platform only
        self.text: TextModel = payload["text"]
        self.weights: Weights = payload["weights"]
        self.config: StoreConfig = payload["config"]
        self.fitted_at = float(meta["fitted_at"])
        self.fitted_docs = int(meta["fitted_docs"])
        self.inode = self.path.stat().st_ino
        self._codes = FieldCodes()
        self._lock = threading.RLock()
        self._conn.execute(_OFFERS)  # a store written before offers could be put off
        self._load_sides()
        self._drop_caches()

    def _load_sides(self) -> None:
        sides = (_Side(self.config.capacity), _Side(self.config.capacity))
        for kind, top in self._conn.execute("SELECT key % 2, max(key) / 2 FROM slots GROUP BY key % 2"):
            sides[kind].reserve(int(top) + 1)
        rows = self._conn.execute("SELECT key, id, floor, complete FROM slots ORDER BY key")
        for key, listing_id, floor, complete in rows:
            kind, slot = key % 2, key // 2
            sides[kind].new_slot(listing_id, slot)
            sides[kind].floor[slot], sides[kind].complete[slot] = floor, bool(complete)
        self._sides = sides
        #: (kind, slot) of listings whose offers to the other side are still to be made, oldest first
        self._deferred: dict[tuple[int, int], None] = {
            (key % 2, key // 2): None for (key,) in self._conn.execute("SELECT key FROM offers ORDER BY key")
        }

    def _drop_caches(self) -> None:
        """Forget everything read from the file (after a rollback; on open)."""
        for side in self._sides:
            side.unload()
        self._listings: dict[tuple[int, int], _Listing] = {}
        self._posts: dict[tuple[int, int], tuple[np.ndarray, np.ndarray]] = {}
        self._clear_pending()

    def _clear_pending(self) -> None:
        #: each list's top k while it is unchanged
        self._tops: dict[tuple[int, int], dict[int, float]] = {}
        self._dirty_lists: set[tuple[int, int]] = set()
        self._dirty_posts: set[tuple[int, int]] = set()
        self._new: set[tuple[int, int]] = set()
        self._deleted: set[tuple[int, int]] = set()
        self._offers_added: set[tuple[int, int]] = set()
        self._offers_done: set[tuple[int, int]] = set()

    def _trim_caches(self) -> None:
        for cache in (self._listings, self._posts):
            if len(cache) > self.cache_entries:
                cache.clear()

    def close(self) -> None:
        with contextlib.suppress(sqlite3.Error):
            self._conn.close()

    def replaced(self) -> bool:
        """True when the file at `path` is no longer the one this store opened (a rebuild swapped it)."""
        try:
            return self.path.stat().st_ino != self.inode
        except FileNotFoundError:
            return True

    def __len__(self) -> int:
        return len(self._sides[0]) + len(self._sides[1])

    def count(self, kind: str) -> int:
        return len(self._sides[_CODE[kind]])

    @property
    def deferred(self) -> int:
        """Listings added with their offers to the other side's lists still to be made
        (`offer_deferred` makes them)."""
        return len(self._deferred)

    def __contains__(self, key: tuple[str, str]) -> bool:
        kind, listing_id = key
        return listing_id in self._sides[_CODE[kind]].slot_of

    @classmethod
    def build(
        cls,
        path: str | Path,
        results: Iterable[ResultRecord],
        needs: Iterable[NeedRecord],
        *,
        text: TextModel | None = None,
        text_config: TextConfig | None = None,
        weights: Weights | None = None,
        config: StoreConfig | None = None,
        n_jobs: int = 1,
        progress: Callable[[str], None] | None = None,
    ) -> MatchStore:
        """Compute every listing's candidates and write a new store at `path`, swapped in atomically.

        `text` reuses a fitted text model (a recompute on the same vocabulary); without it the
        vocabulary and IDF are fitted on these records (a refit).
        """
        say = progress or (lambda _m: None)
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        remove_stale_builds(path)
        config = config or StoreConfig()
        weights = weights or Weights()
        result_list, need_list = _unique_sorted(results), _unique_sorted(needs)
        every: list[Record] = [*result_list, *need_list]
        docs = [doc_of(r) for r in every]
        if text is None:
            text = TextModel(text_config)
            is_need = np.r_[np.zeros(len(result_list), dtype=bool), np.ones(len(need_list), dtype=bool)]
            rows = text.fit_transform(docs, n_jobs=n_jobs, needs=is_need)
        else:
            rows = text.transform(docs)
        say(f"text features: {rows.shape[0]} listings, {text.width} terms")
        rows = rows.tocsr()
        rows.sort_indices()
        irows = text.index_rows(rows)
        codes = FieldCodes()
        sides = []
        parts: tuple[tuple[Sequence[Record], sp.csr_matrix, sp.csr_matrix], ...] = (
            (result_list, rows[: len(result_list)], irows[: len(result_list)]),
            (need_list, rows[len(result_list) :], irows[len(result_list) :]),
        )
        for records, part, ipart in parts:
            sides.append((records, part.tocsr(), ipart.tocsr(), encode(records, codes)))
        cands = []
        for q in (0, 1):
            q_records, q_rows, q_irows, q_attrs = sides[q]
            _, t_rows, t_irows, t_attrs = sides[1 - q]
            cands.append(
                _batch_candidates(
                    q_rows, q_irows, q_attrs, t_rows, t_irows, t_attrs, q, weights, config, n_jobs
                )
            )
            say(f"candidates of {len(q_records)} {KINDS[q]}s")
        tmp = path.with_name(f"{path.name}{BUILDING}{os.getpid()}")
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        conn = sqlite3.connect(tmp, isolation_level=None)
        try:
            conn.execute("PRAGMA journal_mode = OFF")
            conn.execute("PRAGMA synchronous = OFF")
            conn.execute("BEGIN")
            for stmt in _SCHEMA:
                conn.execute(stmt)
            for kind, (records, k_rows, k_irows, attrs) in enumerate(sides):
                attr_rows = _attr_rows(attrs)
                lists = cands[kind]
                conn.executemany(
                    "INSERT INTO slots VALUES (?, ?, ?, ?)",
                    (
                        (_key(kind, slot), rec.id, lists[slot].floor(), int(lists[slot].complete))
                        for slot, rec in enumerate(records)
                    ),
                )
                conn.executemany(
                    "INSERT INTO vectors VALUES (?, ?, ?, ?)",
                    (
                        (
                            _key(kind, slot),
                            _row_blob(*_sparse_row(k_rows, slot)),
                            _row_blob(*_sparse_row(k_irows, slot)),
                            attr_rows[slot].tobytes(),
                        )
                        for slot in range(len(records))
                    ),
                )
                conn.executemany(
                    "INSERT INTO cands VALUES (?, ?)",
                    ((_key(kind, slot), lists[slot].pack()) for slot in range(len(records))),
                )
                inverted = k_irows.T.tocsr()
                conn.executemany(
                    "INSERT INTO postings VALUES (?, ?, ?)",
                    (
                        (_key(kind, int(term)), *_posting_blobs(*_sparse_row(inverted, int(term))))
                        for term in np.flatnonzero(np.diff(inverted.indptr))
                    ),
                )
            payload = pickle.dumps(
                {"text": text, "weights": weights, "config": config}, protocol=pickle.HIGHEST_PROTOCOL
            )
            conn.executemany(
                "INSERT INTO meta VALUES (?, ?)",
                [
                    ("format", FORMAT.encode()),
                    ("version", str(VERSION).encode()),
                    ("model", payload),
                    ("fitted_at", str(time.time()).encode()),
                    ("fitted_docs", str(text.n_docs).encode()),
                ],
            )
            conn.execute("COMMIT")
            conn.execute("PRAGMA journal_mode = WAL")
        except BaseException:
            conn.close()
            with contextlib.suppress(FileNotFoundError):
                tmp.unlink()
            raise
        conn.close()
        for suffix in ("-wal", "-shm"):
            with contextlib.suppress(FileNotFoundError):
                Path(f"{path}{suffix}").unlink()
        os.replace(tmp, path)
        say(f"match store written: {path}")
        return cls(path)

    # -- reads -----------------------------------------------------------------------------------

    def _listing(self, kind: int, slot: int) -> _Listing:
        key = (kind, slot)
        found = self._listings.get(key)
        if found is None:
            self._fetch_listings(kind, [slot])
            found = self._listings[key]
        return found

    def _fetch_listings(self, kind: int, slots: Iterable[int]) -> None:
        wanted = [s for s in {int(x) for x in slots} if (kind, s) not in self._listings]
        for start in range(0, len(wanted), 500):
            chunk = wanted[start : start + 500]
            marks = ",".join("?" * len(chunk))
            for key, row, irow, attrs in self._conn.execute(
                f"SELECT key, row, irow, attrs FROM vectors WHERE key IN ({marks})",
                [_key(kind, slot) for slot in chunk],
            ):
                self._listings[(kind, key // 2)] = _Listing(
                    *_row_of(row), *_row_of(irow), np.frombuffer(attrs)
                )

    def _load_lists(self, kind: int, slots: Iterable[int]) -> None:
        side = self._sides[kind]
        wanted = [s for s in {int(x) for x in slots} if not side.loaded[s]]
        for start in range(0, len(wanted), 500):
            chunk = wanted[start : start + 500]
            marks = ",".join("?" * len(chunk))
            for key, cand in self._conn.execute(
                f"SELECT key, cand FROM cands WHERE key IN ({marks})", [_key(kind, slot) for slot in chunk]
            ):
                side.put(key // 2, _Cand.unpack(cand))

    def _cand(self, kind: int, slot: int) -> _Cand:
        self._load_lists(kind, [slot])
        return self._sides[kind].get(slot)

    def _put(self, kind: int, slot: int, cand: _Cand) -> None:
        self._sides[kind].put(slot, cand)
        self._dirty_lists.add((kind, slot))
        self._tops.pop((kind, slot), None)

    def _fetch_postings(self, kind: int, terms: np.ndarray) -> None:
        wanted = [int(t) for t in terms if (kind, int(t)) not in self._posts]
        for start in range(0, len(wanted), 500):
            chunk = wanted[start : start + 500]
            marks = ",".join("?" * len(chunk))
            found = set()
            for key, slots, weights in self._conn.execute(
                f"SELECT key, slots, weights FROM postings WHERE key IN ({marks})",
                [_key(kind, term) for term in chunk],
            ):
                self._posts[(kind, key // 2)] = (
                    np.frombuffer(slots, np.int32),
                    np.frombuffer(weights, np.float32),
                )
                found.add(key // 2)
            for term in chunk:
                if term not in found:
                    self._posts[(kind, term)] = (np.zeros(0, np.int32), np.zeros(0, np.float32))

    def _accumulate(self, kind: int, idx: np.ndarray, val: np.ndarray) -> np.ndarray:
        """Index cosines of one row with every listing of side `kind` (0 where nothing is shared).

        Terms are added in column order, as a sparse product adds them, so the cosines are exactly
        those of `topk_rows` over the same rows."""
        acc = np.zeros(self._sides[kind].slots, np.float32)
        self._fetch_postings(kind, idx)
        for term, weight in zip(idx.tolist(), val, strict=True):
            slots, weights = self._posts[(kind, term)]
            if len(slots):
                acc[slots] += weight * weights
        return acc

    def _topk(self, kind: int, slot: int) -> dict[int, float]:
        """Other-side slot -> score of the listing's matches (its top k at or above min_score); kept
        until the list changes."""
        found = self._tops.get((kind, slot))
        if found is not None:
            return found
        self._load_lists(kind, [slot])
        side = self._sides[kind]
        n = min(int(side.length[slot]), self.config.candidates)
        top = self._tops[(kind, slot)] = self._top_of(
            kind, side.cand_scores[slot, :n], side.cand_slots[slot, :n]
        )
        return top

    def _top_of(self, kind: int, scores: np.ndarray, slots: np.ndarray) -> dict[int, float]:
        if not len(scores):
            return {}
        order = np.asarray(_ranked(scores, slots, self._sides[1 - kind].ids)[: self.config.k], np.int64)
        order = order[scores[order] >= self.config.min_score]
        return dict(zip(slots[order].tolist(), scores[order].tolist(), strict=True))

    def _scores(self, kind: int, q: _Listing, targets: Sequence[int] | np.ndarray) -> np.ndarray:
        """Hybrid scores of one listing (the query, side `kind`) with listings of the other side."""
        other = 1 - kind
        if not len(targets):
            return np.zeros(0)
        self._fetch_listings(other, targets)
        t_rows = [self._listing(other, int(s)) for s in targets]
        cos = _dots([(q.row_idx, q.row_val)], [(t.row_idx, t.row_val) for t in t_rows])[0]
        q_attrs = _attributes(q.attrs)
        t_attrs = _attributes(np.stack([t.attrs for t in t_rows]))
        values = components(cos, q_attrs, t_attrs) if kind == 1 else components(cos, t_attrs, q_attrs)
        return combine(values, self.weights)

    def _query(self, kind: int, q: _Listing) -> tuple[_Cand, np.ndarray]:
        """The candidate list of a listing of side `kind`, and its index cosines with the other side."""
        other = 1 - kind
        acc = self._accumulate(other, q.irow_idx, q.irow_val)
        positive = np.flatnonzero(acc > 0)
        cap = self.config.capacity
        complete = len(positive) < cap
        if not complete:
            kth = np.partition(acc[positive], len(positive) - cap)[len(positive) - cap]
            positive = positive[acc[positive] >= kth]
        ids = self._sides[other].ids
        order = sorted(positive.tolist(), key=lambda s: (-float(acc[s]), ids[s]))[:cap]
        slots = np.array(order, dtype=np.int64)
        scores = np.full(len(slots), np.nan)
        window = min(len(slots), self.config.candidates)
        scores[:window] = self._scores(kind, q, slots[:window])
        return _Cand(slots, acc[slots].astype(np.float32), scores, complete), acc

    # -- writes ----------------------------------------------------------------------------------

    def apply(
        self,
        changes: Sequence[Change],
        *,
        early: Callable[[list[PairState]], None] | None = None,
        defer_offers: bool = False,
    ) -> Diff:
        """Add, replace (same id) or remove listings; one transaction. Returns what changed.

        `early`, when given, is called with each added listing's own matches as soon as they are
        known — before the listing is offered to the other side's lists, which takes longer — so a
        caller can show them at once; the returned diff repeats them. With `defer_offers` those offers
        are not made now but kept (in the file) for `offer_deferred`: a bulk import gets every
        listing's own matches first and the other side's lists brought up to date after. Removing an
        id the store does not hold is a no-op; re-adding an unchanged record is not skipped, so that a
        retried batch reports its pairs again."""

        def body(touched: _Touched, changed: set[tuple[int, int]]) -> None:
            for kind_name, listing_id, record in changes:
                kind = _CODE[kind_name]
                if listing_id in self._sides[kind].slot_of:
                    self._remove(kind, listing_id, touched, changed)
                if record is not None:
                    self._add(kind, record, touched, changed, early, defer=defer_offers)

        return self._transaction(body)

    def offer_deferred(self, limit: int = 20, *, before_commit: Callable[[Diff], None] | None = None) -> Diff:
        """Make the put-off offers of up to `limit` listings, oldest first (one transaction); the diff
        reports the pairs that entered or left the other side's matches. Once none is left the store
        holds exactly what it would hold had the offers been made at once.

        `before_commit(diff)` runs before the store commits, so a caller can record the diff in its
        own database first: should that fail (or the process die before the store commits), the
        offers stay put off and are made, and reported, again."""

        def body(touched: _Touched, changed: set[tuple[int, int]]) -> None:
            for kind, slot in list(self._deferred)[:limit]:
                listing = self._listing(kind, slot)
                acc = self._accumulate(1 - kind, listing.irow_idx, listing.irow_val)
                self._offer_new(kind, slot, listing, acc, touched, changed)
                self._settle_offer((kind, slot))

        return self._transaction(body, before_commit)

    def _transaction(
        self,
        body: Callable[[_Touched, set[tuple[int, int]]], None],
        before_commit: Callable[[Diff], None] | None = None,
    ) -> Diff:
        """Run `body` (which records the pairs it moved and the lists it changed) in one write
        transaction, write back what it changed and return the diff; on any failure the file and
        this object are as before."""
        started = time.perf_counter()
        with self._lock:
            touched_pairs = _Touched()
            changed: set[tuple[int, int]] = set()
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                body(touched_pairs, changed)
                diff = self._diff(touched_pairs, changed)
                self._write_back()
                if before_commit is not None:
                    before_commit(diff)
                self._conn.execute("COMMIT")
            except BaseException:
                with contextlib.suppress(sqlite3.Error):
                    self._conn.execute("ROLLBACK")
                self._load_sides()
                self._drop_caches()
                raise
            self._clear_pending()
            self._trim_caches()
            if self._wal_bytes() > WAL_LIMIT:
                self.checkpoint()
        diff.seconds = time.perf_counter() - started
        return diff

    def _wal_bytes(self) -> int:
        try:
            return os.stat(f"{self.path}-wal").st_size
        except FileNotFoundError:
            return 0

    def checkpoint(self) -> bool:
        """Copy committed batches from the write-ahead log into the file (the worker does it when idle,
        and `apply` once the log passes `WAL_LIMIT`). True when the log was emptied."""
        with self._lock:
            if not self._wal_bytes():
                return True
            busy, _, _ = self._conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
            return not busy

    def _pairs_of(
        self, kind: int, me: str | None, before: dict[int, float], after: dict[int, float], pairs: _Touched
    ) -> bool:
        """Record the pairs that entered or left a listing's top k; True if any did.

        A pair that stayed keeps its score (neither side changed), so it needs no report."""
        other_ids = self._sides[1 - kind].ids
        if me is None:
            return before.keys() != after.keys()
        for moved, into in (
            (after.keys() - before.keys(), pairs.entered),
            (before.keys() - after.keys(), pairs.left),
        ):
            for slot in moved:
                other = other_ids[slot]
                if other is not None:
                    into.add((me, other) if kind == 0 else (other, me))
        return before.keys() != after.keys()

    def _add(
        self,
        kind: int,
        record: Record,
        pairs: _Touched,
        changed: set[tuple[int, int]],
        early: Callable[[list[PairState]], None] | None = None,
        *,
        defer: bool = False,
    ) -> None:
        side = self._sides[kind]
        row = self.text.transform([doc_of(record)]).tocsr()
        row.sort_indices()
        irow = self.text.index_rows(row)
        attrs = _attr_rows(encode([record], self._codes))[0]
        slot = side.new_slot(record.id)
        key = (kind, slot)
        listing = _Listing(row.indices, row.data, irow.indices, irow.data, attrs)
        self._listings[key] = listing
        self._new.add(key)
        cand, acc = self._query(kind, listing)
        self._put(kind, slot, cand)
        own = self._topk(kind, slot)
        self._pairs_of(kind, record.id, {}, own, pairs)
        changed.add(key)
        if early is not None and own:
            o_side = self._sides[1 - kind]
            early(
                self._explain(
                    [
                        (record.id, o_side.id_of(o), slot, o, sc)
                        if kind == 0
                        else (o_side.id_of(o), record.id, o, slot, sc)
                        for o, sc in own.items()
                    ]
                )
            )
        if defer:
            self._deferred[key] = None
            self._offers_added.add(key)
        else:
            self._offer_new(kind, slot, listing, acc, pairs, changed)
        # Index the new listing for the other side's queries.
        self._add_postings(kind, slot, irow.indices, irow.data)

    def _offer_new(
        self,
        kind: int,
        slot: int,
        listing: _Listing,
        acc: np.ndarray,
        pairs: _Touched,
        changed: set[tuple[int, int]],
    ) -> None:
        """Offer a new listing (side `kind`; `acc`, its index cosines with the other side) to every
        list of the other side that it may enter."""
        o_side = self._sides[1 - kind]
        n = len(acc)
        offer = np.flatnonzero((acc > 0) & (o_side.complete[:n] | (acc >= o_side.floor[:n])))
        if len(offer):
            self._offer(1 - kind, offer, acc[offer], slot, listing, pairs, changed)

    def _settle_offer(self, key: tuple[int, int]) -> None:
        """The put-off offers of `key` are made, or no longer to be made (it was removed)."""
        if key in self._deferred:
            del self._deferred[key]
            self._offers_done.add(key)
            self._offers_added.discard(key)

    def _offer(
        self,
        kind: int,
        owners: np.ndarray,
        icos: np.ndarray,
        new_slot: int,
        new: _Listing,
        pairs: _Touched,
        changed: set[tuple[int, int]],
    ) -> None:
        """Put a new listing of the other side into the candidate lists (of side `kind`) it beats
        and is not in yet (a list queried after the listing was indexed, while its offers were put
        off, holds it already).

        Vectorised over the lists. Only an entry among a list's first `candidates` needs its hybrid
        score now; one further down gets it if it ever moves up. The top k is looked at only in the
        lists where it may change: the new entry ranks within it, or it pushed an entry of it out of
        the first `candidates`."""
        side, other = self._sides[kind], 1 - kind
        cap, window, k, least = (
            self.config.capacity,
            self.config.candidates,
            self.config.k,
            self.config.min_score,
        )
        self._load_lists(kind, owners)
        new_id = self._sides[other].ids[new_slot]
        other_ids = self._sides[other].ids
        lengths = side.length[owners]
        cols = np.arange(cap)
        valid = cols[None, :] < lengths[:, None]
        holds = np.any(valid & (side.cand_slots[owners] == new_slot), axis=1)
        if holds.any():
            owners, icos, lengths, valid = owners[~holds], icos[~holds], lengths[~holds], valid[~holds]
        rows_icos = side.cand_icos[owners]
        positions = np.count_nonzero(valid & (rows_icos > icos[:, None]), axis=1)
        for j in np.flatnonzero(np.any(valid & (rows_icos == icos[:, None]), axis=1)).tolist():
            tied = np.flatnonzero(valid[j] & (rows_icos[j] == icos[j]))
            positions[j] += sum(1 for c in tied if other_ids[side.cand_slots[owners[j], c]] < new_id)
        keep = (side.complete[owners] | (positions < lengths)) & (positions < cap)
        owners, icos, positions, lengths = owners[keep], icos[keep], positions[keep], lengths[keep]
        if not len(owners):
            return
        in_window = positions < window
        new_scores = np.full(len(owners), np.nan)
        new_scores[in_window] = self._offer_scores(kind, owners[in_window], new)
        # Which top-k lists may change (decided before the lists are rewritten).
        maybe = np.flatnonzero(in_window)
        look = np.zeros(len(owners), bool)
        befores: dict[int, dict[int, float]] = {}
        if len(maybe):
            ws = side.cand_scores[owners[maybe], :window]
            wvalid = cols[None, :window] < np.minimum(lengths[maybe], window)[:, None]
            ws = np.where(wvalid, ws, -np.inf)
            x = new_scores[maybe]
            ahead = np.count_nonzero(ws > x[:, None], axis=1)
            ties = np.any(ws == x[:, None], axis=1)
            full = lengths[maybe] >= window
            pushed = np.where(full, ws[:, window - 1], -np.inf)
            pushed_ahead = np.count_nonzero(ws > pushed[:, None], axis=1)
            pushed_ties = np.count_nonzero(ws == pushed[:, None], axis=1) > 1
            enters = (x >= least) & (ahead - (pushed > x) < k)
            pushed_in = full & (pushed >= least) & (pushed_ahead < k)
            look[maybe] = enters | pushed_in | ties | (full & pushed_ties)
            for j in np.flatnonzero(look).tolist():
                befores[j] = self._topk(kind, int(owners[j]))
        # Insert the new entry into every list at its position (rows rebuilt by gathering).
        src = np.where(cols[None, :] < positions[:, None], cols, cols - 1)
        src = np.clip(src, 0, cap - 1)
        at = cols[None, :] == positions[:, None]
        rows = owners
        for array, value in (
            (side.cand_slots, np.full(len(rows), new_slot)),
            (side.cand_icos, icos),
            (side.cand_scores, new_scores),
        ):
            gathered = np.take_along_axis(array[rows], src, axis=1)
            gathered[at] = np.repeat(value, 1)
            array[rows] = gathered
        new_lengths = np.minimum(lengths + 1, cap)
        side.length[rows] = new_lengths
        side.complete[rows] = side.complete[rows] & (new_lengths < cap)
        last = side.cand_icos[rows, new_lengths - 1]
        side.floor[rows] = np.where(side.complete[rows], 0.0, last)
        self._dirty_lists.update((kind, int(t)) for t in rows)
        for t in rows.tolist():
            self._tops.pop((kind, t), None)
        for j, before in befores.items():
            t = int(owners[j])
            after = self._topk(kind, t)
            if self._pairs_of(kind, side.ids[t], before, after, pairs):
                changed.add((kind, t))

    def _offer_scores(self, kind: int, owners: np.ndarray, new: _Listing) -> np.ndarray:
        """Hybrid scores of (owner, new listing) pairs, each owner the query of its pair as when its
        list was built."""
        if not len(owners):
            return np.zeros(0)
        self._fetch_listings(kind, owners)
        rows = [self._listing(kind, int(t)) for t in owners]
        cos = _dots([(t.row_idx, t.row_val) for t in rows], [(new.row_idx, new.row_val)])[:, 0]
        owner_attrs, new_attrs = _attributes(np.stack([t.attrs for t in rows])), _attributes(new.attrs)
        pair = (owner_attrs, new_attrs) if kind == 1 else (new_attrs, owner_attrs)
        return combine(components(cos.astype(np.float64), *pair), self.weights)

    def _remove(self, kind: int, listing_id: str, pairs: _Touched, changed: set[tuple[int, int]]) -> None:
        side, other = self._sides[kind], 1 - kind
        o_side = self._sides[other]
        slot = side.slot_of[listing_id]
        key = (kind, slot)
        listing = self._listing(kind, slot)
        self._pairs_of(kind, listing_id, self._topk(kind, slot), {}, pairs)
        changed.add(key)
        # Out of the index first, so lists queried again below cannot pick it up.
        self._remove_postings(kind, slot, listing.irow_idx)
        acc = self._accumulate(other, listing.irow_idx, listing.irow_val)
        n = len(acc)
        maybe = np.flatnonzero((acc > 0) & (o_side.complete[:n] | (acc >= o_side.floor[:n])))
        self._load_lists(other, maybe)
        cap = self.config.capacity
        if len(maybe):
            cols = np.arange(cap)
            hit = (o_side.cand_slots[maybe] == slot) & (cols[None, :] < o_side.length[maybe][:, None])
            holders = maybe[hit.any(axis=1)]
            positions = np.argmax(hit[hit.any(axis=1)], axis=1)
        else:
            holders = positions = np.zeros(0, np.int64)
        if len(holders):
            self._take_out(other, holders, positions, pairs, changed)
        side.free(slot)
        self._settle_offer(key)
        self._deleted.add(key)
        self._new.discard(key)
        self._dirty_lists.discard(key)
        self._listings.pop(key, None)

    def _take_out(
        self,
        kind: int,
        owners: np.ndarray,
        positions: np.ndarray,
        pairs: _Touched,
        changed: set[tuple[int, int]],
    ) -> None:
        """Delete one entry from each of some candidate lists (side `kind`), vectorised.

        An entry that moves up into the first `candidates` gets its score; a list left short of
        `candidates` that may be missing entries is queried again."""
        side = self._sides[kind]
        cap, window = self.config.capacity, self.config.candidates
        cols = np.arange(cap)
        lengths = side.length[owners]
        in_window = positions < window
        look = np.flatnonzero(in_window)
        befores = {int(j): self._topk(kind, int(owners[j])) for j in look}
        src = np.clip(np.where(cols[None, :] < positions[:, None], cols, cols + 1), 0, cap - 1)
        for array in (side.cand_slots, side.cand_icos, side.cand_scores):
            array[owners] = np.take_along_axis(array[owners], src, axis=1)
        side.length[owners] = lengths - 1
        self._dirty_lists.update((kind, int(t)) for t in owners)
        for t in owners.tolist():
            self._tops.pop((kind, t), None)
        short = (side.length[owners] < window) & ~side.complete[owners]
        for j in np.flatnonzero(short).tolist():
            t = int(owners[j])
            self._put(kind, t, self._query(kind, self._listing(kind, t))[0])
        # Entries that moved up into the first `candidates` without a score yet.
        moved = np.flatnonzero(in_window & ~short & (lengths > window))
        if len(moved):
            rows = owners[moved]
            missing = np.isnan(side.cand_scores[rows, window - 1])
            rows = rows[missing]
            if len(rows):
                entries = side.cand_slots[rows, window - 1]
                side.cand_scores[rows, window - 1] = self._pair_scores(kind, rows, entries)
        last = side.cand_icos[owners, np.maximum(side.length[owners] - 1, 0)]
        side.floor[owners] = np.where(side.complete[owners] | (side.length[owners] == 0), 0.0, last)
        for j, before in befores.items():
            t = int(owners[j])
            if self._pairs_of(kind, side.ids[t], before, self._topk(kind, t), pairs):
                changed.add((kind, t))

    def _pair_scores(self, kind: int, owners: np.ndarray, others: np.ndarray) -> np.ndarray:
        """Hybrid scores of (owner of side `kind`, other) pairs, each owner the query of its pair."""
        other = 1 - kind
        self._fetch_listings(kind, owners)
        self._fetch_listings(other, others)
        a = [self._listing(kind, int(t)) for t in owners]
        b = [self._listing(other, int(t)) for t in others]
        cos = _pair_dots([(x.row_idx, x.row_val) for x in a], [(x.row_idx, x.row_val) for x in b])
        a_attrs, b_attrs = (
            _attributes(np.stack([x.attrs for x in a])),
            _attributes(np.stack([x.attrs for x in b])),
        )
        pair = (a_attrs, b_attrs) if kind == 1 else (b_attrs, a_attrs)
        return combine(components(cos, *pair), self.weights)

    def _add_postings(self, kind: int, slot: int, idx: np.ndarray, val: np.ndarray) -> None:
        self._fetch_postings(kind, idx)
        for term, weight in zip(idx.tolist(), val, strict=True):
            slots, weights = self._posts[(kind, term)]
            self._posts[(kind, term)] = (
                np.append(slots, np.int32(slot)),
                np.append(weights, np.float32(weight)),
            )
            self._dirty_posts.add((kind, term))

    def _remove_postings(self, kind: int, slot: int, idx: np.ndarray) -> None:
        self._fetch_postings(kind, idx)
        for term in idx.tolist():
            slots, weights = self._posts[(kind, term)]
            keep = slots != slot
            self._posts[(kind, term)] = (slots[keep], weights[keep])
            self._dirty_posts.add((kind, term))

    def _write_back(self) -> None:
        conn = self._conn
        gone = [(_key(k, s),) for k, s in sorted(self._deleted)]
        for table in ("slots", "vectors", "cands"):
            conn.executemany(f"DELETE FROM {table} WHERE key = ?", gone)
        conn.executemany(
            "INSERT INTO vectors VALUES (?, ?, ?, ?)",
            [
                (
                    _key(*key),
                    _row_blob(self._listings[key].row_idx, self._listings[key].row_val),
                    _row_blob(self._listings[key].irow_idx, self._listings[key].irow_val),
                    self._listings[key].attrs.tobytes(),
                )
                for key in sorted(self._new)
            ],
        )
        slots_rows, cand_rows = [], []
        dirty = sorted(self._dirty_lists | self._new)
        for kind in (0, 1):
            side, lists = self._sides[kind], [slot for k, slot in dirty if k == kind]
            for slot, (floor, whole, blob) in zip(lists, side.packed(lists), strict=True):
                slots_rows.append((_key(kind, slot), side.ids[slot], floor, whole))
                cand_rows.append((_key(kind, slot), blob))
        conn.executemany("INSERT OR REPLACE INTO slots VALUES (?, ?, ?, ?)", slots_rows)
        conn.executemany("INSERT OR REPLACE INTO cands VALUES (?, ?)", cand_rows)
        upserts, deletes = [], []
        for kind, term in sorted(self._dirty_posts):
            slots, weights = self._posts[(kind, term)]
            if len(slots):
                upserts.append((_key(kind, term), *_posting_blobs(slots, weights)))
            else:
                deletes.append((_key(kind, term),))
        conn.executemany("INSERT OR REPLACE INTO postings VALUES (?, ?, ?)", upserts)
        conn.executemany("DELETE FROM postings WHERE key = ?", deletes)
        conn.executemany("DELETE FROM offers WHERE key = ?", [(_key(*k),) for k in sorted(self._offers_done)])
        conn.executemany(
            "INSERT INTO offers VALUES (?)", [(_key(*k),) for k in self._deferred if k in self._offers_added]
        )

    # -- pairs and explanations ------------------------------------------------------------------

    def _diff(self, touched: _Touched, changed: set[tuple[int, int]]) -> Diff:
        r_side, n_side = self._sides
        diff = Diff(
            changed={
                (KINDS[k], listing_id)
                for k, s in changed
                if (listing_id := self._sides[k].ids[s]) is not None
            }
        )
        wanted: list[tuple[str, str, int, int, float]] = []
        every = touched.entered | touched.left
        self._load_lists(0, [r_side.slot_of[r] for r, _ in every if r in r_side.slot_of])
        self._load_lists(1, [n_side.slot_of[n] for _, n in every if n in n_side.slot_of])
        for result_id, need_id in every:
            r, n = r_side.slot_of.get(result_id), n_side.slot_of.get(need_id)
            score = None
            if r is not None and n is not None:
                score = self._topk(0, r).get(n)
                if score is None:
                    score = self._topk(1, n).get(r)
            if score is None or r is None or n is None:
                diff.pairs[(result_id, need_id)] = PairState(result_id, need_id, None)
            elif (result_id, need_id) not in touched.entered:
                # It was in one side's top k before (so wanted), and still is wanted: no change.
                diff.pairs[(result_id, need_id)] = PairState(result_id, need_id, score, unchanged=True)
            else:
                wanted.append((result_id, need_id, r, n, score))
        for state in self._explain(wanted):
            diff.pairs[(state.result_id, state.need_id)] = state
        return diff

    def _explain(self, pairs: Sequence[tuple[str, str, int, int, float]]) -> list[PairState]:
        """Reasons (component values and shared words) of wanted pairs, computed together."""
        if not pairs:
            return []
        self._fetch_listings(0, [p[2] for p in pairs])
        self._fetch_listings(1, [p[3] for p in pairs])
        results = [self._listing(0, p[2]) for p in pairs]
        needs = [self._listing(1, p[3]) for p in pairs]
        cos = _pair_dots([(x.row_idx, x.row_val) for x in needs], [(x.row_idx, x.row_val) for x in results])
        need_attrs = _attributes(np.stack([x.attrs for x in needs]))
        result_attrs = _attributes(np.stack([x.attrs for x in results]))
        values = components(cos, need_attrs, result_attrs)
        out = []
        for j, (result_id, need_id, _r, _n, score) in enumerate(pairs):
            res, need = results[j], needs[j]
            terms = self.text.shared_words(
                need.row_idx, need.row_val, res.row_idx, res.row_val, limit=self.config.key_terms
            )
            reasons = explain(
                values[j], self.weights, terms, attributes_row(need_attrs, j), attributes_row(result_attrs, j)
            )
            out.append(PairState(result_id, need_id, score, reasons))
        return out

    # -- queries ---------------------------------------------------------------------------------

    def _slot(self, kind: str, listing_id: str) -> tuple[int, int | None]:
        code = _CODE[kind]
        return code, self._sides[code].slot_of.get(listing_id)

    def matches(self, kind: str, listing_id: str) -> list[PairState]:
        """A listing's matches, best first (ties by id), with reasons; [] when it is not indexed."""
        with self._lock:
            code, slot = self._slot(kind, listing_id)
            if slot is None:
                return []
            other = self._sides[1 - code]
            ranked = sorted(self._topk(code, slot).items(), key=lambda kv: (-kv[1], other.id_of(kv[0])))
            pairs = [
                (listing_id, other.id_of(o), slot, o, s)
                if code == 0
                else (other.id_of(o), listing_id, o, slot, s)
                for o, s in ranked
            ]
            return self._explain(pairs)

    def score_pair(self, result_id: str, need_id: str) -> PairState | None:
        """Score and reasons of any indexed pair, in anyone's top k or not (None when one is missing)."""
        with self._lock:
            r = self._sides[0].slot_of.get(result_id)
            n = self._sides[1].slot_of.get(need_id)
            if r is None or n is None:
                return None
            score = float(self._scores(1, self._listing(1, n), [r])[0])
            return self._explain([(result_id, need_id, r, n, score)])[0]

    def wanted_pairs(self, *, batch: int = 2000) -> Iterator[PairState]:
        """Every wanted pair with its reasons (a full sync of the site's match rows), each once."""
        with self._lock:
            seen: set[tuple[int, int]] = set()
            for kind in (0, 1):
                side = self._sides[kind]
                slots = [s for s, i in enumerate(side.ids) if i is not None]
                for start in range(0, len(slots), batch):
                    chunk = slots[start : start + batch]
                    self._load_lists(kind, chunk)
                    todo = []
                    for slot in chunk:
                        for other, score in self._topk(kind, slot).items():
                            r, n = (slot, other) if kind == 0 else (other, slot)
                            if (r, n) not in seen:
                                seen.add((r, n))
                                todo.append((self._sides[0].id_of(r), self._sides[1].id_of(n), r, n, score))
                    yield from self._explain(todo)
                    self._trim_caches()

    def top_ids(self, kind: str, listing_id: str) -> list[tuple[str, float]]:
        """(other id, score) of a listing's matches, best first, without reasons (cheap; for tests)."""
        with self._lock:
            code, slot = self._slot(kind, listing_id)
            if slot is None:
                return []
            other = self._sides[1 - code]
            return sorted(
                ((other.id_of(o), s) for o, s in self._topk(code, slot).items()), key=lambda x: (-x[1], x[0])
            )

    def candidate_ids(self, kind: str, listing_id: str) -> list[tuple[str, float]]:
        """(other id, index cosine) of the first `candidates` entries of a listing's list (for tests)."""
        with self._lock:
            code, slot = self._slot(kind, listing_id)
            if slot is None:
                return []
            cand = self._cand(code, slot)
            ids = self._sides[1 - code].ids
            n = min(len(cand.slots), self.config.candidates)
            return [(ids[cand.slots[j]], float(cand.icos[j])) for j in range(n)]

    def ids(self, kind: str) -> list[str]:
        return sorted(self._sides[_CODE[kind]].slot_of)


def _dots(
    a: Sequence[tuple[np.ndarray, np.ndarray]], b: Sequence[tuple[np.ndarray, np.ndarray]]
) -> np.ndarray:
    """Dot products of every row of `a` with every row of `b`, as float64 (len(a), len(b)).

    Computed as the sparse product `a @ b.T` over the columns in use (no vocabulary-wide transpose),
    renumbered in their order so that each product adds its terms in the order of `a`'s row, as every
    candidate list's scores were added."""
    if not a or not b:
        return np.zeros((len(a), len(b)))
    rows = [*a, *b]
    indptr = np.zeros(len(rows) + 1, np.int64)
    np.cumsum([len(i) for i, _ in rows], out=indptr[1:])
    # np.unique numbers the columns in use in their order: the same renumbering as a mask over the
    # vocabulary, without touching the vocabulary's width on every call
    used, columns = np.unique(np.concatenate([i for i, _ in rows]), return_inverse=True)
    columns = columns.astype(np.int32)
    data = np.concatenate([v for _, v in rows])
    split = int(indptr[len(a)])
    left = sp.csr_matrix((data[:split], columns[:split], indptr[: len(a) + 1]), shape=(len(a), len(used)))
    right = sp.csr_matrix(
        (data[split:], columns[split:], indptr[len(a) :] - split), shape=(len(b), len(used))
    )
    return (left @ right.T).toarray().astype(np.float64)


def _pair_dots(
    a: Sequence[tuple[np.ndarray, np.ndarray]], b: Sequence[tuple[np.ndarray, np.ndarray]]
) -> np.ndarray:
    """Dot products of `a[i]` with `b[i]` (the diagonal of `_dots`, in bounded blocks)."""
    out = np.zeros(len(a))
    for start in range(0, len(a), 64):
        block = _dots(a[start : start + 64], b[start : start + 64])
        out[start : start + 64] = np.diagonal(block)
    return out


def _ranked(scores: np.ndarray, slots: np.ndarray, ids: list[str | None]) -> list[int]:
    """Positions of `scores` best first, equal scores by the id of their slot (`Matcher`'s order)."""
    order = np.argsort(-scores, kind="stable")
    ranked = scores[order]
    ties = np.flatnonzero(ranked[1:] == ranked[:-1]) if len(ranked) > 1 else ()
    if not len(ties):
        return order.tolist()
    out = order.tolist()
    # Only the runs of equal scores need the (slower) order by id.
    start = None
    for i in range(len(out) - 1):
        if ranked[i + 1] == ranked[i]:
            start = i if start is None else start
            continue
        if start is not None:
            out[start : i + 1] = sorted(out[start : i + 1], key=lambda j: ids[slots[j]])
            start = None
    if start is not None:
        out[start:] = sorted(out[start:], key=lambda j: ids[slots[j]])
    return out


def _sparse_row(matrix: sp.csr_matrix, i: int) -> tuple[np.ndarray, np.ndarray]:
    start, end = matrix.indptr[i], matrix.indptr[i + 1]
    return matrix.indices[start:end], matrix.data[start:end]


def _posting_blobs(slots: np.ndarray, weights: np.ndarray) -> tuple[bytes, bytes]:
    return np.asarray(slots, np.int32).tobytes(), np.asarray(weights, np.float32).tobytes()


def _batch_candidates(
    q_rows: sp.csr_matrix,
    q_irows: sp.csr_matrix,
    q_attrs: Attributes,
    t_rows: sp.csr_matrix,
    t_irows: sp.csr_matrix,
    t_attrs: Attributes,
    q_kind: int,
    weights: Weights,
    config: StoreConfig,
    n_jobs: int,
) -> list[_Cand]:
    """Every candidate list of one side at once (sparse products in chunks), as `_query` builds one."""
    n_q, n_t = q_rows.shape[0], t_rows.shape[0]
    cap = min(config.capacity, n_t)
    if n_q == 0:
        return []
    if cap == 0:
        empty = np.zeros(0)
        return [_Cand(empty.astype(np.int64), empty.astype(np.float32), empty, True) for _ in range(n_q)]
    idx, val = topk_rows(q_irows, t_irows, cap, n_jobs=n_jobs, items_t=t_irows.T.tocsr())
    # Only the first `candidates` entries are scored now (as `_query` does); the spare ones when needed.
    window = min(config.candidates, cap)
    cos = exact_cosines(q_rows, t_rows, idx[:, :window])
    out = []
    for start in range(0, n_q, 2048):
        block = idx[start : start + 2048]
        flat_q = np.repeat(np.arange(start, start + len(block)), window)
        flat_t = block[:, :window].ravel()
        valid = flat_t >= 0
        scores = np.full(flat_t.size, np.nan)
        if valid.any():
            qa, ta = q_attrs.take(flat_q[valid]), t_attrs.take(flat_t[valid])
            values = components(
                cos[start : start + len(block)].ravel()[valid], *((qa, ta) if q_kind == 1 else (ta, qa))
            )
            scores[valid] = combine(values, weights)
        scores = np.concatenate(
            [scores.reshape(len(block), window), np.full((len(block), cap - window), np.nan)], axis=1
        )
        for b in range(len(block)):
            n = int(np.count_nonzero(block[b] >= 0))
            out.append(
                _Cand(
                    block[b, :n].astype(np.int64),
                    val[start + b, :n].astype(np.float32),
                    scores[b, :n].astype(np.float64),
                    n < config.capacity,
                )
            )
    return out

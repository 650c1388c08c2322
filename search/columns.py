"""An in-memory, column-wise copy of the documents' filter/facet/sort attributes (numpy arrays).

Counting facets over 30,000 matches by joining SQLite rows costs tens of milliseconds; the same
counts over numpy arrays cost well under one. The FTS5 engine keeps one `Columns` snapshot per
process, refreshed from the `changes` log (only the rows that changed are re-read; a rebuild or a
gap in the log reloads everything).
"""

from __future__ import annotations

import dataclasses
import math
import sqlite3

import numpy as np

#: columns of the `docs` table, in snapshot order; NULL codes and prices become -1
_COLUMNS = (
    "rowid",
    "kind",
    "coalesce(field_top, -1)",
    "coalesce(field, -1)",
    "coalesce(maturity, -1)",
    "coalesce(region, -1)",
    "is_challenge",
    "modes",
    "coalesce(price_low, -1)",
    "coalesce(price_high, -1)",
    "published_at",
    "stale",
)
#: when more rows than this changed since the snapshot, reloading everything is cheaper
_PATCH_LIMIT = 5000
#: single-valued facet columns, combined into one "profile" code per document for counting
PROFILE_FACETS = ("kind", "is_challenge", "field_top", "field", "maturity", "region")


@dataclasses.dataclass(frozen=True)
class Columns:
    """Immutable snapshot; arrays are aligned and sorted by rowid. Codes of absent values are -1."""

    seq: int
    rowid: np.ndarray
    kind: np.ndarray
    field_top: np.ndarray
    field: np.ndarray
    maturity: np.ndarray
    region: np.ndarray
    is_challenge: np.ndarray
    modes: np.ndarray
    price_low: np.ndarray  # NaN when the listing has no price
    price_high: np.ndarray
    published_at: np.ndarray
    #: 1 for a listing past its valid-until day (待更新)
    stale: np.ndarray
    #: each document's profile: the index of its combination of `PROFILE_FACETS` codes
    profile: np.ndarray
    #: facet -> the code of each profile (-1: no value)
    profile_codes: dict[str, np.ndarray]
    #: rowid -> position (-1: absent), when rowids are dense enough for a lookup table
    lookup: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.rowid)

    def facet_counts(self, pos: np.ndarray, names: tuple[str, ...]) -> dict[str, list[tuple[int, int]]]:
        """(code, count) of every value of each of `names` (from `PROFILE_FACETS`) among `pos`.

        Few distinct combinations describe many documents (a few thousand at 100,000 listings), so
        one count per profile, then a weighted count per facet over the profiles, costs about as
        much as counting a single facet directly.
        """
        out: dict[str, list[tuple[int, int]]] = {}
        profiles = len(self.profile_codes["kind"])
        if names and len(pos) > profiles:
            per_profile = np.bincount(self.profile[pos], minlength=profiles)
            for name in names:
                # +1 shifts "no value" (-1) into bucket 0, which is then skipped
                counts = np.bincount(self.profile_codes[name] + 1, weights=per_profile).astype(np.int64)
                out[name] = [(code - 1, n) for code, n in _nonzero(counts) if code]
            return out
        for name in names:
            values = getattr(self, name)[pos]
            counts = np.bincount(values.astype(np.int64) + 1) if len(values) else np.zeros(0, np.int64)
            out[name] = [(code - 1, n) for code, n in _nonzero(counts) if code]
        return out

    def profiles_where(self, allowed: dict[str, list[int]]) -> np.ndarray:
        """A boolean per profile: does its code of each facet in `allowed` belong to that list?"""
        keep = np.ones(len(self.profile_codes["kind"]), dtype=bool)
        for name, codes in allowed.items():
            keep &= np.isin(self.profile_codes[name], codes)
        return keep

    def positions(self, rowids: np.ndarray) -> np.ndarray:
        """Positions of `rowids` in the snapshot (rowids it does not hold are dropped)."""
        if not len(self.rowid) or not len(rowids):
            return np.empty(0, dtype=np.int64)
        if self.lookup is not None:
            # Sets come from the same snapshot as the columns, so every rowid is normally here:
            # two reductions check that, instead of two compressions of a long array.
            if int(rowids.max()) >= len(self.lookup):
                rowids = rowids[rowids < len(self.lookup)]
            pos = self.lookup[rowids]
            return pos[pos >= 0] if (pos < 0).any() else pos
        pos = np.searchsorted(self.rowid, rowids)
        pos[pos >= len(self.rowid)] = 0
        return pos[self.rowid[pos] == rowids]

    def flags(self, rowids: np.ndarray) -> np.ndarray:
        """A boolean per snapshot position: is its rowid among `rowids`?"""
        out = np.zeros(len(self.rowid), dtype=bool)
        out[self.positions(rowids)] = True
        return out


def _nonzero(counts: np.ndarray) -> list[tuple[int, int]]:
    """(index, count) of the non-zero buckets of a bincount, as Python ints."""
    index = np.flatnonzero(counts)
    return list(zip(index.tolist(), counts[index].tolist(), strict=True))


def _profiles(columns: list[np.ndarray]) -> tuple[np.ndarray, list[np.ndarray]]:
    """Each row's index among the distinct rows of `columns` (codes >= -1), and the distinct rows'
    codes per column."""
    radices = [int(c.max()) + 2 if len(c) else 1 for c in columns]
    if math.prod(radices) >= 1 << 62:
        # Far more codes than any taxonomy has: slower, but general.
        distinct, inverse = np.unique(np.stack(columns, axis=1), axis=0, return_inverse=True)
        return inverse.astype(np.intp).reshape(-1), list(distinct.T)
    key = np.zeros(len(columns[0]), dtype=np.int64)
    for col, radix in zip(columns, radices, strict=True):
        key = key * radix + (col.astype(np.int64) + 1)
    distinct, inverse = np.unique(key, return_inverse=True)
    codes: list[np.ndarray] = []
    for radix in reversed(radices):
        distinct, digit = np.divmod(distinct, radix)
        codes.append(digit - 1)
    return inverse.astype(np.intp).reshape(-1), codes[::-1]


def _build(seq: int, table: np.ndarray) -> Columns:
    if table.size == 0:
        table = np.empty((len(_COLUMNS), 0), dtype=np.float64)
    order = np.argsort(table[0], kind="stable")
    # C order, so that every column below is contiguous: gathers from a strided column (what
    # fancy indexing along axis 1 leaves) cost three to four times as much.
    table = np.ascontiguousarray(table[:, order])
    ints = table[:8].astype(np.int64)
    prices = table[8:10].copy()
    prices[prices < 0] = np.nan
    lookup = None
    top = int(ints[0][-1]) + 1 if len(ints[0]) else 0
    if top <= max(1 << 20, 16 * len(ints[0])):
        # Listing ids are dense in practice: a table lookup beats a binary search per rowid.
        lookup = np.full(top, -1, dtype=np.int64)
        lookup[ints[0]] = np.arange(len(ints[0]), dtype=np.int64)
    facets = {
        "kind": ints[1].astype(np.int8),
        "field_top": ints[2].astype(np.int32),
        "field": ints[3].astype(np.int32),
        "maturity": ints[4].astype(np.int32),
        "region": ints[5].astype(np.int32),
        "is_challenge": ints[6].astype(np.int8),
    }
    profile, codes = _profiles([facets[name] for name in PROFILE_FACETS])
    return Columns(
        seq=seq,
        rowid=ints[0],
        **facets,
        modes=ints[7],
        price_low=prices[0],
        price_high=prices[1],
        published_at=table[10].astype(np.int64),
        stale=table[11].astype(np.int8),
        lookup=lookup,
        profile=profile,
        profile_codes=dict(zip(PROFILE_FACETS, codes, strict=True)),
    )


def _table(snapshot: Columns) -> np.ndarray:
    return np.vstack(
        [
            snapshot.rowid,
            snapshot.kind,
            snapshot.field_top,
            snapshot.field,
            snapshot.maturity,
            snapshot.region,
            snapshot.is_challenge,
            snapshot.modes,
            np.nan_to_num(snapshot.price_low, nan=-1.0),
            np.nan_to_num(snapshot.price_high, nan=-1.0),
            snapshot.published_at,
            snapshot.stale,
        ]
    ).astype(np.float64)


def load(conn: sqlite3.Connection, seq: int) -> Columns:
    """Read every row of `docs` (one row per column via group_concat: no per-row Python objects)."""
    sql = (
        "SELECT "
        + ", ".join(f"group_concat({c})" for c in _COLUMNS)
        + " FROM (SELECT * FROM docs ORDER BY rowid)"
    )
    row = conn.execute(sql).fetchone()
    if row[0] is None:
        return _build(seq, np.empty((len(_COLUMNS), 0)))
    table = np.vstack([np.fromstring(col, dtype=np.float64, sep=",") for col in row])
    return _build(seq, table)


def latest_seq(conn: sqlite3.Connection) -> tuple[int, int]:
    """(first, last) sequence numbers in the change log; (0, 0) when it is empty."""
    first, last = conn.execute("SELECT min(seq), max(seq) FROM changes").fetchone()
    return (first or 0), (last or 0)


def refresh(conn: sqlite3.Connection, snapshot: Columns | None) -> Columns:
    """The snapshot brought up to date with the change log (patched, or reloaded when needed)."""
    first, last = latest_seq(conn)
    if snapshot is not None and snapshot.seq == last:
        return snapshot
    if snapshot is None or first > snapshot.seq + 1:
        return load(conn, last)
    changed = [
        r
        for (r,) in conn.execute(
            "SELECT DISTINCT rowid FROM changes WHERE seq > ? AND seq <= ?", (snapshot.seq, last)
        )
    ]
    if -1 in changed or len(changed) > _PATCH_LIMIT:
        return load(conn, last)
    ids = np.array(sorted(changed), dtype=np.int64)
    marks = ", ".join("?" * len(changed))
    rows = conn.execute(
        f"SELECT {', '.join(_COLUMNS)} FROM docs WHERE rowid IN ({marks})", changed
    ).fetchall()
    keep = ~np.isin(snapshot.rowid, ids)
    old = _table(snapshot)[:, keep]
    fresh = np.array(rows, dtype=np.float64).T if rows else np.empty((len(_COLUMNS), 0))
    return _build(last, np.hstack([old, fresh]))

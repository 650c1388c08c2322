"""The FTS5 read side's pure parts: MATCH expressions from analysed terms, ranking levels, top-k.

No user syntax ever reaches FTS5: every expression is built from quoted analyser tokens.
"""

from __future__ import annotations

import threading
from collections import OrderedDict

import numpy as np

from search.text import QueryTerm, phrase_grams


def _quote(token: str) -> str:
    return '"' + token.replace('"', '""') + '"'


def _phrases(term: QueryTerm) -> str:
    """The term as bigram phrases, any of which matches (one per spelling)."""
    if term.single_char:
        alts = [f"{_quote(s)} *" for s in term.surfaces]
    else:
        alts = [_quote(phrase_grams(s)) for s in term.surfaces]
    return "(" + " OR ".join(alts) + ")"


def expression(terms: list[QueryTerm], mode: str = "and") -> str:
    """The MATCH expression over bigrams (`fts_g` / `fts_t`) that finds every term as a substring.

    Built only from quoted analysed tokens, never from user syntax. Every synonym is spelt out, so
    the bigrams alone find what the analyser's synonym folding finds.
    """
    return f" {mode.upper()} ".join(_phrases(t) for t in terms)


_LEVEL_WORD_COLS = {"title_word": "{title_w} : ", "keyword_word": "{title_w kw_w} : ", "word": ""}


def level_queries(terms: list[QueryTerm], level: str) -> list[tuple[str, str]]:
    """(table, MATCH expression) pairs whose rowid sets, intersected, are the documents where every
    term matches at `level`: "title" (in the title), "title_word", "keyword_word", "word" (as a
    whole analyser word in the title / title, keywords, fields / anywhere).

    A glued substring term has no whole word: its title match stands in at the title levels, and
    at "word" it is already satisfied by every match.
    """
    if level == "title":
        return [("fts_t", expression(terms))]
    words = [t for t in terms if t.word]
    others = [t for t in terms if not t.word]
    parts: list[tuple[str, str]] = []
    if words:
        cols = _LEVEL_WORD_COLS[level]
        parts.append(("fts_w", " AND ".join(f"{cols}{_quote(t.word or '')}" for t in words)))
    if others and level != "word":
        parts.append(("fts_t", expression(others)))
    return parts


def _nonzero(counts: np.ndarray) -> list[tuple[int, int]]:
    """(index, count) of the non-zero buckets of a bincount, as Python ints."""
    index = np.flatnonzero(counts)
    return list(zip(index.tolist(), counts[index].tolist(), strict=True))


def _bit_counts(masks: np.ndarray) -> dict[int, int]:
    """How many masks have each bit set (mode bitmasks: few distinct values in practice)."""
    if not len(masks):
        return {}
    used = int(np.bitwise_or.reduce(masks))
    per_bit: dict[int, int] = {}
    if used < 1 << 12:
        # Count each distinct mask once, then split it into bits.
        for mask, n in _nonzero(np.bincount(masks, minlength=used + 1)):
            bit = 0
            while mask >> bit:
                if (mask >> bit) & 1:
                    per_bit[bit] = per_bit.get(bit, 0) + n
                bit += 1
        return per_bit
    for bit in range(used.bit_length()):
        if (used >> bit) & 1:
            per_bit[bit] = int(np.count_nonzero((masks >> bit) & 1))
    return per_bit


#: ranking levels and their weights (a higher level outweighs all lower ones together)
_LEVELS = (("title_word", 8), ("title", 4), ("keyword_word", 2), ("word", 1))


def _top(primary: np.ndarray, published: np.ndarray, rowid: np.ndarray, k: int) -> np.ndarray:
    """Indices of the `k` best by (primary desc, published desc, rowid asc), in order.

    A partition first keeps the full sort to about `k` candidates however many documents match.
    """
    n = len(primary)
    if n > 2 * k:
        kth = np.partition(primary, n - k)[n - k]
        candidates = np.nonzero(primary >= kth)[0]
    else:
        candidates = np.arange(n)
    order = np.lexsort((rowid[candidates], -published[candidates], -primary[candidates]))
    return candidates[order][:k]


class SetCache:
    """The rowid sets of costly MATCH expressions, kept between queries (like Lucene's query cache).

    A broad term such as 智能 matches a third of the corpus, and walking its doclist is most of
    such a query's cost; users repeat broad terms far more often than narrow ones. Only sets of at
    least `min_rows` rowids are kept (smaller ones are cheaper to read again than to hold), up to
    `max_bytes` in all, least recently used out first. Entries are keyed by the change-log sequence
    the query read under, so a change to the index retires every older entry.
    """

    def __init__(self, *, min_rows: int = 2_000, max_bytes: int = 32 << 20) -> None:
        self.min_rows = min_rows
        self.max_bytes = max_bytes
        self._entries: OrderedDict[tuple[int, str, str], np.ndarray] = OrderedDict()
        self._bytes = 0
        self._seq = -1
        self._lock = threading.Lock()

    def get(self, seq: int, table: str, expression: str) -> np.ndarray | None:
        with self._lock:
            found = self._entries.get((seq, table, expression))
            if found is not None:
                self._entries.move_to_end((seq, table, expression))
            return found

    def put(self, seq: int, table: str, expression: str, rowids: np.ndarray) -> None:
        if len(rowids) < self.min_rows or rowids.nbytes > self.max_bytes:
            return
        rowids.setflags(write=False)  # shared between queries and threads
        with self._lock:
            if seq < self._seq:
                return  # read under a sequence that is already superseded
            if seq > self._seq:
                self.clear_locked()
                self._seq = seq
            key = (seq, table, expression)
            if key not in self._entries:
                self._entries[key] = rowids
                self._bytes += rowids.nbytes
            while self._bytes > self.max_bytes:
                _, old = self._entries.popitem(last=False)
                self._bytes -= old.nbytes

    def clear(self) -> None:
        with self._lock:
            self.clear_locked()

    def clear_locked(self) -> None:
        self._entries.clear()
        self._bytes = 0

    def __len__(self) -> int:
        return len(self._entries)

"""The FTS5 read side's pure parts: MATCH expressions from analysed terms, ranking levels, top-k.

No user syntax ever reaches FTS5: every expression is built from quoted analyser tokens.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Any

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


class SeqCache:
    """A least-recently-used cache of what queries read under one change-log sequence.

    Keys carry the sequence the query read under, so a change to the index retires every older
    entry at the first put after it; `max_cost` bounds the sum of `cost(value)` (entries by default).
    The engine keeps two: the rowid sets of broad terms (a term such as 智能 matches a third of the
    corpus, and walking its doclist is most of such a query's cost; cost = bytes) and whole result
    pages (users repeat the same searches; cost = 1). Like Lucene's query cache and Elasticsearch's
    request cache, nothing here can outlive a change to the index.
    """

    def __init__(self, max_cost: int, cost=None) -> None:
        self.max_cost = max_cost
        self._cost = cost or (lambda value: 1)
        self._entries: OrderedDict[Any, tuple[Any, int]] = OrderedDict()
        self._total = 0
        self._seq = -1
        self._lock = threading.Lock()

    def get(self, seq: int, key: Any) -> Any:
        with self._lock:
            found = self._entries.get((seq, key))
            if found is None:
                return None
            self._entries.move_to_end((seq, key))
            return found[0]

    def put(self, seq: int, key: Any, value: Any) -> None:
        cost = self._cost(value)
        if cost > self.max_cost:
            return
        with self._lock:
            if seq < self._seq:
                return  # read under a sequence that is already superseded
            if seq > self._seq:
                self._entries.clear()
                self._total = 0
                self._seq = seq
            if (seq, key) in self._entries:
                return
            self._entries[(seq, key)] = (value, cost)
            self._total += cost
            while self._total > self.max_cost:
                _, (_, old) = self._entries.popitem(last=False)
                self._total -= old

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self._total = 0

    def __len__(self) -> int:
        return len(self._entries)

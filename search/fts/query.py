"""The FTS5 read side's pure parts: MATCH expressions from analysed terms, ranking levels, top-k.

No user syntax ever reaches FTS5: every expression is built from quoted analyser tokens.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from functools import lru_cache
from typing import Any

import numpy as np

from search.text import QueryTerm, phrase_grams


def _quote(token: str) -> str:
    return '"' + token.replace('"', '""') + '"'


@lru_cache(maxsize=4096)
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
    """(table, MATCH expression) pairs, one per term, whose rowid sets, intersected, are the
    documents where every term matches at `level`: "title" (in the title), "title_word",
    "keyword_word", "word" (as a whole analyser word in the title / title, keywords, fields /
    anywhere).

    One set per term, not one AND expression, so that a frequent term's set is read once and then
    comes from the set cache, whatever it is combined with.

    A glued substring term has no whole word: its title match stands in at the title levels, and
    at "word" it is already satisfied by every match.
    """
    parts: list[tuple[str, str]] = []
    for term in terms:
        if level == "title" or (not term.word and level != "word"):
            parts.append(("fts_t", expression([term])))
        elif term.word:
            parts.append(("fts_w", _LEVEL_WORD_COLS[level] + _quote(term.word)))
    return parts


def _bit_counts(masks: np.ndarray) -> dict[int, int]:
    """How many masks have each bit set (mode bitmasks: few distinct values in practice)."""
    if not len(masks):
        return {}
    used = int(np.bitwise_or.reduce(masks))
    bits = [bit for bit in range(used.bit_length()) if (used >> bit) & 1]
    if not bits:  # listings without any mode
        return {}
    if used < 1 << 12:
        # Count each distinct mask once, then add up the masks holding each bit.
        counts = np.bincount(masks, minlength=used + 1)
        holds = (np.arange(len(counts))[:, None] >> np.array(bits, dtype=np.int64)) & 1  # mask x bit
        return dict(zip(bits, (counts @ holds).tolist(), strict=True))
    return {bit: int(np.count_nonzero((masks >> bit) & 1)) for bit in bits}


#: ranking levels and their weights (a higher level outweighs all lower ones together)
_LEVELS = (("title_word", 8), ("title", 4), ("keyword_word", 2), ("word", 1))


def _top(primary: np.ndarray, published: np.ndarray, k: int) -> np.ndarray:
    """Indices of the `k` best by (primary desc, published desc, index asc), in order. The engine
    passes arrays over ascending positions, so the index order is the rowid order.

    A partition first keeps the full sort to about `k` candidates however many documents match.
    """
    n = len(primary)
    if n > 2 * k:
        kth = np.partition(primary, n - k)[n - k]
        candidates = np.flatnonzero(primary >= kth)
    else:
        candidates = np.arange(n)
    order = np.lexsort((candidates, -published[candidates], -primary[candidates]))
    return candidates[order][:k]


class _Lru:
    """Least-recently-used entries; `max_cost` bounds the sum of `cost(value)` (entries by default)."""

    def __init__(self, max_cost: int, cost: Callable[[Any], int] | None = None) -> None:
        self.max_cost = max_cost
        self._cost = cost or (lambda value: 1)
        self._entries: OrderedDict[Any, tuple[Any, int]] = OrderedDict()
        self._total = 0
        self._lock = threading.Lock()

    def _get(self, key: Any) -> Any:
        found = self._entries.get(key)
        if found is None:
            return None
        self._entries.move_to_end(key)
        return found[0]

    def _put(self, key: Any, value: Any, cost: int) -> None:
        old = self._entries.pop(key, None)
        if old is not None:
            self._total -= old[1]
        self._entries[key] = (value, cost)
        self._total += cost
        while self._total > self.max_cost:
            _, (_, dropped) = self._entries.popitem(last=False)
            self._total -= dropped

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self._total = 0

    def __len__(self) -> int:
        return len(self._entries)


class SeqCache(_Lru):
    """What queries read under one change-log sequence (the engine keeps whole result pages here:
    users repeat the same searches).

    Keys carry the sequence the query read under, so a change to the index retires every older
    entry at the first put after it. Like Elasticsearch's request cache, nothing here can outlive a
    change to the index.
    """

    def __init__(self, max_cost: int, cost: Callable[[Any], int] | None = None) -> None:
        super().__init__(max_cost, cost)
        self._seq = -1

    def get(self, seq: int, key: Any) -> Any:
        with self._lock:
            return self._get((seq, key))

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
            if (seq, key) not in self._entries:
                self._put((seq, key), value, cost)


#: what an entry costs besides its rowids (key, tuple, array header), so empty sets count too
_ENTRY_BYTES = 256


class TermSets(_Lru):
    """Rowid sets of the terms queried, each with the change-log sequence it is exact at.

    A term such as 智能 matches a third of the corpus, and walking its doclist is most of such a
    query's cost. Unlike result pages, a set survives changes to the index: the engine brings it
    forward by re-checking only the rowids changed since (as Lucene keeps per-segment caches while
    segments come and go). Cost is bytes.
    """

    def __init__(self, max_bytes: int) -> None:
        super().__init__(max_bytes)

    def get(self, key: Any) -> tuple[int, np.ndarray] | None:
        """(sequence, rowids) of the newest copy of `key`'s set."""
        with self._lock:
            return self._get(key)

    def put(self, key: Any, seq: int, rowids: np.ndarray) -> None:
        """Keep `rowids` as `key`'s set at `seq`, unless a copy at a later sequence is kept."""
        cost = rowids.nbytes + _ENTRY_BYTES
        if cost > self.max_cost:
            return
        with self._lock:
            found = self._entries.get(key)
            if found is None or found[0][0] < seq:
                self._put(key, (seq, rowids), cost)

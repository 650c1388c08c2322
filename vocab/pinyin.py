"""Pinyin readings of words, for queries typed without Chinese characters (dianchi → 电池).

A lexicon maps the toneless pinyin of each word, syllables joined (``dianchi``), to the words read so:
the analyzer's domain dictionary (the taxonomy, domain terms, synonyms, listing keywords it learnt)
plus jieba's most frequent words of two to four characters. It is built once per process on the first
pinyin query (about a second) and kept.
"""

from __future__ import annotations

import re
import threading

from pypinyin import lazy_pinyin

from vocab.analyzer import default_analyzer, normalize

#: jieba's most frequent words taken into the lexicon (beyond the domain dictionary)
COMMON_WORDS = 30_000
#: words offered per reading, domain words first, then by frequency
MAX_WORDS = 5
_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_HAN_WORD = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]{2,}")
_LATIN_RUN = re.compile(r"[a-z]+")
#: what a query typed in pinyin looks like: letters, with spaces or apostrophes between syllables
_PINYIN_QUERY = re.compile(r"[a-z]+(?:[ ']+[a-z]+)*")

_lexicon: dict[str, list[str]] = {}
_seen: set[str] = set()
_lexicon_size = -1
_lock = threading.Lock()


def reading(word: str) -> str:
    """The toneless pinyin of `word`, syllables joined (电池 → dianchi); non-Han characters kept."""
    return "".join(lazy_pinyin(word)).lower()


def _add(words: list[str]) -> None:
    for word in words:
        if word in _seen or not _HAN_WORD.fullmatch(word):
            continue
        _seen.add(word)
        found = _lexicon.setdefault(reading(word), [])
        if len(found) < MAX_WORDS:
            found.append(word)


def lexicon() -> dict[str, list[str]]:
    """reading -> words (read-only). Built on first use; words the analyzer learns later (listing
    keywords) are added as they come, after the ones already there."""
    global _lexicon_size
    analyzer = default_analyzer()
    size = analyzer.vocabulary_size()
    if size != _lexicon_size:
        with _lock:
            if size != _lexicon_size:
                domain = sorted(w for w in analyzer.words if w not in _seen)
                if _lexicon_size < 0:
                    freq = analyzer.frequencies()
                    common = sorted(
                        (w for w, f in freq.items() if f > 0 and 2 <= len(w) <= 4),
                        key=lambda w: (-freq[w], w),
                    )
                    _add(domain)
                    _add([w for w in common if _HAN_WORD.fullmatch(w)][:COMMON_WORDS])
                else:
                    _add(domain)
                _lexicon_size = size
    return _lexicon


def words_for(text: str) -> list[tuple[str, ...]]:
    """The words a query typed in pinyin may mean: one tuple of candidates per reading found, the
    whole query first (``dian chi`` and ``dianchi`` → 电池), else each Latin run on its own. Empty
    unless the query is letters only (spaces and apostrophes between them), or when no run is a
    known reading."""
    folded = normalize(text)
    if not _PINYIN_QUERY.fullmatch(folded):
        # Han characters, digits, @ or dots: not pinyin (an e-mail address must not read as 赵 海河)
        return []
    runs = _LATIN_RUN.findall(folded)
    if not runs:
        return []
    table = lexicon()
    whole = table.get("".join(runs))
    if whole:
        return [tuple(whole)]
    return [tuple(table[run]) for run in dict.fromkeys(runs) if run in table]

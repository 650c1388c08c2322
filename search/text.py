"""Text helpers both engines share: character grams, query terms and HTML-safe highlighting.

Chinese has no spaces, and jieba keeps 锂电池 whole, so a word index alone cannot find 电池 inside
锂电池. Each CJK run is therefore also indexed as overlapping character bigrams (plus its last
character alone): a phrase of a query's bigrams matches exactly where the query is a substring.
"""

from __future__ import annotations

import html
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

from vocab.analyzer import SYNONYMS, ChineseAnalyzer, default_analyzer, is_stopword, to_simplified
from vocab.pinyin import words_for

_CJK = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0002ebef"
_CJK_RE = re.compile(f"[{_CJK}]")
_CJK_RUN = re.compile(f"[{_CJK}]+")
#: a CJK run of at most this many characters is typed as a unit: its stop-listed characters stay
SHORT_RUN = 4
#: a CJK run, or a run of other letters / digits
_RUN = re.compile(f"[{_CJK}]+|[^\\W_{_CJK}]+")
_WORD_CHARS = re.compile(r"[^\W_]")
_SPACES = re.compile(r"\s+")
#: stand-ins for <mark> and </mark> while a highlighted text is escaped in one go
_OPEN, _CLOSE = "\ue000", "\ue001"
#: between the texts of a page while they are searched in one go
_SEP = "\ue002"
#: U+FF01–U+FF5E and the ideographic space: their NFKC forms are ASCII (a wide compatibility mapping)
_FULL_WIDTH = {chr(c): chr(c - 0xFEE0) for c in range(0xFF01, 0xFF5F)} | {"\u3000": " "}
#: the full-width marks of everyday Chinese prose, replaced one by one (each a fast scan in C)
_COMMON_FULL_WIDTH = tuple((c, _FULL_WIDTH[c]) for c in "，：；（）！？％")
#: the rest of the block, if any is left, visited by a regex (str.translate looks up every character)
_FULL_WIDTH_RE = re.compile("[\uff01-\uff5e\u3000]")
MAX_TERMS = 12
SNIPPET_CHARS = 100


@lru_cache(maxsize=65536)
def fold_char(ch: str) -> str:
    """NFKC + lower case + traditional to simplified of one character, kept to one character so
    offsets stay valid."""
    folded = unicodedata.normalize("NFKC", ch).lower()
    if len(folded) == 1:
        return to_simplified(folded)
    lowered = ch.lower()
    return to_simplified(lowered) if len(lowered) == 1 else ch


def fold(text: str) -> str:
    """Character-aligned normalisation (full width to half width, lower case, traditional to
    simplified, as the analyzer's `normalize`): the character at each offset of the result is
    `fold_char` of the character at the same offset of `text`."""
    if text.isascii():
        return text.lower()
    # A quick check usually spares the work per character: titles pass as they are; Chinese prose
    # fails it mostly because of full-width punctuation (，：；), so map the common marks, then the
    # rest of that block, to ASCII (what NFKC does to them), checking again after each.
    candidate = text
    steps = iter((_common_half_width, _half_width))
    while not unicodedata.is_normalized("NFKC", candidate):
        step = next(steps, None)
        if step is None:
            # Character by character: the whole text's normal form could compose e + U+0301 into
            # one é or expand ﬁ into fi, and every offset after it would point elsewhere.
            return "".join(map(fold_char, text))
        candidate = step(candidate)
    lowered = candidate.lower()
    # The traditional→simplified fold maps one character to one, so offsets stay put.
    return to_simplified(lowered) if len(lowered) == len(text) else "".join(map(fold_char, text))


def _common_half_width(text: str) -> str:
    for wide, narrow in _COMMON_FULL_WIDTH:
        text = text.replace(wide, narrow)
    return text


def _half_width(text: str) -> str:
    """`text` with the full-width ASCII block mapped to ASCII (what NFKC does to it)."""
    return _FULL_WIDTH_RE.sub(lambda m: _FULL_WIDTH[m.group()], text)


def is_cjk(s: str) -> bool:
    """True when `s` starts with a CJK ideograph."""
    return bool(s) and _CJK_RE.match(s) is not None


def gram_tokens(text: str) -> list[str]:
    """Bigrams of every CJK run (plus the run's last character), other letter/digit runs whole."""
    out: list[str] = []
    for match in _RUN.finditer(fold(text)):
        run = match.group()
        if is_cjk(run):
            out.extend(run[i : i + 2] for i in range(len(run) - 1))
            # The last character alone lets a one-character query match at the end of a run.
            out.append(run[-1])
        else:
            out.append(run)
    return out


def grams(text: str) -> str:
    """`gram_tokens` joined by spaces (what goes into a gram column)."""
    return " ".join(gram_tokens(text))


def phrase_grams(surface: str) -> str:
    """The gram phrase that matches `surface` as a substring: its bigrams, without the final char."""
    tokens = gram_tokens(surface)
    if len(tokens) > 1 and is_cjk(tokens[-1]) and len(tokens[-1]) == 1:
        tokens.pop()
    return " ".join(tokens)


@lru_cache(maxsize=1)
def _variants() -> dict[str, tuple[str, ...]]:
    """canonical term -> every written form that folds onto it (itself included)."""
    out: dict[str, list[str]] = {}
    for variant, canon in SYNONYMS.items():
        out.setdefault(canon, [canon])
        if variant not in out[canon]:
            out[canon].append(variant)
    return {k: tuple(v) for k, v in out.items()}


def synonym_groups() -> dict[str, tuple[str, ...]]:
    """The analyzer's synonym groups, canonical term first."""
    return dict(_variants())


@dataclass(frozen=True)
class QueryTerm:
    """One query term: the analyzer's canonical word and the surface forms to find as substrings."""

    word: str | None
    surfaces: tuple[str, ...]

    @property
    def single_char(self) -> bool:
        """A one-character CJK term (matched as a prefix of the gram tokens)."""
        return len(self.surfaces) == 1 and len(self.surfaces[0]) == 1 and is_cjk(self.surfaces[0])


def query_terms(text: str, analyzer: ChineseAnalyzer | None = None) -> list[QueryTerm]:
    """Terms of a user query, at most `MAX_TERMS`, never containing query syntax.

    Words come from the shared analyzer (stopwords dropped, synonyms folded). Single characters
    that jieba leaves over (锂 硫 in 锂硫电池, a compound it does not know) are glued back to their
    neighbours as one substring term, which is far more precise than several one-character terms.
    When the analyzer keeps nothing (a query of stopwords like 系统), the query's own letter runs
    are searched as substrings.
    """
    if analyzer is None:
        # Users repeat searches, and segmenting costs 25–140 µs; the vocabulary size is part of
        # the key because words added to the analyser change the segmentation.
        return list(_default_query_terms(text, default_analyzer().vocabulary_size()))
    return _query_terms(text, analyzer)


@lru_cache(maxsize=4096)
def _default_query_terms(text: str, vocabulary_size: int) -> tuple[QueryTerm, ...]:
    return tuple(_query_terms(text, default_analyzer()))


def _query_terms(text: str, analyzer: ChineseAnalyzer) -> list[QueryTerm]:
    folded = fold(text)
    variants = _variants()
    located: list[tuple[str, int, int]] = []  # token, start, end (-1 when not found in the text)
    cursor = 0
    for token in analyzer.tokens(text, keep_stopwords=True):
        if not _WORD_CHARS.search(token):
            continue
        best: tuple[int, int] | None = None
        for form in variants.get(token, (token,)):
            pos = folded.find(fold(form), cursor)
            if pos != -1 and (best is None or pos < best[0]):
                best = (pos, pos + len(form))
        if best is None:
            located.append((token, -1, -1))
        else:
            located.append((token, *best))
            cursor = best[1]
    located = _without_stopwords(located, folded)

    terms: dict[str, QueryTerm] = {}

    def add(term: QueryTerm) -> None:
        key = term.word or term.surfaces[0]
        if term.surfaces and key not in terms and len(terms) < MAX_TERMS:
            terms[key] = term

    def single(i: int) -> bool:
        token, start, _ = located[i]
        return start >= 0 and len(token) == 1 and is_cjk(token)

    i = 0
    while i < len(located):
        token, start, end = located[i]
        if not single(i):
            add(_word_term(token, variants))
            i += 1
            continue
        j = i
        while j + 1 < len(located) and single(j + 1) and located[j + 1][1] == end:
            j += 1
            end = located[j][2]
        if j + 1 < len(located) and located[j + 1][1] == end and is_cjk(located[j + 1][0]):
            j += 1
            end = located[j][2]
        elif terms and start > 0 and (prev := list(terms.values())[-1]).word is not None:
            # glue to the word just before, when it ends right here
            surface = next((s for s in prev.surfaces if folded.rfind(s, 0, start) == start - len(s)), None)
            if surface is not None and is_cjk(surface):
                del terms[prev.word]
                start -= len(surface)
        surface = folded[start:end]
        add(QueryTerm(word=surface if len(surface) == 1 else None, surfaces=(surface,)))
        i = j + 1
    if not terms:
        for run in dict.fromkeys(_RUN.findall(folded)):
            add(QueryTerm(word=None, surfaces=(run,)))
    return list(terms.values())


def _without_stopwords(located: list[tuple[str, int, int]], folded: str) -> list[tuple[str, int, int]]:
    """The located tokens less the stop-listed ones, except inside a short CJK run that also holds
    a content token: there a stopword is part of what the user typed (高 in 高压, 的 in 的确), and
    dropping it would search the other character alone, broadening the query to fewer characters
    than were typed. Whether such a word weighs in ranking is the index's matter, not matching's."""
    runs = [(m.start(), m.end()) for m in _CJK_RUN.finditer(folded) if m.end() - m.start() <= SHORT_RUN]

    def run_of(start: int) -> int | None:
        return next((i for i, (a, b) in enumerate(runs) if a <= start < b), None)

    content_runs = {run_of(start) for token, start, _ in located if start >= 0 and not is_stopword(token)}
    content_runs.discard(None)
    return [
        (token, start, end)
        for token, start, end in located
        if not is_stopword(token) or (start >= 0 and run_of(start) in content_runs)
    ]


def pinyin_terms(text: str) -> list[QueryTerm]:
    """The query read as pinyin (dianchi → 电池 or 滇池), one term per reading, each of its words a
    surface; empty when the query holds a Han character or no reading is known. Engines search
    these besides the query's own terms and rank what only they find below the exact hits."""
    return [QueryTerm(word=None, surfaces=words) for words in words_for(text)[:MAX_TERMS]]


def _word_term(token: str, variants: dict[str, tuple[str, ...]]) -> QueryTerm:
    # Every spelling that folds onto the word is searched as a substring, so the bigram columns
    # alone find what the analyser's synonym folding finds (3D打印 for 增材制造, A.I. for AI).
    forms = variants.get(token, (token,))
    return QueryTerm(word=token, surfaces=tuple(dict.fromkeys(fold(f) for f in forms if gram_tokens(f))))


@lru_cache(maxsize=1024)
def _surfaces(terms: tuple[QueryTerm, ...]) -> tuple[tuple[str, bool], ...]:
    """Each surface to mark, and whether it is a Latin word (marked whole only): worked out once
    per query, not once per hit."""
    return tuple((s, not is_cjk(s)) for term in terms for s in term.surfaces if s)


def highlight_spans(text: str, terms: Iterable[QueryTerm]) -> list[tuple[int, int]]:
    """Merged (start, end) spans of `text` where a term's surface occurs."""
    return _spans(fold(text), terms)


def _spans(folded: str, terms: Iterable[QueryTerm]) -> list[tuple[int, int]]:
    spans: list[tuple[int, int]] = []
    for surface, latin in _surfaces(tuple(terms)):
        start = folded.find(surface)
        while start != -1:
            end = start + len(surface)
            # Latin words are marked whole only ("ai" must not light up inside "maintain").
            if not latin or (_boundary(folded, start - 1) and _boundary(folded, end)):
                spans.append((start, end))
            start = folded.find(surface, start + 1)
    if len(spans) < 2:
        return spans
    spans.sort()
    merged = [spans[0]]
    for start, end in spans[1:]:
        if start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


def _boundary(text: str, index: int) -> bool:
    return index < 0 or index >= len(text) or not (text[index].isalnum() and not is_cjk(text[index]))


def render(text: str, spans: list[tuple[int, int]], start: int = 0, end: int | None = None) -> str:
    """HTML-escape text[start:end], wrapping the spans in <mark> (whitespace already collapsed)."""
    end = len(text) if end is None else end
    pieces: list[str] = []  # text, _OPEN, match, _CLOSE, text, ...
    pos = start
    for s, e in spans:
        s, e = max(s, start), min(e, end)
        if s < e:
            pieces += (text[pos:s], _OPEN, text[s:e], _CLOSE)
            pos = e
    pieces.append(text[pos:end])
    if _OPEN in text or _CLOSE in text:
        # The text holds the stand-ins itself: escape it piece by piece so they stay plain text.
        tags = {1: "<mark>", 3: "</mark>"}
        return "".join(tags.get(i % 4) or html.escape(p) for i, p in enumerate(pieces))
    # One escape for the whole text; the stand-ins (private-use characters) pass through it.
    return html.escape("".join(pieces)).replace(_OPEN, "<mark>").replace(_CLOSE, "</mark>")


def _esc(s: str) -> str:
    return html.escape(_SPACES.sub(" ", s), quote=True)


def highlight(text: str, terms: list[QueryTerm]) -> str:
    """The whole text, escaped, with matches marked; whitespace runs collapse."""
    text = _SPACES.sub(" ", text)
    return render(text, highlight_spans(text, terms) if terms else [])


def snippet(text: str, terms: list[QueryTerm], size: int = SNIPPET_CHARS) -> str:
    """About `size` characters of text around its first match, escaped, with matches marked."""
    text = _SPACES.sub(" ", text.strip())
    return _snippet(text, highlight_spans(text, terms) if terms else [], size)


def _snippet(text: str, spans: list[tuple[int, int]], size: int) -> str:
    start, end = _window(len(text), spans, size)
    return ("…" if start > 0 else "") + render(text, spans, start, end) + ("…" if end < len(text) else "")


def _window(length: int, spans: list[tuple[int, int]], size: int) -> tuple[int, int]:
    """The snippet's (start, end): some context before the first match, but not so much that the
    match falls off the end."""
    if length <= size:
        return 0, length
    start = max(0, min(spans[0][0] - size // 5, length - size)) if spans else 0
    return start, min(length, start + size)


def highlight_page(
    titles: list[str], bodies: list[str], terms: list[QueryTerm], size: int = SNIPPET_CHARS
) -> tuple[list[str], list[str]]:
    """`highlight` of every title and `snippet` of every body of a page of hits: the same strings
    as one by one, from one fold, one search and one escape over all the texts joined (per-call
    overhead was most of the cost of 20 short texts)."""
    joined = _SPACES.sub(" ", _SEP.join([*titles, *(b.strip() for b in bodies)]))
    texts = joined.split(_SEP)
    own_separators = len(texts) != len(titles) + len(bodies)
    if not terms or own_separators or any(_SEP in s for s, _ in _surfaces(tuple(terms))):
        return [highlight(t, terms) for t in titles], [snippet(b, terms, size) for b in bodies]
    # Matches never cross a separator (no surface holds one), and one counts as a word boundary.
    spans = iter(_spans(fold(joined), terms))
    span = next(spans, None)
    # Titles whole and bodies cut to their snippets, with their spans, joined again to render once.
    shown: list[str] = []
    shown_spans: list[tuple[int, int]] = []
    ends: list[tuple[str, str]] = []  # the ellipses around each snippet
    offset = shown_offset = 0
    for i, text in enumerate(texts):
        mine: list[tuple[int, int]] = []
        while span is not None and span[0] < offset + len(text):
            mine.append((span[0] - offset, span[1] - offset))
            span = next(spans, None)
        start, end = (0, len(text)) if i < len(titles) else _window(len(text), mine, size)
        if i >= len(titles):
            ends.append(("…" if start > 0 else "", "…" if end < len(text) else ""))
        shown.append(text[start:end])
        for s, e in mine:
            if s < end and e > start:
                shown_spans.append((shown_offset + max(s, start) - start, shown_offset + min(e, end) - start))
        offset += len(text) + 1
        shown_offset += end - start + 1
    rendered = render(_SEP.join(shown), shown_spans).split(_SEP)
    snippets = [pre + body + post for (pre, post), body in zip(ends, rendered[len(titles) :], strict=True)]
    return rendered[: len(titles)], snippets


def render_marked(text: str, pre: str, post: str) -> str:
    """Escape engine-highlighted text whose matches are delimited by `pre`/`post` sentinels.

    Everything is escaped; sentinels become balanced <mark> tags, so a document can never inject
    markup, not even an unbalanced <mark>.
    """
    out: list[str] = []
    open_mark = False
    for piece in re.split(f"({re.escape(pre)}|{re.escape(post)})", text):
        if piece == pre:
            if not open_mark:
                out.append("<mark>")
                open_mark = True
        elif piece == post:
            if open_mark:
                out.append("</mark>")
                open_mark = False
        else:
            out.append(_esc(piece))
    if open_mark:
        out.append("</mark>")
    return "".join(out)

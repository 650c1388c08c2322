"""Guess a listing's technical field (技术领域) from its text when a spreadsheet row leaves it out.

Each second-level field has a hand-written list of domain terms. A row's title and keywords (weight 3)
and body (weight 1) are segmented with the shared analyzer; a term counts when it is one of the row's
tokens, or, for terms of three characters or more, when it appears in the text (jieba may cut a term we
know whole). Naming a second-level field outright scores more; naming a first-level field nudges its
children. Terms listed under several fields split their weight. Below a threshold, or without a clear lead
over the runner-up, nothing is guessed: a wrong field hurts matching more than an empty one.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from functools import cache

from vocab.analyzer import canonical, default_analyzer, normalize
from vocab.field_terms import FIELD_TERMS
from vocab.taxonomy import FIELD_PARENT, FIELDS, SUBFIELDS

#: second-level field -> its domain terms (curated in vocab, shared with the field classifier)
TERMS = FIELD_TERMS

TITLE_WEIGHT = 3.0
BODY_WEIGHT = 1.0
SUBFIELD_NAME_BONUS = 3.0
TOP_NAME_BONUS = 0.5
#: the winner needs this score (one title term, or three body terms) …
THRESHOLD = 3.0
#: … and this lead over the runner-up; measured on the seed listings (492, fields known), these settings
#: guess 50 % exactly, 4 % in the right first level, 16 % wrong and leave 30 % empty, against 53 / 5 / 22 / 20
#: with no lead required: fewer wrong guesses for a few more blanks
MARGIN = 2.0


def _key(term: str) -> str:
    return canonical(normalize(term))


@cache
def _index() -> dict[str, dict[str, float]]:
    """Term -> {subfield: weight}; a term known to n fields weighs 1/n in each."""
    owners: dict[str, set[str]] = defaultdict(set)
    for sub, terms in TERMS.items():
        for term in (*terms, sub):
            owners[_key(term)].add(sub)
    return {term: {sub: 1.0 / len(subs) for sub in subs} for term, subs in owners.items()}


def scores(
    title: str, keywords: Iterable[str] = (), body: str = "", *, within: str | None = None
) -> dict[str, float]:
    """Each second-level field's score for the text (only those under first-level `within`, if given)."""
    index = _index()
    analyzer = default_analyzer()
    out: dict[str, float] = defaultdict(float)
    zones = ((" ".join([title, *keywords]), TITLE_WEIGHT), (body, BODY_WEIGHT))
    for text, weight in zones:
        if not text:
            continue
        norm = normalize(text)
        tokens = {_key(t) for t in analyzer.tokens(text)}
        found = {t for t in tokens if t in index}
        found |= {t for t in index if len(t) >= 3 and t in norm}
        for term in found:
            for sub, share in index[term].items():
                out[sub] += weight * share
        for sub in SUBFIELDS:
            if normalize(sub) in norm:
                out[sub] += weight * SUBFIELD_NAME_BONUS
        for top, subs in FIELDS.items():
            if normalize(top) in norm:
                for sub in subs:
                    out[sub] += weight * TOP_NAME_BONUS
    if within:
        return {sub: s for sub, s in out.items() if FIELD_PARENT[sub] == within}
    return dict(out)


def infer_field(
    title: str, keywords: Iterable[str] = (), body: str = "", *, within: str | None = None
) -> str | None:
    """The most likely second-level field for the text, or None when no field is clearly indicated."""
    ranked = sorted(scores(title, keywords, body, within=within).items(), key=lambda kv: -kv[1])
    if not ranked or ranked[0][1] < THRESHOLD:
        return None
    if len(ranked) > 1 and ranked[0][1] - ranked[1][1] < MARGIN:
        return None
    return ranked[0][0]

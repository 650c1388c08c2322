"""Technical-field classifier (技术领域): top-3 second-level fields with probabilities for a text.

Trained on the platform's own listings that carry a field a person gave, plus the curated term list of
every second-level field of the plan's taxonomy (`vocab.field_terms`): each list as one document and
each of its terms as a light one, so a field with no labelled listing yet is still known by its
vocabulary, and a real import in words the demo never used still finds its field. Features are the
shared analyzer's words (TF-IDF, sublinear); the model is a linear classifier with logistic loss
(scikit-learn's `SGDClassifier`, deterministic with a fixed seed), fast enough to refit in a second.

`FieldClassifier.infer` leaves the field empty below `threshold`, and when no word of the text speaks
for the field (its name or a curated term, whole, or a word mostly seen in its labelled listings): a
wrong field is worse than none, and a text of generic words gets a confident-looking probability from
a model that has few labelled listings. The default was chosen by cross-validation on the demo
listings (`cross_validate`; 5 folds): at 0.1 about 88 % of listings get a field, 79 % of them exactly
right and 82 % in the right first level.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import SGDClassifier
from sklearn.model_selection import StratifiedKFold

from matching.text import word_tokens
from vocab.analyzer import normalize
from vocab.field_terms import FIELD_TERMS
from vocab.taxonomy import FIELD_PARENT, FIELDS, SUBFIELDS

#: longest text the site classifies (a listing's title, keywords and body fit)
MAX_TEXT = 6000
#: below this probability `infer` leaves the field empty
THRESHOLD = 0.1
#: weight of one curated term as a training document (a whole term list weighs 1, as a listing does)
TERM_WEIGHT = 0.3


@dataclass(frozen=True)
class Suggestion:
    """One suggested second-level field, its first level and the classifier's probability."""

    field: str
    field_top: str
    probability: float

    def to_dict(self) -> dict:
        return {"field": self.field, "field_top": self.field_top, "probability": round(self.probability, 4)}


def listing_text(title: str, keywords: Iterable[str] = (), body: str = "") -> str:
    """The text a listing is classified by: title, keywords, body."""
    return "\n".join([title or "", " ".join(keywords or ()), body or ""])


def _identity(tokens: list[str]) -> list[str]:
    return tokens


class FieldClassifier:
    """Fit with `fit(texts, fields)`; then `suggest(text)` and `infer(text)`."""

    def __init__(
        self, *, alpha: float = 3e-5, term_weight: float = TERM_WEIGHT, threshold: float = THRESHOLD
    ):
        self.alpha = alpha
        self.term_weight = term_weight
        self.threshold = threshold
        self.vectorizer: TfidfVectorizer | None = None
        self.model: SGDClassifier | None = None
        self.trained_on = 0
        self.evidence: dict[str, frozenset[str]] = {}
        self.terms: dict[str, tuple[str, ...]] = {}

    def fit(
        self,
        texts: Sequence[str],
        fields: Sequence[str],
        *,
        terms: dict[str, tuple[str, ...]] | None = None,
    ) -> FieldClassifier:
        """Learn from labelled texts (second-level fields; others are skipped) and the term lists."""
        terms = FIELD_TERMS if terms is None else terms
        docs: list[list[str]] = []
        labels: list[str] = []
        weights: list[float] = []
        for text, field in zip(texts, fields, strict=True):
            if field in FIELD_PARENT:
                docs.append(word_tokens(text))
                labels.append(field)
                weights.append(1.0)
        self.trained_on = len(docs)
        for field, words in terms.items():
            docs.append(word_tokens(" ".join([field, *words])))
            labels.append(field)
            weights.append(1.0)
            for word in words:
                docs.append(word_tokens(word) or [normalize(word)])
                labels.append(field)
                weights.append(self.term_weight)
        self.evidence = _evidence(docs, labels, self.trained_on)
        self.terms = {f: tuple(normalize(w) for w in words) for f, words in terms.items()}
        self.vectorizer = TfidfVectorizer(analyzer=_identity, sublinear_tf=True)
        matrix = self.vectorizer.fit_transform(docs)
        self.model = SGDClassifier(loss="log_loss", alpha=self.alpha, max_iter=50, tol=1e-4, random_state=0)
        self.model.fit(matrix, labels, sample_weight=np.asarray(weights))
        return self

    def evidence_for(self, text: str, field: str) -> list[str]:
        """The words of `text` that speak for `field`: its name or one of its curated terms (whole),
        or words mostly seen in labelled listings of that field. A guess with none of them (a text of
        generic words, whatever its probability) is not made."""
        norm = normalize(text)
        found = [t for t in (field, *self.terms.get(field, ())) if len(t) >= 2 and t in norm]
        words = self.evidence.get(field, frozenset())
        found += [t for t in dict.fromkeys(word_tokens(text)) if t in words and t not in found]
        return found

    def probabilities(self, texts: Sequence[str]) -> np.ndarray:
        """Class probabilities, one row per text, columns in `classes` order."""
        if self.vectorizer is None or self.model is None:
            raise RuntimeError("the field classifier is not fitted")
        return self.model.predict_proba(self.vectorizer.transform([word_tokens(t) for t in texts]))

    @property
    def classes(self) -> list[str]:
        return [] if self.model is None else [str(c) for c in self.model.classes_]

    def suggest(self, text: str, k: int = 3) -> list[Suggestion]:
        """The `k` likeliest second-level fields, best first (empty for a text without words)."""
        if not word_tokens(text):
            return []
        probs = self.probabilities([text])[0]
        order = np.argsort(-probs, kind="stable")[:k]
        return [Suggestion(self.classes[i], FIELD_PARENT[self.classes[i]], float(probs[i])) for i in order]

    def infer(self, text: str) -> Suggestion | None:
        """The likeliest field when its probability reaches `threshold` and the text holds a word
        that speaks for it (`evidence_for`), else None."""
        top = self.suggest(text, k=1)
        if not top or top[0].probability < self.threshold or not self.evidence_for(text, top[0].field):
            return None
        return top[0]


#: a word speaks for a field when at least this share of the labelled listings holding it are of the
#: field (and at least two are)
EVIDENCE_SHARE = 0.5


def _evidence(docs: list[list[str]], labels: list[str], labelled: int) -> dict[str, frozenset[str]]:
    """field -> the words that speak for it from labelled listings: tokens of labelled listings
    concentrated in it (the curated terms count whole, see `FieldClassifier.evidence_for`)."""
    out: dict[str, set[str]] = {}
    per_word: dict[str, Counter[str]] = {}
    for tokens, label in zip(docs[:labelled], labels[:labelled], strict=True):
        for token in set(tokens):
            per_word.setdefault(token, Counter())[label] += 1
    for token, counts in per_word.items():
        label, n = counts.most_common(1)[0]
        if n >= 2 and n >= EVIDENCE_SHARE * sum(counts.values()):
            out.setdefault(label, set()).add(token)
    return {label: frozenset(words) for label, words in out.items()}


def cross_validate(
    texts: Sequence[str],
    fields: Sequence[str],
    *,
    folds: int = 5,
    seed: int = 0,
    thresholds: Sequence[float] = (0.05, 0.1, 0.2, 0.3),
    classifier: FieldClassifier | None = None,
) -> dict:
    """Held-out predictions for labelled texts: each fold predicted by a classifier trained on the
    other folds (and the term lists), stratified by first-level field. A JSON-ready report with exact
    and first-level accuracy, coverage and accuracy at each threshold, and the first-level confusion
    counts (rows: true, columns: predicted)."""
    base = classifier or FieldClassifier()
    keep = [i for i, f in enumerate(fields) if f in FIELD_PARENT]
    texts = [texts[i] for i in keep]
    truth = np.array([fields[i] for i in keep], dtype=object)
    tops = [FIELD_PARENT[f] for f in truth]
    predicted = np.empty(len(texts), dtype=object)
    confidence = np.zeros(len(texts))
    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    for train, test in splitter.split(texts, tops):
        model = FieldClassifier(alpha=base.alpha, term_weight=base.term_weight, threshold=base.threshold)
        model.fit([texts[i] for i in train], truth[train].tolist())
        probs = model.probabilities([texts[i] for i in test])
        best = probs.argmax(axis=1)
        predicted[test] = [model.classes[j] for j in best]
        confidence[test] = probs[np.arange(len(test)), best]
        # a guess without a word that speaks for it is never made, whatever its probability
        backed = np.array(
            [bool(model.evidence_for(texts[i], model.classes[j])) for i, j in zip(test, best, strict=True)]
        )
        confidence[test] = np.where(backed, confidence[test], 0.0)
    exact = predicted == truth
    same_top = np.array([FIELD_PARENT[p] == FIELD_PARENT[t] for p, t in zip(predicted, truth, strict=True)])
    at: dict[str, dict] = {}
    for threshold in thresholds:
        kept = confidence >= threshold
        at[str(threshold)] = {
            "coverage": round(float(kept.mean()), 4),
            "exact_of_kept": round(float(exact[kept].mean()), 4) if kept.any() else None,
            "first_level_of_kept": round(float(same_top[kept].mean()), 4) if kept.any() else None,
        }
    top_names = list(FIELDS)
    confusion = np.zeros((len(top_names), len(top_names)), dtype=int)
    for p, t in zip(predicted, truth, strict=True):
        confusion[top_names.index(FIELD_PARENT[t]), top_names.index(FIELD_PARENT[p])] += 1
    wrong = Counter((t, p) for p, t in zip(predicted, truth, strict=True) if p != t)
    return {
        "listings": len(texts),
        "folds": folds,
        "seed": seed,
        "exact": round(float(exact.mean()), 4),
        "first_level": round(float(same_top.mean()), 4),
        "threshold": base.threshold,
        "at_threshold": at,
        "first_level_names": top_names,
        "confusion": confusion.tolist(),
        "most_confused": [{"true": t, "predicted": p, "count": n} for (t, p), n in wrong.most_common(10)],
        "fields_without_labelled_listings": sorted(set(SUBFIELDS) - set(truth.tolist())),
    }


def confusion_table(report: dict) -> str:
    """The first-level confusion counts of `cross_validate` as a text table (rows: true field)."""
    names = report["first_level_names"]
    short = [n[:4] for n in names]
    width = max(len(s) for s in short)
    lines = [
        "真实＼推断".ljust(width + 2) + " ".join(f"{i + 1:>4}" for i in range(len(names))) + "   合计  正确率"
    ]
    for i, row in enumerate(report["confusion"]):
        total = sum(row)
        right = row[i] / total if total else 0.0
        cells = " ".join(f"{n:>4}" for n in row)
        lines.append(
            f"{i + 1:>2} {short[i]:<{width}}".ljust(width + 2) + f" {cells}  {total:>5}  {right:6.1%}"
        )
    lines.append("")
    lines.append("  ".join(f"{i + 1}={n}" for i, n in enumerate(names)))
    return "\n".join(lines)

"""Text features: TF-IDF over the shared analyzer's words plus character n-grams, one vocabulary.

Each listing has three fields — title, keywords, body — counted separately and combined as
``Σ weight_f · (1 + ln tf_f)`` before IDF, so a term in the title counts more than the same term in the
body while all fields still share one vocabulary (a need's body term matches a result's title term).
That is scikit-learn's ``TfidfVectorizer`` taken apart into ``CountVectorizer`` + ``TfidfTransformer``
so the per-field counts can be weighted in between; results and needs are fitted together.

Two blocks are stacked, weighted by `TextConfig.word_share`: words (jieba with the domain dictionary and
synonym folding, via `vocab.analyzer`; keywords also kept whole) and character 1–3-grams on normalised
text, which still match when segmentation differs, the text is not segmented at all, or a lay word
shares only a character with the technical one. Rows are L2-normalised, so a row product is a cosine.

`TextModel.index_rows` derives the sparser rows used only to nominate candidates (see `TextConfig`).
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import scipy.sparse as sp
from joblib import Parallel, delayed
from sklearn.feature_extraction.text import CountVectorizer, TfidfTransformer

from matching.explain import display_stopwords, display_term, written_forms
from matching.records import NeedRecord, ResultRecord
from vocab.analyzer import canonical, default_analyzer, normalize

#: (title, keywords, body) of one listing
Doc = tuple[str, tuple[str, ...], str]

_NON_WORD = re.compile(r"[^\w]+")
_NUMBERISH = re.compile(r"^[\d.]+%?$")
_HAS_CJK = re.compile(r"[\u4e00-\u9fff]")

#: words never shown as a reason (a reviewed data file; they stay features, IDF weighs them down)
DISPLAY_STOPWORDS = display_stopwords()


@dataclass(frozen=True)
class TextConfig:
    """How text becomes vectors. Changing any of these needs a refit (unlike `Weights`)."""

    # Title > keywords > body, but only mildly: an enterprise's need title is often colloquial
    # (送货飞机挂10公斤货飞不远) and a strong title weight lets a few words drown the description.
    title_weight: float = 1.6
    keywords_weight: float = 1.3
    body_weight: float = 1.0
    #: count a repeated term as 1 + ln(tf) within each field (a long body cannot shout one word)
    sublinear_tf: bool = True
    #: share of the cosine carried by the word block; the rest is character n-grams
    word_share: float = 0.3
    # Single characters are morphemes in Chinese (鱼, 油, 氢, 膜): unigrams catch lay wording that no
    # segmentation links to the technical term; 2- and 3-grams catch words jieba cut differently.
    char_ngram_min: int = 1
    char_ngram_max: int = 3
    #: a character n-gram must occur in this many documents to be kept (once = it cannot match anything)
    char_min_df: int = 2
    #: terms in more than this share of documents carry almost no IDF weight but make the similarity
    #: matrix dense; dropped, but only in corpora large enough for the share to mean something
    max_df: float = 0.25
    max_df_min_docs: int = 200
    #: candidate generation uses only each listing's strongest features (None: all). The weak tail —
    #: common characters and words with low IDF — barely moves a cosine but makes nearly every pair
    #: overlap, which turns the similarity matrix dense at scale. Candidates are re-scored with the full
    #: vectors, so this trades a little candidate recall for a sparse, fast index.
    index_features: int | None = 100
    #: single characters help the exact cosine (lay wording) but nearly every pair shares some, so they
    #: stay out of the candidate index unless asked for
    index_unigrams: bool = False
    #: nor do terms found in more than this share of documents (平台, 效率, 安全 …) — once the corpus is big
    #: enough for that share to exceed `index_df_floor` documents
    index_max_df: float = 0.02
    index_df_floor: int = 50
    #: which listings the IDF is taken from: "all" (results and needs) or "needs", the side searched
    #: from: a word every need says (效率, 成本) weighs little even when few results say it. "needs"
    #: was chosen by grouped 5-fold cross-validation on the demo pairs (every fold chose it; held out
    #: nDCG@10 +0.002, R@50 +0.006: `python -m matching evaluate --select`)
    idf_from: str = "needs"
    #: None: one vector of the weighted fields. A share s: s · (title alone) + (1 − s) · (everything),
    #: each L2-normalised before blending (a title that names the technology counts whatever the length
    #: of the description). Off: 0.3 did worse held out on the demo pairs (nDCG@10 −0.004)
    title_share: float | None = None

    def __post_init__(self) -> None:
        if min(self.title_weight, self.keywords_weight, self.body_weight) < 0:
            raise ValueError("field weights must be non-negative")
        if not 0.0 <= self.word_share <= 1.0:
            raise ValueError("word_share must lie in [0, 1]")
        if not 1 <= self.char_ngram_min <= self.char_ngram_max:
            raise ValueError("bad character n-gram range")
        if self.idf_from not in ("all", "needs"):
            raise ValueError('idf_from must be "all" or "needs"')
        if self.title_share is not None and not 0.0 <= self.title_share <= 1.0:
            raise ValueError("title_share must lie in [0, 1]")


def doc_of(record: ResultRecord | NeedRecord) -> Doc:
    """The (title, keywords, body) triple of a listing."""
    return record.title, tuple(record.keywords), record.body


def word_tokens(text: str) -> list[str]:
    """Content words of `text` from the shared analyzer; single characters and bare numbers dropped."""
    return [
        tok
        for tok in default_analyzer().tokens(text)
        if (len(tok) >= 2 or not _HAS_CJK.search(tok)) and not _NUMBERISH.match(tok) and len(tok) <= 30
    ]


def keyword_tokens(keywords: Iterable[str]) -> list[str]:
    """Each keyword whole (normalised, synonym-folded) plus its words, so keywords match body text too."""
    out: list[str] = []
    for keyword in keywords:
        out.extend(_keyword_terms(keyword))
    return out


@lru_cache(maxsize=1 << 16)
def _keyword_terms(keyword: str) -> tuple[str, ...]:
    # Keywords repeat across listings far more than titles or bodies do: segment each one once.
    # (`TextModel.fit_transform` clears this, as the analyzer may have learnt words since.)
    words = word_tokens(keyword)
    whole = canonical(normalize(keyword))
    if len(whole) >= 2 and whole not in words and len(whole) <= 30:
        return (whole, *words)
    return tuple(words)


def char_text(text: str) -> str:
    """Text for the n-gram block: normalised, punctuation turned into word breaks."""
    return _NON_WORD.sub(" ", normalize(text)).strip()


def l2_normalize(rows: sp.csr_matrix) -> sp.csr_matrix:
    """Rows scaled to unit length (empty rows stay empty), float32 CSR; also for zero-row matrices."""
    rows = sp.csr_matrix(rows, dtype=np.float32, copy=True)
    if rows.nnz:
        lengths = np.diff(rows.indptr)
        owner = np.repeat(np.arange(rows.shape[0]), lengths)
        squares = np.bincount(owner, weights=rows.data.astype(np.float64) ** 2, minlength=rows.shape[0])
        norms = np.sqrt(np.where(squares > 0, squares, 1.0))
        rows.data /= norms[owner].astype(np.float32)
    return rows


def _identity(tokens: list[str]) -> list[str]:
    # Module level (not a lambda) so fitted vectorizers pickle.
    return tokens


def _char_ngrams(config: TextConfig) -> Callable[[str], list[str]]:
    """scikit-learn's ``char_wb`` n-grams without the bare padding space every text shares."""
    grams = CountVectorizer(
        analyzer="char_wb", lowercase=False, ngram_range=(config.char_ngram_min, config.char_ngram_max)
    ).build_analyzer()

    def analyze(text: str) -> list[str]:
        return [g for g in grams(text) if not g.isspace()]

    return analyze


class _FieldBlock:
    """One block (words or character n-grams): per-field counts, field weights, IDF, L2 norm."""

    def __init__(self, kind: str, config: TextConfig) -> None:
        self.kind = kind
        self.config = config
        self.vectorizer: CountVectorizer | None = None
        self.idf: TfidfTransformer | None = None
        self.vocabulary: np.ndarray = np.array([], dtype=object)
        #: document frequency of each kept term in the fitted corpus
        self.df: np.ndarray = np.array([], dtype=np.int64)
        if kind == "char":
            self._ngrams = _char_ngrams(config)

    @property
    def width(self) -> int:
        return len(self.vocabulary)

    def _fields(self, doc: Doc) -> tuple[list[str], list[str], list[str]]:
        title, keywords, body = doc
        if self.kind == "word":
            return word_tokens(title), keyword_tokens(keywords), word_tokens(body)
        grams = self._ngrams
        return grams(char_text(title)), grams(char_text(" ".join(keywords))), grams(char_text(body))

    def _interleaved(self, docs: Iterable[Doc]) -> Iterator[list[str]]:
        for doc in docs:
            yield from self._fields(doc)

    def count(self, docs: Sequence[Doc]) -> tuple[sp.csr_matrix, np.ndarray]:
        """Per-field counts, rows interleaved (title, keywords, body) per doc, with their own vocabulary."""
        vectorizer = CountVectorizer(analyzer=_identity, dtype=np.int32)
        try:
            counts = vectorizer.fit_transform(self._interleaved(docs)).tocsr()
        except ValueError:  # no terms at all (every text empty)
            return sp.csr_matrix((3 * len(docs), 0), dtype=np.int32), np.array([], dtype=object)
        return counts, vectorizer.get_feature_names_out()

    def _weighted(self, counts: sp.csr_matrix, *, title_only: bool = False) -> sp.csr_matrix:
        """Σ_f w_f (1 + ln tf_f) from the interleaved (title, keywords, body) count rows (or the
        title's alone)."""
        counts = counts.astype(np.float32)
        cfg = self.config
        if cfg.sublinear_tf:
            counts.data = 1.0 + np.log(counts.data)
        title, keywords, body = counts[0::3], counts[1::3], counts[2::3]
        if title_only:
            return title.tocsr()
        return (cfg.title_weight * title + cfg.keywords_weight * keywords + cfg.body_weight * body).tocsr()

    def _rows(self, counts: sp.csr_matrix, weighted: sp.csr_matrix) -> sp.csr_matrix:
        """TF-IDF rows (L2), blended with the title's own rows when `TextConfig.title_share` is set."""
        assert self.idf is not None, "transform before fit"
        full = self.idf.transform(weighted).astype(np.float32).tocsr()
        share = self.config.title_share
        if share is None:
            return full
        title = self._weighted(counts, title_only=True)
        title = self.idf.transform(title).astype(np.float32).tocsr()
        return (share * title + (1.0 - share) * full).tocsr()

    def fit_counts(
        self, counts: sp.csr_matrix, vocabulary: np.ndarray, idf_rows: np.ndarray | None = None
    ) -> sp.csr_matrix:
        """Fit document frequencies, pruning and IDF from `count` output; the docs' TF-IDF rows.

        `idf_rows` (a boolean mask over the docs) picks the documents the IDF is fitted on; pruning
        by document frequency always looks at all of them."""
        n_docs = counts.shape[0] // 3
        self.vectorizer = None
        self.vocabulary = np.array([], dtype=object)
        self.df = np.array([], dtype=np.int64)
        weighted = self._weighted(counts)
        weighted.eliminate_zeros()
        df = np.diff(weighted.tocsc().indptr)
        keep = df >= (self.config.char_min_df if self.kind == "char" else 1)
        if n_docs >= self.config.max_df_min_docs:
            keep &= df <= self.config.max_df * n_docs
        if not keep.any():
            return sp.csr_matrix((n_docs, 0), dtype=np.float32)
        self.vocabulary = np.asarray(vocabulary, dtype=object)[keep]
        self.df = df[keep]
        # Transforming new listings later only needs the kept vocabulary.
        vectorizer = CountVectorizer(analyzer=_identity, dtype=np.int32)
        vectorizer.vocabulary_ = {term: i for i, term in enumerate(self.vocabulary)}
        self.vectorizer = vectorizer
        kept = np.flatnonzero(keep)
        weighted = weighted[:, kept]
        fit_on = weighted if idf_rows is None else weighted[np.flatnonzero(idf_rows)]
        self.idf = TfidfTransformer(norm="l2", smooth_idf=True).fit(fit_on)
        rows = self._rows(counts.tocsc()[:, kept].tocsr(), weighted)
        return rows

    def transform(self, docs: Sequence[Doc]) -> sp.csr_matrix:
        if self.vectorizer is None or self.idf is None:
            return sp.csr_matrix((len(docs), 0), dtype=np.float32)
        counts = self.vectorizer.transform(self._interleaved(docs)).tocsr()
        return self._rows(counts, self._weighted(counts))

    def __getstate__(self) -> dict:
        state = self.__dict__.copy()
        state.pop("_ngrams", None)  # a closure; rebuilt on load
        return state

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)
        if self.kind == "char":
            self._ngrams = _char_ngrams(self.config)


Counted = tuple[sp.csr_matrix, np.ndarray]


def _count_batch(config: TextConfig, docs: Sequence[Doc], words: Sequence[str]) -> tuple[Counted, Counted]:
    """Worker: word and n-gram counts of a batch, with the parent's analyzer dictionary."""
    default_analyzer().add_words(words)
    _keyword_terms.cache_clear()  # a reused worker may have segmented with an older dictionary
    return _FieldBlock("word", config).count(docs), _FieldBlock("char", config).count(docs)


def _merge(parts: Sequence[Counted]) -> Counted:
    """Stack batch counts onto one sorted vocabulary (only the vocabularies are compared, not tokens)."""
    terms = sorted(set().union(*(v.tolist() for _, v in parts)))
    position = {term: i for i, term in enumerate(terms)}
    blocks = []
    for counts, local in parts:
        columns = np.fromiter((position[t] for t in local.tolist()), dtype=np.int32, count=len(local))
        blocks.append(
            sp.csr_matrix(
                (counts.data, columns[counts.indices], counts.indptr), shape=(counts.shape[0], len(terms))
            )
        )
    vocabulary = np.empty(len(terms), dtype=object)
    vocabulary[:] = terms
    return sp.vstack(blocks, format="csr"), vocabulary


#: below this many documents, counting in worker processes costs more than it saves
PARALLEL_MIN_DOCS = 4000


def count_docs(config: TextConfig, docs: Sequence[Doc], n_jobs: int = 1) -> tuple[Counted, Counted]:
    """Word and n-gram counts of `docs`; large corpora are split over worker processes.

    Segmenting, n-gram extraction and counting are pure Python and hold the GIL, so `n_jobs` > 1 (or -1
    for every core) uses joblib's process pool; each batch brings its own vocabulary and only those are
    merged here.
    """
    cores = os.cpu_count() or 1
    jobs = cores if n_jobs < 0 else min(n_jobs, cores)
    if jobs <= 1 or len(docs) < PARALLEL_MIN_DOCS:
        return _FieldBlock("word", config).count(docs), _FieldBlock("char", config).count(docs)
    analyzer = default_analyzer()
    analyzer.tokens("")  # build the dictionary here, so the workers get the same words
    words = sorted(analyzer.words)
    size = max(2000, -(-len(docs) // (jobs * 3)))
    batches = [docs[i : i + size] for i in range(0, len(docs), size)]
    parts = Parallel(n_jobs=jobs, backend="loky")(delayed(_count_batch)(config, b, words) for b in batches)
    return _merge([w for w, _ in parts]), _merge([c for _, c in parts])


def _strongest(rows: sp.csr_matrix, limit: int) -> sp.csr_matrix:
    """Each row's `limit` largest entries (ties by column), the rest dropped."""
    rows = rows.tocsr()
    lengths = np.diff(rows.indptr)
    if lengths.max(initial=0) <= limit:
        return rows
    keep = np.ones(rows.nnz, dtype=bool)
    for row in np.flatnonzero(lengths > limit):
        start, end = rows.indptr[row], rows.indptr[row + 1]
        data = rows.data[start:end]
        order = np.lexsort((rows.indices[start:end], -data))
        keep[start + order[limit:]] = False
    owner = np.repeat(np.arange(rows.shape[0]), lengths)
    counts = np.bincount(owner[keep], minlength=rows.shape[0])
    indptr = np.concatenate([[0], np.cumsum(counts)])
    return sp.csr_matrix((rows.data[keep], rows.indices[keep], indptr), shape=rows.shape)


class TextModel:
    """Fitted text features: ``transform(docs)`` gives L2-normalised rows whose products are cosines.

    Columns ``[0, word_width)`` are words (human-readable, used for key terms); the rest are n-grams.
    """

    def __init__(self, config: TextConfig | None = None) -> None:
        self.config = config or TextConfig()
        self.words = _FieldBlock("word", self.config)
        self.chars = _FieldBlock("char", self.config)
        self.n_docs = 0
        self._allowed: np.ndarray | None = None
        #: Latin words as the fitted listings write them (pcr -> PCR), for explanations
        self.forms: dict[str, str] = {}

    @property
    def word_width(self) -> int:
        """Number of word columns (the first columns of every row)."""
        return self.words.width

    @property
    def width(self) -> int:
        return self.words.width + self.chars.width

    def _combine(self, words: sp.csr_matrix, chars: sp.csr_matrix) -> sp.csr_matrix:
        share = self.config.word_share
        stacked = sp.hstack([np.sqrt(share) * words, np.sqrt(1.0 - share) * chars], format="csr")
        stacked = l2_normalize(stacked)
        stacked.sort_indices()
        return stacked

    def _index_columns(self) -> np.ndarray:
        """Columns allowed in the candidate index (see `TextConfig.index_*`); cached per fit."""
        if self._allowed is not None and self._allowed.size == self.width:
            return self._allowed
        cfg = self.config
        df = np.concatenate([self.words.df, self.chars.df])
        allowed = df <= max(cfg.index_max_df * self.n_docs, cfg.index_df_floor)
        if not cfg.index_unigrams:
            unigram = np.array([len(g) == 1 for g in self.chars.vocabulary], dtype=bool)
            allowed[self.word_width :] &= ~unigram
        self._allowed = allowed
        return allowed

    def index_rows(self, rows: sp.csr_matrix) -> sp.csr_matrix:
        """The candidate-generation form of some rows: the strongest features only, re-normalised."""
        limit = self.config.index_features
        allowed = self._index_columns()
        rows = rows.tocsr()
        if not allowed.all():
            rows = rows.copy()
            rows.data[~allowed[rows.indices]] = 0.0
            rows.eliminate_zeros()
        if limit:
            rows = _strongest(rows, limit)
        pruned = l2_normalize(rows)
        pruned.sort_indices()
        return pruned

    def fit_transform(
        self, docs: Sequence[Doc], *, n_jobs: int = 1, needs: np.ndarray | None = None
    ) -> sp.csr_matrix:
        """Fit the vocabulary and IDF on `docs` (results and needs together) and return their rows.

        `needs` marks which docs are needs (for ``TextConfig.idf_from == "needs"``); `n_jobs` > 1
        (or -1) counts large corpora in worker processes.
        """
        docs = list(docs)
        self.n_docs = len(docs)
        self._allowed = None
        self.forms = written_forms(
            text for title, keywords, body in docs for text in (title, *keywords, body)
        )
        _keyword_terms.cache_clear()
        (word_counts, word_vocab), (char_counts, char_vocab) = count_docs(self.config, docs, n_jobs)
        idf_rows = needs if self.config.idf_from == "needs" and needs is not None and needs.any() else None
        words = self.words.fit_counts(word_counts, word_vocab, idf_rows)
        return self._combine(words, self.chars.fit_counts(char_counts, char_vocab, idf_rows))

    def transform(self, docs: Sequence[Doc]) -> sp.csr_matrix:
        """Rows for new documents with the fitted vocabulary (no refit)."""
        docs = list(docs)
        return self._combine(self.words.transform(docs), self.chars.transform(docs))

    def key_terms(self, a: sp.csr_matrix, b: sp.csr_matrix, limit: int = 5) -> list[str]:
        """Words shared by two single-row matrices, strongest first (by product of their weights),
        filler left out and acronyms as the listings write them."""
        return self.shared_words(a.indices, a.data, b.indices, b.data, limit)

    def shared_words(
        self, a_idx: np.ndarray, a_val: np.ndarray, b_idx: np.ndarray, b_val: np.ndarray, limit: int = 5
    ) -> list[str]:
        """`key_terms` on the (sorted) column indices and values of two rows."""
        width = self.word_width
        a_end = int(np.searchsorted(a_idx, width))
        b_end = int(np.searchsorted(b_idx, width))
        common, ia, ib = np.intersect1d(a_idx[:a_end], b_idx[:b_end], assume_unique=True, return_indices=True)
        if common.size == 0:
            return []
        weight = a_val[ia] * b_val[ib]
        order = np.argsort(-weight, kind="stable")
        terms: list[str] = []
        for i in order:
            term = str(self.words.vocabulary[common[i]])
            if term in DISPLAY_STOPWORDS:
                continue
            # A keyword kept whole contains shorter shared words (高盐废水 ⊃ 高盐, 废水): show the longest
            # once, in the place of the strongest.
            inside = [j for j, t in enumerate(terms) if t in term]
            if inside:
                terms[inside[0]] = term
                terms = [t for j, t in enumerate(terms) if j not in inside[1:]]
                continue
            if any(term in t for t in terms):
                continue
            terms.append(term)
            if len(terms) >= limit:
                break
        forms = getattr(self, "forms", {})  # a model pickled before forms were kept has none
        return [display_term(t, forms) for t in terms]

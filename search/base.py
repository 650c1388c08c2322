"""The search interface (检索接口): query and result types, documents, errors and the engine contract.

Plain data only: `market` builds documents from its models and `SearchQuery` objects from request
arguments, and reads `SearchResults` back. Two engines implement `SearchEngine`: SQLite FTS5
(`search.fts`, embedded default) and Meilisearch (`search.meili`).
"""

from __future__ import annotations

import dataclasses
import html
import math
import re
from abc import ABC, abstractmethod
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from vocab.taxonomy import field_parent

Kind = Literal["all", "result", "need"]
Sort = Literal["relevance", "newest", "price_asc", "price_desc"]

KINDS: tuple[str, ...] = ("all", "result", "need")
DOC_KINDS: tuple[str, ...] = ("result", "need")
SORTS: tuple[str, ...] = ("relevance", "newest", "price_asc", "price_desc")
#: keys of `SearchQuery.filters`; within a key values are OR-ed, keys are AND-ed
FILTER_KEYS: tuple[str, ...] = ("field", "field_top", "maturity", "modes", "region")
#: facets an engine can count, over the filtered result set
FACETS: tuple[str, ...] = ("field_top", "field", "maturity", "modes", "region", "is_challenge", "kind")
MAX_PER_PAGE = 100
#: deepest result an engine serves (Meilisearch's maxTotalHits is set to the same number)
MAX_WINDOW = 10_000
MAX_TEXT = 500
MAX_FILTER_VALUES = 50

#: every key a search document may carry; anything else (contact details above all) is dropped
DOC_KEYS: tuple[str, ...] = (
    "id", "kind", "db_id", "external_id", "title", "body", "keywords", "org_name", "field", "field_top",
    "maturity", "modes", "region", "is_challenge", "price_low", "price_high", "published_at", "stale",
)  # fmt: skip


class SearchError(Exception):
    """Base class of everything the search package raises on purpose."""


class QueryError(SearchError):
    """A query the engine refuses; `reason` is safe to show to the user (the API answers 400)."""

    def __init__(self, reason: str, field: str | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.field = field


class DocumentError(SearchError, ValueError):
    """A malformed search document (a programming error on the caller's side)."""


class EngineUnavailable(SearchError):
    """The engine could not be reached or refused a write; the relay retries later."""


#: listing ids are 32-bit database keys; the FTS5 engine relies on it (rowids fit in 32 bits)
MAX_DB_ID = 2**31 - 1
#: `SearchQuery.filter_key()` of a query that filters nothing
NO_FILTERS: tuple = ("all", (), None, None, None)


@dataclass(frozen=True)
class SearchQuery:
    """One search request (检索条件). Construction validates and raises `QueryError`."""

    text: str = ""
    kind: Kind = "all"
    filters: Mapping[str, list[str]] = dataclasses.field(default_factory=dict)
    challenge: bool | None = None
    price_min: float | None = None
    price_max: float | None = None
    sort: Sort = "relevance"
    page: int = 1
    per_page: int = 20
    facets: tuple[str, ...] = FACETS

    def __post_init__(self) -> None:
        if not isinstance(self.text, str):
            raise QueryError("检索词必须是文本", "text")
        # Long pastes are cut rather than refused: the first words carry the intent.
        object.__setattr__(self, "text", self.text[:MAX_TEXT])
        if self.kind not in KINDS:
            raise QueryError(f"未知的类型：{self.kind}", "kind")
        if self.sort not in SORTS:
            raise QueryError(f"未知的排序方式：{self.sort}", "sort")
        _check_int(self.page, "page", 1, None)
        _check_int(self.per_page, "per_page", 1, MAX_PER_PAGE)
        if (self.page - 1) * self.per_page >= MAX_WINDOW:
            raise QueryError(f"最多可翻阅前 {MAX_WINDOW} 条结果", "page")
        if self.challenge not in (None, True, False):
            raise QueryError("揭榜挂帅筛选只能是是或否", "challenge")
        for name in ("price_min", "price_max"):
            value = getattr(self, name)
            if value is None:
                continue
            if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
                raise QueryError("价格必须是数字", name)
            if value < 0:
                raise QueryError("价格不能为负数", name)
            object.__setattr__(self, name, float(value))
        if self.price_min is not None and self.price_max is not None and self.price_min > self.price_max:
            raise QueryError("最低价格不能高于最高价格", "price_min")
        object.__setattr__(self, "filters", _clean_filters(self.filters))
        facets = tuple(dict.fromkeys(self.facets))
        unknown = [f for f in facets if f not in FACETS]
        if unknown:
            raise QueryError(f"未知的分面：{unknown[0]}", "facets")
        object.__setattr__(self, "facets", facets)

    def filter_key(self) -> tuple:
        """Everything that decides which documents pass the filters, hashable (`filters` holds
        lists); `NO_FILTERS` when nothing is filtered."""
        filters = tuple(sorted((k, tuple(v)) for k, v in self.filters.items()))
        return (self.kind, filters, self.challenge, self.price_min, self.price_max)

    def cache_key(self) -> tuple:
        """Everything that decides the answer, hashable."""
        return (self.text, *self.filter_key(), self.sort, self.page, self.per_page, self.facets)

    @classmethod
    def from_params(cls, params: Mapping[str, Any]) -> SearchQuery:
        """Build a query from request arguments (values are strings or lists of strings).

        Accepts `q`, `kind`, `sort`, `page`, `per_page`, `challenge` (1/0/true/false), `price_min`,
        `price_max`, `facets` (comma separated) and one key per filter (`field`, `field_top`,
        `maturity`, `modes`, `region`; repeated or comma separated). Raises `QueryError`.
        """

        def one(name: str) -> str | None:
            value = params.get(name)
            if isinstance(value, list | tuple):
                value = value[0] if value else None
            if value is None:
                return None
            value = str(value).strip()
            return value or None

        def many(name: str) -> list[str]:
            value = params.get(name)
            items = value if isinstance(value, list | tuple) else [value] if value is not None else []
            out: list[str] = []
            for item in items:
                out.extend(p.strip() for p in str(item).split(",") if p.strip())
            return out

        def number(name: str, cast: type) -> Any:
            raw = one(name)
            if raw is None:
                return None
            try:
                value = float(raw)
            except ValueError:
                raise QueryError(f"{name} 必须是数字", name) from None
            if cast is int:
                # "10", "10.0" and "1e1" are the same whole number (JSON Schema's integer)
                if not math.isfinite(value) or not value.is_integer():
                    raise QueryError(f"{name} 必须是整数", name)
                return int(value)
            return value

        challenge_raw = one("challenge")
        challenge: bool | None = None
        if challenge_raw is not None:
            lowered = challenge_raw.lower()
            if lowered in ("1", "true", "yes", "on"):
                challenge = True
            elif lowered in ("0", "false", "no", "off"):
                challenge = False
            else:
                raise QueryError("揭榜挂帅筛选只能是是或否", "challenge")
        facets_raw = params.get("facets")
        return cls(
            text=one("q") or "",
            kind=one("kind") or "all",  # type: ignore[arg-type]
            filters={key: many(key) for key in FILTER_KEYS if many(key)},
            challenge=challenge,
            price_min=number("price_min", float),
            price_max=number("price_max", float),
            sort=one("sort") or "relevance",  # type: ignore[arg-type]
            page=number("page", int) or 1,
            per_page=number("per_page", int) or 20,
            facets=FACETS if facets_raw is None else tuple(many("facets")),
        )


def _check_int(value: Any, name: str, low: int, high: int | None) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        raise QueryError(f"{name} 必须是整数", name)
    if value < low or (high is not None and value > high):
        bound = f"{low}–{high}" if high is not None else f"≥{low}"
        raise QueryError(f"{name} 超出范围（{bound}）", name)


def _clean_filters(filters: Mapping[str, Any]) -> dict[str, list[str]]:
    if not isinstance(filters, Mapping):
        raise QueryError("筛选条件格式错误", "filters")
    out: dict[str, list[str]] = {}
    for key, values in filters.items():
        if key not in FILTER_KEYS:
            raise QueryError(f"不能按 {key} 筛选", "filters")
        if isinstance(values, str):
            values = [values]
        if not isinstance(values, list | tuple) or not all(isinstance(v, str) for v in values):
            raise QueryError(f"{key} 筛选值必须是文本列表", key)
        cleaned = list(dict.fromkeys(v.strip() for v in values if v.strip()))
        if len(cleaned) > MAX_FILTER_VALUES or any(len(v) > 100 for v in cleaned):
            raise QueryError(f"{key} 筛选值过多或过长", key)
        if cleaned:
            out[key] = cleaned
    return out


@dataclass(frozen=True)
class Hit:
    """One search hit. `title` and `snippet` are HTML-safe markup: text escaped, matches in <mark>."""

    id: str
    kind: str
    db_id: int
    external_id: str | None
    title: str
    snippet: str
    field: str | None
    #: relevance as the engine sees it (FTS5: location tier 0–15; Meilisearch: 0–1); only
    #: comparable within one result list
    score: float
    #: the other stored document attributes (org_name, field_top, maturity, modes, region,
    #: is_challenge, price_low, price_high, published_at, stale, keywords), as plain values
    fields: dict[str, Any] = dataclasses.field(default_factory=dict)

    @property
    def title_text(self) -> str:
        """The title as plain text (marks removed, entities decoded)."""
        return html.unescape(_MARK_TAG.sub("", self.title))


_MARK_TAG = re.compile(r"</?mark>")


@dataclass(frozen=True)
class SearchResults:
    """A page of hits, the total and the facet counts (分面统计) over the filtered result set."""

    total: int
    hits: list[Hit]
    facets: dict[str, dict[str, int]]
    page: int
    per_page: int
    engine: str

    @property
    def pages(self) -> int:
        """Number of pages reachable (bounded by `MAX_WINDOW`)."""
        return max(1, math.ceil(min(self.total, MAX_WINDOW) / self.per_page))


def document_id(kind: str, db_id: int) -> str:
    """The search-document id of a listing: "result-12" / "need-7"."""
    if kind not in DOC_KINDS:
        raise DocumentError(f"unknown document kind {kind!r}")
    return f"{kind}-{int(db_id)}"


def make_document(
    *,
    kind: str,
    db_id: int,
    title: str,
    body: str = "",
    external_id: str | None = None,
    keywords: Iterable[str] = (),
    org_name: str = "",
    field: str | None = None,
    field_top: str | None = None,
    maturity: str | None = None,
    modes: Iterable[str] = (),
    region: str | None = None,
    is_challenge: bool = False,
    price_low: float | None = None,
    price_high: float | None = None,
    published_at: int = 0,
    stale: bool = False,
) -> dict[str, Any]:
    """Build a clean search document from a listing's public attributes (first level derived)."""
    return clean_document(
        {
            "id": document_id(kind, db_id),
            "kind": kind,
            "db_id": db_id,
            "external_id": external_id,
            "title": title,
            "body": body,
            "keywords": list(keywords),
            "org_name": org_name,
            "field": field,
            "field_top": field_top or field_parent(field),
            "maturity": maturity,
            "modes": list(modes),
            "region": region,
            "is_challenge": is_challenge,
            "price_low": price_low,
            "price_high": price_high,
            "published_at": published_at,
            "stale": stale,
        }
    )


def clean_document(doc: Mapping[str, Any]) -> dict[str, Any]:
    """Validate a document and return it with exactly `DOC_KEYS`.

    Unknown keys are dropped, so contact details (keys starting with "contact") or any other private
    attribute never reach an index. Prices: a single bound stands for both ends when only the low one
    is given, and for "up to" (low 0) when only the high one is; reversed bounds are swapped.
    """
    if not isinstance(doc, Mapping):
        raise DocumentError("a search document must be a mapping")
    kind = doc.get("kind")
    if kind not in DOC_KINDS:
        raise DocumentError(f"document kind must be one of {DOC_KINDS}, got {kind!r}")
    db_id = doc.get("db_id")
    if isinstance(db_id, bool) or not isinstance(db_id, int):
        raise DocumentError("db_id must be an integer")
    if not 0 < db_id <= MAX_DB_ID:
        raise DocumentError(f"db_id must be between 1 and {MAX_DB_ID} (a database integer key)")
    doc_id = doc.get("id") or document_id(kind, db_id)
    if doc_id != document_id(kind, db_id):
        raise DocumentError(f"id {doc_id!r} does not match kind and db_id")
    title = doc.get("title")
    if not isinstance(title, str) or not title.strip():
        raise DocumentError(f"{doc_id}: title is required")

    def text(name: str) -> str:
        value = doc.get(name)
        if value is None:
            return ""
        if not isinstance(value, str):
            raise DocumentError(f"{doc_id}: {name} must be text")
        return value

    def optional(name: str) -> str | None:
        return text(name) or None

    def strings(name: str) -> list[str]:
        value = doc.get(name) or []
        if isinstance(value, str) or not all(isinstance(v, str) for v in value):
            raise DocumentError(f"{doc_id}: {name} must be a list of text")
        return list(dict.fromkeys(v.strip() for v in value if v.strip()))

    def price(name: str) -> float | None:
        value = doc.get(name)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
            raise DocumentError(f"{doc_id}: {name} must be a number")
        return float(value)

    low, high = price("price_low"), price("price_high")
    if low is None and high is not None:
        low = 0.0
    elif high is None and low is not None:
        high = low
    if low is not None and high is not None and low > high:
        low, high = high, low
    published = doc.get("published_at") or 0
    if isinstance(published, bool) or not isinstance(published, int | float):
        raise DocumentError(f"{doc_id}: published_at must be epoch seconds")
    field_value = optional("field")
    return {
        "id": doc_id,
        "kind": kind,
        "db_id": db_id,
        "external_id": optional("external_id"),
        "title": title.strip(),
        "body": text("body"),
        "keywords": strings("keywords"),
        "org_name": text("org_name"),
        "field": field_value,
        "field_top": optional("field_top") or field_parent(field_value),
        "maturity": optional("maturity"),
        "modes": strings("modes"),
        "region": optional("region"),
        "is_challenge": bool(doc.get("is_challenge")),
        "price_low": low,
        "price_high": high,
        "published_at": int(published),
        # past its valid-until day (待更新): ranked after current listings by both engines
        "stale": bool(doc.get("stale")),
    }


class SearchEngine(ABC):
    """The contract both engines keep (one contract test suite runs against each).

    Writes return the engine's task uid when the engine applies them asynchronously (Meilisearch) and
    None when they are already applied (FTS5); the relay passes a uid to `task_status`.
    Reads never raise anything but `QueryError` for bad input and `EngineUnavailable` when down.
    """

    name: str = "engine"

    @abstractmethod
    def apply_settings(self) -> int | None:
        """Create the index if needed and apply the settings kept in code."""

    @abstractmethod
    def upsert(self, docs: Iterable[Mapping[str, Any]]) -> int | None:
        """Insert or replace documents by id."""

    @abstractmethod
    def delete(self, ids: Iterable[str]) -> int | None:
        """Delete documents by id (missing ids are ignored)."""

    @abstractmethod
    def query(self, q: SearchQuery) -> SearchResults:
        """Run a query: text, filters, facets, sort, pagination and highlights."""

    @abstractmethod
    def count(self) -> dict[str, int]:
        """Document counts: {"total": n, "result": r, "need": d}."""

    @abstractmethod
    def health(self) -> dict[str, Any]:
        """{"status": "ok" | "down", "engine": name, ...}; never raises."""

    @abstractmethod
    def rebuild(self, docs: Iterable[Mapping[str, Any]], *, workers: int = 1) -> dict[str, Any]:
        """Build a fresh index from `docs` and swap it in; the old index keeps serving meanwhile.

        `workers` > 1 lets an engine that analyses text itself (FTS5) use forked processes: for a
        CLI command, never inside a web worker. Returns a report with at least "indexed".
        """

    @abstractmethod
    def clear(self) -> int | None:
        """Delete every document (settings stay)."""

    def task_status(self, uid: int | None) -> str:
        """Status of a write: "succeeded", "failed", "enqueued", "processing" or "canceled"."""
        return "succeeded"

    def wait(self, uid: int | None, timeout_s: float = 60.0) -> str:
        """Block until a write is applied (engines that apply writes synchronously return at once)."""
        return "succeeded"

    def close(self) -> None:  # noqa: B027 - optional hook, engines without resources keep the default
        """Release connections."""

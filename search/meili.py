"""Meilisearch engine (production): a thin adapter over the official client.

Settings live in code (`index_settings()`) and are enqueued before any document, so Meilisearch
applies them first (an index processes its tasks in order). Writes return the task uid and never
wait; only `rebuild` (a CLI command) and tests wait for tasks.

Highlights: Meilisearch does not escape the text it returns, so the engine asks for private-use
sentinel characters around matches, escapes everything and only then turns sentinels into <mark>.
"""

from __future__ import annotations

import logging
import time
import warnings
from collections.abc import Iterable, Mapping
from typing import Any

import meilisearch
from meilisearch.errors import MeilisearchApiError, MeilisearchCommunicationError, MeilisearchError

from search.base import (
    DOC_KEYS,
    FILTER_KEYS,
    MAX_WINDOW,
    EngineUnavailable,
    Hit,
    QueryError,
    SearchEngine,
    SearchQuery,
    SearchResults,
    clean_document,
)
from search.text import grams, pinyin_terms, render_marked, synonym_groups
from vocab.analyzer import to_simplified

log = logging.getLogger(__name__)

PRE, POST = "\ue000", "\ue001"
#: text attributes, most important first (Meilisearch's `attribute` rule ranks by this order);
#: `grams` (character bigrams) gives substring recall for two-character queries like 电池 in 锂电池
SEARCHABLE: tuple[str, ...] = ("title", "keywords", "field", "field_top", "body", "org_name", "grams")
FILTERABLE: tuple[str, ...] = (
    "kind", *FILTER_KEYS, "is_challenge", "price_low", "price_high", "published_at",
)  # fmt: skip
SORTABLE: tuple[str, ...] = ("published_at", "price_low", "stale")
CROP_WORDS = 40
_SORTS = {
    # lapsed listings (stale = 1) after current ones, as on FTS5
    "newest": ["stale:asc", "published_at:desc"],
    "price_asc": ["price_low:asc"],
    "price_desc": ["price_low:desc"],
}
_TEXT_KEYS = ("title", "body", "org_name")


def index_settings() -> dict[str, Any]:
    """The index settings, kept in code and applied by `apply_settings` (Meilisearch ≥ 1.10)."""
    synonyms: dict[str, list[str]] = {}
    for group in synonym_groups().values():
        if len(group) < 2:
            continue
        # Both directions: every spelling finds every other (AI ↔ 人工智能, 锂电 ↔ 锂离子电池).
        for word in group:
            synonyms[word] = [other for other in group if other != word]
    return {
        "searchableAttributes": list(SEARCHABLE),
        "displayedAttributes": list(DOC_KEYS),
        "filterableAttributes": list(FILTERABLE),
        "sortableAttributes": list(SORTABLE),
        # `sort` first: a user who sorts by price gets strict price order, as on FTS5; without a
        # sort parameter the rule does nothing and relevance decides.
        # The custom rule `stale:asc` (a numeric attribute, 0 or 1) puts lapsed listings (待更新) after
        # current ones of the same relevance, the tie-breaker FTS5 applies after its text score.
        "rankingRules": ["sort", "words", "typo", "proximity", "attribute", "exactness", "stale:asc"],
        "synonyms": synonyms,
        "localizedAttributes": [{"attributePatterns": list(SEARCHABLE), "locales": ["zho"]}],
        # Chinese words are two to four characters: a "typo" there is another word, so typos
        # are only allowed on words of five characters or more (Latin words), never on grams.
        "typoTolerance": {
            "enabled": True,
            "minWordSizeForTypos": {"oneTypo": 5, "twoTypos": 9},
            "disableOnAttributes": ["grams", "keywords"],
        },
        "faceting": {"maxValuesPerFacet": 100, "sortFacetValuesBy": {"*": "count"}},
        "pagination": {"maxTotalHits": MAX_WINDOW},
    }


def meili_document(doc: Mapping[str, Any]) -> dict[str, Any]:
    """A clean document as sent to Meilisearch: no empty prices (missing sorts last), plus grams."""
    out = clean_document(doc)
    for key in _TEXT_KEYS:
        out[key] = out[key].replace(PRE, "").replace(POST, "")
    for key in ("price_low", "price_high"):
        if out[key] is None:
            del out[key]
    out["stale"] = int(out["stale"])  # custom ranking rules order numbers
    out["grams"] = grams("\n".join([out["title"], *out["keywords"], out["org_name"], out["body"]]))
    return out


def quote(value: str) -> str:
    """A filter string literal: double quotes, with backslash and quote escaped."""
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(float(value))


def filter_expression(q: SearchQuery) -> str | None:
    """The Meilisearch filter string for a query's filters (values always quoted)."""
    parts: list[str] = []
    if q.kind != "all":
        parts.append(f"kind = {quote(q.kind)}")
    for key in FILTER_KEYS:
        values = q.filters.get(key)
        if values:
            parts.append(f"{key} IN [{', '.join(quote(v) for v in values)}]")
    if q.challenge is not None:
        parts.append(f"is_challenge = {'true' if q.challenge else 'false'}")
    if q.price_min is not None:
        parts.append(f"price_high >= {_number(q.price_min)}")
    if q.price_max is not None:
        parts.append(f"price_low <= {_number(q.price_max)}")
    return " AND ".join(parts) or None


def search_params(q: SearchQuery, *, matching: str = "all") -> dict[str, Any]:
    """The search request body (without `q`) for a query."""
    params: dict[str, Any] = {
        "page": q.page,
        "hitsPerPage": q.per_page,
        "facets": list(q.facets),
        "attributesToRetrieve": list(DOC_KEYS),
        "attributesToHighlight": ["title"],
        "attributesToCrop": ["body"],
        "cropLength": CROP_WORDS,
        "cropMarker": "…",
        "highlightPreTag": PRE,
        "highlightPostTag": POST,
        "showRankingScore": True,
        "matchingStrategy": matching,
    }
    filters = filter_expression(q)
    if filters:
        params["filter"] = filters
    if q.sort in _SORTS:
        params["sort"] = _SORTS[q.sort]
    elif not q.text.strip():
        # No words to rank by: newest first, as on FTS5.
        params["sort"] = _SORTS["newest"]
    return params


class MeiliEngine(SearchEngine):
    """Meilisearch engine over one index (default "listings")."""

    name = "meilisearch"

    def __init__(
        self,
        url: str,
        *,
        api_key: str | None = None,
        index: str = "listings",
        timeout: int = 5,
        client: meilisearch.Client | None = None,
    ) -> None:
        self.url = url
        self.index_uid = index
        self._api_key = api_key
        self.client = client or meilisearch.Client(url, api_key, timeout=timeout)

    @property
    def index(self) -> meilisearch.index.Index:
        """The live index handle (no request)."""
        return self.client.index(self.index_uid)

    def _call(self, fn: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except MeilisearchApiError as exc:
            code = exc.code or ""
            if exc.status_code == 400 and code.startswith("invalid_search"):
                raise QueryError("检索条件无效") from exc
            raise EngineUnavailable(f"meilisearch: {exc.message}") from exc
        except (MeilisearchCommunicationError, MeilisearchError) as exc:
            raise EngineUnavailable(f"meilisearch unreachable: {exc}") from exc

    # -- writes (each returns a task uid) ------------------------------------------------------

    def _ensure_index(self, uid: str) -> int | None:
        """Enqueue the creation of index `uid` when it does not exist; returns that task uid."""
        try:
            self.client.get_raw_index(uid)
            return None
        except MeilisearchApiError as exc:
            if exc.code != "index_not_found":
                raise EngineUnavailable(f"meilisearch: {exc.message}") from exc
        except MeilisearchError as exc:
            raise EngineUnavailable(f"meilisearch unreachable: {exc}") from exc
        return self._call(self.client.create_index, uid, {"primaryKey": "id"}).task_uid

    def apply_settings(self, index_uid: str | None = None) -> int:
        """Create the index if missing and enqueue the settings; returns the settings task uid.

        An index runs its tasks in order, so documents sent afterwards are indexed with these settings.
        """
        uid = index_uid or self.index_uid
        self._ensure_index(uid)
        task = self._call(self.client.index(uid).update_settings, index_settings())
        return task.task_uid

    def upsert(self, docs: Iterable[Mapping[str, Any]], index_uid: str | None = None) -> int | None:
        """Add or replace documents; returns the task uid (None when there was nothing to send)."""
        payload = [meili_document(d) for d in docs]
        if not payload:
            return None
        index = self.client.index(index_uid or self.index_uid)
        return self._call(index.add_documents, payload, primary_key="id").task_uid

    def delete(self, ids: Iterable[str]) -> int | None:
        """Delete documents by id; returns the task uid."""
        id_list = [str(i) for i in ids]
        if not id_list:
            return None
        with warnings.catch_warnings():
            # The client marks delete-by-ids as deprecated in favour of filters; the route exists.
            warnings.simplefilter("ignore", DeprecationWarning)
            return self._call(self.index.delete_documents, id_list).task_uid

    def clear(self) -> int:
        """Delete every document; returns the task uid."""
        return self._call(self.index.delete_all_documents).task_uid

    def task_status(self, uid: int | None) -> str:
        """Status of a task ("enqueued", "processing", "succeeded", "failed", "canceled")."""
        if uid is None:
            return "succeeded"
        return self._call(self.client.get_task, uid).status

    def wait(self, uid: int | None, timeout_s: float = 60.0) -> str:
        """Block until a task finishes (CLI and tests only; never in a web request)."""
        if uid is None:
            return "succeeded"
        task = self._call(
            self.client.wait_for_task, uid, timeout_in_ms=int(timeout_s * 1000), interval_in_ms=50
        )
        if task.status == "failed":
            raise EngineUnavailable(f"meilisearch task {uid} failed: {task.error}")
        return task.status

    def rebuild(
        self,
        docs: Iterable[Mapping[str, Any]],
        *,
        workers: int = 1,
        batch_size: int = 1000,
        timeout_s: float = 600.0,
    ) -> dict[str, Any]:
        """Fill a new index, wait for it, swap it with the live one and delete the old one.

        `workers` is accepted for the common interface and ignored: the server analyses the text.
        """
        started = time.perf_counter()
        prefix = f"{self.index_uid}_rebuild_"
        # Leftovers of an interrupted rebuild only take space.
        listed = self._call(self.client.get_raw_indexes, {"limit": 1000})
        for raw in listed.get("results", []) if isinstance(listed, dict) else listed:
            if str(raw.get("uid", "")).startswith(prefix):
                self._call(self.client.delete_index, raw["uid"])
        tmp = f"{prefix}{int(time.time() * 1000)}"
        self.wait(self.apply_settings(tmp), timeout_s)
        count, last = 0, None
        batch: list[Mapping[str, Any]] = []
        for doc in docs:
            batch.append(doc)
            if len(batch) >= batch_size:
                last = self.upsert(batch, tmp)
                count += len(batch)
                batch = []
        if batch:
            last = self.upsert(batch, tmp)
            count += len(batch)
        # Tasks of one index run in order: the last one finishing means all did.
        self.wait(last, timeout_s)
        # The live index must exist for a swap; a first rebuild creates it empty.
        self.wait(self._ensure_index(self.index_uid), timeout_s)
        swap = self._call(self.client.swap_indexes, [{"indexes": [self.index_uid, tmp]}])
        self.wait(swap.task_uid, timeout_s)
        self._call(self.client.delete_index, tmp)  # now holds the old documents
        return {"indexed": count, "seconds": round(time.perf_counter() - started, 3), "engine": self.name}

    # -- reads -------------------------------------------------------------------------------

    def query(self, q: SearchQuery) -> SearchResults:
        """Search with filters, facets, sort, page/hitsPerPage pagination and escaped highlights."""
        # Folded as the `grams` attribute is (電池 → 电池), so both find the same bigrams.
        text = to_simplified(q.text.strip())
        raw = self._call(self.index.search, text, search_params(q))
        if raw.get("totalHits", 0) == 0 and text:
            readings = pinyin_terms(text)
            if readings:
                # Typed in pinyin and found nothing as typed: search what it reads as (the most
                # common word of each reading). FTS5 also appends such hits below exact ones.
                raw = self._call(
                    self.index.search, " ".join(t.surfaces[0] for t in readings), search_params(q)
                )
        if raw.get("totalHits", 0) == 0 and text:
            # As on FTS5: every word first; when that finds nothing, let Meilisearch drop words.
            raw = self._call(self.index.search, text, search_params(q, matching="last"))
        hits = [self._hit(h) for h in raw.get("hits", [])]
        facets = {
            name: dict(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))
            for name, counts in (raw.get("facetDistribution") or {}).items()
            if name in q.facets
        }
        for name in q.facets:
            facets.setdefault(name, {})
        return SearchResults(
            total=int(raw.get("totalHits", 0)),
            hits=hits,
            facets=facets,
            page=q.page,
            per_page=q.per_page,
            engine=self.name,
        )

    @staticmethod
    def _hit(raw: dict[str, Any]) -> Hit:
        formatted = raw.get("_formatted") or raw
        body = str(formatted.get("body") or "")
        extra = {
            "org_name": raw.get("org_name", ""),
            "field_top": raw.get("field_top"),
            "maturity": raw.get("maturity"),
            "modes": raw.get("modes", []),
            "region": raw.get("region"),
            "is_challenge": bool(raw.get("is_challenge")),
            "price_low": raw.get("price_low"),
            "price_high": raw.get("price_high"),
            "published_at": raw.get("published_at", 0),
            "stale": bool(raw.get("stale")),
            "keywords": raw.get("keywords", []),
        }
        return Hit(
            id=raw["id"],
            kind=raw["kind"],
            db_id=int(raw["db_id"]),
            external_id=raw.get("external_id"),
            title=render_marked(str(formatted.get("title") or raw.get("title", "")), PRE, POST),
            snippet=render_marked(body, PRE, POST),
            field=raw.get("field"),
            score=float(raw.get("_rankingScore", 0.0)),
            fields=extra,
        )

    def count(self) -> dict[str, int]:
        """Document counts by kind (one placeholder search with the kind facet)."""
        raw = self._call(self.index.search, "", {"facets": ["kind"], "limit": 0})
        kinds = (raw.get("facetDistribution") or {}).get("kind", {})
        out = {"result": int(kinds.get("result", 0)), "need": int(kinds.get("need", 0))}
        out["total"] = out["result"] + out["need"]
        return out

    def health(self) -> dict[str, Any]:
        """Server and index status; never raises."""
        try:
            status = self.client.health().get("status")
            counts = self.count()
        except Exception as exc:  # health reports, it does not fail
            return {"status": "down", "engine": self.name, "url": self.url, "error": str(exc)}
        return {
            "status": "ok" if status == "available" else "down",
            "engine": self.name,
            "url": self.url,
            "index": self.index_uid,
            "documents": counts["total"],
        }

    def search_only_key(self) -> str:
        """A search-only API key for this index (created once), safe to hand to browsers."""
        keys = self._call(self.client.get_keys, {"limit": 1000})
        for key in keys.results:
            if (
                key.actions == ["search"]
                and key.indexes == [self.index_uid]
                and key.expires_at is None
                and key.key != self._api_key
            ):
                return key.key
        created = self._call(
            self.client.create_key,
            {
                "description": f"search-only key for {self.index_uid} (browsers)",
                "actions": ["search"],
                "indexes": [self.index_uid],
                "expiresAt": None,
            },
        )
        if created.key == self._api_key:  # pragma: no cover - Meilisearch never returns the master key
            raise EngineUnavailable("refusing to hand out the master key")
        return created.key

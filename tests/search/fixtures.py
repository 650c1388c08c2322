"""About sixty small, realistic listings for the search contract suite (plain dicts, no database),
kept one per line in data/listings.jsonl.

Chosen so that the tests can check by hand: 电池 appears whole, inside 锂电池 / 蓄电池 / 燃料电池, in
titles and only in bodies; AI and 人工智能, 锂电 and 锂离子电池 are both spelt; prices are given, absent
or ranges; one title carries markup that must come back escaped.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

from search.base import make_document

DATA = Path(__file__).with_name("data") / "listings.jsonl"
T0 = 1_700_000_000  # publication times: T0 + i hours, so "newest" has no ties


@cache
def _rows() -> tuple[dict[str, Any], ...]:
    with DATA.open(encoding="utf-8") as fh:
        return tuple(json.loads(line) for line in fh if line.strip())


def fixture_docs() -> list[dict[str, Any]]:
    """The fixture listings as clean search documents (fresh copies on each call)."""
    docs: list[dict[str, Any]] = []
    counters = {"result": 0, "need": 0}
    for i, row in enumerate(_rows()):
        kind = row["kind"]
        counters[kind] += 1
        docs.append(
            make_document(
                kind=kind,
                db_id=counters[kind],
                external_id=f"{'R' if kind == 'result' else 'N'}{2024000 + counters[kind]}",
                title=row["title"],
                body=row["body"],
                keywords=list(row["keywords"]),
                org_name=row["org"],
                field=row["field"],
                maturity=row["maturity"],
                modes=list(row["modes"]),
                region=row["region"],
                is_challenge=row["challenge"],
                price_low=row["price_low"],
                price_high=row["price_high"],
                published_at=T0 + i * 3600,
            )
        )
    return docs


def searchable_text(doc: dict[str, Any]) -> list[str]:
    """The texts of a document a query may match (the substring oracle scans these)."""
    return [
        doc["title"],
        doc["body"],
        *doc["keywords"],
        doc["org_name"],
        doc["field"] or "",
        doc["field_top"] or "",
    ]

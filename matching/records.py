"""Plain records the matcher works on, and lenient JSONL loaders for them.

The loaders accept the CLI's own format and the seed format (``external_id``, ``price_wan``,
``budget_min_wan`` / ``budget_max_wan``, extra body fields); a bad line becomes a `LoadIssue` with its
file and line number instead of an exception, so one broken line never stops a batch.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Generic, TypeVar

from vocab.taxonomy import MATURITY_ORDER
from vocab.values import is_negotiable, parse_wan, parse_wan_range, split_list


@dataclass(frozen=True)
class ResultRecord:
    """A research result (科技成果) as the matcher sees it. ``price`` in 万元; None means 面议."""

    id: str
    title: str
    summary: str = ""
    keywords: tuple[str, ...] = ()
    field: str | None = None
    maturity: str | None = None
    transfer_modes: tuple[str, ...] = ()
    price: float | None = None
    region: str | None = None
    problem: str = ""
    advantage: str = ""

    def __post_init__(self) -> None:
        # Callers may pass lists; tuples keep the record immutable and hashable.
        object.__setattr__(self, "keywords", tuple(self.keywords))
        object.__setattr__(self, "transfer_modes", tuple(self.transfer_modes))

    @property
    def body(self) -> str:
        """The descriptive text: summary, problem solved and advantage."""
        return "\n".join(t for t in (self.summary, self.problem, self.advantage) if t)


@dataclass(frozen=True)
class NeedRecord:
    """A technology need (技术需求). Budget in 万元; ``maturity`` is the lowest stage the need accepts."""

    id: str
    title: str
    description: str = ""
    keywords: tuple[str, ...] = ()
    field: str | None = None
    cooperation_modes: tuple[str, ...] = ()
    budget_min: float | None = None
    budget_max: float | None = None
    region: str | None = None
    is_challenge: bool = False
    requirements: str = ""
    target_metrics: str = ""
    maturity: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "keywords", tuple(self.keywords))
        object.__setattr__(self, "cooperation_modes", tuple(self.cooperation_modes))

    @property
    def body(self) -> str:
        """The descriptive text: problem statement, requirements and target metrics."""
        return "\n".join(t for t in (self.description, self.requirements, self.target_metrics) if t)


@dataclass(frozen=True)
class Pair:
    """A labelled (need, result) pair for evaluation; grade 0 (irrelevant) to 3 (ideal)."""

    need_id: str
    result_id: str
    grade: int


@dataclass(frozen=True)
class LoadIssue:
    """A problem with one input line. ``skipped`` lines were dropped; the others only lost a value."""

    source: str
    line: int
    message: str
    skipped: bool = True

    def __str__(self) -> str:
        kind = "skipped" if self.skipped else "warning"
        return f"{self.source}:{self.line}: {kind}: {self.message}"


T = TypeVar("T")


@dataclass
class Loaded(Generic[T]):
    """Records read from one input, plus what was wrong with it."""

    records: list[T] = field(default_factory=list)
    issues: list[LoadIssue] = field(default_factory=list)


class RecordError(ValueError):
    """A value that makes a record unusable."""


#: an amount left empty or written as null in exported JSON (面议 and its synonyms: vocab.values)
_NO_AMOUNT = frozenset({"", "none", "null"})


def _text(obj: Mapping[str, Any], *keys: str, required: bool = False) -> str:
    for key in keys:
        value = obj.get(key)
        if value is None:
            continue
        if not isinstance(value, str):
            raise RecordError(f"{key!r} must be a string, got {type(value).__name__}")
        return value
    if required:
        raise RecordError(f"missing {keys[0]!r}")
    return ""


def _identifier(obj: Mapping[str, Any]) -> str:
    for key in ("id", "external_id"):
        value = obj.get(key)
        if value is None:
            continue
        # Database exports often carry integer keys; accept them, but nothing else that is not a string.
        if isinstance(value, int) and not isinstance(value, bool):
            return str(value)
        if not isinstance(value, str):
            raise RecordError(f"{key!r} must be a string, got {type(value).__name__}")
        if not value.strip():
            raise RecordError(f"{key!r} is empty")
        return value.strip()
    raise RecordError("missing 'id' (or 'external_id')")


def _terms(obj: Mapping[str, Any], key: str) -> tuple[str, ...]:
    value = obj.get(key)
    if value is None:
        return ()
    if isinstance(value, str):
        parts = split_list(value)
    elif isinstance(value, list | tuple):
        if not all(isinstance(v, str) for v in value):
            raise RecordError(f"{key!r} must be a list of strings")
        parts = list(value)
    else:
        raise RecordError(f"{key!r} must be a list or a string, got {type(value).__name__}")
    seen: dict[str, None] = {}
    for part in parts:
        part = part.strip()
        if part:
            seen.setdefault(part, None)
    return tuple(seen)


def _amount(value: Any, key: str) -> float | None:
    """万元 amount from a number or a numeric string; None for missing / 面议."""
    if value is None:
        return None
    if isinstance(value, bool):
        raise RecordError(f"{key!r} must be a number, got bool")
    if isinstance(value, int | float):
        number = float(value)
    elif isinstance(value, str):
        if value.strip().lower() in _NO_AMOUNT or is_negotiable(value):
            return None
        parsed = parse_wan(value)
        if parsed is None:
            raise RecordError(f"{key!r} must be a number, got {value!r}")
        number = parsed
    else:
        raise RecordError(f"{key!r} must be a number, got {type(value).__name__}")
    if not math.isfinite(number) or number < 0:
        raise RecordError(f"{key!r} must be a non-negative number, got {value!r}")
    return number


def parse_budget(value: Any) -> tuple[float | None, float | None]:
    """(min, max) from a number (an upper bound), ``[min, max]``, or a string like ``"50-100"``."""
    if value is None:
        return None, None
    if isinstance(value, list | tuple):
        if len(value) != 2:
            raise RecordError("'budget' list must be [min, max]")
        low, high = _amount(value[0], "budget"), _amount(value[1], "budget")
    elif isinstance(value, str) and (bounds := parse_wan_range(value)) is not None:
        low, high = bounds
    else:
        low, high = None, _amount(value, "budget")
    if low is not None and high is not None and low > high:
        low, high = high, low
    return low, high


def _bool(obj: Mapping[str, Any], key: str) -> bool:
    value = obj.get(key, False)
    if value is None:
        return False
    if not isinstance(value, bool):
        raise RecordError(f"{key!r} must be true or false")
    return value


def _optional_text(obj: Mapping[str, Any], key: str) -> str | None:
    value = _text(obj, key).strip()
    return value or None


def _maturity(obj: Mapping[str, Any], warnings: list[str]) -> str | None:
    value = _optional_text(obj, "maturity")
    if value is not None and value not in MATURITY_ORDER:
        warnings.append(f"unknown maturity {value!r} ignored")
        return None
    return value


def _region(obj: Mapping[str, Any], orgs: Mapping[str, str] | None) -> str | None:
    region = _optional_text(obj, "region")
    if region is None and orgs:
        org = obj.get("organization")
        if isinstance(org, str):
            region = orgs.get(org.strip())
    return region


def parse_result(
    obj: Any, *, orgs: Mapping[str, str] | None = None, warnings: list[str] | None = None
) -> ResultRecord:
    """A `ResultRecord` from a decoded JSON object; raises `RecordError` when it is unusable."""
    if not isinstance(obj, dict):
        raise RecordError(f"expected a JSON object, got {type(obj).__name__}")
    warnings = warnings if warnings is not None else []
    title = _text(obj, "title", required=True).strip()
    if not title:
        raise RecordError("'title' is empty")
    price = _amount(obj.get("price", obj.get("price_wan")), "price")
    if _bool(obj, "price_negotiable"):
        price = None
    return ResultRecord(
        id=_identifier(obj),
        title=title,
        summary=_text(obj, "summary"),
        keywords=_terms(obj, "keywords"),
        field=_optional_text(obj, "field"),
        maturity=_maturity(obj, warnings),
        transfer_modes=_terms(obj, "transfer_modes"),
        price=price,
        region=_region(obj, orgs),
        problem=_text(obj, "problem"),
        advantage=_text(obj, "advantage"),
    )


def parse_need(
    obj: Any, *, orgs: Mapping[str, str] | None = None, warnings: list[str] | None = None
) -> NeedRecord:
    """A `NeedRecord` from a decoded JSON object; raises `RecordError` when it is unusable."""
    if not isinstance(obj, dict):
        raise RecordError(f"expected a JSON object, got {type(obj).__name__}")
    warnings = warnings if warnings is not None else []
    title = _text(obj, "title", required=True).strip()
    if not title:
        raise RecordError("'title' is empty")
    low, high = parse_budget(obj.get("budget"))
    if "budget_min_wan" in obj or "budget_min" in obj:
        low = _amount(obj.get("budget_min_wan", obj.get("budget_min")), "budget_min")
    if "budget_max_wan" in obj or "budget_max" in obj:
        high = _amount(obj.get("budget_max_wan", obj.get("budget_max")), "budget_max")
    if low is not None and high is not None and low > high:
        warnings.append("budget minimum above maximum; swapped")
        low, high = high, low
    return NeedRecord(
        id=_identifier(obj),
        title=title,
        description=_text(obj, "description"),
        keywords=_terms(obj, "keywords"),
        field=_optional_text(obj, "field"),
        cooperation_modes=_terms(obj, "cooperation_modes"),
        budget_min=low,
        budget_max=high,
        region=_region(obj, orgs),
        is_challenge=_bool(obj, "is_challenge"),
        requirements=_text(obj, "requirements"),
        target_metrics=_text(obj, "target_metrics"),
        maturity=_maturity(obj, warnings),
    )


def parse_pair(obj: Any) -> Pair:
    """A labelled `Pair` from a decoded JSON object."""
    if not isinstance(obj, dict):
        raise RecordError(f"expected a JSON object, got {type(obj).__name__}")
    ids = []
    for key in ("need_id", "result_id"):
        value = obj.get(key)
        if isinstance(value, int) and not isinstance(value, bool):
            value = str(value)
        if not isinstance(value, str) or not value.strip():
            raise RecordError(f"{key!r} must be a non-empty string")
        ids.append(value.strip())
    grade = obj.get("grade")
    if isinstance(grade, bool) or not isinstance(grade, int | float) or grade != int(grade):
        raise RecordError("'grade' must be an integer 0-3")
    if not 0 <= grade <= 3:
        raise RecordError(f"'grade' must be 0-3, got {grade}")
    return Pair(ids[0], ids[1], int(grade))


def _jsonl(lines: Iterable[str], source: str, parse: Any, unique: bool) -> Loaded[T]:
    out: Loaded[T] = Loaded()
    seen: set[str] = set()
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            out.issues.append(
                LoadIssue(
                    source,
                    number,
                    f"not valid JSON ({exc.msg if isinstance(exc, json.JSONDecodeError) else exc.reason})",
                )
            )
            continue
        warnings: list[str] = []
        try:
            record = parse(obj, warnings)
        except RecordError as exc:
            out.issues.append(LoadIssue(source, number, str(exc)))
            continue
        if unique:
            if record.id in seen:
                out.issues.append(LoadIssue(source, number, f"duplicate id {record.id!r}"))
                continue
            seen.add(record.id)
        out.issues.extend(LoadIssue(source, number, w, skipped=False) for w in warnings)
        out.records.append(record)
    return out


def load_results(
    lines: Iterable[str], *, source: str = "<results>", orgs: Mapping[str, str] | None = None
) -> Loaded[ResultRecord]:
    """Results from JSONL lines; bad lines are reported in ``issues`` and skipped."""
    return _jsonl(lines, source, lambda obj, w: parse_result(obj, orgs=orgs, warnings=w), unique=True)


def load_needs(
    lines: Iterable[str], *, source: str = "<needs>", orgs: Mapping[str, str] | None = None
) -> Loaded[NeedRecord]:
    """Needs from JSONL lines; bad lines are reported in ``issues`` and skipped."""
    return _jsonl(lines, source, lambda obj, w: parse_need(obj, orgs=orgs, warnings=w), unique=True)


def load_pairs(lines: Iterable[str], *, source: str = "<pairs>") -> Loaded[Pair]:
    """Labelled pairs from JSONL lines; bad lines are reported in ``issues`` and skipped."""
    return _jsonl(lines, source, lambda obj, w: parse_pair(obj), unique=False)


def load_org_regions(lines: Iterable[str]) -> dict[str, str]:
    """Organisation name -> region from organizations.jsonl lines (bad lines ignored)."""
    regions: dict[str, str] = {}
    for line in lines:
        try:
            obj = json.loads(line)
        except json.JSONDecodeError:
            continue
        if isinstance(obj, dict) and isinstance(obj.get("name"), str) and isinstance(obj.get("region"), str):
            regions[obj["name"].strip()] = obj["region"]
    return regions


def read_lines(path: str | Path) -> Iterator[str]:
    """Lines of a UTF-8 file; undecodable bytes are replaced so the JSON check reports the line."""
    with open(path, encoding="utf-8", errors="replace") as handle:
        yield from handle

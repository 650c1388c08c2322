"""The API's input contract: the JSON Schemas of request bodies and query parameters that the OpenAPI
document publishes, and the check that holds request bodies to them.

The document and the validation agree both ways:

- what the document declares valid is accepted: the patterns below say exactly what the listing
  schemas (`market.listings.schemas`) and the query parsers accept, so a schema-valid body or query
  passes them (only the cross-field rules a JSON Schema cannot state, such as a lower bound above the
  upper one, are refused on top, and the document says so);
- what the document declares invalid is refused: a request body is checked against its schema here
  (`check`), after the listing schema and its friendlier messages, so the leniencies the page forms and
  the spreadsheet import need (a keyword cell split at commas, "是" for yes, a number in a text
  column) never widen the API.

Patterns use a subset that Python's `re` (which generates the fuzzing data) and the Rust and ECMA
engines of JSON Schema validators read alike: explicit whitespace classes (exactly `str.isspace`), no
`\\s`, `\\d` or `\\w`, and no flags.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from market.listings.labels import LABELS, heading
from market.listings.schemas import TEXT_MIN, TITLE_MIN
from vocab.taxonomy import (
    CHALLENGE_MODE,
    COOPERATION_MODES,
    SUBFIELDS,
    IPType,
    Maturity,
    RightsNote,
    TransferMode,
    values,
)
from vocab.values import MAX_WAN, format_wan

# --- pattern building blocks -------------------------------------------------------------------------

#: exactly the characters `str.isspace()` / `str.split()` / `str.strip()` treat as whitespace
_SPACE_CHARS = (
    "\\t\\n\\x0b\\x0c\\r\\x1c-\\x1f \\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000"
)
WS = f"[{_SPACE_CHARS}]"
#: neither whitespace nor NUL (NUL is refused everywhere: PostgreSQL cannot store it)
NS = f"[^{_SPACE_CHARS}\\x00]"
ANY = "[^\\x00]"
MAX_MONEY = MAX_WAN  # 万元, as `schemas._money`


def trimmed(low: int, high: int) -> str:
    """A string whose `strip()` is `low`–`high` characters long (blank allowed when `low` is 0)."""
    if low >= 2:
        return f"^{WS}*{NS}{ANY}{{{low - 2},{high - 2}}}{NS}{WS}*$"
    core = f"{NS}(?:{ANY}{{0,{high - 2}}}{NS})?"
    return f"^{WS}*{core}{WS}*$" if low == 1 else f"^{WS}*(?:{core})?{WS}*$"


def collapsed(low: int, high: int | None = None) -> str:
    """A string of `low`–`high` characters once trimmed and every whitespace run made one space
    (`" ".join(text.split())`), `low` >= 1."""
    repeat = "*" if high is None and low == 1 else f"{{{low - 1},{'' if high is None else high - 1}}}"
    return f"^{WS}*{NS}(?:{NS}|{WS}+(?={NS})){repeat}{WS}*$"


def choice(options: tuple[str, ...] | list[str], *, case_insensitive: bool = False) -> str:
    """One of `options` with optional surrounding whitespace, or blank (parsers that strip and treat
    blank as absent)."""
    for option in options:
        assert re.fullmatch(r"[0-9A-Za-z_\u4e00-\u9fff]+", option), option  # nothing to escape
    if case_insensitive:
        options = ["".join(f"[{c.lower()}{c.upper()}]" if c.isalpha() else c for c in o) for o in options]
    return f"^{WS}*(?:{'|'.join(options)})?{WS}*$"


def listing(item: str) -> str:
    """Comma-separated `item`s, each with optional whitespace around it (as `SearchQuery.from_params`)."""
    return f"^{item}(?:,{item})*$"


# --- request bodies ----------------------------------------------------------------------------------

PHONE = f"^{WS}*(?:[0-9+()\\-][0-9+()\\- ]{{3,28}}[0-9+()\\-])?{WS}*$"
EMAIL_CHAR = f"[^@{_SPACE_CHARS}\\x00]"
EMAIL = f"^{WS}*(?:(?={NS}{{1,254}}{WS}*$){EMAIL_CHAR}+@{EMAIL_CHAR}+\\.{EMAIL_CHAR}+)?{WS}*$"
#: RFC 3339 full-date (format "date") that Python's `date` can hold: no year 0000
YEAR_NOT_ZERO = "^(?:000[1-9]|00[1-9][0-9]|0[1-9][0-9]{2}|[1-9][0-9]{3})-"


def _text(pattern: str, description: str, *, nullable: bool = True) -> dict[str, Any]:
    return {
        "type": ["string", "null"] if nullable else "string",
        "pattern": pattern,
        "description": description,
    }


def _one_of(options: tuple[str, ...], description: str) -> dict[str, Any]:
    return {"enum": [*options, None], "description": description}


def _money(description: str) -> dict[str, Any]:
    return {"type": ["number", "null"], "minimum": 0, "maximum": MAX_MONEY, "description": description}


def _many(items: dict[str, Any], description: str, max_items: int | None = None) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": ["array", "null"], "items": items, "description": description}
    if max_items is not None:
        schema["maxItems"] = max_items
    return schema


def _common() -> dict[str, Any]:
    return {
        "title": _text(
            collapsed(TITLE_MIN, 200),
            f"{heading('title')}：{TITLE_MIN}–200 个字（首尾空白去掉，连续空白按一个空格计）",
            nullable=False,
        ),
        "field": _one_of(SUBFIELDS, "二级技术领域（见分类）"),
        "keywords": _many(
            {"type": "string", "pattern": collapsed(1, 30), "description": "每个 1–30 个字"},
            "关键词，最多 10 个，每个 1–30 个字；重复的合并为一个。null 等同于空列表",
            10,
        ),
        "contact_name": _text(trimmed(0, 60), f"{heading('contact_name')}，最多 60 个字（受保护，不公开）"),
        "contact_phone": _text(
            PHONE, f"{heading('contact_phone')}：5–30 位，只含数字、空格、+、-、括号（受保护）"
        ),
        "contact_email": _text(EMAIL, f"{heading('contact_email')}，最多 254 个字符（受保护）"),
        "external_id": _text(trimmed(0, 64), "本机构的编号，最多 64 个字符"),
    }


def _result() -> dict[str, Any]:
    return {
        "summary": _text(
            trimmed(TEXT_MIN, 5000), f"{heading('summary')}：{TEXT_MIN}–5000 个字", nullable=False
        ),
        "problem": _text(trimmed(0, 3000), f"{heading('problem')}，最多 3000 个字"),
        "advantage": _text(trimmed(0, 3000), f"{heading('advantage')}，最多 3000 个字"),
        "maturity": _one_of(values(Maturity), heading("maturity")),
        "trl": {
            "type": ["integer", "null"],
            "minimum": 1,
            "maximum": 9,
            "description": f"{heading('trl')}：1–9",
        },
        "ip_type": _one_of(values(IPType), heading("ip_type")),
        "patent_numbers": _many(
            {"type": "string", "pattern": collapsed(1), "description": "不能为空白"},
            f"{heading('patent_numbers')}（或申请号），最多 50 项",
            50,
        ),
        "transfer_modes": _many({"enum": list(values(TransferMode))}, heading("transfer_modes")),
        "price_negotiable": {
            "type": "boolean",
            "description": "面议（默认 true）；为 false 时必须给出 price_wan。给出 price_wan 即为 false",
        },
        "price_wan": _money(f"{heading('price_wan')}，0 到 {format_wan(MAX_WAN)}"),
        "appraised_wan": _money(f"{heading('appraised_wan')}，0 到 {format_wan(MAX_WAN)}"),
        "inventors": _many(
            {"type": "string", "pattern": collapsed(1), "description": "不能为空白"},
            f"{heading('inventors')}，最多 50 项",
            50,
        ),
        "rights_note": _one_of(values(RightsNote), heading("rights_note")),
    }


def _need() -> dict[str, Any]:
    return {
        "description": _text(
            trimmed(TEXT_MIN, 5000), f"{heading('description')}：{TEXT_MIN}–5000 个字", nullable=False
        ),
        "requirements": _text(trimmed(0, 3000), f"{heading('requirements')}，最多 3000 个字"),
        "target_metrics": _text(trimmed(0, 3000), f"{heading('target_metrics')}，最多 3000 个字"),
        "cooperation_modes": _many(
            {"enum": list(COOPERATION_MODES)},
            f"{heading('cooperation_modes')}；含“{CHALLENGE_MODE}”即为揭榜挂帅需求",
        ),
        "budget_min_wan": _money(f"{heading('budget_min_wan')}；不能大于 budget_max_wan（否则 400）"),
        "budget_max_wan": _money(f"{heading('budget_max_wan')}；不能小于 budget_min_wan（否则 400）"),
        "deadline": {
            "type": ["string", "null"],
            "format": "date",
            "pattern": YEAR_NOT_ZERO,
            "description": f"{heading('deadline')} YYYY-MM-DD；"
            "揭榜挂帅需求的截止日期须晚于今天（天津时间，否则 400）",
        },
        "is_challenge": {"type": "boolean", "description": "揭榜挂帅（为 true 时必须给出 reward_wan）"},
        "reward_wan": _money(f"揭榜挂帅的{heading('reward_wan')}"),
        "eligibility": _text(trimmed(0, 3000), f"{heading('eligibility')}，最多 3000 个字"),
        "no_secret_confirmed": {"const": True, "description": "确认需求内容不含商业秘密（必须为 true）"},
    }


_REQUIRES_AMOUNT = {"required": ["reward_wan"], "properties": {"reward_wan": {"type": "number"}}}


def listing_body(kind: str, *, update: bool) -> dict[str, Any]:
    """The JSON Schema of a create (or, with `update`, replace) request body for a listing of `kind`."""
    properties = {**_common(), **(_result() if kind == "result" else _need())}
    properties["submit"] = {"type": "boolean", "description": "保存后立即提交审核"}
    required = ["title", "summary" if kind == "result" else "description"]
    if kind == "need":
        required.append("no_secret_confirmed")
    if update:
        properties["version"] = {"type": "integer", "description": "读取时的版本号（乐观锁），过期时 409"}
        required.append("version")
    rules: list[dict[str, Any]] = []
    if kind == "result":
        rules.append(
            {
                "if": {
                    "properties": {"price_negotiable": {"const": False}},
                    "required": ["price_negotiable"],
                },
                "then": {"required": ["price_wan"], "properties": {"price_wan": {"type": "number"}}},
            }
        )
    else:
        rules.append(
            {
                "if": {"properties": {"is_challenge": {"const": True}}, "required": ["is_challenge"]},
                "then": _REQUIRES_AMOUNT,
            }
        )
        rules.append(
            {
                "if": {
                    "properties": {
                        "cooperation_modes": {"type": "array", "contains": {"const": CHALLENGE_MODE}}
                    },
                    "required": ["cooperation_modes"],
                },
                "then": _REQUIRES_AMOUNT,
            }
        )
    schema: dict[str, Any] = {
        "type": "object",
        "description": ("科技成果" if kind == "result" else "技术需求")
        + "。文字首尾的空白会被去掉，可选文字只有空白时等同于 null；列表不接受逗号分隔的字符串；"
        "未列出的字段会被拒绝（400），不会被忽略。",
        "properties": properties,
        "required": required,
        "additionalProperties": False,
    }
    if len(rules) == 1:
        schema.update(rules[0])
    else:
        schema["allOf"] = rules
    return schema


# --- the check ---------------------------------------------------------------------------------------

_TYPE_NAMES = {
    "string": "文字",
    "integer": "整数",
    "number": "数字",
    "boolean": "布尔值（true 或 false）",
    "array": "列表",
    "object": "对象",
    "null": "空值（null）",
}
#: annotations the check ignores; any other keyword is refused by `check_schema` (tests call it)
_ANNOTATIONS = {"description", "title", "default", "examples"}
_KEYWORDS = {
    "type", "enum", "const", "pattern", "maxLength", "minimum", "maximum", "items", "maxItems",
    "properties", "required", "additionalProperties", "if", "then", "allOf", "contains", "format",
}  # fmt: skip


def _is_type(value: Any, name: str) -> bool:
    if name == "null":
        return value is None
    if name == "boolean":
        return isinstance(value, bool)
    if name == "integer":
        return not isinstance(value, bool) and (
            isinstance(value, int) or (isinstance(value, float) and value.is_integer())
        )
    if name == "number":
        return not isinstance(value, bool) and isinstance(value, int | float)
    if name == "string":
        return isinstance(value, str)
    if name == "array":
        return isinstance(value, list)
    return isinstance(value, dict)  # "object"


def _equal(a: Any, b: Any) -> bool:
    """JSON equality: 1 == 1.0, but true != 1."""
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    if isinstance(a, int | float) and isinstance(b, int | float):
        return a == b
    return type(a) is type(b) and a == b


def _is_date(text: str) -> bool:
    """RFC 3339 full-date; year 0000 (valid there) is refused by the YEAR_NOT_ZERO pattern anyway."""
    if not re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", text):
        return False
    try:
        date(int(text[:4]), int(text[5:7]), int(text[8:]))
    except ValueError:
        return False
    return True


def _problem(value: Any, schema: dict[str, Any]) -> str | None:
    """Why `value` does not match `schema` (None when it does)."""
    types = schema.get("type")
    if types is not None:
        names = [types] if isinstance(types, str) else list(types)
        if not any(_is_type(value, name) for name in names):
            return "应为" + "或".join(_TYPE_NAMES[n] for n in names)
    if "enum" in schema and not any(_equal(value, option) for option in schema["enum"]):
        shown = [o for o in schema["enum"] if o is not None]
        listed = "、".join(map(str, shown[:12])) + ("等（见接口文档）" if len(shown) > 12 else "")
        return f"取值不在可选范围内（可选：{listed}）"
    if "const" in schema and not _equal(value, schema["const"]):
        return f"必须为 {str(schema['const']).lower()}"
    if isinstance(value, str):
        if "maxLength" in schema and len(value) > schema["maxLength"]:
            return f"不能超过 {schema['maxLength']} 个字符"
        if "pattern" in schema and re.search(schema["pattern"], value) is None:
            rule = schema.get("description")
            return "格式或长度不符合要求" + (f"（{rule}）" if rule else "")
        if schema.get("format") == "date" and not _is_date(value):
            return "日期格式应为 YYYY-MM-DD，例如 2027-06-30"
    if _is_type(value, "number"):
        if "minimum" in schema and value < schema["minimum"]:
            return f"不能小于 {schema['minimum']:g}"
        if "maximum" in schema and value > schema["maximum"]:
            return f"不能大于 {schema['maximum']:g}"
    if isinstance(value, list):
        if "maxItems" in schema and len(value) > schema["maxItems"]:
            return f"最多 {schema['maxItems']} 项"
        if "items" in schema:
            for position, item in enumerate(value, 1):
                problem = _problem(item, schema["items"])
                if problem:
                    return f"第 {position} 项{problem}"
        if "contains" in schema and not any(_problem(i, schema["contains"]) is None for i in value):
            return "缺少必需的一项"
    return None


def _object_problems(body: dict[str, Any], schema: dict[str, Any]) -> list[tuple[str | None, str]]:
    properties = schema.get("properties", {})
    out: list[tuple[str | None, str]] = []
    for name in schema.get("required", []):
        if name not in body:
            out.append((name, "此项必填"))
    for name, value in body.items():
        if name not in properties:
            if schema.get("additionalProperties") is False:
                out.append((name, f"未知字段“{name[:40]}”：接口只接受文档列出的字段（区分大小写）"))
            continue
        problem = _problem(value, properties[name])
        if problem:
            out.append((name, problem))
    for rule in [schema] if "if" in schema else schema.get("allOf", []):
        if "if" in rule and not _object_problems_strict(body, rule["if"]):
            out.extend(p for p in _object_problems(body, rule["then"]) if p not in out)
    return out


def _object_problems_strict(body: dict[str, Any], schema: dict[str, Any]) -> list[tuple[str | None, str]]:
    """Problems against a sub-schema that only names some properties (the `if` of a rule)."""
    return _object_problems(body, {**schema, "additionalProperties": True})


def check(body: dict[str, Any], schema: dict[str, Any]) -> list[tuple[str | None, str]]:
    """(field, reason) pairs for every way `body` breaks `schema` (empty when it matches); the reasons
    are Chinese and say the rule, the field is the top-level property."""
    out = []
    for field, reason in _object_problems(body, schema):
        known = field in schema.get("properties", {})
        label = f"{LABELS[field]}（{field}）" if field in LABELS else f"{field} "
        out.append((field, f"{label}{reason}" if known else reason))
    return out


def check_schema(schema: Any) -> list[str]:
    """Keywords `check` would not understand, anywhere in `schema` (the tests keep this empty)."""
    unknown: list[str] = []
    if isinstance(schema, dict):
        for key, value in schema.items():
            if key not in _KEYWORDS | _ANNOTATIONS:
                unknown.append(key)
            if key == "properties":
                for sub in value.values():
                    unknown += check_schema(sub)
            elif key in ("items", "if", "then", "contains"):
                unknown += check_schema(value)
            elif key == "allOf":
                for sub in value:
                    unknown += check_schema(sub)
    return unknown

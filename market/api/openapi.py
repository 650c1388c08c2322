"""The OpenAPI 3 document of /api/v1, built from the same schemas that validate input."""

from __future__ import annotations

from functools import cache
from typing import Any

from market.api.contract import NS, WS, YEAR_NOT_ZERO, choice, listing, listing_body
from market.federation import openapi as federation_openapi
from market.freshness.conditions import MATCH_PENALTY
from market.listings.queries import MAX_PAGE, MAX_PRICE
from market.listings.queries import MAX_PER_PAGE as MAX_LIST_PER_PAGE
from market.listings.queries import SORTS as LIST_SORTS
from market.trade import openapi as trade_openapi
from matching.fields import MAX_TEXT as SUGGEST_MAX_TEXT
from search.base import FACETS, KINDS, MAX_FILTER_VALUES, MAX_PER_PAGE, MAX_TEXT, MAX_WINDOW, SORTS
from vocab.taxonomy import COOPERATION_MODES, FIELDS, SUBFIELDS, Maturity, Region, values

#: `SearchQuery.from_params` reads challenge words lowercased
CHALLENGE_WORDS = ("1", "true", "yes", "on", "0", "false", "no", "off")
_NS_NO_COMMA = NS[:-1] + ",]"

JSON = "application/json"


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _response(description: str, schema: str = "Error") -> dict[str, Any]:
    return {"description": description, "content": {JSON: {"schema": _ref(schema)}}}


ERRORS = {
    "400": _response("参数或请求体无效（中文原因与字段）"),
    "404": _response("不存在，或无权知道其存在"),
    "429": _response("请求过于频繁"),
    # Answered by the web server before the site sees the request (gunicorn's page, not JSON).
    "414": {"description": "请求网址过长：超过 Web 服务器的请求行上限（约 8 KB），请缩短检索条件"},
}
#: for operations with a JSON body: values JSON allows that nothing can store
UNPROCESSABLE = {
    "422": _response(
        "请求体是合法的 JSON，但含有无法处理的值：NaN、Infinity 或超出范围的数（如 1e999）、"
        "孤立的 Unicode 代理项（如 \\ud800）、NUL 字符；fields 指明字段"
    )
}


def _q(name: str, description: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {"name": name, "in": "query", "required": False, "description": description, "schema": schema}


def _path_id() -> dict[str, Any]:
    return {
        "name": "listing_id",
        "in": "path",
        "required": True,
        "schema": {"type": "integer", "minimum": 0, "maximum": 2**31 - 1},
    }


_LIST_FILTERS = [
    _q("field", "技术领域（一级或二级）", {"type": "string", "enum": [*SUBFIELDS, *FIELDS]}),
    _q("maturity", "成熟度（成果）", {"type": "string", "enum": list(values(Maturity))}),
    _q("mode", "转化 / 合作方式", {"type": "string", "enum": list(COOPERATION_MODES)}),
    _q("region", "地区", {"type": "string", "enum": list(values(Region))}),
    _q("price_min", "价格 / 预算下限（万元）", {"type": "number", "minimum": 0, "maximum": MAX_PRICE}),
    _q("price_max", "价格 / 预算上限（万元）", {"type": "number", "minimum": 0, "maximum": MAX_PRICE}),
    _q("challenge", "只看揭榜挂帅（需求）", {"type": "string", "enum": ["1", "0", "true", "false"]}),
    _q("sort", "排序", {"type": "string", "enum": list(LIST_SORTS)}),
    _q("page", "页码", {"type": "integer", "minimum": 1, "maximum": MAX_PAGE}),
    _q("per_page", "每页条数", {"type": "integer", "minimum": 1, "maximum": MAX_LIST_PER_PAGE}),
]
LIST_RULES = (
    "每个参数最多出现一次，不能为空值（不筛选时省略）；数字按 JSON 的写法（如 12、0.5、1e3）。"
    "price_min 大于 price_max 时结果为空（不报错）。"
)

#: a search filter: comma-separated values, each at most 100 characters once trimmed; at most
#: MAX_FILTER_VALUES that are not blank (blank ones are skipped)
_EMPTY = f"{WS}*"
_VALUE = f"{WS}*{_NS_NO_COMMA}(?:[^,\\x00]{{0,98}}{_NS_NO_COMMA})?{WS}*"
_SEARCH_FILTER = {
    "type": "string",
    "pattern": (
        f"^(?:{_EMPTY},)*(?:{_VALUE}(?:,{_EMPTY})*(?:,{_VALUE}(?:,{_EMPTY})*)"
        f"{{0,{MAX_FILTER_VALUES - 1}}}|{_EMPTY})$"
    ),
}


def _filter_param(name: str, what: str) -> dict[str, Any]:
    return _q(
        name,
        f"{what}：任意文字（不在分类中的值不匹配任何结果）；可重复该参数或用逗号分隔多个值，"
        f"最多 {MAX_FILTER_VALUES} 个，每个最多 100 个字",
        _SEARCH_FILTER,
    )


#: search parameters are trimmed and a blank one counts as not given
_BLANK = {"type": "string", "pattern": f"^{WS}*$"}


def _or_blank(schema: dict[str, Any]) -> dict[str, Any]:
    return {"anyOf": [schema, _BLANK]}


_NOT_NEGATIVE = _or_blank({"type": "number", "minimum": 0})
_PER_PAGE = _or_blank({"type": "integer", "minimum": 0, "maximum": MAX_PER_PAGE})
_SEARCH_PARAMS = [
    _q(
        "q",
        f"检索词（任意文字；超过 {MAX_TEXT} 个字的部分不参与检索）",
        {"type": "string", "pattern": "^[^\\x00]*$"},
    ),
    _q("kind", "类型（空值为 all）", {"type": "string", "pattern": choice(KINDS)}),
    _filter_param("field", "二级技术领域"),
    _filter_param("field_top", "一级技术领域"),
    _filter_param("maturity", "成熟度"),
    _filter_param("modes", "转化 / 合作方式"),
    _filter_param("region", "地区"),
    _q(
        "challenge",
        "揭榜挂帅：1 / true / yes / on 为是，0 / false / no / off 为否（不区分大小写，空值为不限）",
        {"type": "string", "pattern": choice(CHALLENGE_WORDS, case_insensitive=True)},
    ),
    _q(
        "price_min",
        "价格 / 预算下限（万元，空值为不限）；不能大于 price_max（否则 400）",
        _NOT_NEGATIVE,
    ),
    _q(
        "price_max",
        "价格 / 预算上限（万元，空值为不限）；不能小于 price_min（否则 400）",
        _NOT_NEGATIVE,
    ),
    _q("sort", "排序（空值为 relevance）", {"type": "string", "pattern": choice(SORTS)}),
    _q(
        "page",
        f"页码（0 或空值等同于 1）；最多翻阅前 {MAX_WINDOW} 条："
        f"(page − 1) × per_page 须小于 {MAX_WINDOW}（否则 400）",
        _or_blank({"type": "integer", "minimum": 0, "maximum": MAX_WINDOW}),
    ),
    _q(
        "per_page",
        "每页条数（0 或空值为默认的 20）",
        _PER_PAGE,
    ),
    _q(
        "facets",
        f"要统计的分面，逗号分隔（可选：{'、'.join(FACETS)}；给出空值则不统计，省略则全部统计）",
        {"type": "string", "pattern": listing(f"{WS}*(?:{'|'.join(FACETS)})?{WS}*")},
    ),
]

#: an end of the statistics range: a calendar day, or blank for an open end
_DAY = _or_blank({"type": "string", "format": "date", "pattern": YEAR_NOT_ZERO})


def _listing_ops(kinds: str, label: str, schema_in: str) -> dict[str, dict[str, Any]]:
    tag = [label]
    listing = {"200": _response(f"{label}", "Listing"), **ERRORS}
    write_errors = {
        "401": _response("缺少或无效的 API 令牌"),
        "403": _response("令牌账号无权进行此操作"),
        "409": _response("版本已过期：他人已修改，请重新读取"),
    }
    return {
        f"/api/v1/{kinds}": {
            "get": {
                "tags": tag,
                "summary": f"已发布的{label}列表",
                "description": LIST_RULES,
                "parameters": _LIST_FILTERS,
                "responses": {"200": _response("分页列表", "ListingPage"), **ERRORS},
            },
            "post": {
                "tags": tag,
                "summary": f"为令牌所属机构创建{label}草稿（submit=true 同时提交审核）",
                "security": [{"bearerAuth": []}],
                "requestBody": {"required": True, "content": {JSON: {"schema": _ref(schema_in)}}},
                "responses": {
                    "201": _response("已创建", "Listing"),
                    **ERRORS,
                    **UNPROCESSABLE,
                    **write_errors,
                },
            },
        },
        f"/api/v1/{kinds}/{{listing_id}}": {
            "get": {
                "tags": tag,
                "summary": f"{label}详情（未发布的仅所属机构与平台运营可见）",
                "parameters": [_path_id()],
                "responses": listing,
            },
            "put": {
                "tags": tag,
                "summary": f"修改{label}（需提供读取时的 version）",
                "parameters": [_path_id()],
                "security": [{"bearerAuth": []}],
                "description": "已发布内容的实质性修改（标题、简介 / 描述、价格 / 预算、转化 / 合作方式、"
                "技术领域）不立即生效：转平台审核，返回 202，响应中的内容仍为公开的原版本，"
                "pending_revision 为待审核的修改（审核通过前公开页面与接口都显示原内容；"
                "审核结果以站内通知与邮件告知）。其他修改立即生效，返回 200。",
                "requestBody": {"required": True, "content": {JSON: {"schema": _ref(f"{schema_in}Update")}}},
                "responses": {
                    **listing,
                    "202": _response(
                        "修改已提交审核：公开内容不变，待审核的修改见 pending_revision", "Listing"
                    ),
                    **UNPROCESSABLE,
                    **write_errors,
                },
            },
        },
        f"/api/v1/{kinds}/{{listing_id}}/submit": {
            "post": {
                "tags": tag,
                "summary": "提交审核",
                "description": "无请求体（发送的请求体被忽略）。",
                "parameters": [_path_id()],
                "security": [{"bearerAuth": []}],
                "responses": {**listing, **write_errors},
            },
        },
        f"/api/v1/{kinds}/{{listing_id}}/matches": {
            "get": {
                "tags": tag,
                "summary": "匹配推荐（所属机构、技术经纪人与平台运营可见，其他人 404）",
                "parameters": [_path_id()],
                "responses": {"200": _response("匹配列表及理由", "MatchList"), **ERRORS},
            },
        },
    }


@cache
def openapi_document() -> dict[str, Any]:
    """The whole document (built once per process)."""
    paths: dict[str, Any] = {}
    paths.update(_listing_ops("results", "科技成果", "ResultIn"))
    paths.update(_listing_ops("needs", "技术需求", "NeedIn"))
    paths["/api/v1/search"] = {
        "get": {
            "tags": ["搜索"],
            "summary": "全文搜索科技成果与技术需求，带分面统计与高亮",
            "parameters": _SEARCH_PARAMS,
            "responses": {"200": _response("搜索结果", "SearchResponse"), **ERRORS},
        }
    }
    paths["/api/v1/stats"] = {
        "get": {
            "tags": ["统计"],
            "summary": "交易统计（平台运营可见全部，其他人仅总量）",
            "parameters": [
                _q("from", "起始日期 YYYY-MM-DD（空值为不限）；不能晚于 to（否则 400）", _DAY),
                _q("to", "截止日期 YYYY-MM-DD（空值为不限）", _DAY),
            ],
            "responses": {"200": _response("统计数据", "Stats"), **ERRORS},
        }
    }
    paths["/api/v1/fields/suggest"] = {
        "get": {
            "tags": ["技术领域"],
            "summary": "根据文字推荐技术领域：最可能的 3 个二级领域及概率（发布表单的一键推荐）",
            "parameters": [
                {
                    "name": "text",
                    "in": "query",
                    "required": True,
                    "description": f"要判断的文字（名称、关键词、简介），1–{SUGGEST_MAX_TEXT} 个字；"
                    "只能出现一次",
                    "schema": {
                        "type": "string",
                        "minLength": 1,
                        "maxLength": SUGGEST_MAX_TEXT,
                        "pattern": "^[^\\x00]*$",
                    },
                }
            ],
            "responses": {"200": _response("推荐的技术领域", "FieldSuggestions"), **ERRORS},
        }
    }
    paths.update(trade_openapi.paths(ERRORS))
    paths.update(federation_openapi.paths(ERRORS))
    paths["/api/v1/openapi.json"] = {
        "get": {
            "tags": ["文档"],
            "summary": "本文档",
            "responses": {
                "200": {"description": "OpenAPI 3 文档", "content": {JSON: {"schema": {"type": "object"}}}}
            },
        }
    }
    error = {
        "type": "object",
        "required": ["error", "message"],
        "properties": {
            "error": {"type": "string"},
            "message": {"type": "string"},
            "detail": {"type": "string"},
            "field": {"type": ["string", "null"]},
            "fields": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {"field": {"type": ["string", "null"]}, "reason": {"type": "string"}},
                },
            },
        },
    }
    listing = {
        "type": "object",
        "required": ["kind", "id", "title", "status", "version"],
        "properties": {
            "kind": {"type": "string", "enum": ["result", "need"]},
            "id": {"type": "integer"},
            "external_id": {"type": ["string", "null"]},
            "title": {"type": "string"},
            "status": {"type": "string"},
            "version": {"type": "integer"},
            "field": {"type": ["string", "null"]},
            "field_top": {"type": ["string", "null"]},
            "keywords": {"type": "array", "items": {"type": "string"}},
            "organization": {"type": "object"},
            "pending_revision": {
                "anyOf": [_ref("PendingRevision"), {"type": "null"}],
                "description": "仅所属机构成员与平台运营可见：待审核的实质性修改，没有时为 null",
            },
        },
    }
    pending_revision = {
        "type": "object",
        "description": "已发布内容的一次实质性修改，等待平台审核；审核通过前公开内容不变",
        "required": ["id", "status", "submitted_at", "base_version", "changes"],
        "properties": {
            "id": {"type": "integer"},
            "status": {"type": "string", "enum": ["待审核"]},
            "submitted_at": {"type": ["string", "null"], "format": "date-time"},
            "base_version": {"type": "integer", "description": "修改所基于的版本号"},
            "changes": {
                "type": "array",
                "description": "改动的字段：修改前与修改后（显示文字）",
                "items": {
                    "type": "object",
                    "required": ["field", "label", "before", "after"],
                    "properties": {
                        "field": {"type": "string"},
                        "label": {"type": "string"},
                        "before": {"type": "string"},
                        "after": {"type": "string"},
                    },
                },
            },
        },
    }
    hit = {
        "type": "object",
        "required": ["kind", "id", "title", "snippet"],
        "properties": {
            "kind": {"type": "string"},
            "id": {"type": "integer"},
            "external_id": {"type": ["string", "null"]},
            "title": {"type": "string"},
            "snippet": {"type": "string"},
            "field": {"type": ["string", "null"]},
            "score": {"type": "number"},
        },
    }
    components = {
        "securitySchemes": {
            "bearerAuth": {
                "type": "http",
                "scheme": "bearer",
                "description": "个人 API 令牌（在“我的账号”页面创建与撤销）",
            },
            "partnerToken": federation_openapi.SECURITY_SCHEME,
        },
        "schemas": {
            "Error": error,
            "Listing": listing,
            "PendingRevision": pending_revision,
            "FieldSuggestions": {
                "type": "object",
                "required": ["suggestions", "inferred", "threshold"],
                "properties": {
                    "suggestions": {
                        "type": "array",
                        "maxItems": 3,
                        "description": "最可能的二级领域，概率从高到低；文字中没有可用的词时为空",
                        "items": {
                            "type": "object",
                            "required": ["field", "field_top", "probability"],
                            "properties": {
                                "field": {"type": "string", "enum": list(SUBFIELDS)},
                                "field_top": {"type": "string", "enum": list(FIELDS)},
                                "probability": {"type": "number", "minimum": 0, "maximum": 1},
                            },
                        },
                    },
                    "inferred": {
                        "enum": [*SUBFIELDS, None],
                        "description": "导入时会自动填写的领域（最可能的领域概率达到 threshold 时），"
                        "否则 null",
                    },
                    "threshold": {"type": "number", "description": "自动填写所需的最低概率"},
                },
            },
            "ListingPage": {
                "type": "object",
                "required": ["total", "page", "per_page", "items"],
                "properties": {
                    "total": {"type": "integer"},
                    "page": {"type": "integer"},
                    "per_page": {"type": "integer"},
                    "items": {"type": "array", "items": _ref("Listing")},
                },
            },
            "SearchResponse": {
                "type": "object",
                "required": ["query", "total", "page", "per_page", "hits", "facets"],
                "properties": {
                    "query": {"type": "string"},
                    "total": {"type": "integer"},
                    "page": {"type": "integer"},
                    "per_page": {"type": "integer"},
                    "engine": {"type": "string"},
                    "degraded": {"type": "boolean"},
                    "hits": {"type": "array", "items": hit},
                    "facets": {
                        "type": "object",
                        "description": f"分面：{', '.join(FACETS)}",
                        "additionalProperties": {
                            "type": "object",
                            "additionalProperties": {"type": "integer"},
                        },
                    },
                },
            },
            "MatchList": {
                "type": "object",
                "required": ["kind", "id", "matches"],
                "properties": {
                    "kind": {"type": "string"},
                    "id": {"type": "integer"},
                    "matches": {
                        "type": "array",
                        "items": {
                            "type": "object",
                            "required": ["id", "score", "status"],
                            "properties": {
                                "id": {"type": "integer"},
                                "score": {"type": "number", "description": "匹配得分（0–1）"},
                                "rank_score": {
                                    "type": "number",
                                    "description": "排序所用得分：任一方已过有效期（待更新）时为得分 × "
                                    f"{MATCH_PENALTY}（设置 FRESHNESS_MATCH_PENALTY），否则等于 score；"
                                    "超过宽限期仍未确认的一方不出现在匹配中，确认仍有效后恢复",
                                },
                                "lapsed": {"type": "boolean", "description": "任一方已过有效期（待更新）"},
                                "status": {"type": "string"},
                                "reasons": {"type": "object"},
                            },
                        },
                    },
                    "linked_matches": {
                        "type": "array",
                        "description": "合作平台的相关记录（关联展示，不是本平台的匹配，不计入统计）",
                        "items": _ref("LinkedMatch"),
                    },
                },
            },
            "Stats": {"type": "object", "required": ["scope"], "properties": {"scope": {"type": "string"}}},
            "ResultIn": listing_body("result", update=False),
            "ResultInUpdate": listing_body("result", update=True),
            "NeedIn": listing_body("need", update=False),
            "NeedInUpdate": listing_body("need", update=True),
            **trade_openapi.schemas(),
            **federation_openapi.schemas(),
        },
    }
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "科技成果转化交易平台 API",
            "version": "1.0",
            "description": "科技成果库与企业技术需求库的开放接口，供京津冀技术市场等合作平台互联互通。"
            "读取已发布内容无需认证；写入使用个人 API 令牌（Bearer）。错误以 JSON 返回中文原因。",
        },
        "paths": paths,
        "components": components,
    }

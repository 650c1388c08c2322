"""The OpenAPI 3 document of /api/v1, built from the same schemas that validate input."""

from __future__ import annotations

from functools import cache
from typing import Any

from market.listings.schemas import NeedIn, ResultIn
from search.base import FACETS, KINDS, SORTS
from vocab.taxonomy import COOPERATION_MODES, FIELDS, SUBFIELDS, Maturity, Region, values

JSON = "application/json"


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _response(description: str, schema: str = "Error") -> dict[str, Any]:
    return {"description": description, "content": {JSON: {"schema": _ref(schema)}}}


ERRORS = {
    "400": _response("参数或请求体无效（中文原因与字段）"),
    "404": _response("不存在，或无权知道其存在"),
    "429": _response("请求过于频繁"),
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
    _q("field", "技术领域（一级或二级）", {"type": "string", "enum": [*FIELDS, *SUBFIELDS]}),
    _q("maturity", "成熟度（成果）", {"type": "string", "enum": list(values(Maturity))}),
    _q("mode", "转化 / 合作方式", {"type": "string", "enum": list(COOPERATION_MODES)}),
    _q("region", "地区", {"type": "string", "enum": list(values(Region))}),
    _q("price_min", "价格 / 预算下限（万元）", {"type": "number", "minimum": 0}),
    _q("price_max", "价格 / 预算上限（万元）", {"type": "number", "minimum": 0}),
    _q("challenge", "只看揭榜挂帅（需求）", {"type": "string", "enum": ["1", "0", "true", "false"]}),
    _q("sort", "排序", {"type": "string", "enum": ["newest", "price_asc", "price_desc"]}),
    _q("page", "页码", {"type": "integer", "minimum": 1, "maximum": 100000}),
    _q("per_page", "每页条数", {"type": "integer", "minimum": 1, "maximum": 100}),
]

_SEARCH_PARAMS = [
    _q("q", "检索词（任意文本，最多 500 字）", {"type": "string"}),
    _q("kind", "类型", {"type": "string", "enum": list(KINDS)}),
    _q("field", "二级技术领域", {"type": "string"}),
    _q("field_top", "一级技术领域", {"type": "string"}),
    _q("maturity", "成熟度", {"type": "string"}),
    _q("modes", "转化 / 合作方式", {"type": "string"}),
    _q("region", "地区", {"type": "string"}),
    _q("challenge", "揭榜挂帅", {"type": "string", "enum": ["1", "0", "true", "false"]}),
    _q("price_min", "价格 / 预算下限（万元）", {"type": "number"}),
    _q("price_max", "价格 / 预算上限（万元）", {"type": "number"}),
    _q("sort", "排序", {"type": "string", "enum": list(SORTS)}),
    _q("page", "页码（最多翻阅前 10000 条）", {"type": "integer", "minimum": 1, "maximum": 100}),
    _q("per_page", "每页条数", {"type": "integer", "minimum": 1, "maximum": 100}),
]


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
                "requestBody": {"required": True, "content": {JSON: {"schema": _ref(f"{schema_in}Update")}}},
                "responses": {**listing, **UNPROCESSABLE, **write_errors},
            },
        },
        f"/api/v1/{kinds}/{{listing_id}}/submit": {
            "post": {
                "tags": tag,
                "summary": "提交审核",
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


def _input_schema(model, *, update: bool) -> dict[str, Any]:
    schema = model.model_json_schema()
    schema.pop("title", None)
    props = schema.setdefault("properties", {})
    props["submit"] = {"type": "boolean", "description": "保存后立即提交审核"}
    if update:
        props["version"] = {"type": "integer", "description": "读取时的版本号（乐观锁）"}
        schema["required"] = [*schema.get("required", []), "version"]
    return schema


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
                _q("from", "起始日期 YYYY-MM-DD", {"type": "string", "format": "date"}),
                _q("to", "截止日期 YYYY-MM-DD", {"type": "string", "format": "date"}),
            ],
            "responses": {"200": _response("统计数据", "Stats"), **ERRORS},
        }
    }
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
            }
        },
        "schemas": {
            "Error": error,
            "Listing": listing,
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
                                "score": {"type": "number"},
                                "status": {"type": "string"},
                                "reasons": {"type": "object"},
                            },
                        },
                    },
                },
            },
            "Stats": {"type": "object", "required": ["scope"], "properties": {"scope": {"type": "string"}}},
            "ResultIn": _input_schema(ResultIn, update=False),
            "ResultInUpdate": _input_schema(ResultIn, update=True),
            "NeedIn": _input_schema(NeedIn, update=False),
            "NeedInUpdate": _input_schema(NeedIn, update=True),
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

"""The harvest feed's part of the OpenAPI document (merged into /api/v1/openapi.json)."""

from __future__ import annotations

from typing import Any

from market.federation.crosswalk import ELEMENTS
from market.federation.feed import DEFAULT_LIMIT, MAX_LIMIT
from market.federation.introductions import MESSAGE_MAX

JSON = "application/json"


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def paths(errors: dict[str, Any]) -> dict[str, Any]:
    def error(description: str) -> dict[str, Any]:
        return {"description": description, "content": {JSON: {"schema": _ref("Error")}}}

    return {
        "/api/v1/feed": {
            "get": {
                "tags": ["互联互通"],
                "summary": "采集接口：游标之后有变更的已发布成果与需求（撤回、关闭、删除的为墓碑记录）",
                "description": "按 next 游标逐页采集，直到 more 为 false；记录带全局标识符、来源与 "
                "GB/T 30523-2023 核心元数据（见 /federation/crosswalk），不含联系人。"
                "需平台运营签发的合作平台令牌（Bearer）。每个参数最多出现一次，不接受其他参数。",
                "security": [{"partnerToken": []}],
                "parameters": [
                    {
                        "name": "since",
                        "in": "query",
                        "required": False,
                        "description": "上一页返回的 next（首次省略或为 0）",
                        "schema": {"type": "string", "pattern": "^[0-9]{1,18}$"},
                    },
                    {
                        "name": "limit",
                        "in": "query",
                        "required": False,
                        "description": f"每页条数（默认 {DEFAULT_LIMIT}）",
                        "schema": {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT},
                    },
                ],
                "responses": {
                    "200": {"description": "一页变更", "content": {JSON: {"schema": _ref("FeedPage")}}},
                    **errors,
                    "401": error("缺少或无效的合作平台令牌"),
                    "403": error("该合作平台已停用"),
                },
            }
        },
        "/api/v1/federation/introductions": {
            "post": {
                "tags": ["互联互通"],
                "summary": "引荐申请：合作平台请本平台为其记录与本平台的某条已发布记录牵线",
                "description": "由对方平台的后台任务投递（失败时指数退避重试）；以 request_id 去重："
                "同一 request_id 再次投递返回 200 与现状，不会重复登记。target 须为本平台的全局标识符"
                "（本平台前缀.result|need.编号）且为已发布记录（否则 422 / 404）；from.identifier 须以"
                "该合作平台的前缀开头。本平台的记录所有方、技术经纪人或平台运营决定接受或拒绝；"
                "双方联系方式不会自动交换。需平台运营签发的合作平台令牌（与采集接口相同）。",
                "security": [{"partnerToken": []}],
                "requestBody": {
                    "required": True,
                    "content": {JSON: {"schema": _ref("IntroductionIn")}},
                },
                "responses": {
                    "201": {
                        "description": "已登记",
                        "content": {JSON: {"schema": _ref("IntroductionStatus")}},
                    },
                    "200": {
                        "description": "该 request_id 已登记过（重复投递），返回现状",
                        "content": {JSON: {"schema": _ref("IntroductionStatus")}},
                    },
                    **errors,
                    "401": error("缺少或无效的合作平台令牌"),
                    "403": error("该合作平台已停用"),
                    "422": error("字段无效（fields 指明字段）"),
                },
            }
        },
        "/api/v1/federation/introductions/{request_id}": {
            "get": {
                "tags": ["互联互通"],
                "summary": "引荐申请的处理状态（对方平台轮询）",
                "description": "received 待处理、accepted 已接受、declined 已拒绝；"
                "只能查询本令牌投递的申请。",
                "security": [{"partnerToken": []}],
                "parameters": [
                    {
                        "name": "request_id",
                        "in": "path",
                        "required": True,
                        "schema": {"type": "string", "pattern": "^[A-Za-z0-9-]{8,36}$"},
                    }
                ],
                "responses": {
                    "200": {
                        "description": "处理状态",
                        "content": {JSON: {"schema": _ref("IntroductionStatus")}},
                    },
                    **errors,
                    "401": error("缺少或无效的合作平台令牌"),
                    "403": error("该合作平台已停用"),
                },
            }
        },
    }


def schemas() -> dict[str, Any]:
    core = {
        "type": "object",
        "description": "GB/T 30523-2023 核心元数据：" + "；".join(f"{e.key} = {e.element}" for e in ELEMENTS),
        "required": ["identifier", "name"],
        "properties": {
            "identifier": {"type": "string"},
            "name": {"type": "string"},
            "description": {"type": ["string", "null"]},
            "keywords": {"type": "array", "items": {"type": "string"}},
            "created": {"type": ["string", "null"]},
            "registered": {"type": ["string", "null"]},
            "provider": {"type": "string"},
            "type": {"type": "string"},
            "subject": {"type": ["string", "null"]},
            "url": {"type": "string"},
        },
    }
    record = {
        "type": "object",
        "required": ["identifier", "kind", "local_id", "seq", "deleted", "changed_at"],
        "properties": {
            "identifier": {"type": "string", "description": "全局标识符：平台前缀.类型.编号"},
            "kind": {"type": "string", "enum": ["result", "need"]},
            "local_id": {"type": "integer"},
            "seq": {"type": "integer"},
            "deleted": {"type": "boolean", "description": "true 为墓碑记录（已撤回、关闭或删除）"},
            "changed_at": {"type": "string"},
            "provenance": {
                "type": "object",
                "properties": {
                    "platform": {"type": "string"},
                    "prefix": {"type": "string"},
                    "url": {"type": "string"},
                },
            },
            "core": core,
            "fields": {"type": "object", "description": "平台自身的公开字段（不含联系人）"},
        },
    }
    linked_match = {
        "type": "object",
        "description": "合作平台的记录，按本平台的匹配模型评分；仅作关联展示，无匹配编号与状态",
        "required": ["linked", "source", "identifier", "kind", "title", "url", "harvested_at", "score"],
        "properties": {
            "linked": {"type": "boolean", "const": True},
            "source": {
                "type": "object",
                "properties": {"platform": {"type": "string"}, "prefix": {"type": "string"}},
            },
            "identifier": {"type": "string", "description": "来源平台的全局标识符"},
            "kind": {"type": "string", "enum": ["result", "need"]},
            "title": {"type": "string"},
            "organization": {"type": "string"},
            "url": {"type": "string", "description": "来源平台上的原文"},
            "page": {"type": "string", "description": "本平台的关联展示页"},
            "harvested_at": {"type": "string", "description": "最近采集时间"},
            "score": {"type": "number"},
            "reasons": {"type": "object"},
        },
    }
    text = {"type": "string", "minLength": 1}
    introduction_in = {
        "type": "object",
        "additionalProperties": False,
        "required": ["request_id", "target", "message", "from"],
        "properties": {
            "request_id": {
                "type": "string",
                "pattern": "^[A-Za-z0-9-]{8,36}$",
                "description": "幂等键（建议 UUID）：重复投递以它去重",
            },
            "target": {
                "type": "string",
                "pattern": "^[A-Za-z][A-Za-z0-9]{1,19}[.](result|need)[.][0-9]{1,9}$",
                "description": "本平台记录的全局标识符",
            },
            "message": {**text, "maxLength": MESSAGE_MAX, "description": "引荐理由（不含联系方式）"},
            "from": {
                "type": "object",
                "additionalProperties": False,
                "required": ["identifier", "title"],
                "description": "发起方平台上的相关记录",
                "properties": {
                    "identifier": {**text, "maxLength": 200},
                    "title": {**text, "maxLength": 200},
                    "url": {"type": "string", "maxLength": 500},
                    "organization": {"type": "string", "maxLength": 200},
                },
            },
            "agency": {"type": "string", "maxLength": 200, "description": "发起方技术经纪人所属机构"},
        },
    }
    introduction_status = {
        "type": "object",
        "required": ["request_id", "status", "received_at"],
        "properties": {
            "request_id": {"type": "string"},
            "status": {"type": "string", "enum": ["received", "accepted", "declined"]},
            "received_at": {"type": "string"},
            "decided_at": {"type": ["string", "null"]},
        },
    }
    return {
        "IntroductionIn": introduction_in,
        "IntroductionStatus": introduction_status,
        "LinkedMatch": linked_match,
        "FeedRecord": record,
        "FeedPage": {
            "type": "object",
            "required": ["platform", "since", "next", "more", "count", "records"],
            "properties": {
                "platform": {"type": "object"},
                "since": {"type": "string"},
                "next": {"type": "string", "description": "下一页的 since"},
                "more": {"type": "boolean"},
                "count": {"type": "integer"},
                "generated_at": {"type": "string"},
                "records": {"type": "array", "items": _ref("FeedRecord")},
            },
        },
    }


SECURITY_SCHEME = {
    "type": "http",
    "scheme": "bearer",
    "description": "合作平台访问令牌（平台运营在“合作平台”页面签发，供对方采集本平台目录）",
}

"""The auction endpoints' part of the OpenAPI document (merged into /api/v1/openapi.json)."""

from __future__ import annotations

from typing import Any

JSON = "application/json"

_AUCTION_ID = {
    "name": "auction_id",
    "in": "path",
    "required": True,
    "schema": {"type": "integer", "minimum": 0, "maximum": 2**31 - 1},
}
_NUM_OR_NULL = {"type": ["number", "null"]}


def _ok(description: str, schema: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {JSON: {"schema": {"$ref": f"#/components/schemas/{schema}"}}},
    }


def paths(errors: dict[str, Any]) -> dict[str, Any]:
    return {
        "/api/v1/auctions/{auction_id}": {
            "get": {
                "tags": ["展示交易"],
                "summary": "竞价状态：服务器时间、截止时间、当前最高价、最低可出价、最近出价（竞价页轮询）",
                "parameters": [_AUCTION_ID],
                "responses": {"200": _ok("竞价状态", "AuctionState"), **errors},
            }
        },
        "/api/v1/auctions/{auction_id}/log": {
            "get": {
                "tags": ["展示交易"],
                "summary": "完整出价日志（哈希链），附校验结果；任何人可据 canonical_form 复算",
                "parameters": [_AUCTION_ID],
                "responses": {"200": _ok("出价日志", "BidLog"), **errors},
            }
        },
    }


def schemas() -> dict[str, Any]:
    entry = {
        "type": "object",
        "required": ["seq", "auction_id", "price", "at", "prev_hash", "hash"],
        "properties": {
            "seq": {"type": "integer"},
            "auction_id": {"type": "integer"},
            "paddle": {"type": "string", "description": "竞买号（出价方在成交前不公开）"},
            "bidder_org_id": {
                "type": "integer",
                "description": "只出现在启用竞买号之前的记录中（其哈希覆盖机构编号）",
            },
            "price": {"type": "integer", "description": "出价，单位为百分之一万元（100 元）"},
            "price_wan": {"type": "number"},
            "at": {"type": "string", "description": "服务器时间（ISO 8601，UTC）"},
            "prev_hash": {"type": "string"},
            "hash": {"type": "string"},
        },
    }
    return {
        "AuctionState": {
            "type": "object",
            "required": ["id", "status", "server_time", "ends_at", "seconds_left", "bids", "minimum_wan"],
            "properties": {
                "id": {"type": "integer"},
                "status": {"type": "string", "enum": ["竞价中", "已成交", "流拍"]},
                "server_time": {"type": "string"},
                "ends_at": {"type": "string"},
                "seconds_left": {"type": "number"},
                "bids": {"type": "integer"},
                "best_wan": _NUM_OR_NULL,
                "best_paddle": {"type": ["string", "null"], "description": "当前最高出价的竞买号"},
                "best_bidder": {"type": ["string", "null"]},
                "minimum_wan": {"type": "number"},
                "start_wan": {"type": "number"},
                "increment_wan": {"type": "number"},
                "reserve_met": {"type": "boolean"},
                "extend_minutes": {"type": "integer"},
                "head_hash": {"type": "string"},
                "recent": {"type": "array", "items": {"type": "object"}},
            },
        },
        "BidLog": {
            "type": "object",
            "required": ["auction_id", "head_hash", "entries", "verification"],
            "properties": {
                "auction_id": {"type": "integer"},
                "status": {"type": "string"},
                "hash_algorithm": {"type": "string"},
                "canonical_form": {"type": "string"},
                "head_hash": {"type": "string"},
                "entries": {"type": "array", "items": entry},
                "verification": {
                    "type": "object",
                    "required": ["ok", "entries"],
                    "properties": {
                        "ok": {"type": "boolean"},
                        "entries": {"type": "integer"},
                        "broken_at": {"type": ["integer", "null"]},
                        "reason": {"type": "string"},
                    },
                },
            },
        },
    }

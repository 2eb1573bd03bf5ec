"""JSON Schemas of the protocol's dataclasses, so the OpenAPI document shows real bodies.

Routes read their bodies themselves (after authentication), so FastAPI cannot infer
them; these schemas make the document complete enough to fuzz the API from it.
"""

from __future__ import annotations

import dataclasses
import enum
import types
import typing
from datetime import date, datetime
from typing import Any


def schema_of(tp: Any) -> dict[str, Any]:
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        options = [schema_of(a) for a in typing.get_args(tp) if a is not type(None)]
        if type(None) in typing.get_args(tp):
            options.append({"type": "null"})
        return options[0] if len(options) == 1 else {"anyOf": options}
    if origin in (tuple, list, frozenset):
        args = [a for a in typing.get_args(tp) if a is not Ellipsis]
        return {"type": "array", "items": schema_of(args[0]) if args else {}}
    if origin is dict or tp is dict:
        return {"type": "object"}
    if tp is Any:
        return {}
    if isinstance(tp, type) and dataclasses.is_dataclass(tp):
        hints = typing.get_type_hints(tp)
        fields = dataclasses.fields(tp)
        return {
            "title": tp.__name__,
            "type": "object",
            "properties": {f.name: schema_of(hints[f.name]) for f in fields},
            "required": [
                f.name
                for f in fields
                if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
            ],
            "additionalProperties": False,
        }
    if isinstance(tp, type) and issubclass(tp, enum.Enum):
        return {"type": "string", "enum": [m.value for m in tp]}
    simple: dict[Any, dict[str, Any]] = {
        bool: {"type": "boolean"},
        int: {"type": "integer"},
        float: {"type": "number"},
        str: {"type": "string"},
        datetime: {"type": "string", "format": "date-time"},
        date: {"type": "string", "format": "date"},
    }
    return simple.get(tp, {})


def body(cls: type) -> dict[str, Any]:
    """`openapi_extra` for a route whose JSON body is `cls`."""
    return {
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": schema_of(cls)}},
        }
    }


#: Every refusal (4xx) has this body; see docs/sync-api.md.
ERROR = {
    "type": "object",
    "properties": {
        "error": {
            "type": "object",
            "properties": {"code": {"type": "string"}, "message": {"type": "string"}},
            "required": ["code", "message"],
        }
    },
    "required": ["error"],
}


def answer(cls: type) -> dict[int | str, dict[str, Any]]:
    """`responses` for a route answering `cls`, or refusing with an error (4xx)."""
    return {
        200: {"content": {"application/json": {"schema": schema_of(cls)}}},
        "4XX": {
            "description": "Refused: the error's code and message say why",
            "content": {"application/json": {"schema": ERROR}},
        },
    }

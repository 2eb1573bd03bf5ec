"""Turns domain dataclasses into plain JSON values and back, validating as it goes."""

from __future__ import annotations

import dataclasses
import enum
import types
import typing
from collections.abc import Callable
from datetime import UTC, date, datetime
from functools import cache
from typing import Any, TypeVar

T = TypeVar("T")


class DecodeError(ValueError):
    """A value does not fit the type it should have; the message names the field."""


def encode(value: Any) -> Any:
    """A dataclass (or any supported value) as JSON-compatible data."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: encode(getattr(value, f.name)) for f in _fields(type(value))}
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ValueError("naive datetimes are not allowed in the domain")
        return value.astimezone(UTC).isoformat().replace("+00:00", "Z")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, (tuple, list, frozenset, set)):
        items = [encode(v) for v in value]
        return sorted(items) if isinstance(value, (frozenset, set)) else items
    if isinstance(value, dict):
        return {str(k): encode(v) for k, v in value.items()}
    return value


@cache
def _fields(cls: type) -> tuple[dataclasses.Field[Any], ...]:
    return dataclasses.fields(cls)


@cache
def _hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)


def decode(cls: type[T], data: Any, where: str = "") -> T:
    """Build `cls` from JSON data; unknown keys are refused, missing ones use defaults."""
    return typing.cast(T, _decode(cls, data, where or cls.__name__))


def _decode(tp: Any, data: Any, where: str) -> Any:
    return _decoder(tp)(data, where)


Decoder = Callable[[Any, str], Any]


@cache
def _decoder(tp: Any) -> Decoder:
    """The checking decoder of one type, worked out once (a pull answer decodes
    thousands of rows of the same few types)."""
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        args = typing.get_args(tp)
        optional = type(None) in args
        inner = [a for a in args if a is not type(None)]

        def union(data: Any, where: str) -> Any:
            if data is None and optional:
                return None
            errors = []
            for arg in inner:
                try:
                    return _decoder(arg)(data, where)
                except DecodeError as exc:
                    errors.append(str(exc))
            raise DecodeError(
                errors[0] if len(errors) == 1 else f"{where}: invalid value {data!r}"
            )

        return union
    if origin is typing.Literal:
        allowed = typing.get_args(tp)

        def literal(data: Any, where: str) -> Any:
            if data not in allowed:
                raise DecodeError(f"{where}: must be one of {list(allowed)}")
            return data

        return literal
    if origin in (tuple, frozenset, list):
        args = typing.get_args(tp)
        item_tp = args[0] if args else Any
        make = origin

        def sequence(data: Any, where: str) -> Any:
            if not isinstance(data, list):
                raise DecodeError(f"{where}: expected a list")
            item = _decoder(item_tp)
            return make([item(v, f"{where}[{i}]") for i, v in enumerate(data)])

        return sequence
    if origin is dict:
        _, val_tp = typing.get_args(tp)

        def mapping(data: Any, where: str) -> Any:
            if not isinstance(data, dict):
                raise DecodeError(f"{where}: expected an object")
            if val_tp is Any:  # nothing to check or convert per value (a pulled row's data)
                if set(map(type, data)) <= {str}:  # JSON keys are text: copy in C
                    return dict(data)
                return {str(k): v for k, v in data.items()}
            value = _decoder(val_tp)
            return {str(k): value(v, f"{where}.{k}") for k, v in data.items()}

        return mapping
    if tp is Any:
        return lambda data, _where: data
    if isinstance(tp, type) and dataclasses.is_dataclass(tp):
        return lambda data, where: _decode_dataclass(tp, data, where)
    if isinstance(tp, type) and issubclass(tp, enum.Enum):
        members = tp

        def enumeration(data: Any, where: str) -> Any:
            try:
                return members(data)
            except ValueError:
                raise DecodeError(
                    f"{where}: must be one of {[m.value for m in members]}, not {data!r}"
                ) from None

        return enumeration
    if tp is bool:
        return _bool
    if tp is int:
        return _int
    if tp is float:
        return _float
    if tp is str:
        return _str
    if tp is datetime:
        return parse_datetime
    if tp is date:
        return _date

    def unsupported(data: Any, where: str) -> Any:
        raise DecodeError(f"{where}: unsupported type {tp!r}")

    return unsupported


def _bool(data: Any, where: str) -> Any:
    if not isinstance(data, bool):
        raise DecodeError(f"{where}: expected true or false")
    return data


def _int(data: Any, where: str) -> Any:
    if isinstance(data, bool) or not isinstance(data, int):
        raise DecodeError(f"{where}: expected a whole number")
    return data


def _float(data: Any, where: str) -> Any:
    if isinstance(data, bool) or not isinstance(data, (int, float)):
        raise DecodeError(f"{where}: expected a number")
    return float(data)


def _str(data: Any, where: str) -> Any:
    if not isinstance(data, str):
        raise DecodeError(f"{where}: expected text")
    return data


def _date(data: Any, where: str) -> Any:
    if not isinstance(data, str):
        raise DecodeError(f"{where}: expected a date YYYY-MM-DD")
    try:
        return date.fromisoformat(data)
    except ValueError:
        raise DecodeError(f"{where}: expected a date YYYY-MM-DD, not {data!r}") from None


def parse_datetime(data: Any, where: str = "value") -> datetime:
    """An ISO 8601 time with an offset (a trailing Z is UTC), as an aware datetime."""
    if not isinstance(data, str):
        raise DecodeError(f"{where}: expected an ISO 8601 time")
    try:
        value = datetime.fromisoformat(data.replace("Z", "+00:00"))
    except ValueError:
        raise DecodeError(f"{where}: expected an ISO 8601 time, not {data!r}") from None
    if value.tzinfo is None:
        raise DecodeError(f"{where}: the time {data!r} needs a UTC offset")
    return value.astimezone(UTC)


def _decode_dataclass(cls: type, data: Any, where: str) -> Any:
    if not isinstance(data, dict):
        raise DecodeError(f"{where}: expected an object")
    names, fields = _dataclass_plan(cls)
    if not names.issuperset(data):
        raise DecodeError(f"{where}: unknown field(s) {sorted(set(data) - names)}")
    kwargs = {}
    for name, decoder, required in fields:
        if name in data:
            kwargs[name] = decoder(data[name], f"{where}.{name}")
        elif required:
            raise DecodeError(f"{where}: missing field {name!r}")
    try:
        return cls(**kwargs)
    except (TypeError, ValueError) as exc:
        raise DecodeError(f"{where}: {exc}") from None


@cache
def _dataclass_plan(cls: type) -> tuple[frozenset[str], list[tuple[str, Decoder, bool]]]:
    hints = _hints(cls)
    fields = [
        (
            f.name,
            _decoder(hints[f.name]),
            f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING,
        )
        for f in _fields(cls)
    ]
    return frozenset(f.name for f in _fields(cls)), fields


def trusted_decoder(cls: type[T]) -> Callable[[dict[str, Any]], T]:
    """A fast decoder for data this program wrote itself (its own database, its own cloud).

    It converts field types but does not validate them; use `decode` for anything a
    person or another program could have written.
    """
    built: Callable[[dict[str, Any]], T] = _trusted(typing.cast(type, cls))
    return built


@cache
def _trusted(cls: type) -> Callable[[dict[str, Any]], Any]:
    hints = _hints(cls)
    converters = {f.name: _converter(hints[f.name]) for f in _fields(cls)}

    def build(data: dict[str, Any]) -> Any:
        return cls(
            **{
                name: convert(data[name]) if convert is not None else data[name]
                for name, convert in converters.items()
                if name in data
            }
        )

    return build


def _converter(tp: Any) -> Callable[[Any], Any] | None:
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        inner = [a for a in typing.get_args(tp) if a is not type(None)]
        convert = _converter(inner[0]) if len(inner) == 1 else None
        if convert is None:
            return None
        return lambda v: None if v is None else convert(v)
    if origin in (tuple, frozenset, list):
        args = typing.get_args(tp)
        item = _converter(args[0]) if args else None
        if item is None:
            return typing.cast(Callable[[Any], Any], origin)
        return lambda v: origin(item(x) for x in v)
    if isinstance(tp, type) and dataclasses.is_dataclass(tp):
        return _trusted(tp)
    if isinstance(tp, type) and issubclass(tp, enum.Enum):
        return tp
    if tp is datetime:
        return lambda v: datetime.fromisoformat(v.replace("Z", "+00:00"))
    if tp is date:
        return date.fromisoformat
    return None

"""A fast, strict reader of event batches, compiled from the event models: the collector's ingest fast path.

The pydantic models in `trajectory.events` are the schema. This module compiles them once into msgspec
structures that check the same constraints (types, lengths, ranges, patterns, literals, no unknown fields)
without any of pydantic's leniency (no coercion of "5" to 5, RFC 3339 times only, UTC only). So whatever it
accepts the models accept too, and it only ever says "all valid" or "ask the models": a batch it does not take
goes to the models, which explain each rejection. About four times cheaper than the models on real batches.
"""

from __future__ import annotations

import operator
import re
import types
import typing
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, Literal, Union
from uuid import UUID

import annotated_types
import msgspec
from pydantic import AwareDatetime, BaseModel
from pydantic.fields import FieldInfo

from trajectory.events import EVENT_CLASSES

_ZERO = timedelta(0)
_UUID_TEXT = r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\Z"
_Check = Callable[[Any], bool]  # True when every time in the value is in UTC


class UnsupportedSchema(TypeError):
    """A model uses a type or a constraint this compiler does not mirror (so it would not be as strict)."""


def _pattern(regex: str) -> str:
    # Python's `$` also matches before a final newline; pydantic's (Rust) does not: anchor at the very end.
    return regex[:-1] + r"\Z" if regex.endswith("$") and not regex.endswith(r"\$") else regex


def _meta(constraints: list[Any]) -> msgspec.Meta | None:
    kwargs: dict[str, Any] = {}
    for item in constraints:
        if isinstance(item, annotated_types.MaxLen):
            kwargs["max_length"] = item.max_length
        elif isinstance(item, annotated_types.MinLen):
            kwargs["min_length"] = item.min_length
        elif isinstance(item, annotated_types.Ge | annotated_types.Le | annotated_types.Gt | annotated_types.Lt):
            name = type(item).__name__.lower()
            kwargs[name] = getattr(item, name)
        elif getattr(item, "pattern", None) is not None:
            kwargs["pattern"] = _pattern(item.pattern)
        elif type(item).__name__ == "AfterValidator" and getattr(item.func, "__name__", "") == "_to_utc":
            continue  # normalisation to UTC: the fast path takes UTC times only (see `_utc`)
        else:
            raise UnsupportedSchema(f"constraint {item!r} has no strict mirror")
    return msgspec.Meta(**kwargs) if kwargs else None


def _flat(constraints: list[Any]) -> list[Any]:
    """Constraints with pydantic's `Field(...)` objects opened up."""
    flat: list[Any] = []
    for item in constraints:
        flat.extend(item.metadata if isinstance(item, FieldInfo) else [item])
    return flat


class _Compiler:
    """Turns models into structs, remembering where times are so that non-UTC ones can be sent to the models."""

    def __init__(self) -> None:
        self.structs: dict[type[BaseModel], type[msgspec.Struct]] = {}
        self.checks: dict[type[msgspec.Struct], _Check] = {}

    def type_of(self, annotation: Any, constraints: list[Any]) -> tuple[Any, _Check | None]:
        """The msgspec type of an annotation, and a check of its times (None when it holds no time)."""
        origin, args = typing.get_origin(annotation), typing.get_args(annotation)
        if origin is Annotated:
            return self.type_of(args[0], _flat([*args[1:], *constraints]))
        if origin in (Union, types.UnionType):
            parts = [self.type_of(arg, constraints if arg is not type(None) else []) for arg in args]
            checks = [check for _, check in parts if check is not None]
            return Union[tuple(t for t, _ in parts)], (checks[0] if checks else None)  # noqa: UP007
        if origin is list:
            item, check = self.type_of(args[0], [])
            meta = _meta(constraints)
            listed = Annotated[list[item], meta] if meta else list[item]  # type: ignore[valid-type]
            return listed, (lambda values: all(check(v) for v in values)) if check else None
        meta = _meta(constraints)
        if isinstance(annotation, type) and issubclass(annotation, BaseModel) and meta is None:
            struct = self.struct_of(annotation)
            return struct, self.checks.get(struct)
        if annotation in (AwareDatetime, datetime) and meta is None:
            return Annotated[datetime, msgspec.Meta(tz=True)], _utc
        if annotation is UUID and meta is None:
            # canonical text only (lower-case, hyphenated): stricter than the models, and no UUID object to print
            return Annotated[str, msgspec.Meta(pattern=_UUID_TEXT)], None
        if origin is Literal or annotation in (str, int, float, bool, type(None)):
            return (Annotated[annotation, meta] if meta else annotation), None
        raise UnsupportedSchema(f"type {annotation!r} has no strict mirror")

    def struct_of(self, model: type[BaseModel], tag: str | None = None) -> type[msgspec.Struct]:
        if tag is None and model in self.structs:
            return self.structs[model]
        fields: list[tuple[Any, ...]] = []
        time_checks: list[tuple[str, _Check]] = []
        for name, info in model.model_fields.items():
            if name == "kind" and tag is not None:
                continue  # the union's tag
            kind, check = self.type_of(info.annotation, _flat(list(info.metadata)))
            if check is not None:
                time_checks.append((name, check))
            if info.is_required():
                fields.append((name, kind))
            elif info.default_factory is not None:
                fields.append((name, kind, msgspec.field(default_factory=info.default_factory)))  # type: ignore[arg-type]
            else:
                fields.append((name, kind, info.default))
        options: dict[str, Any] = {"forbid_unknown_fields": True, "kw_only": True}
        if tag is not None:
            options.update(tag_field="kind", tag=tag)
        struct = msgspec.defstruct(f"Strict{model.__name__}", fields, **options)
        if tag is None:
            self.structs[model] = struct
        if time_checks:
            self.checks[struct] = _all_utc(time_checks)
        return struct


def _utc(value: datetime | None) -> bool:
    # msgspec gives its own UTC object for Z, +00:00 and -00:00: the identity test settles almost every time
    return value is None or value.tzinfo is UTC or value.utcoffset() == _ZERO


def _all_utc(checks: list[tuple[str, _Check]]) -> _Check:
    if len(checks) == 1:  # most events: the envelope's `ts` is their only time (checked once per event: keep lean)
        name, test = checks[0]
        field = operator.attrgetter(name)
        return lambda value: value is None or test(field(value))

    def check(value: Any) -> bool:
        return value is None or all(test(getattr(value, name)) for name, test in checks)

    return check


def _compile() -> tuple[dict[type[msgspec.Struct], str], dict[type[msgspec.Struct], _Check]]:
    compiler = _Compiler()
    tagged = {compiler.struct_of(model, tag=kind): kind for kind, model in EVENT_CLASSES.items()}
    return tagged, compiler.checks


KIND, _CHECKS = _compile()
"""The `kind` of each type of event that `read_batch` gives (`KIND[type(event)]`); ids come as canonical text."""
_EVENT = msgspec.json.Decoder(Union[tuple(KIND)])  # noqa: UP007
_ARRAY = msgspec.json.Decoder(list[msgspec.Raw])


class _Envelope(msgspec.Struct):
    events: list[msgspec.Raw]


_OBJECT = msgspec.json.Decoder(_Envelope)
_OBJECT_START = re.compile(rb"\s*\{")


def read_batch(body: bytes) -> list[tuple[Any, bytes]] | None:
    """Every event of a batch (`{"events": [...]}` or a bare array) with its JSON as sent, when all of them are
    valid with UTC times; None otherwise (then the models decide, item by item)."""
    try:
        raws = _OBJECT.decode(body).events if _OBJECT_START.match(body) else _ARRAY.decode(body)
        decoded = [(_EVENT.decode(raw), bytes(raw)) for raw in raws]
    except (msgspec.ValidationError, msgspec.DecodeError):
        return None
    return decoded if all(_times_utc(event) for event, _ in decoded) else None


def read_event(line: bytes) -> Any | None:
    """One event (a JSON object), when it is valid with UTC times; None otherwise (then the models decide)."""
    try:
        event = _EVENT.decode(line)
    except (msgspec.ValidationError, msgspec.DecodeError):
        return None
    return event if _times_utc(event) else None


def _times_utc(event: Any) -> bool:
    """Whether every time in a decoded event is in UTC (any other goes to the models, which convert it)."""
    check = _CHECKS.get(type(event))
    return check is None or check(event)

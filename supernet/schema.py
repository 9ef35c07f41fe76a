"""Checked config sections: the one helper every config dataclass uses for the types and ranges of its keys.

A section is a frozen dataclass deriving from :class:`Section`.  Each field's annotation is its type
(``int``, ``float``, ``bool``, ``str``, ``X | None``, ``X | Y``, ``tuple[X, ...]``, ``tuple[X, Y]``,
``dict[str, X]``); a field declared with :func:`setting` also carries its range (``ge``/``gt``/``le``/``lt``,
applied to every element of a tuple) and its allowed values (``choices``).  Building a section checks every
value, so a typo in a TOML file fails at load time with the file and key named, not later in a traceback:

* integers: an integral float (``3.0``) becomes ``3``; ``2.5``, ``"3"`` and booleans are errors;
* floats: an int becomes a float; NaN, infinities, strings and booleans are errors;
* booleans: only ``true``/``false``; strings: only strings; lists become tuples.

Cross-key rules (``lr_min <= lr``) live in a section's :meth:`Section.check`.  :func:`build_section` also
rejects unknown keys and prefixes every message with the file it came from.
"""

from __future__ import annotations

import functools
import math
import operator
import types
from dataclasses import field, fields
from typing import Any, Callable, ClassVar, TypeVar, Union, get_args, get_origin, get_type_hints

__all__ = ["Section", "setting", "build_section", "show"]

S = TypeVar("S", bound="Section")

_BOUNDS: dict[str, tuple[Callable[[Any, Any], bool], str]] = {
    "ge": (operator.ge, ">="), "gt": (operator.gt, ">"), "le": (operator.le, "<="), "lt": (operator.lt, "<"),
}
_NAMES = {bool: ("true or false", "booleans"), int: ("an integer", "integers"), float: ("a number", "numbers"),
          str: ("a string", "strings")}


def setting(
    default: Any, *, ge: float | None = None, gt: float | None = None, le: float | None = None,
    lt: float | None = None, choices: tuple[Any, ...] | None = None,
) -> Any:
    """A dataclass field with ``default`` whose value must satisfy the given bounds and be one of ``choices``."""
    meta: dict[str, Any] = {k: v for k, v in (("ge", ge), ("gt", gt), ("le", le), ("lt", lt)) if v is not None}
    if choices is not None:
        meta["choices"] = tuple(choices)
    return field(default=default, metadata=meta)


def show(value: Any, limit: int = 60) -> str:
    """``repr(value)``, cut to ``limit`` characters so a long input is echoed only in part."""
    r = repr(value)
    return r if len(r) <= limit else r[: limit - 3] + "..."


class _Mismatch(Exception):
    """A value does not fit a type; ``args[0]`` says what it should be ("an integer")."""


def _describe(tp: Any, plural: bool = False) -> str:
    origin = get_origin(tp)
    if origin in (Union, types.UnionType):
        return " or ".join(_describe(a, plural) for a in get_args(tp) if a is not type(None))
    if origin is tuple:
        args = get_args(tp)
        what = "lists" if plural else "a list"
        if len(args) == 2 and args[1] is Ellipsis:
            return f"{what} of {_describe(args[0], True)}"
        return f"{what} of {len(args)} {_describe(args[0], True)}"
    if origin is dict:
        return f"a table of {_describe(get_args(tp)[1], True)}"
    return _NAMES.get(tp, (getattr(tp, "__name__", str(tp)),) * 2)[int(plural)]


def _convert(value: Any, tp: Any) -> Any:
    """``value`` as type ``tp`` (see the module docstring), or :class:`_Mismatch`."""
    origin = get_origin(tp)
    if origin in (Union, types.UnionType):
        args = get_args(tp)
        if value is None and type(None) in args:
            return None
        for a in args:
            if a is not type(None):
                try:
                    return _convert(value, a)
                except _Mismatch:
                    pass
        raise _Mismatch(_describe(tp))
    if tp is bool:
        if isinstance(value, bool):
            return value
    elif tp is int:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        if isinstance(value, float) and value.is_integer():
            return int(value)
    elif tp is float:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            if not math.isfinite(value):
                raise _Mismatch("a finite number")
            return float(value)
    elif tp is str:
        if isinstance(value, str):
            return value
    elif origin is tuple:
        args = get_args(tp)
        if isinstance(value, (list, tuple)):
            if len(args) == 2 and args[1] is Ellipsis:
                args = (args[0],) * len(value)
            if len(value) == len(args):
                try:
                    return tuple(_convert(v, a) for v, a in zip(value, args))
                except _Mismatch:
                    pass
    elif origin is dict:
        kt, vt = get_args(tp)
        if isinstance(value, dict):
            try:
                return {_convert(k, kt): _convert(v, vt) for k, v in value.items()}
            except _Mismatch:
                pass
    else:  # an annotation this helper does not know is not checked
        return value
    raise _Mismatch(_describe(tp))


@functools.lru_cache(maxsize=None)
def _hints(cls: type) -> dict[str, Any]:
    return get_type_hints(cls)


def _check_range(value: Any, meta: Any, where: str) -> None:
    choices = meta.get("choices")
    if choices is not None and value not in choices:
        raise ValueError(f"{where} must be one of {', '.join(map(repr, choices))}, got {show(value)}")
    items = value if isinstance(value, tuple) else (value,)
    for v in items:
        if not isinstance(v, (int, float)) or isinstance(v, bool):
            continue
        for key, (ok, sym) in _BOUNDS.items():
            if key in meta and not ok(v, meta[key]):
                raise ValueError(f"{where} must be {sym} {meta[key]}, got {show(value)}")


class Section:
    """Base of a checked config section (a frozen dataclass): types and ranges are checked on creation.

    Subclasses set ``SECTION`` (the TOML table name used in messages) and may override :meth:`check`.
    """

    SECTION: ClassVar[str] = ""

    def __post_init__(self) -> None:
        hints = _hints(type(self))
        for f in fields(self):  # type: ignore[arg-type]
            where = f"[{self.SECTION}] {f.name}"
            value = getattr(self, f.name)
            try:
                new = _convert(value, hints[f.name])
            except _Mismatch as m:
                raise ValueError(f"{where} must be {m.args[0]}, got {show(value)}") from None
            _check_range(new, f.metadata, where)
            object.__setattr__(self, f.name, new)
        self.check()

    def check(self) -> None:
        """Rules between keys of this section; raise ValueError naming ``[section] key``."""


def build_section(cls: type[S], values: Any, where: str) -> S:
    """``cls(**values)`` for the TOML table ``values`` (None = empty) read from ``where`` (a file name, in every
    message); unknown keys, wrong types and values out of range are ValueErrors naming the file, section and key."""
    name = cls.SECTION
    values = {} if values is None else values
    if not isinstance(values, dict):
        raise ValueError(f"{where}: [{name}] must be a table of settings, got {show(values)}")
    known = [f.name for f in fields(cls)]  # type: ignore[arg-type]
    unknown = sorted(set(values) - set(known))
    if unknown:
        raise ValueError(f"{where}: unknown key(s) {show(unknown, 200)} in [{name}]; known: {', '.join(known)}")
    try:
        return cls(**values)
    except ValueError as e:
        raise ValueError(f"{where}: {e}") from None

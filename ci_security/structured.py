"""JSON from untrusted sources, bounded: size, nesting depth and text validity checked in one place.

Every JSON document the tool reads from an image, a repository, a cache or a mirror goes through
`load_json`, so a deeply nested, oversized or undecodable document is one clear error naming the
document, never a `RecursionError` traceback or a crash. Typed accessors (`field`) let callers
check the types they use at the boundary and name the key that is wrong.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, TypeVar

from ci_security import limits
from ci_security.errors import CiSecurityError

T = TypeVar("T")


class DocumentError(CiSecurityError):
    """A JSON document is malformed, too deep, too large or of the wrong shape; the message names it."""


def depth(value: Any) -> int:
    """Nesting depth of a decoded JSON value (a scalar is 0), computed without recursion.

    Level by level: one pass per level over that level's values, without a (value, level) pair per
    value, so a wide document of millions of tiny values (`[[],[],…]`) costs a fraction of a second.
    """
    level = 0
    frontier: list[Any] = [value]
    while True:
        following: list[Any] = []
        extend = following.extend
        found = False
        for item in frontier:
            if isinstance(item, dict):
                found = True
                extend(item.values())
            elif isinstance(item, list):
                found = True
                extend(item)
        if not found:
            return level
        level += 1
        frontier = following


def load_json(
    data: bytes | str,
    where: str,
    *,
    max_bytes: int | None = None,
    size_limit: str = "document_bytes",
    error: Callable[[str], CiSecurityError] = DocumentError,
) -> Any:
    """Decode `data` (a whole document) after checking its size; refuse nesting past the limit.

    `where` names the document in messages; `error` builds the exception (callers pass their
    stage's error class so the CLI reports it the usual way).
    """
    active = limits.active()
    bound = max_bytes if max_bytes is not None else getattr(active, size_limit)
    if len(data) > bound:
        raise limits.LimitExceededError(where, size_limit, f"{len(data):,} bytes")
    if isinstance(data, bytes):
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise error(f"{where}: not UTF-8 (byte {exc.start})") from None
    else:
        text = data
    try:
        value = json.loads(text)
    except RecursionError:
        raise limits.LimitExceededError(where, "nesting_depth", "nested too deeply to decode") from None
    except json.JSONDecodeError as exc:
        raise error(f"{where}: invalid JSON at line {exc.lineno} column {exc.colno}: {exc.msg}") from None
    except ValueError as exc:  # e.g. an integer literal of more digits than int() accepts
        raise error(f"{where}: invalid JSON: {str(exc).splitlines()[0][:120]}") from None
    if depth(value) > active.nesting_depth:
        raise limits.LimitExceededError(where, "nesting_depth")
    return value


def field(
    obj: Any,
    key: str,
    kind: type[T] | tuple[type, ...],
    where: str,
    *,
    default: T | None = None,
    required: bool = False,
    error: Callable[[str], CiSecurityError] = DocumentError,
) -> T:
    """`obj[key]` when `obj` is an object and the value has type `kind`; `default` when the key is
    absent (or an error when `required`); an error naming `where` and the key when the type is wrong.
    """
    if not isinstance(obj, dict):
        raise error(f"{where}: expected a JSON object, found {kind_of(obj)}")
    if key not in obj or obj[key] is None:
        if required:
            raise error(f"{where}: missing {key!r}")
        return default  # type: ignore[return-value]
    value = obj[key]
    # bool is an int in Python; JSON true is never a number here.
    if isinstance(value, bool) and not _accepts_bool(kind):
        raise error(f"{where}: {key!r} must be {_name(kind)}, found a boolean")
    if not isinstance(value, kind):
        raise error(f"{where}: {key!r} must be {_name(kind)}, found {kind_of(value)}")
    return value  # type: ignore[return-value]


def _accepts_bool(kind: type | tuple[type, ...]) -> bool:
    kinds = kind if isinstance(kind, tuple) else (kind,)
    return bool in kinds


_NAMES = {
    dict: "an object",
    list: "an array",
    str: "a string",
    int: "an integer",
    float: "a number",
    bool: "a boolean",
}


def _name(kind: type | tuple[type, ...]) -> str:
    kinds = kind if isinstance(kind, tuple) else (kind,)
    return " or ".join(_NAMES.get(k, k.__name__) for k in kinds)


def kind_of(value: Any) -> str:
    """How a decoded JSON value is called in messages ("an array", "null", ...)."""
    if value is None:
        return "null"
    return _NAMES.get(type(value), type(value).__name__)

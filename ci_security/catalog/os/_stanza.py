"""Streaming reader for RFC 822-style stanza files (dpkg `status`), used by the dpkg cataloger.

Stanzas are separated by blank lines; a line starting with a space or tab continues the previous
field. Only the fields asked for are kept, so a multi-megabyte `Description` costs nothing.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from typing import BinaryIO


def iter_stanzas(stream: BinaryIO, fields: frozenset[str]) -> Iterator[tuple[int, dict[str, str]]]:
    """Yield (line number of the stanza's first line, {field: value}) for each stanza."""
    text = io.TextIOWrapper(stream, encoding="utf-8", errors="replace", newline=None)
    current: dict[str, str] = {}
    start = 0
    key: str | None = None
    for lineno, line in enumerate(text, 1):
        if not line.strip():
            if start:
                yield start, current
            current, key, start = {}, None, 0
            continue
        if not start:
            start = lineno
        if line[0] in " \t":
            if key is not None:
                current[key] += "\n" + line.strip()
            continue
        name, sep, value = line.partition(":")
        name = name.strip()
        if sep and name in fields:
            key = name
            current[name] = value.strip()
        else:
            key = None
    if start:
        yield start, current

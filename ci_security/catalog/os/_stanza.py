"""Streaming reader for RFC 822-style stanza files (dpkg `status`), used by the dpkg cataloger.

Stanzas are separated by blank lines; a line starting with a space or tab continues the previous
field. Only the fields asked for are kept, so a multi-megabyte `Description` costs nothing.

The file comes from an image, so it is read within the limits of `catalog.bounded`: a physical line
and a kept field's value (continuations included) are at most `line_bytes`, a stanza has at most
`continuation_lines` continuation lines, a file at most `package_entries` stanzas. Continuations
are collected and joined once, so the work is linear in the file's size.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import BinaryIO

from ci_security.catalog.bounded import Continuations, Entries, Joined, lines


def iter_stanzas(stream: BinaryIO, fields: frozenset[str]) -> Iterator[tuple[int, dict[str, str]]]:
    """Yield (line number of the stanza's first line, {field: value}) for each stanza."""
    entries = Entries("stanzas")
    current: dict[str, Joined] = {}
    start = 0
    key: str | None = None
    continuations = Continuations()
    for lineno, line in lines(stream):
        if not line.strip():
            if start:
                yield start, {name: joined.value() for name, joined in current.items()}
            current, key, start = {}, None, 0
            continue
        if not start:
            start = lineno
            entries.add()
            continuations = Continuations()
        if line[0] in " \t":
            continuations.add(f"stanza at line {start}")
            if key is not None:
                current[key].add(line.strip())
            continue
        name, sep, value = line.partition(":")
        name = name.strip()
        if sep and name in fields:
            key = name
            current[name] = Joined(value.strip(), f"line {lineno}")
        else:
            key = None
    if start:
        yield start, {name: joined.value() for name, joined in current.items()}

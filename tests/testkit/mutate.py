"""Mutation fuzzing: deterministic variants of a real input, for parsers that must never fail other
than the documented way.

`mutants(seed, rng, count)` yields `count` variants of `seed`, each made by one to four operations:
flip a bit, overwrite a byte with a boundary value, insert a token that matters to text formats
(newlines, continuation markers, quotes, escapes, JSON surrogates, deep brackets), delete, repeat or
copy a span, or truncate. Repeating a span is what turns one continuation line into thousands, so
the shapes that used to be quadratic come up by themselves. Variants grow to at most `max_size`
(or the seed's size) so a test stays fast; the generator is driven by the caller's `random.Random`,
so a fixed seed replays a run.
"""

from __future__ import annotations

import random
from collections.abc import Iterator, Sequence

TOKENS: tuple[bytes, ...] = (
    b"\n",
    b"\r\n",
    b"\n ",
    b"\n\t",
    b"\n\n",
    b" \\\n",
    b"\\",
    b":",
    b"=",
    b"\x00",
    b"\xff",
    b"\xc3",
    b'"',
    b"'",
    b"[",
    b"{",
    b"}",
    b"]",
    b'"\\ud800"',
    b"\\udfff",
    b"$",
    b"${",
    b"$(",
    b"`",
    b"#",
    b"<<EOF",
    b"-----",
    b"9" * 40,
    b"\xe2\x80\xae",
)
_BOUNDARY = (0x00, 0x01, 0x7F, 0x80, 0xFF, 0x0A, 0x20, 0x3A, 0x5C)


def mutants(
    seed: bytes,
    rng: random.Random,
    count: int,
    *,
    tokens: Sequence[bytes] = TOKENS,
    max_size: int = 1 << 20,
    same_size: bool = False,
) -> Iterator[bytes]:
    """`count` mutated copies of `seed` (see the module docstring). With `same_size` only bytes are
    changed in place, which keeps a paged binary format's structure and reaches the code behind its
    size checks.
    """
    cap = max(max_size, len(seed))
    for _ in range(count):
        data = bytearray(seed)
        for _ in range(rng.randint(1, 4)):
            if same_size:
                _overwrite(data, rng, tokens)
            else:
                _mutate(data, rng, tokens)
            if len(data) > cap:
                del data[cap:]
        yield bytes(data)


def _overwrite(data: bytearray, rng: random.Random, tokens: Sequence[bytes]) -> None:
    size = len(data)
    if not size:
        return
    at = rng.randrange(size)
    operation = rng.randrange(4)
    if operation == 0:
        data[at] ^= 1 << rng.randrange(8)
    elif operation == 1:
        data[at] = rng.choice(_BOUNDARY)
    elif operation == 2:
        token = rng.choice(tokens)[: size - at]
        data[at : at + len(token)] = token
    else:
        # a 32-bit field set to a boundary value: counts, offsets and lengths are what binary
        # parsers must distrust
        value = rng.choice((0, 1, 0x7FFFFFFF, 0x80000000, 0xFFFFFFFF, size, size + 1))
        field = value.to_bytes(4, rng.choice(("little", "big")))[: size - at]
        data[at : at + len(field)] = field


def _mutate(data: bytearray, rng: random.Random, tokens: Sequence[bytes]) -> None:
    size = len(data)
    at = rng.randint(0, size)
    operation = rng.randrange(8)
    if operation == 0 and size:
        position = min(at, size - 1)
        data[position] ^= 1 << rng.randrange(8)
    elif operation == 1 and size:
        data[min(at, size - 1)] = rng.choice(_BOUNDARY)
    elif operation == 2:
        data[at:at] = rng.choice(tokens) * rng.choice((1, 1, 1, 2, 16, 500))
    elif operation == 3 and size:
        del data[at : at + rng.randint(1, 64)]
    elif operation == 4 and size:
        span = bytes(data[at : at + rng.randint(1, 32)])
        data[at:at] = span * rng.choice((2, 10, 1000, 20000))
    elif operation == 5 and size:
        start = rng.randrange(size)
        data[at:at] = data[start : start + rng.randint(1, 256)]
    elif operation == 6:
        del data[rng.randint(0, size) :]
    else:
        data[at:at] = rng.choice(tokens)

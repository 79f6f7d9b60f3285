"""The strict digest grammar: what may become part of a URL or a file name."""

from __future__ import annotations

import pytest

from ci_security.errors import ImageError
from ci_security.image.digest import parse_digest

SHA256 = "sha256:" + "ab" * 32
SHA512 = "sha512:" + "0f" * 64


@pytest.mark.parametrize("good", [SHA256, SHA512])
def test_canonical_digests_pass(good):
    assert parse_digest(good, "here") == good


@pytest.mark.parametrize(
    "bad",
    [
        "sha256:aaaa/bbbb",
        "sha256:" + "ab" * 31 + "a/",
        "sha256:" + "AB" * 32,  # upper case is not canonical
        "sha256:" + "ab" * 33,
        "sha512:" + "ab" * 32,
        "md5:" + "ab" * 16,
        SHA256 + "\n",
        SHA256[:-1] + "\x00",
        "sha256:../../../../etc/passwd",
        "",
        None,
        42,
    ],
)
def test_everything_else_is_refused_by_name(bad):
    with pytest.raises(ImageError, match=r"^manifest config: invalid digest ") as err:
        parse_digest(bad, "manifest config")
    assert "\n" not in str(err.value) and "\x00" not in str(err.value)


def test_a_long_value_is_shown_shortened():
    with pytest.raises(ImageError) as err:
        parse_digest("sha256:" + "z" * 10_000, "layer 3")
    assert len(str(err.value)) < 200

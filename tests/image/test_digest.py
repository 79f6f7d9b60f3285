"""The one digest grammar: only what can be verified, and nothing that could become a path."""

import hashlib

import pytest

from ci_security.errors import ImageError
from ci_security.image.digest import blob_path, check_digest, file_name, is_digest, verify

SHA256 = "sha256:" + "a" * 64
SHA512 = "sha512:" + "0" * 128


@pytest.mark.parametrize("value", [SHA256, SHA512, "sha256:" + hashlib.sha256(b"x").hexdigest()])
def test_accepted(value):
    assert is_digest(value)
    assert check_digest(value, "f") == value


@pytest.mark.parametrize(
    "value",
    [
        "sha256:aaaa/bbbb",
        "sha256:" + "a" * 63 + "/",
        "sha256:" + "a" * 64 + "\n",
        "sha256:" + "a" * 64 + "\0",
        "sha256:" + "a" * 32 + "\0" + "a" * 31,
        "sha256:" + "A" * 64,  # upper case is not the registered encoding
        "sha256:" + "a" * 65,
        "sha256:" + "a" * 128,
        "sha512:" + "a" * 64,
        "sha256:../../../../etc/passwd",
        "md5:" + "a" * 32,
        "sha384:" + "a" * 96,
        "SHA256:" + "a" * 64,
        ":" + "a" * 64,
        "a" * 64,
        "",
        " sha256:" + "a" * 64,
    ],
)
def test_refused(value):
    assert not is_digest(value)
    with pytest.raises(ImageError, match=r"index.json 'digest': invalid digest"):
        check_digest(value, "index.json 'digest'")


@pytest.mark.parametrize("value", [None, 7, ["sha256:" + "a" * 64], {"digest": SHA256}])
def test_not_a_string(value):
    assert not is_digest(value)
    with pytest.raises(ImageError, match="must be a string"):
        check_digest(value, "x")


def test_paths_and_names_only_from_valid_digests():
    assert blob_path(SHA256, "f") == "blobs/sha256/" + "a" * 64
    assert file_name(SHA512, "f") == "sha512-" + "0" * 128
    with pytest.raises(ImageError, match="invalid digest"):
        blob_path("sha256:aaaa/bbbb", "layer")
    with pytest.raises(ImageError, match="invalid digest"):
        file_name("sha256:..", "layer")


def test_verify():
    data = b"content"
    good = "sha256:" + hashlib.sha256(data).hexdigest()
    verify(data, good, "blob")
    with pytest.raises(ImageError, match="does not match its digest"):
        verify(b"other", good, "blob")
    with pytest.raises(ImageError, match="invalid digest"):
        verify(data, "md5:" + hashlib.md5(data).hexdigest(), "blob")


@pytest.mark.parametrize(
    "value", ["sha256:" + "ab" * 32 + "\n", "sha256:" + "ab" * 31 + "a\x00", "sha256:" + "z" * 10_000]
)
def test_the_message_is_one_short_line(value):
    with pytest.raises(ImageError) as err:
        check_digest(value, "layer 3")
    text = str(err.value)
    assert "\n" not in text and "\x00" not in text and len(text) < 250

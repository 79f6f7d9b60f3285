"""Package-URLs (https://github.com/package-url/purl-spec): built, parsed and compared here only.

Building: OS packages carry the distribution the way Trivy writes it, so purls can be compared across
tools: `pkg:deb/debian/bsdutils@2.38.1-5%2Bdeb12u3?arch=amd64&distro=debian-12.15&epoch=1` (the epoch
is a qualifier and is left out of the version) and `pkg:apk/alpine/musl@1.2.4-r2?arch=x86_64&distro=3.19.1`
(apk takes the bare release as its distro). Language names are split into namespace and name the way
the spec says for the type (`group:artifact` for Maven, `@scope/name` for npm, a Go module path's last
element), and PyPI names are normalised (PEP 503, `packaging.utils.canonicalize_name`).

Every component is percent-encoded except the spec's unreserved characters and `:`, so a `/` inside a
name or version is `%2F` and cannot be mistaken for a separator; a lone surrogate (an undecodable
byte in a name) cannot be UTF-8 and is written as U+FFFD. This is where the string differs from
packageurl-python's `to_string`, which leaves `/` unencoded, lower-cases npm and apk names, keeps the
dots of a PyPI name, strips spaces around a version and raises on a lone surrogate: ci-security keeps
its own (stable, already published) form and the tests check that packageurl-python reads every purl
built here back to the same components. Image purls (`pkg:oci/…`) follow the spec's own oci examples
instead: the digest's `:` encoded, the repository URL's `/` left as they are.

Parsing is packageurl-python's (`PackageURL.from_string`); text it rejects is not a purl, and the
importers and the VEX reader refuse it where it enters.

Comparing, two rules, one per place a user writes a purl:
- `same_package` (VEX products): type, namespace and name equal, case-insensitively and
  percent-decoded, PyPI names normalised; the version only when the pattern has one; qualifiers never;
- `purl_prefix_matches` (policy `packages`): the pattern, percent-decoded and lower-cased without its
  qualifiers and subpath, is a prefix of the purl's ending at a separator (`pkg:deb/debian/libwebp7`
  matches `pkg:deb/debian/libwebp7@1.2?arch=…` but not `…/libwebp7-dev`); with `*`, `?` or `[` it is a
  glob on that form instead.
"""

from __future__ import annotations

import re
from fnmatch import fnmatchcase
from functools import lru_cache
from urllib.parse import quote, unquote

from packageurl import PackageURL
from packaging.utils import canonicalize_name

from ci_security.models.image import OSInfo
from ci_security.models.package import Package
from ci_security.models.packagetype import is_os_type

_SURROGATES = re.compile("[\ud800-\udfff]")
# Types whose package names carry a namespace: the separator the name is written with here.
_NAMESPACE_SEPARATOR = {"maven": ":", "npm": "/", "golang": "/", "composer": "/"}
_GLOB = frozenset("*?[")


def _enc(text: str) -> str:
    return quote(_SURROGATES.sub("\ufffd", text), safe=":")


def _without_epoch(version: str) -> str:
    head, sep, rest = version.partition(":")
    return rest if sep and head.isdigit() else version


def _split_name(purl_type: str, name: str) -> tuple[str | None, str]:
    """A language package name as purl namespace and name."""
    if purl_type == "pypi":
        return None, canonicalize_name(name)
    separator = _NAMESPACE_SEPARATOR.get(purl_type)
    if separator == ":" and ":" in name:
        group, _, artifact = name.partition(":")
        return group, artifact
    if separator == "/" and "/" in name:
        namespace, _, short = name.rpartition("/")
        return namespace, short
    return None, name


def render(
    purl_type: str,
    namespace: str | None,
    name: str,
    version: str | None = None,
    qualifiers: dict[str, str] | None = None,
) -> str:
    """The purl of these components, encoded as the module docstring says (qualifiers sorted by key)."""
    out = f"pkg:{purl_type}/"
    if namespace:
        out += "/".join(_enc(part) for part in namespace.split("/")) + "/"
    out += _enc(name)
    if version:
        out += "@" + _enc(version)
    if qualifiers:
        out += "?" + "&".join(f"{k}={_enc(v)}" for k, v in sorted(qualifiers.items()))
    return out


def build_purl(pkg: Package, os_info: OSInfo | None, namespace: str | None = None) -> str:
    """Return the purl of `pkg`; OS packages are namespaced by the OS family and carry `distro`."""
    qualifiers: dict[str, str] = {}
    version = pkg.version
    if is_os_type(pkg.type):
        if os_info is not None:
            namespace = namespace or os_info.family
            if os_info.version:
                qualifiers["distro"] = (
                    os_info.version if pkg.type == "apk" else f"{os_info.family}-{os_info.version}"
                )
        if pkg.arch:
            qualifiers["arch"] = pkg.arch
        if pkg.epoch:
            qualifiers["epoch"] = str(pkg.epoch)
            version = _without_epoch(version)
    name = pkg.name
    if namespace is None:
        namespace, name = _split_name(pkg.type, name)
    return render(pkg.type, namespace, name, version, qualifiers)


def oci_purl(name: str, repository_url: str, *, digest: str = "", tag: str = "") -> str:
    """An image's purl: `pkg:oci/NAME@DIGEST?repository_url=…`, or `…?repository_url=…&tag=…` without
    a digest (the spec's examples: the digest's `:` encoded, the repository URL's `/` kept).
    """
    qualifiers = "repository_url=" + quote(repository_url, safe="/")
    if digest:
        return f"pkg:oci/{name}@{quote(digest, safe='')}?{qualifiers}"
    if tag:
        qualifiers += f"&tag={quote(tag, safe='')}"
    return f"pkg:oci/{name}?{qualifiers}"


@lru_cache(maxsize=4096)
def parse_purl(text: str) -> PackageURL | None:
    """`text` as packageurl-python reads it, or None when it is not a purl. Cached: VEX matching
    compares the same few purls for every finding. The result must not be changed.
    """
    if not text.startswith("pkg:"):
        return None
    try:
        return PackageURL.from_string(text)
    except ValueError:
        return None


def purl_type(text: str) -> str | None:
    """The (lower-cased) type of a purl, or None when `text` is not one."""
    purl = parse_purl(text)
    return purl.type if purl is not None else None


def purl_qualifier(text: str, name: str) -> str | None:
    """The value of one qualifier of a purl (`arch`, `epoch`), percent-decoded; None when absent."""
    purl = parse_purl(text)
    return (purl.qualifiers.get(name) or None) if purl is not None else None


@lru_cache(maxsize=4096)
def _identity(text: str) -> tuple[str, str, str, str | None] | None:
    purl = parse_purl(text)
    if purl is None:
        return None
    name = purl.name.lower()
    if purl.type == "pypi":
        name = canonicalize_name(name)
    return purl.type, (purl.namespace or "").lower(), name, purl.version or None


def same_package(pattern: str, purl: str) -> bool:
    """True when purl `purl` is the package `pattern` names (its version too, if it has one)."""
    want, have = _identity(pattern), _identity(purl)
    if want is None or have is None or want[:3] != have[:3]:
        return False
    return want[3] is None or want[3] == have[3]


def _base(text: str) -> str:
    return unquote(text.partition("#")[0].partition("?")[0]).lower()


def purl_prefix_matches(pattern: str, purl: str) -> bool:
    """True when policy pattern `pattern` (a purl, or a purl glob) selects purl `purl`."""
    if not purl:
        return False
    want, have = _base(pattern), _base(purl)
    if _GLOB & set(want):
        return fnmatchcase(have, want)
    if not have.startswith(want):
        return False
    rest = have[len(want) :]
    return not rest or want.endswith(("/", "@")) or rest[0] in "@/"

"""Package-URLs (https://github.com/package-url/purl-spec) for inventory packages.

OS packages carry the distribution the way Trivy writes it, so purls can be compared across tools:
`pkg:deb/debian/bsdutils@2.38.1-5%2Bdeb12u3?arch=amd64&distro=debian-12.15&epoch=1` (the epoch is a
qualifier and is left out of the version) and `pkg:apk/alpine/musl@1.2.4-r2?arch=x86_64&distro=3.19.1`
(apk takes the bare release as its distro).
"""

from __future__ import annotations

import re
from urllib.parse import quote

from ci_security.models.image import OSInfo
from ci_security.models.package import Package

_OS_TYPES = frozenset({"deb", "apk", "rpm"})


def _enc(text: str) -> str:
    # The purl spec percent-encodes everything but unreserved characters; ':' may stay literal. A
    # lone surrogate (an undecodable byte in a name) cannot be UTF-8: it is written as U+FFFD.
    return quote(re.sub("[\ud800-\udfff]", "\ufffd", text), safe=":")


def _without_epoch(version: str) -> str:
    head, sep, rest = version.partition(":")
    return rest if sep and head.isdigit() else version


def _pep503(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _split_name(purl_type: str, name: str) -> tuple[str | None, str]:
    """Split a language package name into purl namespace and name (`group:artifact` for Maven,
    `@scope/name` for npm, the module path's last element for Go).
    """
    if purl_type == "pypi":
        return None, _pep503(name)
    if purl_type == "maven" and ":" in name:
        group, _, artifact = name.partition(":")
        return group, artifact
    if purl_type in {"npm", "golang", "composer"} and "/" in name:
        namespace, _, short = name.rpartition("/")
        return namespace, short
    return None, name


def build_purl(pkg: Package, os_info: OSInfo | None, namespace: str | None = None) -> str:
    """Return the purl of `pkg`; OS packages are namespaced by the OS family and carry `distro`."""
    qualifiers: dict[str, str] = {}
    version = pkg.version
    if pkg.type in _OS_TYPES:
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
    out = f"pkg:{pkg.type}/"
    if namespace:
        out += "/".join(_enc(part) for part in namespace.split("/")) + "/"
    out += _enc(name)
    if version:
        out += "@" + _enc(version)
    if qualifiers:
        out += "?" + "&".join(f"{k}={_enc(v)}" for k, v in sorted(qualifiers.items()))
    return out

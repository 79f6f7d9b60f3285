"""Red Hat's repository-to-CPE mapping (`repository-to-cpe.json`, security.access.redhat.com/data/meta/v1/).

`{"data": {"<content set>": {"cpes": ["cpe:/o:redhat:enterprise_linux:9::baseos", ...],
"repo_relative_urls": [...]}, ...}}`: the product streams each repository belongs to. A UBI or RHEL
image records the content sets its packages came from (`/root/buildinfo/content_manifests/*.json`),
and Red Hat's OSV records name product streams the same way CPEs do (`Red Hat:` followed by the
CPE's part after `redhat:`), so the mapping turns an image's repositories into the ecosystems its
packages are searched in.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from ci_security.errors import CiSecurityError

_CPE = re.compile(r"^cpe:/[aoh]:redhat:(?P<tail>[A-Za-z0-9._\-:]+)$")


def is_mapping(doc: Any) -> bool:
    if not isinstance(doc, dict) or not isinstance(doc.get("data"), dict):
        return False
    first = next(iter(doc["data"].values()), None)
    return isinstance(first, dict) and "cpes" in first


def parse_mapping(
    doc: Any, where: str, error: Callable[[str], CiSecurityError]
) -> dict[str, tuple[str, ...]]:
    data = doc.get("data") if isinstance(doc, dict) else None
    if not isinstance(data, dict):
        raise error(f"{where}: not Red Hat's repository-to-CPE mapping (no 'data' object)")
    out: dict[str, tuple[str, ...]] = {}
    for repository, entry in data.items():
        cpes = entry.get("cpes") if isinstance(entry, dict) else None
        if not isinstance(repository, str) or not isinstance(cpes, list) or len(repository) > 300:
            raise error(f"{where}: {str(repository)[:80]!r}: expected an object with a 'cpes' list")
        out[repository] = tuple(c for c in cpes if isinstance(c, str) and _CPE.match(c))
    return out


def ecosystem_of(cpe: str) -> str | None:
    """The OSV ecosystem of a Red Hat CPE: `cpe:/a:redhat:enterprise_linux:9::appstream` is
    `Red Hat:enterprise_linux:9::appstream`.
    """
    found = _CPE.match(cpe)
    return f"Red Hat:{found.group('tail')}" if found else None

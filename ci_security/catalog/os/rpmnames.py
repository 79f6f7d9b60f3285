"""rpm's names for versions and source packages, as the rpm database (`rpm.py`) and CBL-Mariner's
container manifest (`rpm_manifest.py`) both give them: `[epoch:]version-release`, and the source rpm's
file name `name-version-release.src.rpm`.
"""

from __future__ import annotations

_SOURCE_SUFFIXES = (".src.rpm", ".nosrc.rpm")


def parse_source_rpm(source_rpm: str | None) -> tuple[str | None, str | None]:
    """Split `name-version-release.src.rpm` into (`name`, `version-release`); (None, None) if it cannot.

    Package names may contain dashes, versions and releases may not, so the split is from the right.
    """
    if not source_rpm or source_rpm == "(none)":
        return None, None
    for suffix in _SOURCE_SUFFIXES:
        if source_rpm.endswith(suffix):
            stem = source_rpm[: -len(suffix)]
            break
    else:
        return None, None
    parts = stem.rsplit("-", 2)
    if len(parts) != 3 or not all(parts):
        return None, None
    return parts[0], f"{parts[1]}-{parts[2]}"


def evr(epoch: int | None, version: str, release: str) -> str:
    """Format rpm's full version string, `[epoch:]version-release`; epoch 0 is left out because
    rpm orders it the same as no epoch and Trivy and `rpm -q` print it that way.
    """
    prefix = f"{epoch}:" if epoch else ""
    return f"{prefix}{version}-{release}"

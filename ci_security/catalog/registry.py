"""Every cataloger, listed once. The order only affects which warning is reported first."""

from __future__ import annotations

from ci_security.catalog.base import Cataloger
from ci_security.catalog.os.apk import ApkCataloger
from ci_security.catalog.os.dpkg import DpkgCataloger
from ci_security.catalog.os.release import OSReleaseCataloger
from ci_security.catalog.os.rpm import RpmCataloger
from ci_security.catalog.os.rpm_manifest import RpmManifestCataloger

CATALOGERS: tuple[Cataloger, ...] = (
    OSReleaseCataloger(),
    DpkgCataloger(),
    ApkCataloger(),
    RpmCataloger(),
    RpmManifestCataloger(),
)

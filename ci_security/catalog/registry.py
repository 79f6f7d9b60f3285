"""Every cataloger, listed once. The order only affects which warning is reported first."""

from __future__ import annotations

from ci_security.catalog.base import Cataloger
from ci_security.catalog.dotnet.deps_json import DepsJsonCataloger
from ci_security.catalog.dotnet.packages_config import PackagesConfigCataloger
from ci_security.catalog.dotnet.packages_lock import PackagesLockCataloger
from ci_security.catalog.dotnet.packages_props import PackagesPropsCataloger
from ci_security.catalog.golang.binary import GoBinaryCataloger
from ci_security.catalog.java.archive import JavaArchiveCataloger
from ci_security.catalog.julia.manifest import JuliaManifestCataloger
from ci_security.catalog.npm.package_json import PackageJsonCataloger
from ci_security.catalog.os.apk import ApkCataloger
from ci_security.catalog.os.dpkg import DpkgCataloger
from ci_security.catalog.os.release import OSReleaseCataloger
from ci_security.catalog.os.rpm import RpmCataloger
from ci_security.catalog.os.rpm_manifest import RpmManifestCataloger
from ci_security.catalog.php.composer import ComposerInstalledCataloger
from ci_security.catalog.python.metadata import PythonMetadataCataloger
from ci_security.catalog.ruby.gemspec import GemspecCataloger
from ci_security.catalog.rust.auditable import RustAuditableCataloger
from ci_security.catalog.rust.cargo_lock import CargoLockCataloger

CATALOGERS: tuple[Cataloger, ...] = (
    OSReleaseCataloger(),
    DpkgCataloger(),
    ApkCataloger(),
    RpmCataloger(),
    RpmManifestCataloger(),
    PythonMetadataCataloger(),
    PackageJsonCataloger(),
    GemspecCataloger(),
    DepsJsonCataloger(),
    PackagesLockCataloger(),
    PackagesConfigCataloger(),
    PackagesPropsCataloger(),
    ComposerInstalledCataloger(),
    GoBinaryCataloger(),
    RustAuditableCataloger(),
    CargoLockCataloger(),
    JuliaManifestCataloger(),
    JavaArchiveCataloger(),
)

"""Every report importer, listed once, by the name its `--from-NAME` option uses.

`MANIFEST_IMPORTERS` are the importers whose findings name files of a repository (and so take its
root as `base`); `IMPORTERS` holds every importer.
"""

from __future__ import annotations

from ci_security.ingest.base import Importer, ManifestImporter
from ci_security.ingest.checkov import CheckovImporter
from ci_security.ingest.grype import GrypeImporter
from ci_security.ingest.hadolint import HadolintImporter
from ci_security.ingest.trivy import TrivyImporter

_TRIVY = TrivyImporter()
_GRYPE = GrypeImporter()

MANIFEST_IMPORTERS: dict[str, ManifestImporter] = {
    importer.name: importer for importer in (_TRIVY, HadolintImporter(), CheckovImporter())
}
IMPORTERS: dict[str, Importer] = {_TRIVY.name: _TRIVY, _GRYPE.name: _GRYPE, **MANIFEST_IMPORTERS}

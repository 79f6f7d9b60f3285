"""Every report importer, listed once, by the name its `--from-NAME` option uses."""

from __future__ import annotations

from ci_security.ingest.base import Importer
from ci_security.ingest.grype import GrypeImporter
from ci_security.ingest.trivy import TrivyImporter

IMPORTERS: dict[str, Importer] = {importer.name: importer for importer in (TrivyImporter(), GrypeImporter())}

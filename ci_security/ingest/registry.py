"""Every report importer, listed once, by the name its `--from-NAME` option uses.

The CLI makes one `--from-NAME` option (and `CI_SECURITY_FROM_NAME` variable) per entry, in this
order, and `scan` imports the reports in the order of the options.
"""

from __future__ import annotations

from ci_security.ingest.base import Importer
from ci_security.ingest.checkov import CheckovImporter
from ci_security.ingest.grype import GrypeImporter
from ci_security.ingest.hadolint import HadolintImporter
from ci_security.ingest.trivy import TrivyImporter

IMPORTERS: dict[str, Importer] = {
    importer.name: importer
    for importer in (
        TrivyImporter(),
        GrypeImporter(),
        HadolintImporter(),
        CheckovImporter(),
    )
}

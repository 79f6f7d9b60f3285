"""`--output cyclonedx`: a CycloneDX 1.6 JSON SBOM built with cyclonedx-python-lib.

The image is the BOM's subject (a `container` component, version = digest); the operating system is
an `operating-system` component; every package is a `library` with its purl, licences and
`ci-security:*` properties saying where it came from (evidence path, layer digest and diff-id, the
cataloger). The subject depends on every component, as in Trivy's BOMs.

Deterministic: the timestamp is the image's own build time (not "now"), and the serial number is a
UUID derived from the content, so the same image gives a byte-identical BOM and a changed image a
new serial. Bom-refs are purls, made unique with the evidence path when a package appears twice.

Strings from the image go in as valid Unicode (`sanitize.text`) and the library's JSON comes out
through `sanitize.json_text`, like every other JSON report.
"""

from __future__ import annotations

import hashlib
import uuid
from datetime import UTC, datetime
from typing import TYPE_CHECKING, ClassVar

from ci_security import __version__
from ci_security.models import Decision, Package, ScanResult
from ci_security.models.purl import parse_purl
from ci_security.report.base import RenderContext
from ci_security.sanitize import json_text
from ci_security.sanitize import text as t

if TYPE_CHECKING:
    from cyclonedx.model import Property

SPEC = "1.6"
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _created(value: str | None) -> datetime:
    if value:
        try:
            parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
            return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
        except ValueError:
            pass
    return _EPOCH


def _properties(pkg: Package) -> list[Property]:
    from cyclonedx.model import Property

    props = [
        Property(name="ci-security:found_by", value=t(pkg.found_by)),
        Property(name="ci-security:path", value=t(pkg.path)),
    ]
    if pkg.layer is not None:
        props += [
            Property(name="ci-security:layer_index", value=str(pkg.layer.index)),
            Property(name="ci-security:layer_digest", value=t(pkg.layer.digest)),
            Property(name="ci-security:layer_diff_id", value=t(pkg.layer.diff_id)),
        ]
    if pkg.source_name:
        props.append(Property(name="ci-security:source_name", value=t(pkg.source_name)))
    if pkg.source_version:
        props.append(Property(name="ci-security:source_version", value=t(pkg.source_version)))
    return props


class CycloneDxReporter:
    """See the module docstring."""

    name: ClassVar[str] = "cyclonedx"

    def render(self, result: ScanResult, decision: Decision, context: RenderContext) -> str:
        # cyclonedx-python-lib costs ~150 ms to import; only SBOM output needs it.
        try:
            from cyclonedx.contrib.license.factories import LicenseFactory
        except ImportError:  # cyclonedx-python-lib before 11.x kept it here (now a deprecated alias)
            from cyclonedx.factory.license import LicenseFactory
        from cyclonedx.model import Property
        from cyclonedx.model.bom import Bom, BomMetaData
        from cyclonedx.model.component import Component, ComponentType
        from cyclonedx.model.tool import ToolRepository
        from cyclonedx.output.json import JsonV1Dot6

        target = result.target
        licenses = LicenseFactory()
        subject = Component(
            name=t(target.reference) if target else "unknown",
            version=t(target.digest) if target else None,
            type=ComponentType.CONTAINER,
            bom_ref="image",
            properties=[Property(name="ci-security:image_id", value=t(target.image_id))]
            + [Property(name="ci-security:repo_tag", value=t(tag)) for tag in target.repo_tags]
            + [Property(name="ci-security:repo_digest", value=t(d)) for d in target.repo_digests]
            if target
            else None,
        )
        components: list[Component] = []
        if target and target.os:
            components.append(
                Component(
                    name=t(target.os.family),
                    version=t(target.os.version) if target.os.version else None,
                    type=ComponentType.OPERATING_SYSTEM,
                    bom_ref=t(f"os:{target.os.family}-{target.os.version or 'unknown'}"),
                )
            )
        seen: set[str] = set()
        for pkg in result.packages:
            ref = t(pkg.purl if pkg.purl not in seen else f"{pkg.purl}#{pkg.path}")
            seen.add(ref)
            components.append(
                Component(
                    name=t(pkg.name),
                    version=t(pkg.version),
                    type=ComponentType.LIBRARY,
                    bom_ref=ref,
                    purl=parse_purl(pkg.purl) if pkg.purl else None,
                    licenses=[licenses.make_from_string(t(value)) for value in pkg.licenses],
                    properties=_properties(pkg),
                )
            )
        digest = hashlib.sha256(
            "\n".join([subject.name, str(subject.version)] + [str(c.bom_ref) for c in components]).encode()
        ).digest()
        bom = Bom(
            serial_number=uuid.UUID(bytes=digest[:16], version=5),
            metadata=BomMetaData(
                timestamp=_created(target.created if target else None),
                component=subject,
                # Since CycloneDX 1.5 the producing tool is described as a component.
                tools=ToolRepository(
                    components=[
                        Component(
                            name="ci-security",
                            version=__version__,
                            type=ComponentType.APPLICATION,
                            bom_ref="tool",
                        )
                    ]
                ),
            ),
            components=components,
        )
        bom.register_dependency(subject, components)
        return json_text(JsonV1Dot6(bom).output_as_string(indent=2)) + "\n"

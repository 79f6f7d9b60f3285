import json

from cyclonedx.schema import SchemaVersion
from cyclonedx.validation.json import JsonStrictValidator
from testkit.images import DEBIAN_RELEASE, build_docker_archive, directory, dpkg_status, file

from ci_security.models import Decision
from ci_security.report.base import RenderContext
from ci_security.report.cyclonedx import CycloneDxReporter
from ci_security.scan import ScanOptions, run


def test_sbom_validates_and_carries_purls_and_layers(tmp_path):
    layers = [
        [
            *DEBIAN_RELEASE,
            directory("var/lib/dpkg"),
            file("var/lib/dpkg/status", dpkg_status(("libc6", "2.36-9"))),
        ],
        [
            file(
                "app/node_modules/left-pad/package.json",
                '{"name": "left-pad", "version": "1.3.0", "license": "WTFPL"}',
            ),
            file("srv/node_modules/left-pad/package.json", '{"name": "left-pad", "version": "1.3.0"}'),
        ],
    ]
    build_docker_archive(tmp_path / "a.tar", layers)
    result = run(ScanOptions(vulns=False, image=f"docker-archive:{tmp_path / 'a.tar'}", use_cache=False))
    text = CycloneDxReporter().render(result, Decision(passed=True), RenderContext())
    assert JsonStrictValidator(SchemaVersion.V1_6).validate_str(text) is None
    bom = json.loads(text)
    assert bom["specVersion"] == "1.6"
    assert bom["metadata"]["component"]["type"] == "container"
    by_type = {}
    for comp in bom["components"]:
        by_type.setdefault(comp["type"], []).append(comp)
    assert [(c["name"], c["version"]) for c in by_type["operating-system"]] == [("debian", "12.5")]
    purls = sorted(c["purl"] for c in by_type["library"])
    assert purls == [
        "pkg:deb/debian/libc6@2.36-9?arch=amd64&distro=debian-12.5",
        "pkg:npm/left-pad@1.3.0",
        "pkg:npm/left-pad@1.3.0",
    ]
    refs = [c["bom-ref"] for c in bom["components"]]
    assert len(refs) == len(set(refs))
    pad = next(c for c in by_type["library"] if c["name"] == "left-pad" and "licenses" in c)
    props = {p["name"]: p["value"] for p in pad["properties"]}
    assert props["ci-security:layer_index"] == "1" and props["ci-security:found_by"] == "npm/package-json"
    assert props["ci-security:path"] == "/app/node_modules/left-pad/package.json"
    deps = {d["ref"]: d.get("dependsOn", []) for d in bom["dependencies"]}
    assert set(deps["image"]) == set(refs)
    # Deterministic: the same image gives the same bytes.
    assert CycloneDxReporter().render(result, Decision(passed=True), RenderContext()) == text

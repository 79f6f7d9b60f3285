"""Parity with Trivy 0.76 on the real benchmark image (bench/make-bench-image.sh): the same Debian
packages, names and versions, from both the docker-archive and the OCI layout."""

import json
import subprocess

import pytest
from testkit.cache import bench_image, trivy

from ci_security.scan import ScanOptions, run

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def trivy_packages(tmp_path_factory):
    image = bench_image()
    out = tmp_path_factory.mktemp("trivy") / "bom.json"
    subprocess.run(
        [
            trivy(),
            "image",
            "--input",
            str(image / "debian-app.tar"),
            "--format",
            "cyclonedx",
            "--offline-scan",
            "--skip-db-update",
            "--cache-dir",
            str(out.parent / "cache"),
            "--quiet",
            "-o",
            str(out),
        ],
        check=True,
        capture_output=True,
        timeout=600,
    )
    bom = json.loads(out.read_text())
    return {
        (c["purl"].split("/")[0][4:], c["name"], c["version"]) for c in bom["components"] if c.get("purl")
    }


@pytest.mark.parametrize("ref", ["docker-archive:{image}/debian-app.tar", "oci:{image}/oci:base"])
def test_debian_packages_match_trivy(trivy_packages, ref):
    image = bench_image()
    result = run(ScanOptions(image=ref.format(image=image), vulns=False))
    ours = {(p.type, p.name, p.version) for p in result.packages if p.type == "deb"}
    theirs = {pkg for pkg in trivy_packages if pkg[0] == "deb"}
    assert len(theirs) == 88
    assert ours == theirs
    assert result.target.os.family == "debian"

"""Parity with Trivy 0.76 on the real benchmark image (bench/make-bench-image.sh): the same package
set (type, name, version) — 88 deb, 6 pypi, 53 npm — and the same purls, from both the
docker-archive and the OCI layout."""

import json
import subprocess
from collections import Counter

import pytest
from testkit.cache import bench_image, trivy

from ci_security.scan import ScanOptions, run

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def trivy_components(tmp_path_factory):
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
    return [c for c in bom["components"] if c.get("purl")]


@pytest.mark.parametrize("ref", ["docker-archive:{image}/debian-app.tar", "oci:{image}/oci:base"])
def test_package_set_matches_trivy(trivy_components, ref):
    image = bench_image()
    result = run(ScanOptions(image=ref.format(image=image), vulns=False, use_cache=False))
    theirs = {(c["purl"].split("/")[0][4:], c["name"], c["version"]) for c in trivy_components}
    ours = {(p.type, p.name, p.version) for p in result.packages}
    assert Counter(t for t, _, _ in theirs) == {"deb": 88, "pypi": 6, "npm": 53}
    assert ours == theirs
    assert sorted(p.purl for p in result.packages) == sorted(c["purl"] for c in trivy_components)
    assert result.target.os.family == "debian"
    assert result.warnings == ()

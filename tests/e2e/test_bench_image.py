"""Parity with Trivy 0.76 on the real benchmark image (`../shared/tools/make-bench-image.sh`): the
same package set (type, name, version) — 88 deb, 6 pypi, 53 npm — and the same purls, from both the
docker-archive and the OCI layout."""

import json
import subprocess
from collections import Counter

import pytest
from testkit.cache import bench_image, trivy
from testkit.shared import osv_pypi

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


def _oracle(records, name: str, version: str) -> set[str]:
    """Advisories affecting a PyPI package, worked out independently of our range walker: the record's
    explicit `versions[]`, or its ranges turned into `packaging` specifier sets (>=introduced,<fixed)."""
    from packaging.specifiers import SpecifierSet
    from packaging.utils import canonicalize_name
    from packaging.version import Version

    installed = Version(version)
    hits = set()
    for record in records:
        for affected in record.affected:
            if canonicalize_name(affected.name) != canonicalize_name(name):
                continue
            if any(Version(v) == installed for v in affected.versions if _is_pep440(v)):
                hits.add(record.id)
                continue
            for rng in affected.ranges:
                intervals, lower = [], None
                for event in rng.events:
                    if event.kind == "introduced":
                        lower = event.version
                    elif event.kind == "fixed" and lower is not None:
                        intervals.append((lower, event.version))
                        lower = None
                if lower is not None:
                    intervals.append((lower, None))
                for low, high in intervals:
                    parts = ([] if low == "0" else [f">={low}"]) + ([f"<{high}"] if high else [])
                    spec = SpecifierSet(",".join(parts), prereleases=True)
                    if installed in spec:
                        hits.add(record.id)
    return hits


def _is_pep440(text: str) -> bool:
    from packaging.version import InvalidVersion, Version

    try:
        Version(text)
    except InvalidVersion:
        return False
    return True


def test_pypi_findings_are_exactly_what_the_data_implies(tmp_path):
    from ci_security.vulndb.dbimport import import_paths
    from ci_security.vulndb.osv import iter_records

    pypi = osv_pypi()
    import_paths(tmp_path / "db.sqlite", [pypi])
    image = bench_image()
    result = run(
        ScanOptions(
            image=f"docker-archive:{image}/debian-app.tar", db_path=tmp_path / "db.sqlite", use_cache=False
        )
    )
    records = [r for r in iter_records(pypi) if r.withdrawn is None]
    assert {v.package.type for v in result.vulnerabilities} == {
        "pypi"
    }  # no PyPI data says anything of deb/npm
    for name, version in [
        ("requests", "2.19.0"),
        ("urllib3", "1.24.1"),
        ("Jinja2", "2.10"),
        ("PyYAML", "5.3"),
        ("Django", "3.2"),
        ("Pillow", "8.0.0"),
    ]:
        ours = [v for v in result.vulnerabilities if v.package.name == name]
        assert all(v.package.version == version for v in ours)
        found = {i for v in ours for i in (v.id, *v.aliases) if i.startswith("PYSEC-")}
        expected = _oracle(records, name, version)
        assert expected, name
        assert found == expected, name
        assert len(ours) == len({v.id for v in ours})  # one finding per vulnerability

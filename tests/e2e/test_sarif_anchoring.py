"""End to end: an image built from a Dockerfile, scanned twice under different tags. Base-image packages
point at the final FROM line, a package installed by a later RUN at that RUN; the SARIF validates
against both schemas and its categories, locations and fingerprints do not change with the tag."""

from pathlib import Path

from testkit.images import DEBIAN_RELEASE, build_docker_archive, directory, dpkg_status, file
from testkit.sarif import validate
from testkit.shared import osv_pypi

from ci_security.models import Decision
from ci_security.report.base import RenderContext
from ci_security.report.sarif import SarifReporter
from ci_security.scan import ScanOptions, run
from ci_security.vulndb.dbimport import import_paths

DISTRO = Path(__file__).parents[1] / "fixtures" / "osv" / "distro"
DOCKERFILE = """\
# syntax=docker/dockerfile:1
FROM debian:12-slim AS base
RUN echo builder

FROM debian:12-slim
RUN apt-get update \\
 && apt-get install -y --no-install-recommends openssl
COPY requirements.txt /app/
RUN pip install -r /app/requirements.txt
USER app
"""
SITE = "usr/local/lib/python3.11/site-packages"
ZLIB = (
    "Package: zlib1g\nStatus: install ok installed\nArchitecture: amd64\nSource: zlib\n"
    "Version: 1:1.2.13.dfsg-1\n\n"
)


def _image(path: Path, tag: str) -> None:
    base = [
        *DEBIAN_RELEASE,
        directory("var/lib/dpkg"),
        file("var/lib/dpkg/status", ZLIB),
    ]
    apt = [file("var/lib/dpkg/status", ZLIB + dpkg_status(("openssl", "3.0.11-1~deb12u2")))]
    copy = [file("app/requirements.txt", "requests==2.19.0\n")]
    pip = [
        file(
            f"{SITE}/requests-2.19.0.dist-info/METADATA",
            "Metadata-Version: 2.1\nName: requests\nVersion: 2.19.0\n\n",
        )
    ]
    created_by = [
        "/bin/sh -c #(nop) ADD file:6fef7a4ab2de57c438dad76949e7eb87cfb1ea6f45b0f2423f71188efdaa0d8e in / ",
        "RUN /bin/sh -c apt-get update  && apt-get install -y --no-install-recommends openssl # buildkit",
        "COPY requirements.txt /app/ # buildkit",
        "RUN /bin/sh -c pip install -r /app/requirements.txt # buildkit",
    ]
    build_docker_archive(
        path, [base, apt, copy, pip], repo_tags=[f"ghcr.io/acme/app:{tag}"], created_by=created_by
    )


def test_anchoring_and_stable_fingerprints(tmp_path):
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / "Dockerfile").write_text(DOCKERFILE)
    import_paths(tmp_path / "db.sqlite", [DISTRO, osv_pypi("requests")])
    docs, results = [], []
    for tag in ("1.0", "1.1"):
        _image(tmp_path / f"{tag}.tar", tag)
        result = run(
            ScanOptions(
                image=f"docker-archive:{tmp_path / tag}.tar",
                db_path=tmp_path / "db.sqlite",
                repo_root=repo,
                use_cache=False,
            )
        )
        results.append(result)
        docs.append(validate(SarifReporter().render(result, Decision(passed=True), RenderContext())))
    result = results[0]
    assert result.dockerfile == "Dockerfile"
    where = {(v.package.name, v.id): (v.location.path, v.location.line) for v in result.vulnerabilities}
    # openssl came with the apt-get RUN on line 6; requests with the pip RUN on line 9.
    assert where[("openssl", "CVE-2024-0727")] == ("Dockerfile", 6)
    assert where[("requests", "CVE-2018-18074")] == ("Dockerfile", 9)
    # zlib1g was in the base image: the final FROM (line 5), not the builder stage's FROM.
    assert where[("zlib1g", "CVE-2023-45853")] == ("Dockerfile", 5)
    first, second = (d["runs"][0] for d in docs)
    assert first["automationDetails"] == second["automationDetails"]
    for key in ("partialFingerprints", "locations", "ruleId"):
        assert [r[key] for r in first["results"]] == [r[key] for r in second["results"]]
    assert {r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in first["results"]} == {
        "Dockerfile"
    }

"""A real Debian root filesystem, built by debootstrap, packed as an image and scanned: every
package `dpkg-query` lists for it is found, with the same name, version and architecture."""

import subprocess
import tarfile
from pathlib import Path

import pytest
from testkit.cache import debootstrap_rootfs
from testkit.images import build_docker_archive

from ci_security.scan import ScanOptions, run

pytestmark = pytest.mark.slow


def _pack(rootfs: Path) -> bytes:
    import io

    buf = io.BytesIO()

    def keep(info: tarfile.TarInfo) -> tarfile.TarInfo | None:
        return None if info.name.startswith("./proc/") or info.name.startswith("./sys/") else info

    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        tar.add(str(rootfs), arcname=".", recursive=True, filter=keep)
    return buf.getvalue()


def test_every_dpkg_query_package_is_found(tmp_path):
    rootfs = debootstrap_rootfs()
    query = subprocess.run(
        [
            "dpkg-query",
            f"--admindir={rootfs / 'var/lib/dpkg'}",
            "-W",
            "-f",
            "${db:Status-Status}\t${Package}\t${Version}\t${Architecture}\t${source:Package}\t${source:Version}\n",
        ],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    expected = set()
    expected_sources = {}
    for line in query.stdout.splitlines():
        status, name, version, arch, src, src_version = line.split("\t")
        if status == "installed":
            expected.add((name, version, arch))
            expected_sources[name] = (src, src_version)
    assert len(expected) > 80

    build_docker_archive(
        tmp_path / "rootfs.tar", [], layer_tars=[_pack(rootfs)], repo_tags=["debootstrap/bookworm:test"]
    )
    result = run(ScanOptions(image=f"docker-archive:{tmp_path / 'rootfs.tar'}", vulns=False))
    found = {(p.name, p.version, p.arch) for p in result.packages if p.type == "deb"}
    assert found == expected
    assert {p.name: (p.source_name, p.source_version) for p in result.packages} == expected_sources
    assert result.target.os.family == "debian"
    assert result.target.os.version == (rootfs / "etc/debian_version").read_text().strip()
    assert result.warnings == ()

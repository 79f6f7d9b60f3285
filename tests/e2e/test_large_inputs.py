"""Hostile sizes: a 2 GiB dpkg status file. It is the only OS database, so the scan refuses it with
one line (exit 2), after streaming past it without holding it: memory stays bounded."""

import gzip
import subprocess
import sys
import tarfile

import pytest
from testkit.images import DEBIAN_RELEASE, build_oci_layout_from_files, layer_tar

pytestmark = pytest.mark.slow

SIZE = 2 << 30


def _huge_status_layer(path) -> None:
    info = tarfile.TarInfo("var/lib/dpkg/status")
    info.size = SIZE
    chunk = bytes(8 << 20)
    with gzip.open(path, "wb", compresslevel=1) as out:
        out.write(info.tobuf(format=tarfile.PAX_FORMAT))
        for _ in range(SIZE // len(chunk)):
            out.write(chunk)
        out.write(bytes(1024))  # end-of-archive blocks


def test_two_gib_status_file(tmp_path):
    base = tmp_path / "base.tar.gz"
    base.write_bytes(gzip.compress(layer_tar(DEBIAN_RELEASE)))
    huge = tmp_path / "huge.tar.gz"
    _huge_status_layer(huge)
    build_oci_layout_from_files(tmp_path / "lay", [base, huge])
    report = tmp_path / "r.json"
    # Run the CLI in a child and read the child's peak RSS (ru_maxrss of waited-for children, KiB).
    scan = [
        sys.executable,
        "-m",
        "ci_security",
        "scan",
        "-q",
        "--no-vulns",
        "-i",
        f"oci:{tmp_path / 'lay'}",
        "-o",
        f"json={report}",
    ]
    code = (
        "import resource, subprocess, sys\n"
        f"p = subprocess.run({scan!r}, capture_output=True, text=True)\n"
        "print(p.returncode); print(p.stderr.strip())\n"
        "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=600, check=True
    )
    returncode, stderr, max_rss_kib = proc.stdout.strip().split("\n")
    assert returncode == "2"
    assert stderr == (
        f"ci-security: error: oci:{tmp_path / 'lay'}: cannot read the OS package database "
        "/var/lib/dpkg/status: file is 2.0 GiB, over the 256.0 MiB limit for os/dpkg"
    )
    assert int(max_rss_kib) < 200 * 1024  # far below the 2 GiB walked past
    assert not report.exists()

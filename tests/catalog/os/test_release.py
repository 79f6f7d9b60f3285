import io
import random
import re

import pytest

from ci_security.catalog.base import CatalogInput
from ci_security.catalog.os.release import OSReleaseCataloger, parse_os_release, parse_release_line
from ci_security.catalog.osinfo import infer_os, merge_os
from ci_security.models import OSInfo, Package


def _os(path: str, text: str, tmp_path) -> OSInfo | None:
    data = text.encode()
    return OSReleaseCataloger().catalog(CatalogInput(path, len(data), io.BytesIO(data), tmp_path)).os


def test_parse_os_release_quoting():
    values = parse_os_release(
        'ID="rhel"\nVERSION_ID=\'9.3\'\n# comment\nPRETTY_NAME="Red Hat \\"X\\""\nBAD LINE\n'
    )
    assert values == {"ID": "rhel", "VERSION_ID": "9.3", "PRETTY_NAME": 'Red Hat "X"'}


@pytest.mark.parametrize(
    ("path", "text", "family", "version"),
    [
        ("usr/lib/os-release", 'ID=debian\nVERSION_ID="12"\n', "debian", "12"),
        ("etc/os-release", 'ID=ubuntu\nVERSION_ID="22.04"\n', "ubuntu", "22.04"),
        ("etc/os-release", 'ID="rhel"\nVERSION_ID="9.3"\n', "redhat", "9.3"),
        ("etc/os-release", 'ID="amzn"\nVERSION_ID="2023"\n', "amazon", "2023"),
        ("etc/os-release", "ID=mariner\nVERSION_ID=2.0\n", "cbl-mariner", "2.0"),
        ("etc/os-release", "ID=alpine\nVERSION_ID=3.19.1\n", "alpine", "3.19.1"),
        ("etc/debian_version", "12.15\n", "debian", "12.15"),
        ("etc/debian_version", "trixie/sid\n", "debian", None),
        ("etc/alpine-release", "3.19.1\n", "alpine", "3.19.1"),
        ("etc/redhat-release", "CentOS Linux release 7.9.2009 (Core)\n", "centos", "7.9.2009"),
        ("etc/redhat-release", "Red Hat Enterprise Linux release 8.9 (Ootpa)\n", "redhat", "8.9"),
        ("etc/redhat-release", "Rocky Linux release 9.3 (Blue Onyx)\n", "rocky", "9.3"),
    ],
)
def test_release_files(path, text, family, version, tmp_path):
    info = _os(path, text, tmp_path)
    assert info is not None and (info.family, info.version) == (family, version)
    assert info.source == "/" + path


def test_merge_prefers_os_release_family_and_more_precise_version():
    facts = [
        OSInfo(family="debian", version="12", source="/usr/lib/os-release", name="Debian 12"),
        OSInfo(family="debian", version="12.15", source="/etc/debian_version"),
    ]
    assert merge_os(facts) == OSInfo(
        family="debian", version="12.15", name="Debian 12", source="/usr/lib/os-release"
    )
    ubuntu = [
        OSInfo(family="ubuntu", version="22.04", source="/etc/os-release"),
        OSInfo(family="debian", version=None, source="/etc/debian_version"),
    ]
    assert merge_os(ubuntu).family == "ubuntu" and merge_os(ubuntu).version == "22.04"
    centos = [
        OSInfo(family="centos", version="7", source="/etc/os-release"),
        OSInfo(family="centos", version="7.9.2009", source="/etc/redhat-release"),
    ]
    assert merge_os(centos).version == "7.9.2009"
    assert merge_os([]) is None


def test_distroless_inference_from_base_files():
    pkgs = [
        Package(name="base-files", version="12.4+deb12u5", type="deb"),
        Package(name="tzdata", version="2024a", type="deb"),
    ]
    assert infer_os(pkgs) == OSInfo(family="debian", version="12", source="dpkg (no release file)")
    assert infer_os([Package(name="musl", version="1", type="apk")]) is None


def test_release_lines_read_as_the_regex_they_replace_did():
    old = re.compile(r"^(?P<name>.*?)\s+release\s+(?P<version>[0-9][0-9.]*)", re.IGNORECASE)
    rng = random.Random(9)
    for _ in range(20_000):
        line = "".join(
            rng.choice(["release", "Release", " ", "\t", "x", "1", ".", "İ", "a"]) for _ in range(9)
        )
        m = old.match(line)
        assert parse_release_line(line) == ((m["name"], m["version"]) if m else None), line
    # the old regex took seconds on this 64 KiB line; a literal search does not backtrack
    assert parse_release_line(" " * 65_000 + "release") is None

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


def test_debian_testing_images_keep_their_codename(tmp_path):
    # A forky (testing) or sid image: os-release has a codename and no VERSION_ID, debian_version
    # names testing/unstable; matching needs the codename to find the release's number.
    os_release = _os(
        "usr/lib/os-release",
        'PRETTY_NAME="Debian GNU/Linux forky/sid"\nNAME="Debian GNU/Linux"\n'
        "VERSION_CODENAME=forky\nID=debian\n",
        tmp_path,
    )
    debian_version = _os("etc/debian_version", "forky/sid\n", tmp_path)
    assert (os_release.version, os_release.codename) == (None, "forky")
    assert (debian_version.version, debian_version.codename) == (None, "forky")
    merged = merge_os([os_release, debian_version])
    assert (merged.family, merged.version, merged.codename) == ("debian", None, "forky")
    stable = merge_os(
        [
            _os("etc/os-release", "ID=debian\nVERSION_ID=12\nVERSION_CODENAME=bookworm\n", tmp_path),
            _os("etc/debian_version", "12.7\n", tmp_path),
        ]
    )
    assert (stable.version, stable.codename) == ("12.7", "bookworm")
    assert _os("etc/os-release", "ID=debian\nVERSION_CODENAME=$(reboot)\n", tmp_path).codename is None


# --- Red Hat content manifests -----------------------------------------------------------------


def test_real_content_manifest_gives_the_content_sets(tmp_path):
    from testkit.shared import shared_path

    path = shared_path("data", "feeds", "redhat", "content_manifests", "ubi8-minimal-container-8.5-218.json")
    name = "root/buildinfo/content_manifests/ubi8-minimal-container-8.5-218.json"
    assert OSReleaseCataloger().file_required(name, 0o644)
    info = _os(name, path.read_text(), tmp_path)
    assert (info.family, info.version, info.source, info.content_sets) == (
        "redhat",
        None,
        "/" + name,
        ("rhel-8-for-x86_64-appstream-rpms", "rhel-8-for-x86_64-baseos-rpms"),
    )
    # The newer file beside it names packages only: no content sets, nothing to say.
    newer = shared_path("data", "feeds", "redhat", "content_manifests", "sbom-purl.json")
    assert _os("root/buildinfo/content_manifests/sbom-purl.json", newer.read_text(), tmp_path) is None


@pytest.mark.parametrize(
    "path",
    [
        "root/buildinfo/content_manifests/deeper/x.json",
        "root/buildinfo/content_manifests/x.txt",
        "root/x.json",
    ],
)
def test_only_manifests_themselves_are_read(path):
    assert not OSReleaseCataloger().file_required(path, 0o644)


def test_content_manifest_that_is_not_json_is_a_catalog_error(tmp_path):
    from ci_security.errors import CatalogError

    with pytest.raises(CatalogError, match="invalid JSON"):
        _os("root/buildinfo/content_manifests/x.json", '{"content_sets": [', tmp_path)
    odd = '{"content_sets": ["rhel-9-for-x86_64-baseos-rpms", "../../etc", 7, "x\\u0000y"]}'
    info = _os("root/buildinfo/content_manifests/x.json", odd, tmp_path)
    assert info.content_sets == ("rhel-9-for-x86_64-baseos-rpms",)  # only repository ids are kept


def test_content_sets_of_every_layer_are_merged_for_red_hat_only():
    facts = [
        OSInfo(family="redhat", version="9.2", source="/etc/os-release"),
        OSInfo(
            family="redhat",
            version=None,
            source="/root/buildinfo/content_manifests/a.json",
            content_sets=("b", "a"),
        ),
        OSInfo(
            family="redhat",
            version=None,
            source="/root/buildinfo/content_manifests/c.json",
            content_sets=("c",),
        ),
    ]
    merged = merge_os(facts)
    assert (merged.family, merged.version, merged.content_sets) == ("redhat", "9.2", ("a", "b", "c"))
    rocky = merge_os([OSInfo(family="rocky", version="9.3", source="/etc/os-release"), facts[1]])
    assert rocky.content_sets == ()


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

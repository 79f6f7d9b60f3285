import pytest
from packageurl import PackageURL

from ci_security.models import OSInfo, Package, build_purl
from ci_security.models.purl import (
    oci_purl,
    parse_purl,
    purl_prefix_matches,
    purl_qualifier,
    purl_type,
    same_package,
)

DEBIAN = OSInfo(family="debian", version="12.15")


@pytest.mark.parametrize(
    ("pkg", "os_info", "expected"),
    [
        (
            Package(name="bsdutils", version="1:2.38.1-5+deb12u3", type="deb", arch="amd64", epoch=1),
            DEBIAN,
            "pkg:deb/debian/bsdutils@2.38.1-5%2Bdeb12u3?arch=amd64&distro=debian-12.15&epoch=1",
        ),
        (
            Package(name="adduser", version="3.134", type="deb", arch="all"),
            DEBIAN,
            "pkg:deb/debian/adduser@3.134?arch=all&distro=debian-12.15",
        ),
        (
            Package(name="musl", version="1.2.4-r2", type="apk", arch="x86_64"),
            OSInfo(family="alpine", version="3.19.1"),
            "pkg:apk/alpine/musl@1.2.4-r2?arch=x86_64&distro=3.19.1",
        ),
        (
            Package(
                name="openssl-libs", version="1:3.0.8-1.amzn2023.0.4", type="rpm", arch="x86_64", epoch=1
            ),
            OSInfo(family="amazon", version="2023"),
            "pkg:rpm/amazon/openssl-libs@3.0.8-1.amzn2023.0.4?arch=x86_64&distro=amazon-2023&epoch=1",
        ),
        (Package(name="libc6", version="2.36", type="deb"), None, "pkg:deb/libc6@2.36"),
        (Package(name="@babel/parser", version="7.23.6", type="npm"), None, "pkg:npm/%40babel/parser@7.23.6"),
        (
            Package(name="org.slf4j:slf4j-api", version="1.7.30", type="maven"),
            None,
            "pkg:maven/org.slf4j/slf4j-api@1.7.30",
        ),
        (
            Package(name="github.com/aquasecurity/go-version", version="v0.0.0-2021", type="golang"),
            None,
            "pkg:golang/github.com/aquasecurity/go-version@v0.0.0-2021",
        ),
    ],
)
def test_purls(pkg, os_info, expected):
    assert build_purl(pkg, os_info) == expected


def test_os_without_version_has_no_distro_qualifier():
    pkg = Package(name="x", version="1", type="deb", arch="amd64")
    assert build_purl(pkg, OSInfo(family="debian", version=None)) == "pkg:deb/debian/x@1?arch=amd64"


# --- reading back with packageurl-python -----------------------------------------------------------

ROUND_TRIP = [
    (Package(name="bsdutils", version="1:2.38.1-5+deb12u3", type="deb", arch="amd64", epoch=1), DEBIAN),
    (
        Package(name="musl", version="1.2.4-r2", type="apk", arch="x86_64"),
        OSInfo(family="alpine", version="3.19.1"),
    ),
    (Package(name="@babel/parser", version="7.23.6", type="npm"), None),
    (Package(name="JSONStream", version="1.3.5", type="npm"), None),
    (Package(name="org.slf4j:slf4j-api", version="1.7.30", type="maven"), None),
    (Package(name="github.com/aquasecurity/go-version", version="v0.0.0-2021", type="golang"), None),
    (Package(name="Zope.Interface", version="5", type="pypi"), None),
    (Package(name="Newtonsoft.Json", version="13.0.1", type="nuget"), None),
    (Package(name="odd name/with?sep#and&more", version="1.0 beta/2@x", type="gem"), None),
    (Package(name="lone\udc80surrogate", version="1.0.0", type="npm"), None),
    (Package(name="x", version="1", type="deb", arch="amd64"), OSInfo(family="debian", version="sid/forky")),
]


@pytest.mark.parametrize(("pkg", "os_info"), ROUND_TRIP)
def test_packageurl_python_reads_every_built_purl_back_to_its_components(pkg, os_info):
    built = build_purl(pkg, os_info)
    parsed = parse_purl(built)
    assert parsed is not None, built
    namespace, name = (os_info.family, pkg.name) if os_info else _split(pkg)
    version = pkg.version.partition(":")[2] if pkg.epoch else pkg.version
    # what packageurl-python makes of the same components (it lower-cases npm names, for one)
    expected = PackageURL(
        type=pkg.type, namespace=namespace, name=name.replace("\udc80", "\ufffd"), version=version
    )
    assert (parsed.type, parsed.namespace, parsed.name, parsed.version) == (
        expected.type,
        expected.namespace,
        expected.name,
        expected.version,
    )
    assert parsed.qualifiers.get("arch") == pkg.arch
    assert parsed.qualifiers.get("epoch") == (str(pkg.epoch) if pkg.epoch else None)


def _split(pkg):
    if pkg.type == "pypi":
        return None, "zope-interface"
    if pkg.type == "maven":
        return tuple(pkg.name.split(":"))
    if "/" in pkg.name and pkg.type in ("npm", "golang"):
        namespace, _, name = pkg.name.rpartition("/")
        return namespace, name
    return None, pkg.name


@pytest.mark.parametrize(
    "pkg",
    [
        Package(name="bsdutils", version="1:2.38.1-5+deb12u3", type="deb", arch="amd64", epoch=1),
        Package(name="@babel/parser", version="7.23.6", type="npm"),
        Package(name="org.slf4j:slf4j-api", version="1.7.30", type="maven"),
        Package(name="typing_extensions", version="4.4.0", type="pypi"),
        Package(name="github.com/aquasecurity/go-version", version="v0.0.0-2021", type="golang"),
    ],
)
def test_ordinary_purls_are_packageurl_pythons_canonical_form(pkg):
    built = build_purl(pkg, DEBIAN)
    assert str(PackageURL.from_string(built)) == built


@pytest.mark.parametrize(
    ("pkg", "ours", "theirs"),
    [
        # `/` inside a version: we encode it, so it cannot read as a separator
        (Package(name="x", version="1.0/2", type="gem"), "pkg:gem/x@1.0%2F2", "pkg:gem/x@1.0/2"),
        # npm names keep their case (legacy packages such as JSONStream are published that way)
        (
            Package(name="JSONStream", version="1.3.5", type="npm"),
            "pkg:npm/JSONStream@1.3.5",
            "pkg:npm/jsonstream@1.3.5",
        ),
        # PyPI names are PEP 503 normalised, dots included
        (
            Package(name="zope.interface", version="5", type="pypi"),
            "pkg:pypi/zope-interface@5",
            "pkg:pypi/zope.interface@5",
        ),
    ],
)
def test_where_our_form_differs_from_packageurl_pythons(pkg, ours, theirs):
    assert build_purl(pkg, None) == ours
    assert PackageURL(type=pkg.type, name=pkg.name, version=pkg.version).to_string() == theirs
    # the same package either way
    assert same_package(theirs, ours)
    assert same_package(ours, theirs)


def test_a_lone_surrogate_is_written_as_the_replacement_character():
    pkg = Package(name="lone\udc80surrogate", version="1.0.0", type="npm")
    assert build_purl(pkg, None) == "pkg:npm/lone%EF%BF%BDsurrogate@1.0.0"


@pytest.mark.parametrize(
    "text",
    [
        "",
        "pkg:",
        "pkg:/x",
        "pkg:deb",
        "pkg:deb/",
        "pkg:1x/y",
        "pkg:d%eb/x",
        "pkg:deb/@1",
        "npm/x@1",
        "pkg:deb/x?novalue",
        "pkg:deb/x?a b=1",
        "pkg:deb/x?1a=b",
    ],
)
def test_text_packageurl_python_rejects_is_not_a_purl(text):
    assert parse_purl(text) is None
    assert purl_type(text) is None
    assert not same_package(text, "pkg:deb/debian/x@1")


def test_undecodable_escapes_read_as_the_replacement_character():
    purl = parse_purl("pkg:deb/%ff%fe@1")
    assert purl is not None and purl.name == "\ufffd\ufffd"


def test_type_and_qualifiers():
    purl = "pkg:rpm/redhat/openssl-libs@3.0.7-27.el9?arch=x86_64&epoch=1&distro=redhat-9.3"
    assert purl_type(purl) == "rpm"
    assert purl_type("pkg:DEB/debian/x@1") == "deb"
    assert purl_qualifier(purl, "arch") == "x86_64"
    assert purl_qualifier(purl, "epoch") == "1"
    assert purl_qualifier(purl, "modularitylabel") is None
    assert purl_qualifier("pkg:deb/debian/x@1?arch=arm%2064", "arch") == "arm 64"
    assert purl_type("not a purl") is None and purl_qualifier("not a purl", "arch") is None


def test_image_purls_follow_the_spec_examples():
    digest = "sha256:" + "a" * 64
    assert oci_purl("app", "ghcr.io/acme/app", digest=digest) == (
        f"pkg:oci/app@sha256%3A{'a' * 64}?repository_url=ghcr.io/acme/app"
    )
    assert (
        oci_purl("app", "ghcr.io/acme/app", tag="1.3")
        == "pkg:oci/app?repository_url=ghcr.io/acme/app&tag=1.3"
    )


# --- comparing ------------------------------------------------------------------------------------

ZLIB_PURL = "pkg:deb/debian/zlib1g@1.2.13.dfsg-1?arch=amd64&distro=debian-12.5&epoch=1"


@pytest.mark.parametrize(
    ("pattern", "purl", "matches"),
    [
        ("pkg:pypi/urllib3", "pkg:pypi/urllib3@1.24.1", True),
        ("pkg:pypi/urllib3@1.24.1", "pkg:pypi/urllib3@1.24.1", True),
        ("pkg:pypi/urllib3@1.24.2", "pkg:pypi/urllib3@1.24.1", False),
        ("pkg:pypi/URLLib3", "pkg:pypi/urllib3@1.24.1", True),
        ("pkg:pypi/zope_interface", "pkg:pypi/zope-interface@6.0", True),
        ("pkg:deb/debian/zlib1g?arch=arm64", ZLIB_PURL, True),
        ("pkg:deb/debian/zlib1g@1.2.13.dfsg-1", ZLIB_PURL, True),
        ("pkg:deb/ubuntu/zlib1g", ZLIB_PURL, False),
        (
            "pkg:deb/debian/bsdutils@2.38.1-5+deb12u3",
            "pkg:deb/debian/bsdutils@2.38.1-5%2Bdeb12u3?arch=amd64",
            True,
        ),
        ("pkg:npm/%40angular/core@17.0.0", "pkg:npm/@angular/core@17.0.0", True),
        ("pkg:npm/@angular/core", "pkg:npm/%40angular/core@17.0.0", True),
        ("pkg:pypi/urllib3", "", False),
        ("not a purl", "pkg:pypi/urllib3@1", False),
    ],
)
def test_same_package(pattern, purl, matches):
    """The VEX rule (moved here from tests/policy/test_vex.py with the code)."""
    assert same_package(pattern, purl) is matches


@pytest.mark.parametrize(
    ("pattern", "purl", "matches"),
    [
        ("pkg:deb/debian/libwebp7", "pkg:deb/debian/libwebp7@1.2.4-0.2?arch=amd64", True),
        ("pkg:deb/debian/libwebp7", "pkg:deb/debian/libwebp7-dev@1.2.4-0.2?arch=amd64", False),
        ("pkg:deb/debian", "pkg:deb/debian/libwebp7@1.2.4", True),
        ("pkg:deb/debian/", "pkg:deb/debian/libwebp7@1.2.4", True),
        ("pkg:deb/debian/libwebp7@1.2", "pkg:deb/debian/libwebp7@1.2.4", False),
        ("pkg:deb/debian/libwebp7@1.2.4", "pkg:deb/debian/libwebp7@1.2.4?arch=amd64", True),
        ("pkg:DEB/Debian/LibWebP7?arch=arm64", "pkg:deb/debian/libwebp7@1.2.4?arch=amd64", True),
        ("pkg:deb/debian/libweb*", "pkg:deb/debian/libwebp7@1.2.4", True),
        ("pkg:deb/debian/bsdutils@2.38.1-5+deb12u3", "pkg:deb/debian/bsdutils@2.38.1-5%2Bdeb12u3", True),
        ("pkg:deb/debian/libwebp7", "", False),
    ],
)
def test_policy_prefix_rule(pattern, purl, matches):
    assert purl_prefix_matches(pattern, purl) is matches

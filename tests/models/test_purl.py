import pytest

from ci_security.models import OSInfo, Package, build_purl

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

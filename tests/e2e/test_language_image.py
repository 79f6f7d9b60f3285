"""Every language fixture placed where an image keeps it, in a real two-layer image (gzip OCI layout
and docker-archive), catalogued in one walk per layer: the counts of EXPECTED.md hold end to end."""

from collections import Counter

import pytest
from testkit.images import DEBIAN_RELEASE, build_docker_archive, build_oci_layout, file

from ci_security.scan import ScanOptions, run


def _layers(pkgdb):
    def fx(rel: str) -> bytes:
        return (pkgdb / rel).read_bytes()

    site = "usr/local/lib/python3.11/site-packages"
    gems = "usr/lib/ruby/gems/3.1.0/specifications"
    base = [
        *DEBIAN_RELEASE,
        file("usr/local/bin/gobin", fx("go/executable_gobinary"), mode=0o755),
        file("usr/local/bin/rustbin", fx("rust/executable_rust"), mode=0o755),
    ]
    app = [
        *(
            file(f"{site}/{meta}", fx(f"python/{meta}"))
            for meta in (
                "distlib-0.3.1.dist-info/METADATA",
                "setuptools-51.3.3.dist-info/METADATA",
                "Flask-2.0.0.dist-info/METADATA",
            )
        ),
        file("app/node_modules/express/package.json", fx("npm/express/package.json")),
        file("app/node_modules/@babel/parser/package.json", fx("npm/@babel/parser/package.json")),
        file("srv/test.war", fx("java/test.war")),
        file("srv/lib/jackson-annotations-2.15.0-rc2.jar", fx("java/jackson-annotations-2.15.0-rc2.jar")),
        file(f"{gems}/test-unit-3.3.7.gemspec", fx("ruby/test-unit-3.3.7.gemspec")),
        file("app/datacollector.deps.json", fx("dotnet/datacollector.deps.json")),
        file("var/www/vendor/composer/installed.json", fx("php/installed.json")),
        file("app/scripts/run.sh", "#!/bin/sh\necho not a binary\n", mode=0o755),
    ]
    return [base, app]


@pytest.mark.parametrize("kind", ["oci", "docker-archive"])
def test_all_ecosystems_in_one_image(pkgdb, tmp_path, kind):
    layers = _layers(pkgdb)
    if kind == "oci":
        build_oci_layout(tmp_path / "lay", layers)
        ref = f"oci:{tmp_path / 'lay'}"
    else:
        build_docker_archive(tmp_path / "img.tar", layers)
        ref = f"docker-archive:{tmp_path / 'img.tar'}"
    result = run(ScanOptions(image=ref, vulns=False, use_cache=False))
    assert result.warnings == ()
    counts = Counter(p.type for p in result.packages)
    expected = {"golang": 5, "cargo": 2, "pypi": 3, "npm": 2, "maven": 9, "gem": 1, "nuget": 2, "composer": 2}
    assert counts == expected
    by = {(p.type, p.name): p for p in result.packages}
    assert by[("golang", "stdlib")].version == "v1.15.2"
    assert by[("golang", "stdlib")].layer.index == 0
    assert by[("maven", "com.example:web-app")].version == "1.0-SNAPSHOT"
    assert by[("maven", "org.slf4j:slf4j-api")].path == "/srv/test.war!/WEB-INF/lib/slf4j-api-1.7.30.jar"
    assert by[("pypi", "Flask")].purl == "pkg:pypi/flask@2.0.0"
    assert by[("npm", "@babel/parser")].purl == "pkg:npm/%40babel/parser@7.23.6"
    assert by[("composer", "pear/pear_exception")].version == "v1.0.2"
    assert by[("cargo", "library_crate")].layer.index == 0
    assert by[("gem", "test-unit")].layer.index == 1

"""Dependency bumps against advisories written for these tests (`tests/fixtures/fix/osv-deps`): the
smallest version that fixes every finding of a package (through a range an advisory reopens), the
manifests' formatting and comments kept byte for byte, hash-pinned locks reported for a re-lock,
lockfiles named, and findings from an image scan bumping ranges the manifests declare."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner
from testkit.fixworld import FIXTURES
from testkit.images import DEBIAN_RELEASE, build_docker_archive, directory, dpkg_status, file

from ci_security.cli import main
from ci_security.fix.deps import dependency_updates
from ci_security.fix.deps.base import EditError
from ci_security.fix.deps.gomod import GoMod
from ci_security.fix.deps.npm import PackageJson, admits
from ci_security.fix.deps.pep508 import raise_to
from ci_security.fix.deps.pyproject import PyProject, poetry_specifier
from ci_security.fix.deps.requirements import Requirements
from ci_security.fix.options import PlanOptions
from ci_security.scan import ScanOptions, run

DEPS = FIXTURES / "deps"


@pytest.fixture(scope="module")
def db(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("deps-db") / "osv.sqlite"
    result = CliRunner().invoke(main, ["db", "import", "--db", str(path), str(FIXTURES / "osv-deps")])
    assert result.exit_code == 0, result.output
    return path


@pytest.fixture
def repo(tmp_path) -> Path:
    root = tmp_path / "repo"
    root.mkdir()
    for name in ("requirements.txt", "requirements-lock.txt", "pyproject.toml", "package.json", "go.mod"):
        shutil.copy(DEPS / name, root / name)
    return root


def test_exact_pins_are_matched_and_bumped_in_place(repo, db):
    updates, skipped = dependency_updates(PlanOptions(root=repo, db_path=db))
    by_file = {u.file: u for u in updates}
    assert set(by_file) == {"requirements.txt", "pyproject.toml", "go.mod"}
    for name, update in by_file.items():
        assert update.content == (DEPS / "expected" / name).read_text(), name
    http = by_file["requirements.txt"]
    # PYSEC-2099-3 is fixed in 2.25.0 and reintroduced in 2.31.0 until 2.31.1: the largest fixed
    # version (2.31.0) is still affected, so the smallest version fixing everything is 2.31.1
    assert (http.current, http.proposed) == ("demo-http==2.19.0", "demo-http==2.31.1")
    assert http.fixes == ("PYSEC-2099-1", "PYSEC-2099-2", "PYSEC-2099-3") and http.after.total == 0
    assert http.branch == "ci-security/deps/requirements-txt-demo-http"
    assert by_file["pyproject.toml"].lines == (5, 10, 14)  # PEP 621, optional-dependencies and Poetry
    assert by_file["go.mod"].proposed == "example.com/demo/text v0.3.7"
    assert by_file["go.mod"].note == "run go mod tidy to bring go.sum up to date"
    reasons = {(s.file, s.line): s.reason for s in skipped}
    assert reasons == {
        ("requirements-lock.txt", 2): "demo-http 2.19.0 → 2.31.1: pinned with --hash: re-lock the file with "
        "demo-http>=2.31.1 (pip-compile --generate-hashes, uv pip compile --generate-hashes); not rewritten",
        ("requirements.txt", 4): "demo-yaml 5.0: no version fixes PYSEC-2099-4 yet",
    }
    assert (repo / "requirements-lock.txt").read_text() == (DEPS / "requirements-lock.txt").read_text()


def test_findings_of_the_image_bump_the_ranges_that_installed_them(repo, db, tmp_path):
    """The image installed demo-lodash 4.17.19 (allowed by ^4.17.15) and demo-http 2.22.0 (allowed
    by >=2.19,<3): those entries are bumped, a pin of another version is not."""
    site = "usr/local/lib/python3.11/site-packages"
    layers = [
        [
            *DEBIAN_RELEASE,
            directory("var/lib/dpkg"),
            file("var/lib/dpkg/status", dpkg_status(("bash", "5.2-1"))),
        ],
        [
            file(
                f"{site}/demo_http-2.22.0.dist-info/METADATA",
                "Metadata-Version: 2.1\nName: demo-http\nVersion: 2.22.0\n\n",
            ),
            file(
                "app/node_modules/demo-lodash/package.json", '{"name": "demo-lodash", "version": "4.17.19"}'
            ),
        ],
    ]
    image = build_docker_archive(tmp_path / "app.tar", layers).path
    findings = run(ScanOptions(image=f"docker-archive:{image}", db_path=db, use_cache=False)).vulnerabilities
    assert {(v.package.name, v.package.version) for v in findings} == {
        ("demo-http", "2.22.0"),
        ("demo-lodash", "4.17.19"),
    }
    (repo / "requirements.txt").write_text("demo-http==2.19.0\n")
    updates, _ = dependency_updates(PlanOptions(root=repo, db_path=db, findings=findings))
    by_file = {u.file: u for u in updates}
    npm = by_file["package.json"]
    assert npm.content == (DEPS / "expected" / "package.json").read_text()
    assert (npm.installed, npm.fixes, npm.package_type) == ("4.17.19", ("GHSA-2099-aaaa-bbbb",), "npm")
    assert npm.note.startswith("regenerate the lockfile (npm install")
    pyproject = by_file["pyproject.toml"]
    assert pyproject.installed == "2.22.0" and pyproject.proposed == "demo-http>=2.31.1,<3"
    # requirements.txt pins 2.19.0, which is vulnerable too (its own finding, from the pin)
    assert by_file["requirements.txt"].installed == "2.19.0"


def test_requirement_rewrites():
    assert raise_to("demo>=2.19,<3", "2.19.0", "2.31.1") == "demo>=2.31.1,<3"
    assert raise_to("demo >= 2.19 , != 2.25.0", "2.19.0", "2.31.1") == "demo >= 2.31.1 , != 2.25.0"
    assert raise_to("demo~=2.19.0", "2.19.0", "2.31.1") == "demo~=2.31.1"
    assert raise_to("demo>2.1", "2.2", "2.31.1") == "demo>=2.31.1"
    assert raise_to("demo", "2.2", "2.31.1") == "demo>=2.31.1"
    assert raise_to("demo[x] (<3)", "2.2", "2.31.1") == "demo[x] (<3,>=2.31.1)"
    assert raise_to('demo==2.2; python_version>"3"', "2.2", "2.31.1") == 'demo==2.31.1; python_version>"3"'
    with pytest.raises(EditError, match="outside the declared range"):
        raise_to("demo>=2.19,<2.30", "2.19.0", "2.31.1")
    with pytest.raises(EditError, match="wildcard"):
        raise_to("demo==2.*", "2.19.0", "2.31.1")


def test_poetry_and_npm_ranges():
    assert str(poetry_specifier("^1.2.3")) in ("<2,>=1.2.3", ">=1.2.3,<2")
    assert poetry_specifier("^0.2.3").contains("0.2.9") and not poetry_specifier("^0.2.3").contains("0.3.0")
    assert poetry_specifier("~1.2").contains("1.2.9") and not poetry_specifier("~1.2").contains("1.3")
    assert poetry_specifier("^0.0.3").contains("0.0.3") and not poetry_specifier("^0.0.3").contains("0.0.4")
    assert admits("^4.17.15", "4.17.20") and not admits("^4.17.15", "5.0.0")
    assert admits("~1.2.3", "1.2.9") and not admits("~1.2.3", "1.3.0")
    assert admits("^0.2.3", "0.2.4") and not admits("^0.2.3", "0.3.0")
    text = '{"dependencies": {"a": "1.2.3 || 2.x"}}\n'
    entry = PackageJson().entries(text, "package.json")[0]
    with pytest.raises(EditError, match="range npm reads its own way"):
        PackageJson().bump(text, entry, "1.2.3", "1.2.4")


def test_manifest_edits_change_exactly_one_value():
    gomod = "module m\n\nrequire (\n\tx.io/a v1.0.0\n)\n\nreplace x.io/a => ../a\n"
    entry = GoMod().entries(gomod, "go.mod")[0]
    with pytest.raises(EditError, match="replace directive"):
        GoMod().bump(gomod, entry, "v1.0.0", "v1.0.1")
    toml = '[project]\ndependencies = ["demo==1.0"]\noptional-dependencies = {a = ["demo==1.0"]}\n'
    entries = PyProject().entries(toml, "pyproject.toml")
    with pytest.raises(EditError, match="written 2 times"):
        PyProject().bump(toml, entries[0], "1.0", "1.1")
    multi = "demo==1.0 \\\n  ; python_version > '3'\n"
    (entry,) = Requirements().entries(multi, "requirements.txt")
    with pytest.raises(EditError, match="across lines"):
        Requirements().bump(multi, entry, "1.0", "1.1")
    crlf = "demo==1.0\r\nother==2\r\n"
    (first, _) = Requirements().entries(crlf, "requirements.txt")
    assert Requirements().bump(crlf, first, "1.0", "1.1") == "demo==1.1\r\nother==2\r\n"

import io

import pytest

from ci_security.catalog.base import CatalogInput
from ci_security.catalog.ruby.gemspec import GemspecCataloger
from ci_security.errors import CatalogError

SPEC_PATH = "usr/lib/ruby/gems/3.1.0/specifications/x-1.0.gemspec"


def _catalog(data: bytes, tmp_path, path: str = SPEC_PATH):
    # The fixture is only ever read as bytes: a gemspec is Ruby code and is never executed.
    return GemspecCataloger().catalog(CatalogInput(path, len(data), io.BytesIO(data), tmp_path)).packages


@pytest.mark.parametrize(
    ("path", "wanted"),
    [
        ("usr/lib/ruby/gems/3.1.0/specifications/rake-13.0.6.gemspec", True),
        ("usr/local/bundle/specifications/rails-7.0.4.gemspec", True),
        ("specifications/rake-13.0.6.gemspec", True),
        ("usr/lib/ruby/gems/3.1.0/gems/rake-13.0.6/rake.gemspec", False),
        ("usr/lib/ruby/gems/3.1.0/specifications/rake-13.0.6.gemspec.bak", False),
        ("usr/lib/ruby/gems/3.1.0/myspecifications/rake-13.0.6.gemspec", False),
        ("usr/lib/ruby/gems/3.1.0/specifications/default/json-2.6.1.gemspec", True),
        ("app/Gemfile.lock", False),
    ],
)
def test_file_required(path, wanted):
    assert GemspecCataloger().file_required(path, 0o644) is wanted


def test_test_unit_fixture(pkgdb, tmp_path):
    data = (pkgdb / "ruby/test-unit-3.3.7.gemspec").read_bytes()
    path = "usr/local/lib/ruby/gems/3.0.0/specifications/test-unit-3.3.7.gemspec"
    (pkg,) = _catalog(data, tmp_path, path)
    assert (pkg.name, pkg.version, pkg.type) == ("test-unit", "3.3.7", "gem")
    assert pkg.licenses == ("Ruby", "BSDL", "PSFL")
    assert pkg.path == "/" + path
    assert (pkg.purl, pkg.layer, pkg.found_by) == ("", None, "")


def test_single_quotes_and_gem_version(tmp_path):
    data = b"""Gem::Specification.new do |s|
  s.name = 'rake'
  s.version = Gem::Version.new('13.0.6'.freeze)
  s.license = 'MIT'.freeze
  s.required_rubygems_version = Gem::Requirement.new(">= 1.3.5".freeze)
  s.rubygems_version = "3.3.5".freeze
end
"""
    (pkg,) = _catalog(data, tmp_path)
    assert (pkg.name, pkg.version, pkg.licenses) == ("rake", "13.0.6", ("MIT",))


def test_old_rubygems_percent_q_and_crlf(tmp_path):
    data = b'Gem::Specification.new do |s|\r\n  s.name = %q{rack}\r\n  s.version = "1.1.0"\r\nend\r\n'
    (pkg,) = _catalog(data, tmp_path)
    assert (pkg.name, pkg.version, pkg.licenses) == ("rack", "1.1.0", ())


def test_version_assignments_that_are_not_the_gem_version_are_ignored(tmp_path):
    data = b"""Gem::Specification.new do |s|
  s.required_rubygems_version = Gem::Requirement.new(">= 0".freeze)
  s.installed_by_version = "3.2.22" if s.respond_to? :installed_by_version
  s.name = "nokogiri".freeze
  s.version = "1.13.10"
  s.licenses = []
end
"""
    (pkg,) = _catalog(data, tmp_path)
    assert (pkg.name, pkg.version, pkg.licenses) == ("nokogiri", "1.13.10", ())


def test_computed_version_is_not_guessed(tmp_path):
    data = b's.name = "x"\ns.version = "1.0" + Foo::SUFFIX\n'
    with pytest.raises(CatalogError, match="version"):
        _catalog(data, tmp_path)


def test_interpolated_string_is_not_a_literal(tmp_path):
    data = b's.name = "x"\ns.version = "#{MAJOR}.0"\n'
    with pytest.raises(CatalogError, match="version"):
        _catalog(data, tmp_path)


def test_empty_file_yields_nothing(tmp_path):
    assert _catalog(b"", tmp_path) == ()
    assert _catalog(b"\n  \n", tmp_path) == ()


def test_missing_name_or_version_is_reported(tmp_path):
    with pytest.raises(CatalogError, match="name or version"):
        _catalog(b"this is not a gemspec\n", tmp_path)
    with pytest.raises(CatalogError, match="no literal gem name "):
        _catalog(b's.version = "1.0"\n', tmp_path)


def test_never_evaluated(tmp_path):
    # Ruby that would have side effects if run; only the literal assignments are read.
    data = b'system("touch pwned")\ns.name = "evil"\ns.version = "0.1"\n`rm -rf /`\n'
    (pkg,) = _catalog(data, tmp_path)
    assert (pkg.name, pkg.version) == ("evil", "0.1")
    assert not (tmp_path / "pwned").exists()

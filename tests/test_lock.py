"""The hash-pinned lock file (requirements/action.lock.txt, written by scripts/lock.py) matches
pyproject.toml: every runtime and build requirement is pinned, in every target environment its marker
selects, at a version its range admits; each environment gets one version of each package; every pin
carries sha256 hashes; nothing is pinned that no requirement needs (the `# via` graph, checked against
the installed packages' own metadata); and the lock was generated from today's dependency list.
Regenerate with `python3 scripts/lock.py`.
"""

from __future__ import annotations

import importlib.util
import os
import re
import sys
from importlib import metadata
from pathlib import Path
from types import ModuleType

import pytest
from packaging.markers import Marker
from packaging.requirements import Requirement
from packaging.version import Version

ROOT = Path(__file__).resolve().parents[1]
ROOT_LABEL = "ci-security (pyproject.toml)"


def _script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("ci_security_lock_script", ROOT / "scripts" / "lock.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while the class is built
    spec.loader.exec_module(module)
    return module


lock_script = _script()
LOCK = lock_script.load()
ENVIRONMENTS = {
    f"CPython {python} {platform}": lock_script.marker_environment(python, platform)
    for python in lock_script.PYTHONS
    for platform in lock_script.PLATFORMS
}
canonical = lock_script.canonical


def _roots() -> list[Requirement]:
    spec = lock_script.inputs()
    return [Requirement(r) for r in spec["dependencies"] + spec["build-system"]]


def _applies(marker: str | Marker | None, environment: dict[str, str]) -> bool:
    if marker is None:
        return True
    return (marker if isinstance(marker, Marker) else Marker(marker)).evaluate({**environment, "extra": ""})


def test_the_lock_was_generated_from_the_current_dependency_list():
    assert LOCK.header.get("inputs-sha256") == lock_script.inputs_sha256(), (
        "pyproject.toml's dependencies changed since the lock was generated: run python3 scripts/lock.py"
    )
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", LOCK.header.get("exclude-newer", ""))
    assert LOCK.header.get("generator", "").startswith("uv==")


@pytest.mark.parametrize("environment", sorted(ENVIRONMENTS))
def test_every_requirement_is_pinned_in_range(environment):
    env = ENVIRONMENTS[environment]
    for requirement in _roots():
        if not _applies(requirement.marker, env):
            continue
        # A requirement with extras would need the extra's own requirements in the lock as well.
        assert not requirement.extras, f"{requirement}: extras are not supported by the lock check"
        pins = [e for e in LOCK.entries if canonical(e.name) == canonical(requirement.name)]
        pins = [e for e in pins if _applies(e.marker, env)]
        assert len(pins) == 1, f"{requirement} has {len(pins)} pins that apply on {environment}"
        assert requirement.specifier.contains(Version(pins[0].version), prereleases=True), (
            f"{requirement.name}=={pins[0].version} is outside {requirement} (pyproject.toml)"
        )


@pytest.mark.parametrize("environment", sorted(ENVIRONMENTS))
def test_one_version_of_each_package_per_environment(environment):
    names = [canonical(e.name) for e in LOCK.entries if _applies(e.marker, ENVIRONMENTS[environment])]
    assert len(names) == len(set(names)), sorted(n for n in names if names.count(n) > 1)


def test_every_pin_is_exact_and_hashed():
    assert LOCK.entries
    for entry in LOCK.entries:
        assert Version(entry.version), entry
        assert entry.hashes, f"{entry.name}=={entry.version} has no --hash"
        assert len(set(entry.hashes)) == len(entry.hashes), f"{entry.name}: a hash is listed twice"
        for digest in entry.hashes:
            assert re.fullmatch(r"sha256:[0-9a-f]{64}", digest), f"{entry.name}: {digest}"


def test_nothing_is_pinned_that_nothing_needs():
    pinned = {canonical(e.name) for e in LOCK.entries}
    build = {canonical(r.name) for r in map(Requirement, lock_script.inputs()["build-system"])}
    parents: dict[str, set[str]] = {}
    for entry in LOCK.entries:
        name = canonical(entry.name)
        parents.setdefault(name, set())
        for via in entry.via:
            if via == ROOT_LABEL:
                parents[name].add(ROOT_LABEL)
            else:
                assert canonical(via) in pinned, f"{entry.name} is pinned `via {via}`, which is not pinned"
                parents[name].add(canonical(via))
    needed = {ROOT_LABEL} | build
    changed = True
    while changed:
        changed = False
        for name, via in parents.items():
            if name not in needed and via & needed:
                needed.add(name)
                changed = True
    assert pinned <= needed, f"pinned but needed by nothing: {sorted(pinned - needed)}"
    direct = {canonical(r.name) for r in map(Requirement, lock_script.inputs()["dependencies"])}
    assert {n for n, via in parents.items() if ROOT_LABEL in via} == direct


def _locked_and_installed() -> dict[str, metadata.Distribution]:
    found = {}
    for entry in LOCK.entries:
        try:
            dist = metadata.distribution(entry.name)
        except metadata.PackageNotFoundError:
            continue
        if Version(dist.version) == Version(entry.version):
            found[canonical(entry.name)] = dist
    return found


def test_the_lock_is_closed_under_the_packages_own_requirements():
    """Each pinned package installed here at its pinned version has its own requirements pinned
    (installing with --no-deps would otherwise leave it broken), and each `via` edge it is named in
    is one of its requirements. In CI (CI_SECURITY_REQUIRE_LOCKED=1, set by .ci/run after
    scripts/setup.sh installed the lock) every package that applies here must be at its pinned
    version, so every edge is checked."""
    installed = _locked_and_installed()
    here = {canonical(e.name) for e in LOCK.entries if e.marker is None or Marker(e.marker).evaluate()}
    if os.environ.get("CI_SECURITY_REQUIRE_LOCKED") == "1":
        assert here <= set(installed), f"not installed at the pinned version: {sorted(here - set(installed))}"
    pinned = {canonical(e.name) for e in LOCK.entries}
    assert installed, "no pinned package is installed at its pinned version; run scripts/setup.sh"
    for name, dist in installed.items():
        requires = [Requirement(r) for r in dist.requires or []]
        needed = {
            canonical(r.name) for r in requires if any(_applies(r.marker, e) for e in ENVIRONMENTS.values())
        }
        assert needed <= pinned, f"{name} requires {sorted(needed - pinned)}, which the lock does not pin"
        for entry in LOCK.entries:
            if name in {canonical(v) for v in entry.via}:
                assert canonical(entry.name) in {canonical(r.name) for r in requires}, (
                    f"{entry.name} is pinned `via {name}`, but {name} does not require it"
                )


def test_the_generator_is_hash_pinned():
    tool = lock_script.parse(lock_script.TOOL_LOCK.read_text(encoding="utf-8"))
    assert [(canonical(e.name), bool(e.hashes)) for e in tool.entries] == [("uv", True)]
    assert LOCK.header["generator"].startswith(f"uv=={tool.entries[0].version} ")


def test_parser_reads_continuations_markers_and_via_blocks():
    text = (
        "# exclude-newer: 2026-01-01T00:00:00Z\n"
        "a-b==1.0 ; python_version < '3.12' \\\n"
        "    --hash=sha256:" + "0" * 64 + " \\\n"
        "    --hash=sha256:" + "1" * 64 + "\n"
        "    # via\n    #   ci-security (pyproject.toml)\n    #   viable\n"
        "viable==2\n    # via a-b\n"
    )
    parsed = lock_script.parse(text)
    assert parsed.header == {"exclude-newer": "2026-01-01T00:00:00Z"}
    first, second = parsed.entries
    assert (first.name, first.version, first.marker) == ("a-b", "1.0", "python_version < '3.12'")
    assert first.hashes == ["sha256:" + "0" * 64, "sha256:" + "1" * 64]
    assert first.via == [ROOT_LABEL, "viable"]
    assert (second.version, second.hashes, second.via) == ("2", [], ["a-b"])


@pytest.mark.parametrize(
    "text",
    ["a>=1 \\\n    --hash=sha256:00\n", "a==1 \\\n", "    # via b\n", "    --hash=sha256:00\n"],
    ids=["range", "ends-continued", "via-first", "orphan-hash"],
)
def test_parser_refuses_what_pip_would_not_pin(text):
    with pytest.raises(lock_script.LockError):
        lock_script.parse(text)


def test_environment_check_names_each_difference():
    parsed = lock_script.parse("a==1.0\nb==2.0\nc==3 ; sys_platform == 'no-such-platform'\n")
    assert lock_script.environment_problems(parsed, {"a": "1.0", "b": "2.0", "pip": "24"}) == []
    assert lock_script.environment_problems(parsed, {"a": "1.0.0", "b": "2.1", "d": "1", "pip": "1"}) == [
        "b is 2.1, the lock pins 2.0",
        "d==1 is installed but not in the lock",
    ]
    assert lock_script.environment_problems(parsed, {"b": "2.0"}) == ["a==1.0 is not installed"]
    assert lock_script.environment_problems(parsed, {"a": "<several versions>", "b": "2.0"}) == [
        "a is installed more than once"
    ]


def test_environment_check_never_echoes_what_a_poisoned_cache_wrote():
    parsed = lock_script.parse("a==1.0\n")
    installed = {"a": "1.0\n::error::x", "<invalid name>": "1", "b": "2\n::warning::y"}
    problems = lock_script.environment_problems(parsed, installed)
    assert problems == [
        "a has an invalid version, the lock pins 1.0",
        "a distribution with an invalid name is installed",
        "b==(invalid version) is installed but not in the lock",
    ]
    assert not any("::" in p or "\n" in p for p in problems)

"""Policy evaluation: thresholds, fixable-only, ignores (aliases, scopes, expiry), checks, image rules,
new-only against a baseline, and VEX."""

from datetime import date

import pytest

from ci_security.models import (
    EpssScore,
    ImageTarget,
    KevEntry,
    Misconfiguration,
    Package,
    ScanResult,
    Severity,
    Vulnerability,
)
from ci_security.policy.evaluate import evaluate
from ci_security.policy.load import parse_policy
from ci_security.policy.model import DEFAULT_POLICY
from ci_security.policy.vex import parse_vex

TODAY = date(2026, 11, 26)
DIGEST = "sha256:" + "a" * 64
URLLIB3 = Package(
    name="urllib3",
    version="1.24.1",
    type="pypi",
    purl="pkg:pypi/urllib3@1.24.1",
    path="/usr/lib/python3/dist-packages/urllib3-1.24.1.dist-info/METADATA",
)
LIBWEBP = Package(
    name="libwebp7",
    version="1.2.4-0.2+deb12u1",
    type="deb",
    purl="pkg:deb/debian/libwebp7@1.2.4-0.2%2Bdeb12u1?arch=amd64&distro=debian-12.5",
    path="/var/lib/dpkg/status",
)


def vuln(
    vuln_id="CVE-2023-43804",
    severity=Severity.HIGH,
    fixed="1.26.17",
    aliases=(),
    package=URLLIB3,
):
    return Vulnerability(
        id=vuln_id,
        aliases=tuple(aliases),
        package=package,
        fixed_version=fixed,
        status="fixed" if fixed else "affected",
        severity=severity,
        cvss_score=None,
        severity_source="osv",
        fingerprint=f"fp:{vuln_id}:{package.name}",
    )


def misconf(rule_id="DL3008", severity=Severity.LOW, path="Dockerfile", line=3):
    return Misconfiguration(
        rule_id=rule_id,
        title="Pin versions in apt-get install",
        severity=severity,
        path=path,
        line=line,
        message="pin the version",
        fingerprint=f"fp:{rule_id}:{path}",
    )


def image(reference="ghcr.io/acme/app:1.2", **overrides):
    fields = {
        "reference": reference,
        "transport": "docker",
        "digest": DIGEST,
        "image_id": "sha256:" + "c" * 64,
        "platform": None,
        "layers": (),
        "repo_tags": ("ghcr.io/acme/app:1.2",),
        "repo_digests": (f"ghcr.io/acme/app@{DIGEST}",),
        "user": "app",
    }
    fields.update(overrides)
    return ImageTarget(**fields)


def archive(repo_tags=(), **overrides):
    fields = {"transport": "docker-archive", "repo_tags": repo_tags, "repo_digests": (), **overrides}
    return image("docker-archive:app.tar", **fields)


def scan(*vulns, misconfigurations=(), target=None):
    return ScanResult(
        target=image() if target is None else target,
        packages=(),
        vulnerabilities_scanned=True,
        vulnerabilities=tuple(vulns),
        misconfigurations=tuple(misconfigurations),
    )


def policy(text=""):
    return parse_policy(text, "policy.yml")


def ignore(entry_id, *scopes, expires="2027-01-31"):
    lines = [f"  - id: {entry_id}", "    reason: reviewed by the security team", f"    expires: {expires}"]
    return "ignore:\n" + "\n".join(lines + [f"    {s}" for s in scopes]) + "\n"


def violating(decision):
    return [v.fingerprint for v in decision.violations]


ALL_SEVERITIES = [vuln(f"CVE-2026-000{s.rank}", s) for s in Severity]


# --- fail_on ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("threshold", "expected"),
    [
        ("critical", ["CRITICAL"]),
        ("high", ["CRITICAL", "HIGH"]),
        ("medium", ["CRITICAL", "HIGH", "MEDIUM"]),
        ("low", ["CRITICAL", "HIGH", "MEDIUM", "LOW"]),
        ("unknown", ["CRITICAL", "HIGH", "MEDIUM", "LOW", "UNKNOWN"]),
        ("none", []),
    ],
)
def test_severity_threshold(threshold, expected):
    decision = evaluate(scan(*ALL_SEVERITIES), policy(f"fail_on: {{severity: {threshold}}}"), today=TODAY)
    assert [v.severity.value for v in decision.violations] == expected
    assert decision.passed is (not expected)
    assert all(v.rule == "fail_on" and v.kind == "vulnerability" for v in decision.violations)


def test_default_policy_fails_on_fixable_high_and_critical():
    unfixed = vuln("CVE-2026-1111", Severity.CRITICAL, fixed=None)
    decision = evaluate(scan(*ALL_SEVERITIES, unfixed), DEFAULT_POLICY, today=TODAY)
    assert violating(decision) == ["fp:CVE-2026-0004:urllib3", "fp:CVE-2026-0003:urllib3"]
    assert decision.result == "fail"
    assert decision.summary == "fail: 2 findings at or above HIGH with a fix"
    assert decision.policy_source is None
    assert decision.violations[0].message == "CVE-2026-0004 (CRITICAL) in urllib3 1.24.1, fixed in 1.26.17"


def test_fixable_only_off_fails_on_unfixed_findings():
    unfixed = vuln("CVE-2026-1111", Severity.HIGH, fixed=None)
    assert evaluate(scan(unfixed), policy(), today=TODAY).passed
    decision = evaluate(scan(unfixed), policy("fail_on: {fixable_only: false}"), today=TODAY)
    assert violating(decision) == ["fp:CVE-2026-1111:urllib3"]
    assert decision.violations[0].message.endswith("no fixed version")
    assert decision.summary == "fail: 1 finding at or above HIGH"


# --- exploitation signals: KEV and EPSS ----------------------------------------------------------

KEV = KevEntry(date_added="2023-09-13", due_date="2023-10-04", ransomware="Unknown")


def exploited(vuln_id, severity=Severity.LOW, kev=None, epss=None, fixed="1.0"):
    from dataclasses import replace

    return replace(vuln(vuln_id, severity, fixed=fixed), kev=kev, epss=epss)


def test_kev_fails_below_the_severity_threshold():
    listed = exploited("CVE-2023-4863", kev=KEV)
    quiet = exploited("CVE-2026-0001")
    assert evaluate(scan(listed, quiet), policy(), today=TODAY).passed  # kev is off by default
    decision = evaluate(scan(listed, quiet), policy("fail_on: {kev: true}"), today=TODAY)
    assert violating(decision) == ["fp:CVE-2023-4863:urllib3"]
    assert decision.violations[0].message == (
        "CVE-2023-4863 (LOW) in urllib3 1.24.1, fixed in 1.0; in CISA's KEV catalogue since 2023-09-13"
    )
    assert decision.summary == "fail: 1 finding at or above HIGH or in CISA's KEV with a fix"


def test_kev_alone_with_severity_none_and_fixable_only_still_applying():
    listed = exploited("CVE-2023-4863", kev=KEV, fixed=None)
    high = exploited("CVE-2026-0003", Severity.CRITICAL)
    text = "fail_on: {severity: none, kev: true}"
    decision = evaluate(scan(listed, high), policy(text), today=TODAY)
    assert violating(decision) == []  # no fix, and fixable_only applies to exploited findings too
    assert decision.summary == "pass: no findings in CISA's KEV with a fix"
    unfixed = policy("fail_on: {severity: none, kev: true, fixable_only: false}")
    assert violating(evaluate(scan(listed, high), unfixed, today=TODAY)) == ["fp:CVE-2023-4863:urllib3"]


@pytest.mark.parametrize(
    ("setting", "failing"),
    [
        ("0.5", ["CVE-2026-0010"]),  # a number is a score
        ("{score: 0.05}", ["CVE-2026-0010", "CVE-2026-0011"]),
        ("{percentile: 0.95}", ["CVE-2026-0010"]),
        ("{percentile: 0.5}", ["CVE-2026-0010", "CVE-2026-0011"]),
    ],
)
def test_epss_threshold_by_score_or_percentile(setting, failing):
    likely = exploited("CVE-2026-0010", epss=EpssScore(score=0.91963, percentile=0.99214))
    possible = exploited("CVE-2026-0011", epss=EpssScore(score=0.0916, percentile=0.92))
    unscored = exploited("CVE-2026-0012")
    text = f"fail_on: {{severity: critical, epss: {setting}}}"
    decision = evaluate(scan(likely, possible, unscored), policy(text), today=TODAY)
    assert violating(decision) == [f"fp:{i}:urllib3" for i in failing]
    assert "EPSS" in decision.violations[0].message


def test_passing_summary():
    decision = evaluate(scan(vuln(severity=Severity.LOW)), policy(), today=TODAY)
    assert decision.passed
    assert decision.summary == "pass: no findings at or above HIGH with a fix"
    assert decision.policy_source == "policy.yml"
    decision = evaluate(scan(vuln()), policy("fail_on: {severity: none}"), today=TODAY)
    assert decision.summary == "pass: failing on findings is off (fail_on.severity: none)"


# --- ignore ---------------------------------------------------------------------------------------


def test_active_ignore_suppresses_with_its_reason_and_source():
    decision = evaluate(scan(vuln()), policy(ignore("CVE-2023-43804")), today=TODAY)
    assert decision.passed
    (sup,) = decision.suppressed
    assert sup.fingerprint == "fp:CVE-2023-43804:urllib3"
    assert sup.kind == "ignore"
    assert sup.reason == "reviewed by the security team"
    assert sup.source == "policy.yml:2"
    assert sup.expires == "2027-01-31"
    assert decision.suppression_of("fp:CVE-2023-43804:urllib3") == sup
    assert decision.summary == "pass: no findings at or above HIGH with a fix (1 suppressed)"


def test_expired_ignore_suppresses_nothing_and_is_reported():
    text = ignore("CVE-2023-43804", expires="2026-01-31")
    decision = evaluate(scan(vuln()), policy(text), today=TODAY)
    assert not decision.passed
    assert decision.suppressed == ()
    (expired,) = decision.expired
    assert (expired.id, expired.expires, expired.source) == ("CVE-2023-43804", "2026-01-31", "policy.yml:2")
    assert expired.reason == "reviewed by the security team"
    assert decision.summary == "fail: 1 finding at or above HIGH with a fix (1 ignore expired)"


def test_ignore_is_active_through_its_expiry_day():
    decision = evaluate(scan(vuln()), policy(ignore("CVE-2023-43804", expires="2026-11-26")), today=TODAY)
    assert decision.passed and decision.expired == ()
    decision = evaluate(scan(vuln()), policy(ignore("CVE-2023-43804", expires="2026-11-25")), today=TODAY)
    assert not decision.passed and len(decision.expired) == 1


@pytest.mark.parametrize(
    ("finding_id", "aliases"),
    [
        ("GHSA-x84v-xcm2-53pg", ("CVE-2018-18074",)),
        ("PYSEC-2018-28", ("CVE-2018-18074", "GHSA-x84v-xcm2-53pg")),
        ("CVE-2018-18074", ()),
    ],
)
@pytest.mark.parametrize("entry_id", ["CVE-2018-18074", "cve-2018-18074"])
def test_ignore_matches_the_id_or_any_alias(finding_id, aliases, entry_id):
    finding = vuln(finding_id, aliases=aliases)
    decision = evaluate(scan(finding), policy(ignore(entry_id)), today=TODAY)
    assert decision.passed
    assert [s.fingerprint for s in decision.suppressed] == [finding.fingerprint]


def test_ignore_by_an_alias_the_finding_does_not_have_does_not_match():
    decision = evaluate(scan(vuln("GHSA-x84v-xcm2-53pg")), policy(ignore("CVE-2018-18074")), today=TODAY)
    assert not decision.passed


@pytest.mark.parametrize(
    ("scope", "matches"),
    [
        ("packages: [urllib3]", True),
        ("packages: [URLLIB*]", True),
        ("packages: [requests]", False),
        ('packages: ["pkg:pypi/urllib3"]', True),
        ('packages: ["pkg:pypi/urllib3@1.24.1"]', True),
        ('packages: ["pkg:pypi/urllib3@1.24.1?foo=bar"]', True),
        ('packages: ["pkg:pypi/urllib3@1.24"]', False),
        ('packages: ["pkg:pypi/urllib"]', False),
        ('packages: ["pkg:pypi/*"]', True),
        ('packages: ["pkg:npm/urllib3"]', False),
        ('paths: ["usr/lib/python3/*"]', True),
        ('paths: ["/usr/lib/python3/dist-packages/urllib3-*.dist-info/METADATA"]', True),
        ('paths: ["opt/*"]', False),
        ('images: ["ghcr.io/acme/*"]', True),
        ('images: ["ghcr.io/acme/app"]', True),
        ('images: ["ghcr.io/acme/app:1.2"]', True),
        ('images: ["ghcr.io/acme/app:1.3"]', False),
        ('images: ["ghcr.io/other/*"]', False),
    ],
)
def test_ignore_scopes(scope, matches):
    decision = evaluate(scan(vuln()), policy(ignore("CVE-2023-43804", scope)), today=TODAY)
    assert decision.passed is matches


def test_deb_purl_scope_with_percent_encoded_version():
    finding = vuln("CVE-2023-4863", Severity.CRITICAL, fixed="1.2.4-0.2+deb12u2", package=LIBWEBP)
    for pattern in ("pkg:deb/debian/libwebp7", "pkg:deb/debian/libwebp7@1.2.4-0.2+deb12u1"):
        text = ignore("CVE-2023-4863", f'packages: ["{pattern}"]')
        assert evaluate(scan(finding), policy(text), today=TODAY).passed, pattern
    text = ignore("CVE-2023-4863", 'packages: ["pkg:deb/debian/libwebp"]')
    assert not evaluate(scan(finding), policy(text), today=TODAY).passed


def test_every_given_scope_must_match():
    both = ignore("CVE-2023-43804", "packages: [urllib3]", 'paths: ["usr/lib/*"]')
    assert evaluate(scan(vuln()), policy(both), today=TODAY).passed
    one_wrong = ignore("CVE-2023-43804", "packages: [urllib3]", 'paths: ["opt/*"]')
    assert not evaluate(scan(vuln()), policy(one_wrong), today=TODAY).passed


def test_images_scope_on_docker_hub_and_archives():
    hub = image("nginx:1.27", repo_tags=("docker.io/library/nginx:1.27",), repo_digests=())
    for pattern in ("nginx", "library/nginx", "docker.io/library/*", "nginx:1.27"):
        text = ignore("CVE-2023-43804", f'images: ["{pattern}"]')
        assert evaluate(scan(vuln(), target=hub), policy(text), today=TODAY).passed, pattern
    tagged = archive(repo_tags=("ghcr.io/acme/app:1.2",))
    text = ignore("CVE-2023-43804", 'images: ["ghcr.io/acme/*"]')
    assert evaluate(scan(vuln(), target=tagged), policy(text), today=TODAY).passed
    assert not evaluate(scan(vuln(), target=archive()), policy(text), today=TODAY).passed


# --- misconfigurations and checks ------------------------------------------------------------------


def test_misconfigurations_use_the_threshold_but_not_fixable_only():
    findings = [misconf("DS002", Severity.HIGH), misconf("DL3008", Severity.LOW)]
    decision = evaluate(scan(misconfigurations=findings), DEFAULT_POLICY, today=TODAY)
    assert violating(decision) == ["fp:DS002:Dockerfile"]
    (violation,) = decision.violations
    assert violation.kind == "misconfiguration"
    assert violation.message == "DS002 (HIGH) at Dockerfile:3: Pin versions in apt-get install"


def test_checks_disable_suppresses_without_removing():
    text = "checks:\n  disable:\n    - DS002\n"
    result = scan(misconfigurations=[misconf("DS002", Severity.CRITICAL)])
    decision = evaluate(result, policy(text), today=TODAY)
    assert decision.passed
    (sup,) = decision.suppressed
    assert sup.kind == "ignore"
    assert sup.reason == "disabled by checks.disable in policy.yml"
    assert sup.source == "policy.yml:3"
    assert len(result.misconfigurations) == 1


def test_checks_severity_override():
    raised = evaluate(
        scan(misconfigurations=[misconf("DL3008", Severity.LOW)]),
        policy("checks: {severity: {dl3008: high}}"),
        today=TODAY,
    )
    (violation,) = raised.violations
    assert violation.severity is Severity.HIGH
    assert violation.message == (
        "DL3008 (HIGH) at Dockerfile:3: Pin versions in apt-get install "
        "(severity HIGH set by checks.severity; reported as LOW)"
    )
    lowered = evaluate(
        scan(misconfigurations=[misconf("DS002", Severity.CRITICAL)]),
        policy("checks: {severity: {DS002: low}}"),
        today=TODAY,
    )
    assert lowered.passed


def test_ignore_a_misconfiguration_by_rule_id_and_path():
    findings = [
        misconf("DS002", Severity.HIGH, path="Dockerfile"),
        misconf("DS002", Severity.HIGH, path="ci/Dockerfile"),
    ]
    text = ignore("DS002", 'paths: ["ci/*"]')
    decision = evaluate(scan(misconfigurations=findings), policy(text), today=TODAY)
    assert violating(decision) == ["fp:DS002:Dockerfile"]
    assert [s.fingerprint for s in decision.suppressed] == ["fp:DS002:ci/Dockerfile"]
    packages_scope = ignore("DS002", "packages: [urllib3]")
    assert not evaluate(scan(misconfigurations=findings[1:]), policy(packages_scope), today=TODAY).passed


# --- image rules ------------------------------------------------------------------------------------


def image_rules(target, rules):
    decision = evaluate(scan(target=target), policy(f"images: {{{rules}}}"), today=TODAY)
    assert all(v.kind == "image" and v.fingerprint == "" for v in decision.violations)
    return decision


@pytest.mark.parametrize(
    ("reference", "patterns", "allowed"),
    [
        ("ghcr.io/acme/app:1.2", '["ghcr.io"]', True),
        ("ghcr.io/acme/app:1.2", '["ghcr.io/acme/*"]', True),
        ("ghcr.io/acme/app:1.2", '["ghcr.io/acme"]', True),
        ("ghcr.io/acme/app:1.2", '["ghcr.io/other/*"]', False),
        ("eu.gcr.io/acme/app:1.2", '["*.gcr.io"]', True),
        ("docker://quay.io/acme/app:1.2", '["ghcr.io", "quay.io"]', True),
        ("nginx:1.27", '["ghcr.io"]', False),
        ("nginx:1.27", '["docker.io/library/*"]', True),
    ],
)
def test_allowed_registries(reference, patterns, allowed):
    decision = image_rules(image(reference), f"allowed_registries: {patterns}")
    assert decision.passed is allowed
    if not allowed:
        (violation,) = decision.violations
        assert violation.rule == "images.allowed_registries"
        assert "is not from an allowed registry" in violation.message


def test_allowed_registries_on_archives():
    tagged = archive(repo_tags=("registry.example.com/app:1", "app:1"))
    decision = image_rules(tagged, 'allowed_registries: ["registry.example.com"]')
    assert [v.message for v in decision.violations] == [
        "docker.io/library/app:1 is not from an allowed registry (registry.example.com)"
    ]
    untagged = image_rules(archive(), 'allowed_registries: ["ghcr.io"]')
    assert untagged.passed
    assert untagged.summary == (
        "pass: no findings at or above HIGH with a fix "
        "(images.allowed_registries not checked: the image has no registry name)"
    )


@pytest.mark.parametrize(
    ("target", "pinned"),
    [
        (image("ghcr.io/acme/app:1.2"), False),
        (image(f"ghcr.io/acme/app@{DIGEST}"), True),
        (image(f"docker://ghcr.io/acme/app:1.2@{DIGEST}"), True),
        (archive(), False),
        (archive(repo_digests=(f"ghcr.io/acme/app@{DIGEST}",)), True),
    ],
)
def test_require_digest(target, pinned):
    decision = image_rules(target, "require_digest: true")
    assert decision.passed is pinned
    if not pinned:
        assert [v.rule for v in decision.violations] == ["images.require_digest"]
        assert decision.summary == "fail: 1 image rule broken (images.require_digest)"


@pytest.mark.parametrize(
    ("target", "ok"),
    [
        (image("ghcr.io/acme/app:1.2"), True),
        (image("ghcr.io/acme/app:latest"), False),
        (image("ghcr.io/acme/app"), False),
        (image(f"ghcr.io/acme/app@{DIGEST}"), True),
        (archive(repo_tags=("app:1.0",)), True),
        (archive(repo_tags=("app:1.0", "app:latest")), False),
        (archive(), False),
        (image("oci:build/oci:1.0", transport="oci", repo_tags=()), True),
        (image("oci:build/oci", transport="oci", repo_tags=()), False),
    ],
)
def test_forbid_latest(target, ok):
    decision = image_rules(target, "forbid_latest: true")
    assert decision.passed is ok
    if not ok:
        assert [v.rule for v in decision.violations] == ["images.forbid_latest"]


@pytest.mark.parametrize(
    ("user", "ok"),
    [
        (None, False),
        ("", False),
        ("root", False),
        ("0", False),
        ("0:0", False),
        ("root:wheel", False),
        ("1000", True),
        ("app", True),
        ("1000:1000", True),
        ("nobody:0", True),
    ],
)
def test_require_non_root(user, ok):
    decision = image_rules(image(user=user), "require_non_root: true")
    assert decision.passed is ok
    if not ok:
        (violation,) = decision.violations
        assert violation.rule == "images.require_non_root"
        assert violation.message.startswith("the image runs as root")


def test_image_rules_without_an_image():
    result = ScanResult(target=None, packages=(), misconfigurations=(misconf(),))
    decision = evaluate(result, policy("images: {require_non_root: true}"), today=TODAY)
    assert decision.passed
    assert decision.summary.endswith("(image rules not checked: no image was scanned)")


def test_image_violations_come_first_and_count_separately():
    target = image("ghcr.io/acme/app:latest", user="root")
    decision = evaluate(
        scan(vuln(), target=target),
        policy("images: {forbid_latest: true, require_non_root: true}"),
        today=TODAY,
    )
    assert [v.rule for v in decision.violations] == [
        "images.forbid_latest",
        "images.require_non_root",
        "fail_on",
    ]
    assert decision.summary == (
        "fail: 1 finding at or above HIGH with a fix, "
        "2 image rules broken (images.forbid_latest, images.require_non_root)"
    )


# --- baseline -----------------------------------------------------------------------------------------


def test_new_only_with_a_baseline():
    old, new = vuln("CVE-2026-0001"), vuln("CVE-2026-0002")
    old_misconf = misconf("DS002", Severity.HIGH)
    result = scan(old, new, misconfigurations=[old_misconf])
    baseline = frozenset({old.fingerprint, old_misconf.fingerprint, "fp:gone"})
    decision = evaluate(result, policy("fail_on: {new_only: true}"), today=TODAY, baseline=baseline)
    assert violating(decision) == [new.fingerprint]
    assert decision.violations[0].message.endswith("; new since the baseline")
    assert decision.new == frozenset({new.fingerprint})
    assert decision.is_new(new.fingerprint) and not decision.is_new(old.fingerprint)
    assert decision.summary == "fail: 1 finding at or above HIGH with a fix, new since the baseline"


def test_baseline_without_new_only_still_marks_new_findings():
    old, new = vuln("CVE-2026-0001"), vuln("CVE-2026-0002")
    decision = evaluate(scan(old, new), policy(), today=TODAY, baseline=frozenset({old.fingerprint}))
    assert len(decision.violations) == 2
    assert decision.new == frozenset({new.fingerprint})


def test_new_only_without_a_baseline_gates_everything():
    decision = evaluate(scan(vuln()), policy("fail_on: {new_only: true}"), today=TODAY)
    assert len(decision.violations) == 1
    assert decision.new is None and decision.is_new("x") is None
    assert decision.summary == (
        "fail: 1 finding at or above HIGH with a fix (fail_on.new_only ignored: no baseline was given)"
    )


# --- VEX ----------------------------------------------------------------------------------------------


def vex_doc(status="not_affected", **extra):
    statement = {
        "vulnerability": {"name": "CVE-2018-18074"},
        "products": [{"@id": "pkg:pypi/urllib3"}],
        "status": status,
        **extra,
    }
    return parse_vex(
        {
            "@context": "https://openvex.dev/ns/v0.2.0",
            "@id": "https://example.com/vex/1",
            "author": "Acme Security",
            "timestamp": "2026-10-01T00:00:00Z",
            "version": 1,
            "statements": [statement],
        },
        "app.openvex.json",
    )


def test_vex_not_affected_suppresses_by_alias():
    finding = vuln("GHSA-x84v-xcm2-53pg", aliases=("CVE-2018-18074",))
    doc = vex_doc(justification="vulnerable_code_not_in_execute_path")
    decision = evaluate(scan(finding), policy(), today=TODAY, vex=[doc])
    assert decision.passed
    (sup,) = decision.suppressed
    assert sup.kind == "vex"
    assert sup.source == "app.openvex.json: statements[0]"
    assert sup.justification == "vulnerable_code_not_in_execute_path"
    assert sup.reason == "vulnerable code not in execute path"
    assert sup.expires is None


def test_vex_comes_before_ignores():
    finding = vuln("CVE-2018-18074")
    doc = vex_doc(impact_statement="urllib3 proxies are never used")
    decision = evaluate(scan(finding), policy(ignore("CVE-2018-18074")), today=TODAY, vex=[doc])
    assert [(s.kind, s.reason) for s in decision.suppressed] == [("vex", "urllib3 proxies are never used")]


def test_vex_affected_does_not_suppress():
    doc = vex_doc("affected", action_statement="upgrade urllib3")
    decision = evaluate(scan(vuln("CVE-2018-18074")), policy(), today=TODAY, vex=[doc])
    assert not decision.passed and decision.suppressed == ()


def test_composite_summary():
    findings = [
        vuln("CVE-2026-0001", Severity.CRITICAL),
        vuln("CVE-2026-0002"),
        vuln("CVE-2018-18074"),
        vuln("CVE-2026-0004"),
        vuln("CVE-2026-0005"),
    ]
    text = ignore("CVE-2026-0004") + "\n".join(ignore("CVE-2026-0005", expires="2026-11-01").splitlines()[1:])
    doc = vex_doc(impact_statement="not reachable")
    decision = evaluate(scan(*findings), policy(text + "\n"), today=TODAY, vex=[doc])
    assert decision.summary == "fail: 3 findings at or above HIGH with a fix (2 suppressed, 1 ignore expired)"

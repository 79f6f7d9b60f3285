"""Policy file loading and `policy check`: every schema key, and exact `file:line:col` problems."""

from datetime import date
from pathlib import Path

import pytest

from ci_security import limits
from ci_security.errors import CiSecurityError
from ci_security.models import Severity
from ci_security.policy.load import Problem, check_policy, check_text, load_policy, parse_policy, schema
from ci_security.policy.model import DEFAULT_POLICY, FailOn, ImageRules, Policy, PolicyError

TODAY = date(2026, 11, 26)


@pytest.fixture
def here(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    return tmp_path


def write(text: str, name: str = "policy.yml") -> Path:
    path = Path(name)
    path.write_text(text)
    return path


def problems(text: str) -> list[str]:
    return [str(p) for p in check_policy(write(text), TODAY)]


FULL = """\
version: 1
fail_on:
  severity: medium
  fixable_only: false
  new_only: true
ignore:
  - id: CVE-2023-4863
    reason: libwebp is not reachable at runtime, SEC-123
    expires: 2027-01-31
    packages: [libwebp7, "pkg:deb/debian/libwebp*"]
    paths: ["usr/lib/x86_64-linux-gnu/*"]
    images: ["ghcr.io/acme/*"]
    vex_justification: vulnerable_code_not_in_execute_path
  - id: DL3008
    reason: apt pins are managed by renovate
    expires: "2027-02-01"
checks:
  disable: [DL3059, KSV-0020]
  severity:
    DL3008: high
    KSV-0110: low
images:
  allowed_registries: ["ghcr.io/acme/*", "*.gcr.io"]
  require_digest: true
  forbid_latest: true
  require_non_root: true
vex: [vex/app.openvex.json]
"""


def test_full_policy_loads_every_key(here):
    (here / "vex").mkdir()
    (here / "vex" / "app.openvex.json").write_text("{}")
    path = write(FULL)
    assert check_policy(path, TODAY) == []
    policy = load_policy(path)
    assert policy.version == 1
    assert policy.fail_on == FailOn(severity=Severity.MEDIUM, fixable_only=False, new_only=True)
    first, second = policy.ignore
    assert first.id == "CVE-2023-4863"
    assert first.reason == "libwebp is not reachable at runtime, SEC-123"
    assert first.expires == date(2027, 1, 31)
    assert first.packages == ("libwebp7", "pkg:deb/debian/libwebp*")
    assert first.paths == ("usr/lib/x86_64-linux-gnu/*",)
    assert first.images == ("ghcr.io/acme/*",)
    assert first.vex_justification == "vulnerable_code_not_in_execute_path"
    assert first.source == "policy.yml:7"
    assert second.expires == date(2027, 2, 1)  # quoted dates work too
    assert second.packages == second.paths == second.images == ()
    assert second.vex_justification is None
    assert policy.checks.disable == ("DL3059", "KSV-0020")
    assert policy.checks.is_disabled("dl3059")
    assert policy.checks.disabled_at("KSV-0020") == "policy.yml:18"
    assert policy.checks.override("DL3008") is Severity.HIGH
    assert policy.checks.override("KSV-0110") is Severity.LOW
    assert policy.checks.override("DL3000") is None
    assert policy.images == ImageRules(
        allowed_registries=("ghcr.io/acme/*", "*.gcr.io"),
        require_digest=True,
        forbid_latest=True,
        require_non_root=True,
    )
    assert policy.vex == ("vex/app.openvex.json",)
    assert policy.vex_paths() == (Path("vex/app.openvex.json"),)
    assert policy.source == "policy.yml"


def test_defaults_without_a_file_and_for_an_empty_file(here):
    assert DEFAULT_POLICY.fail_on == FailOn(severity=Severity.HIGH, fixable_only=True, new_only=False)
    assert DEFAULT_POLICY.ignore == ()
    assert not DEFAULT_POLICY.images.configured
    assert DEFAULT_POLICY.source is None
    for text in ("", "# only a comment\n", "version: 1\n"):
        policy = load_policy(write(text))
        assert policy == Policy(source="policy.yml")


@pytest.mark.parametrize(
    ("text", "check"),
    [
        ("fail_on: {severity: critical}", lambda p: p.fail_on.severity is Severity.CRITICAL),
        ("fail_on: {severity: high}", lambda p: p.fail_on.severity is Severity.HIGH),
        ("fail_on: {severity: low}", lambda p: p.fail_on.severity is Severity.LOW),
        ("fail_on: {severity: unknown}", lambda p: p.fail_on.severity is Severity.UNKNOWN),
        ("fail_on: {severity: none}", lambda p: p.fail_on.severity is None),
        ("fail_on: {fixable_only: false}", lambda p: p.fail_on.fixable_only is False),
        ("fail_on: {new_only: true}", lambda p: p.fail_on.new_only is True),
        ("fail_on: {}", lambda p: p.fail_on == FailOn()),
        ("ignore: []", lambda p: p.ignore == ()),
        ("checks: {disable: [DL3059]}", lambda p: p.checks.disable == ("DL3059",)),
        (
            "checks: {severity: {CKV_K8S_43: critical}}",
            lambda p: p.checks.override("ckv_k8s_43") is Severity.CRITICAL,
        ),
        ("images: {allowed_registries: [ghcr.io]}", lambda p: p.images.allowed_registries == ("ghcr.io",)),
        ("images: {require_digest: true}", lambda p: p.images.require_digest),
        ("images: {forbid_latest: true}", lambda p: p.images.forbid_latest),
        ("images: {require_non_root: true}", lambda p: p.images.require_non_root),
        ("images: {}", lambda p: p.images == ImageRules()),
        ("vex: []", lambda p: p.vex == ()),
    ],
)
def test_each_key_alone(here, text, check):
    path = write(text + "\n")
    assert check_policy(path, TODAY) == []
    assert check(load_policy(path))


@pytest.mark.parametrize(
    "justification",
    [
        "component_not_present",
        "vulnerable_code_not_present",
        "vulnerable_code_not_in_execute_path",
        "vulnerable_code_cannot_be_controlled_by_adversary",
        "inline_mitigations_already_exist",
    ],
)
def test_every_openvex_justification(here, justification):
    path = write(
        "ignore:\n"
        "  - id: GHSA-xxxx-yyyy-zzzz\n"
        "    reason: reviewed by the security team\n"
        "    expires: 2027-01-01\n"
        f"    vex_justification: {justification}\n"
    )
    assert load_policy(path).ignore[0].vex_justification == justification


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "fail_on: {severty: high}\n",
            ["policy.yml:1:11: fail_on: unknown key 'severty' (did you mean 'severity'?)"],
        ),
        (
            "fail_on:\n  severty: high\n",
            ["policy.yml:2:3: fail_on: unknown key 'severty' (did you mean 'severity'?)"],
        ),
        (
            "ignores: []\n",
            ["policy.yml:1:1: unknown top-level key 'ignores' (did you mean 'ignore'?)"],
        ),
        (
            "fail_on:\n  fixable_only: yes\n",
            [
                "policy.yml:2:17: fail_on.fixable_only: expected a boolean (true or false), "
                "got the string 'yes'"
            ],
        ),
        (
            "images:\n  require_digest: 1\n",
            ["policy.yml:2:19: images.require_digest: expected a boolean (true or false), got the number 1"],
        ),
        (
            "ignore:\n  id: CVE-1\n",
            ["policy.yml:2:3: ignore: expected a list, got a mapping"],
        ),
        (
            "vex: app.openvex.json\n",
            ["policy.yml:1:6: vex: expected a list, got the string 'app.openvex.json'"],
        ),
        (
            "- fail_on\n",
            ["policy.yml:1:1: policy: expected a mapping, got a list"],
        ),
        (
            "version: 2\n",
            ["policy.yml:1:10: version: unsupported version 2 (this ci-security reads version 1)"],
        ),
        (
            "fail_on:\n  severity: hihg\n",
            [
                "policy.yml:2:13: fail_on.severity: unknown severity 'hihg' (expected one of: critical, "
                "high, medium, low, unknown, none); did you mean 'high'?"
            ],
        ),
        (
            "fail_on:\n  severity: HIGH\n",
            [
                "policy.yml:2:13: fail_on.severity: unknown severity 'HIGH' (expected one of: critical, "
                "high, medium, low, unknown, none); write it in lower case: 'high'"
            ],
        ),
        (
            "checks:\n  severity:\n    DL3008: urgent\n",
            [
                "policy.yml:3:13: checks.severity.DL3008: unknown severity 'urgent' (expected one of: "
                "critical, high, medium, low, unknown)"
            ],
        ),
        (
            "images:\n  allowed_registries: []\n",
            [
                "policy.yml:2:23: images.allowed_registries: must list at least one entry (leave the key "
                "out to apply no restriction)"
            ],
        ),
        (
            "checks:\n  disable: [DL3059, DL3059]\n",
            ["policy.yml:2:12: checks.disable: lists the same entry more than once"],
        ),
    ],
)
def test_invalid_values_are_located(here, text, expected):
    assert problems(text) == expected


IGNORE_HEAD = "ignore:\n  - id: CVE-2023-4863\n"


@pytest.mark.parametrize(
    ("entry", "expected"),
    [
        (
            "    reason: reviewed by security\n    expires: 2026-13-01\n",
            ["policy.yml:4:14: ignore[0].expires: '2026-13-01' is not a real date (YYYY-MM-DD)"],
        ),
        (
            "    reason: reviewed by security\n    expires: 2027-02-30\n",
            ["policy.yml:4:14: ignore[0].expires: '2027-02-30' is not a real date (YYYY-MM-DD)"],
        ),
        (
            "    reason: reviewed by security\n    expires: 31/01/2027\n",
            ["policy.yml:4:14: ignore[0].expires: '31/01/2027' is not a real date (YYYY-MM-DD)"],
        ),
        (
            "    reason: reviewed by security\n",
            ["policy.yml:2:5: ignore[0] (CVE-2023-4863): missing required key 'expires'"],
        ),
        (
            "    expires: 2027-01-01\n",
            ["policy.yml:2:5: ignore[0] (CVE-2023-4863): missing required key 'reason'"],
        ),
        (
            "    reason: short\n    expires: 2027-01-01\n",
            [
                "policy.yml:3:13: ignore[0].reason: too short (5 characters; at least 10: say why the "
                "finding is acceptable and who decided)"
            ],
        ),
        (
            "    reason: '   short    '\n    expires: 2027-01-01\n",
            [
                "policy.yml:3:13: ignore[0].reason: too short (5 characters; at least 10: say why the "
                "finding is acceptable and who decided)"
            ],
        ),
        (
            "    reason: reviewed by security\n    expires: 2027-01-01\n"
            "    vex_justification: not_reachable\n",
            [
                "policy.yml:5:24: ignore[0].vex_justification: unknown OpenVEX justification "
                "'not_reachable' (expected one of: component_not_present, vulnerable_code_not_present, "
                "vulnerable_code_not_in_execute_path, vulnerable_code_cannot_be_controlled_by_adversary, "
                "inline_mitigations_already_exist)"
            ],
        ),
        (
            "    reason: reviewed by security\n    expires: 2027-01-01\n    package: [libwebp7]\n",
            ["policy.yml:5:5: ignore[0]: unknown key 'package' (did you mean 'packages'?)"],
        ),
        (
            "    reason: reviewed by security\n    expires: 2027-01-01\n    paths: []\n",
            [
                "policy.yml:5:12: ignore[0].paths: must list at least one entry (leave the key out to "
                "apply no restriction)"
            ],
        ),
    ],
)
def test_ignore_entry_problems(here, entry, expected):
    assert problems(IGNORE_HEAD + entry) == expected


def test_empty_ignore_id(here):
    text = 'ignore:\n  - id: ""\n    reason: reviewed by security\n    expires: 2027-01-01\n'
    assert problems(text) == ["policy.yml:2:9: ignore[0].id: must not be empty"]
    text = 'ignore:\n  - id: "  "\n    reason: reviewed by security\n    expires: 2027-01-01\n'
    assert problems(text) == ["policy.yml:2:9: ignore[0].id: must not be empty"]


def test_duplicate_keys_are_all_reported(here):
    text = "fail_on:\n  severity: high\n  severity: low\nimages: {}\nimages: {}\n"
    assert problems(text) == [
        "policy.yml:3:3: duplicate key 'severity' (first defined at line 2)",
        "policy.yml:5:1: duplicate key 'images' (first defined at line 4)",
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "fail_on: {severity: high\nignore: []\n",
            [
                "policy.yml:2:7: invalid YAML: expected ',' or '}', but got ':' "
                "(while parsing a flow mapping at line 1)"
            ],
        ),
        (
            "fail_on:\n  severity: high\n bad: indentation\n",
            [
                "policy.yml:3:2: invalid YAML: expected <block end>, but found '<block mapping start>' "
                "(while parsing a block mapping at line 1)"
            ],
        ),
        (
            "version: 1\n---\nversion: 1\n",
            [
                "policy.yml:2:1: invalid YAML: expected a single document in the stream, "
                "but found another document"
            ],
        ),
        (
            "ignore:\n  - id: 'CVE-1\n",
            [
                "policy.yml:3:1: invalid YAML: found unexpected end of stream "
                "(while scanning a quoted scalar at line 2)"
            ],
        ),
    ],
)
def test_yaml_syntax_errors(here, text, expected):
    assert problems(text) == expected


def test_every_problem_is_reported_at_once(here):
    text = """\
version: 1
fail_on:
  severty: high
  fixable_only: yes
ignore:
  - id: CVE-2023-4863
    reason: short
    expires: 2026-13-01
  - id: GHSA-aaaa-bbbb-cccc
    reason: not reachable from the web handlers
  - reason: missing its id entirely
    expires: 2027-01-01
checks:
  severity: {DL3008: hihg}
images:
  alowed_registries: [ghcr.io]
"""
    assert problems(text) == [
        "policy.yml:3:3: fail_on: unknown key 'severty' (did you mean 'severity'?)",
        "policy.yml:4:17: fail_on.fixable_only: expected a boolean (true or false), got the string 'yes'",
        "policy.yml:7:13: ignore[0].reason: too short (5 characters; at least 10: say why the finding is "
        "acceptable and who decided)",
        "policy.yml:8:14: ignore[0].expires: '2026-13-01' is not a real date (YYYY-MM-DD)",
        "policy.yml:9:5: ignore[1] (GHSA-aaaa-bbbb-cccc): missing required key 'expires'",
        "policy.yml:11:5: ignore[2]: missing required key 'id'",
        "policy.yml:14:22: checks.severity.DL3008: unknown severity 'hihg' (expected one of: critical, high, "
        "medium, low, unknown); did you mean 'high'?",
        "policy.yml:16:3: images: unknown key 'alowed_registries' (did you mean 'allowed_registries'?)",
    ]
    with pytest.raises(PolicyError) as raised:
        load_policy(Path("policy.yml"))
    assert str(raised.value) == (
        "policy.yml:3:3: fail_on: unknown key 'severty' (did you mean 'severity'?) "
        "(and 7 more; run `ci-security policy check policy.yml`)"
    )
    assert isinstance(raised.value, CiSecurityError)


def test_single_problem_message_has_no_count(here):
    write("fail_on: {severity: hihg}\n")
    with pytest.raises(
        PolicyError, match=r"^policy.yml:1:21: fail_on.severity: unknown severity 'hihg'.*high'\?$"
    ):
        load_policy(Path("policy.yml"))


def test_expired_ignore_is_a_note_not_an_error(here):
    text = "ignore:\n  - id: CVE-2023-4863\n    reason: libwebp not reachable\n    expires: 2026-01-31\n"
    found = check_policy(write(text), TODAY)
    assert [str(p) for p in found] == [
        "policy.yml:4:14: note: ignore[0] (CVE-2023-4863) expired on 2026-01-31; it suppresses nothing"
    ]
    assert not found[0].is_error
    assert load_policy(Path("policy.yml")).ignore[0].expires == date(2026, 1, 31)


def test_expiry_on_the_day_is_still_active(here):
    text = "ignore:\n  - id: CVE-2023-4863\n    reason: libwebp not reachable\n    expires: 2026-11-26\n"
    assert problems(text) == []


def test_expiry_more_than_a_year_away_is_a_warning(here):
    text = "ignore:\n  - id: CVE-2023-4863\n    reason: libwebp not reachable\n    expires: 2027-11-27\n"
    found = check_policy(write(text), TODAY)
    assert [str(p) for p in found] == [
        "policy.yml:4:14: warning: ignore[0] (CVE-2023-4863) expires on 2027-11-27, more than 365 days "
        "away; accepted risks should be reviewed at least once a year"
    ]
    assert load_policy(Path("policy.yml")).ignore[0].expires == date(2027, 11, 27)
    text = text.replace("2027-11-27", "2027-11-26")
    assert problems(text) == []


def test_missing_vex_file_is_an_error(here):
    write("vex:\n  - missing.openvex.json\n")
    assert problems("vex:\n  - missing.openvex.json\n") == [
        f"policy.yml:2:5: vex[0]: no such file: {Path('missing.openvex.json')}"
    ]
    with pytest.raises(PolicyError, match="no such file"):
        load_policy(Path("policy.yml"))


def test_vex_paths_are_relative_to_the_policy_file(here):
    (here / "conf").mkdir()
    (here / "conf" / "a.json").write_text("{}")
    policy = load_policy(write("vex: [a.json]\n", "conf/policy.yml"))
    assert policy.vex_paths() == (Path("conf/a.json"),)


def test_unreadable_file(here):
    with pytest.raises(PolicyError, match=r"^nope.yml: cannot read the policy file: No such file"):
        load_policy(Path("nope.yml"))
    with pytest.raises(PolicyError, match="cannot read"):
        check_policy(Path("nope.yml"), TODAY)
    Path("latin1.yml").write_bytes(b"version: 1 # caf\xe9\n")
    with pytest.raises(PolicyError, match="not UTF-8"):
        load_policy(Path("latin1.yml"))


def test_problem_rendering():
    assert str(Problem("p.yml", 3, 5, "boom")) == "p.yml:3:5: boom"
    assert str(Problem("p.yml", 3, 5, "careful", "warning")) == "p.yml:3:5: warning: careful"


def test_check_text_without_a_file():
    found = check_text("fail_on: {severity: hihg}\n", "<stdin>")
    assert [p.line for p in found] == [1]


def test_schema_is_draft_2020_12_and_documents_every_key():
    from jsonschema import Draft202012Validator

    shipped = schema()
    Draft202012Validator.check_schema(shipped)
    assert shipped["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert set(shipped["properties"]) == {
        "version",
        "fail_on",
        "severity_source",
        "ignore",
        "checks",
        "images",
        "runtime",
        "vex",
        "fix",
        "limits",
    }
    assert set(shipped["properties"]["fix"]["properties"]) == {
        "update_types",
        "images",
        "ignore_images",
        "max_open_prs",
        "pin_digests",
        "dependencies",
        "labels",
    }
    assert set(shipped["properties"]["fail_on"]["properties"]) == {
        "severity",
        "fixable_only",
        "new_only",
        "kev",
        "epss",
        "in_use",
        "in_use_severity",
    }
    ignore = shipped["$defs"]["ignore"]
    assert ignore["required"] == ["id", "reason", "expires"]
    assert set(ignore["properties"]) == {
        "id",
        "reason",
        "expires",
        "packages",
        "paths",
        "images",
        "vex_justification",
    }


def test_severity_source_and_exploitation_keys(here):
    loaded = load_policy(write("severity_source: max\nfail_on:\n  kev: true\n  epss: {percentile: 0.9}\n"))
    assert loaded.severity_source == "max"
    assert (loaded.fail_on.kev, loaded.fail_on.epss_score, loaded.fail_on.epss_percentile) == (
        True,
        None,
        0.9,
    )
    assert load_policy(write("fail_on: {epss: 0.5}\n")).fail_on.epss_score == 0.5
    assert DEFAULT_POLICY.severity_source == "vendor" and DEFAULT_POLICY.fail_on.kev is False


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "severity_source: cvss\n",
            "policy.yml:1:18: severity_source: unknown value 'cvss' (expected one of: vendor, nvd, max)",
        ),
        (
            "fail_on: {epss: 50}\n",
            "policy.yml:1:17: fail_on.epss: 50 is not between 0 and 1 (EPSS scores are fractions)",
        ),
        (
            "fail_on:\n  epss: {percentile: 95}\n",
            "policy.yml:2:22: fail_on.epss.percentile: 95 is not between 0 and 1 "
            "(EPSS percentiles are fractions)",
        ),
        (
            "fail_on: {epss: {score: 0.1, percentile: 0.9}}\n",
            "policy.yml:1:17: fail_on.epss: give one of score or percentile",
        ),
        ("fail_on: {epss: {rank: 3}}\n", "policy.yml:1:"),
        (
            "fail_on: {kev: yes}\n",
            "policy.yml:1:16: fail_on.kev: expected a boolean (true or false), got the string 'yes'",
        ),
    ],
)
def test_exploitation_keys_are_checked(here, text, message):
    found = problems(text)
    assert found and found[0].startswith(message), found


# --- limits and hostile files --------------------------------------------------------------------


def test_limits_are_read_with_either_spelling(here):
    policy = load_policy(write("limits:\n  layer-bytes: 32GiB\n  nesting_depth: 300\n"))
    assert policy.limits == (("layer_bytes", "32GiB"), ("nesting_depth", "300"))
    assert DEFAULT_POLICY.limits == ()


def test_limits_problems_are_located(here):
    text = (
        "limits:\n"
        "  layer-byte: 1GiB\n"
        "  redirects: lots\n"
        "  yaml-nodes: true\n"
        "  spool-bytes: 0\n"
        "  nesting-depth: 12MiB\n"
        "  policy-bytes: 4MiB\n"
    )
    assert problems(text) == [
        "policy.yml:2:3: limits: unknown limit 'layer-byte' (did you mean 'layer-bytes'?)",
        "policy.yml:3:14: limits.redirects: 'lots': expected a whole number",
        "policy.yml:4:15: limits.yaml-nodes: expected a string or an integer, got true",
        "policy.yml:5:16: limits.spool-bytes: 0: must be greater than zero",
        "policy.yml:6:18: limits.nesting-depth: '12MiB': expected a whole number",
        "policy.yml:7:17: warning: limits.policy-bytes has no effect here: the policy file is read "
        "before its limits are known; raise it with --limit policy-bytes=VALUE",
    ]
    with pytest.raises(PolicyError, match=r"policy.yml:2:3: limits: unknown limit 'layer-byte'"):
        load_policy(Path("policy.yml"))


def test_a_policy_over_its_size_limit_is_refused_before_parsing(here):
    write("version: 1\n" + "#" * (1 << 20))
    with pytest.raises(
        CiSecurityError, match=r"^policy.yml: exceeds the policy-bytes limit \(1 MiB\): 1,048,587"
    ):
        load_policy(Path("policy.yml"))
    write("version: 1\n" + "#" * 2000)
    assert load_policy(Path("policy.yml")).version == 1
    with (
        limits.use(limits.with_overrides(limits.DEFAULTS, {"policy-bytes": "1KiB"})),
        pytest.raises(CiSecurityError, match=r"policy-bytes limit \(1 KiB\): 2,011 bytes"),
    ):
        load_policy(Path("policy.yml"))


def test_deep_nesting_and_alias_bombs_are_refused_naming_the_limit(here):
    write("checks: " + "[" * 500_000 + "]" * 500_000 + "\n")
    with pytest.raises(CiSecurityError, match=r"^policy.yml: exceeds the nesting-depth limit"):
        load_policy(Path("policy.yml"))
    rows = ["a0: &a0 [x, x, x, x, x, x, x, x]"]
    rows += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 8)}]" for i in range(1, 10)]
    write("checks:\n  disable:\n" + "".join(f"    - {row}\n" for row in rows))
    with pytest.raises(CiSecurityError, match=r"^policy.yml: exceeds the yaml-nodes limit"):
        check_policy(Path("policy.yml"), TODAY)


def test_a_list_or_mapping_as_a_key_is_an_error_at_its_position(here):
    assert problems("version: 1\n? [a, b]\n: high\nchecks:\n  severity:\n    ? {x: 1}\n    : high\n") == [
        "policy.yml:2:3: a key must be a string, not a list",
        "policy.yml:6:7: a key must be a string, not a mapping",
    ]


def test_a_non_utf8_policy_names_the_byte(here):
    Path("latin1.yml").write_bytes(b"version: 1 # caf\xe9\n")
    with pytest.raises(PolicyError, match=r"^latin1.yml: the policy file is not UTF-8 text \(byte 16\)"):
        load_policy(Path("latin1.yml"))


def test_the_fix_section_is_read_and_its_problems_located():
    text = """\
version: 1
fix:
  update_types: [patch, digest]
  max_open_prs: 2
  pin_digests: true
  ignore_images: [node, "ghcr.io/acme/*"]
  images:
    - match: [python]
      update_types: [patch, minor, major]
  labels: [deps]
"""
    policy = parse_policy(text, "p.yml")
    fix = policy.fix
    assert fix.update_types == ("patch", "digest") and fix.max_open_prs == 2 and fix.pin_digests
    assert fix.allowed(("python", "docker.io/library/python")) == {"patch", "minor", "major"}
    assert fix.allowed(("debian", "docker.io/library/debian")) == {"patch", "digest"}
    assert fix.ignored(("ghcr.io/acme/app",)) == "ghcr.io/acme/*"
    assert fix.ignored(("python",)) is None
    assert fix.images[0].source == "p.yml:8" and fix.labels == ("deps",)
    assert parse_policy("version: 1\n", "p.yml").fix.update_types == ("patch", "minor", "digest")
    bad = """\
fix:
  update_types: [patch, huge]
  max_open_prs: -1
  ignore_images: ["python:3.11"]
  images:
    - match: ["node@sha256:abc"]
      update_types: [major]
    - update_types: []
  colour: blue
"""
    assert [str(p) for p in check_text(bad, "p.yml")] == [
        "p.yml:2:25: fix.update_types[1]: unknown value 'huge' (expected one of: patch, minor, major, "
        "digest)",
        "p.yml:3:17: fix.max_open_prs: -1 is negative (0 opens none, updates the rest)",
        "p.yml:4:19: fix.ignore_images[0]: 'python:3.11' names a tag or digest; give the image name",
        "p.yml:6:15: fix.images[0].match[0]: 'node@sha256:abc' names a tag or digest; give the image name",
        "p.yml:8:7: fix.images[1]: missing required key 'match'",
        "p.yml:9:3: fix: unknown key 'colour' (expected one of: dependencies, ignore_images, images, labels, "
        "max_open_prs, pin_digests, update_types)",
    ]

"""Scan result + policy → `Decision`.

Order, for each vulnerability: a VEX statement that says `not_affected` suppresses it; else an active
ignore entry (one whose `expires` is today or later) that matches suppresses it; else it violates
`fail_on` when its severity is at or above the threshold, or (with `fail_on.kev`) CISA's KEV
catalogue lists it, or its EPSS score or percentile reaches `fail_on.epss`, and it has a fixed
version (with `fixable_only`) and, with `new_only` and a baseline, its fingerprint is not in the
baseline. Exploitation signals are reasons to fail beside the severity: `severity: none` with
`kev: true` fails on known exploited vulnerabilities only.
Misconfigurations go the same way without VEX and without `fixable_only`: an inline suppression in
the manifest (with its reason) suppresses first, then `checks.disable` suppresses a rule's findings
(they stay in every report, marked suppressed), then ignore entries, then the threshold, compared
with the `checks.severity` override when there is one. A rule is named by our id or, for an imported
finding, also by the other tool's id (`DL3008`, `KSV-0017`). A finding that covers others
(`Misconfiguration.folded`, see `rules.fold`) is named by its own ids only, so an ignore entry or
`checks.disable` for a covered rule never suppresses the more severe finding that covers it, while
a `checks.severity` override of a covered rule raises it. Runtime findings (the dynamic scan) go the
same way as misconfigurations, with `runtime.disable` and `runtime.severity` in place of `checks`.
With a dynamic scan, `fail_on.in_use` lets only vulnerabilities of packages the run loaded fail, and
`fail_on.in_use_severity` gives those a lower threshold; without one both are ignored and said so.
Expired ignore entries
suppress nothing and are listed in `Decision.expired`. Image rules (`images.*`) add violations of
kind "image" with an empty fingerprint.

Ignore matching: `id` equals the vulnerability's id or any alias (case-insensitively), or the
misconfiguration's rule id. Every scope the entry gives must match:
- `packages`: a glob on the package name (case-insensitive), or a purl, which matches as a prefix
  ending at a purl separator (`pkg:deb/debian/libwebp7` matches `pkg:deb/debian/libwebp7@1.2?arch=…`
  but not `…/libwebp7-dev`), qualifiers left out; a purl with `*` is a glob instead (`models.purl`);
- `paths`: a glob on the package's evidence path (without its leading `/`) or the manifest's path;
- `images`: a glob on the image's name without tag or digest (`ghcr.io/acme/*`, Docker Hub names
  also as `library/nginx` and `nginx`), or on one of its tags.

Image names follow Docker's rules: a registry pull or `docker-daemon:` reference names the image
itself; a `docker save` archive is named by its repository tags (`app:1.0` is
`docker.io/library/app:1.0`); an OCI layout has no registry name.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date
from fnmatch import fnmatchcase

from ci_security.errors import InvalidReferenceError
from ci_security.image.reference import DOCKER_HUB, ImageRef, parse_image_ref
from ci_security.models import (
    Decision,
    ExpiredIgnore,
    ImageTarget,
    Misconfiguration,
    RuntimeFinding,
    ScanResult,
    Severity,
    Suppression,
    Violation,
    Vulnerability,
)
from ci_security.models.decision import ViolationKind
from ci_security.models.purl import purl_prefix_matches
from ci_security.policy.model import FailOn, IgnoreRule, Policy
from ci_security.policy.vex import VexDocument, image_names, statement_for

IMAGE_RULE_SEVERITY = Severity.HIGH
_GLOB = frozenset("*?[")
_ROOT_USERS = frozenset({"", "root", "0"})


# --- ignore matching -----------------------------------------------------------------------------


def _package_matches(pattern: str, name: str, purl: str) -> bool:
    if not pattern.startswith("pkg:"):
        return fnmatchcase(name.lower(), pattern.lower())
    return purl_prefix_matches(pattern, purl)


def _path_matches(pattern: str, path: str) -> bool:
    return bool(path) and fnmatchcase(path.lstrip("/"), pattern.lstrip("/"))


def _image_candidates(target: ImageTarget | None) -> set[str]:
    if target is None:
        return set()
    out = set(target.repo_tags)
    for name in image_names(target):
        forms = [f"{name.registry}/{name.repository}"]
        if name.registry == DOCKER_HUB:
            forms.append(name.repository)
            if name.repository.startswith("library/"):
                forms.append(name.repository.removeprefix("library/"))
        out.update(forms)
        if name.tag:
            out.update(f"{form}:{name.tag}" for form in forms)
    return out


def _ignore_matches(
    rule: IgnoreRule, ids: Iterable[str], *, name: str, purl: str, path: str, images: set[str]
) -> bool:
    wanted = rule.id.upper()
    if not any(i.upper() == wanted for i in ids):
        return False
    if rule.packages and not any(_package_matches(p, name, purl) for p in rule.packages):
        return False
    if rule.paths and not any(_path_matches(p, path) for p in rule.paths):
        return False
    return not rule.images or any(fnmatchcase(c, p) for p in rule.images for c in images)


def _ignored(rule: IgnoreRule, fingerprint: str) -> Suppression:
    return Suppression(
        fingerprint=fingerprint,
        kind="ignore",
        reason=rule.reason,
        source=rule.source,
        expires=rule.expires.isoformat(),
        justification=rule.vex_justification,
    )


# --- image rules ---------------------------------------------------------------------------------


def _parsed(target: ImageTarget) -> ImageRef | None:
    try:
        return parse_image_ref(target.reference)
    except InvalidReferenceError:
        return None


def registry_allowed(patterns: Sequence[str], registry: str, repository: str) -> bool:
    full = f"{registry}/{repository}"
    for pattern in patterns:
        if fnmatchcase(registry, pattern) or fnmatchcase(full, pattern):
            return True
        if not (_GLOB & set(pattern)) and full.startswith(pattern.rstrip("/") + "/"):
            return True
    return False


def _image_violations(target: ImageTarget, policy: Policy, notes: list[str]) -> list[Violation]:
    rules = policy.images
    out: list[Violation] = []
    ref = _parsed(target)
    names = image_names(target)

    def violation(key: str, message: str) -> None:
        out.append(
            Violation(rule=f"images.{key}", message=message, severity=IMAGE_RULE_SEVERITY, kind="image")
        )

    if rules.allowed_registries is not None:
        if not names:
            notes.append("images.allowed_registries not checked: the image has no registry name")
        for name in names:
            if not registry_allowed(rules.allowed_registries, name.registry, name.repository):
                violation(
                    "allowed_registries",
                    f"{name} is not from an allowed registry ({', '.join(rules.allowed_registries)})",
                )
    if rules.require_digest:
        if ref is not None and ref.docker is not None:
            if not ref.docker.digest:
                violation("require_digest", f"{target.reference} is not pinned by digest (NAME@sha256:…)")
        elif not target.repo_digests:
            violation(
                "require_digest",
                f"{target.reference} has no repository digest; scan the pushed image by digest "
                "(NAME@sha256:…)",
            )
    if rules.forbid_latest:
        if ref is not None and ref.docker is not None:
            tags = [ref.docker.tag] if ref.docker.tag or not ref.docker.digest else []
            pinned = bool(ref.docker.digest)
        else:
            tags = [n.tag for n in names if n.tag]
            if ref is not None and ref.transport in {"oci", "oci-archive"} and ref.name:
                tags.append(ref.name)
            pinned = False
        if "latest" in tags:
            violation("forbid_latest", f"{target.reference} is tagged latest")
        elif not tags and not pinned:
            violation("forbid_latest", f"{target.reference} has no tag, which means latest")
    if rules.require_non_root:
        user = (target.user or "").strip()
        if user.partition(":")[0] in _ROOT_USERS:
            shown = f"User is {user!r}" if user else "no User is set"
            violation("require_non_root", f"the image runs as root ({shown} in its config)")
    return out


# --- evaluation ----------------------------------------------------------------------------------


def _plural(count: int, word: str, plural: str | None = None) -> str:
    return f"{count} {word if count == 1 else (plural or word + 's')}"


def _vuln_message(vuln: Vulnerability, new_only: bool, signals: Sequence[str] = ()) -> str:
    pkg = vuln.package
    fix = f"fixed in {vuln.fixed_version}" if vuln.fixed_version else "no fixed version"
    new = "; new since the baseline" if new_only else ""
    why = f"; {', '.join(signals)}" if signals else ""
    return f"{vuln.id} ({vuln.severity.value}) in {pkg.name} {pkg.version}, {fix}{why}{new}"


def exploitation_signals(vuln: Vulnerability, fail_on: FailOn) -> list[str]:
    """Why `fail_on`'s exploitation keys fail `vuln`, as the violation says it (empty: they do not)."""
    found = []
    if fail_on.kev and vuln.kev is not None:
        found.append(f"in CISA's KEV catalogue since {vuln.kev.date_added}")
    epss = vuln.epss
    if epss is not None and fail_on.epss_score is not None and epss.score >= fail_on.epss_score:
        found.append(f"EPSS score {epss.score:.3f} >= {fail_on.epss_score:g}")
    if (
        epss is not None
        and epss.percentile is not None
        and fail_on.epss_percentile is not None
        and epss.percentile >= fail_on.epss_percentile
    ):
        found.append(f"EPSS percentile {epss.percentile:.3f} >= {fail_on.epss_percentile:g}")
    return found


def _misconfig_message(m: Misconfiguration, severity: Severity, new_only: bool) -> str:
    where = f"{m.path}:{m.line}" if m.line else m.path
    override = (
        f" (severity {severity.value} set by checks.severity; reported as {m.severity.value})"
        if severity != m.severity
        else ""
    )
    new = "; new since the baseline" if new_only else ""
    return f"{m.rule_id} ({severity.value}) at {where}: {m.title or m.message}{override}{new}"


def _in_use_threshold(threshold: Severity | None, in_use: Severity | None) -> Severity | None:
    """The threshold for a vulnerability of a package in use: the lower of the two."""
    if in_use is None:
        return threshold
    if threshold is None:
        return in_use
    return in_use if in_use.rank < threshold.rank else threshold


def _runtime_message(found: RuntimeFinding, severity: Severity, new_only: bool) -> str:
    override = (
        f" (severity {severity.value} set by runtime.severity; reported as {found.severity.value})"
        if severity != found.severity
        else ""
    )
    new = "; new since the baseline" if new_only else ""
    return f"{found.rule_id} ({severity.value}): {found.message}{override}{new}"


def evaluate(
    result: ScanResult,
    policy: Policy,
    *,
    today: date,
    baseline: frozenset[str] | None = None,
    vex: Sequence[VexDocument] = (),
    policy_source: str | None = None,
) -> Decision:
    """Decide whether `result` passes `policy` on `today` (see the module docstring)."""
    source = policy_source or policy.source
    label = source or "the policy"
    fail_on = policy.fail_on
    threshold = fail_on.severity
    new_only = fail_on.new_only and baseline is not None
    active = [r for r in policy.ignore if r.active(today)]
    expired = tuple(
        ExpiredIgnore(id=r.id, expires=r.expires.isoformat(), reason=r.reason, source=r.source)
        for r in policy.ignore
        if not r.active(today)
    )
    images = _image_candidates(result.target)
    notes: list[str] = []
    suppressed: list[Suppression] = []
    findings: list[Violation] = []

    def is_new(fingerprint: str) -> bool:
        return baseline is None or not fingerprint or fingerprint not in baseline

    def gate(severity: Severity, fp: str, message: str, kind: ViolationKind) -> None:
        """A manifest or runtime finding that is still open fails when it reaches the threshold."""
        if threshold is None or severity.rank < threshold.rank or (new_only and not is_new(fp)):
            return
        findings.append(
            Violation(rule="fail_on", message=message, severity=severity, fingerprint=fp, kind=kind)
        )

    dynamic = result.sandbox is not None
    if (fail_on.in_use or fail_on.in_use_severity is not None) and not dynamic:
        notes.append("fail_on.in_use and in_use_severity ignored: the image was not run (no dynamic scan)")

    for vuln in sorted(result.vulnerabilities, key=Vulnerability.sort_key):
        fp = vuln.fingerprint
        decided = statement_for(vex, vuln, result.target) if vex else None
        if decided is not None and decided[1].suppresses:
            doc, stmt = decided
            suppressed.append(
                Suppression(
                    fingerprint=fp,
                    kind="vex",
                    reason=stmt.reason,
                    source=f"{doc.source}: statements[{stmt.index}]",
                    justification=stmt.justification,
                )
            )
            continue
        ids = (vuln.id, *vuln.aliases)
        pkg = vuln.package
        rule = next(
            (
                r
                for r in active
                if _ignore_matches(r, ids, name=pkg.name, purl=pkg.purl, path=pkg.path, images=images)
            ),
            None,
        )
        if rule is not None:
            suppressed.append(_ignored(rule, fp))
            continue
        in_use = pkg.in_use if dynamic else None
        if fail_on.in_use and in_use is False:
            continue  # a package the run never loaded does not fail the build under fail_on.in_use
        limit = _in_use_threshold(threshold, fail_on.in_use_severity) if in_use else threshold
        severe = limit is not None and vuln.severity.rank >= limit.rank
        signals = exploitation_signals(vuln, fail_on)
        if not severe and not signals:
            continue
        if fail_on.fixable_only and not vuln.fixed_version:
            continue
        if new_only and not is_new(fp):
            continue
        findings.append(
            Violation(
                rule="fail_on",
                message=_vuln_message(vuln, new_only, signals),
                severity=vuln.severity,
                fingerprint=fp,
            )
        )

    for m in sorted(result.misconfigurations, key=Misconfiguration.sort_key):
        fp = m.fingerprint
        if m.inline_reason is not None:
            suppressed.append(
                Suppression(fingerprint=fp, kind="inline", reason=m.inline_reason, source=m.inline_source)
            )
            continue
        if policy.checks.is_disabled(m.rule_id) or (m.peer_id and policy.checks.is_disabled(m.peer_id)):
            where = policy.checks.disabled_at(m.rule_id) or label
            suppressed.append(
                Suppression(
                    fingerprint=fp,
                    kind="ignore",
                    reason=f"disabled by checks.disable in {label}",
                    source=where,
                )
            )
            continue
        m_ids = (m.rule_id, m.peer_id) if m.peer_id else (m.rule_id,)
        rule = next(
            (r for r in active if _ignore_matches(r, m_ids, name="", purl="", path=m.path, images=images)),
            None,
        )
        if rule is not None:
            suppressed.append(_ignored(rule, fp))
            continue
        severity = (
            policy.checks.override(m.rule_id)
            or (m.peer_id and policy.checks.override(m.peer_id))
            or m.severity
        )
        # A finding that covers others (rules.fold) is at least as severe as `checks.severity` rates
        # any of them: a team that rates K8S030 HIGH still fails on the latest image that covers it.
        for covered in m.folded:
            raised = policy.checks.override(covered)
            if raised is not None and raised.rank > severity.rank:
                severity = raised
        gate(severity, fp, _misconfig_message(m, severity, new_only), "misconfiguration")

    for found in sorted(result.runtime, key=RuntimeFinding.sort_key):
        fp = found.fingerprint
        if policy.runtime.is_disabled(found.rule_id):
            suppressed.append(
                Suppression(
                    fingerprint=fp,
                    kind="ignore",
                    reason=f"disabled by runtime.disable in {label}",
                    source=policy.runtime.disabled_at(found.rule_id) or label,
                )
            )
            continue
        rule = next(
            (
                r
                for r in active
                if _ignore_matches(r, (found.rule_id,), name="", purl="", path=found.path, images=images)
            ),
            None,
        )
        if rule is not None:
            suppressed.append(_ignored(rule, fp))
            continue
        severity = policy.runtime.override(found.rule_id) or found.severity
        gate(severity, fp, _runtime_message(found, severity, new_only), "runtime")

    image_violations: list[Violation] = []
    if result.target is not None:
        image_violations = _image_violations(result.target, policy, notes)
    elif policy.images.configured:
        notes.append("image rules not checked: no image was scanned")

    new: frozenset[str] | None = None
    if baseline is not None:
        every = (
            [v.fingerprint for v in result.vulnerabilities]
            + [m.fingerprint for m in result.misconfigurations]
            + [r.fingerprint for r in result.runtime]
        )
        new = frozenset(fp for fp in every if fp and fp not in baseline)
    elif fail_on.new_only:
        notes.append("fail_on.new_only ignored: no baseline was given")

    violations = tuple(image_violations + findings)
    return Decision(
        passed=not violations,
        violations=violations,
        suppressed=tuple(suppressed),
        expired=expired,
        new=new,
        policy_source=source,
        summary=_summary(policy, new_only, findings, image_violations, suppressed, expired, notes),
    )


def _summary(
    policy: Policy,
    new_only: bool,
    findings: Sequence[Violation],
    image_violations: Sequence[Violation],
    suppressed: Sequence[Suppression],
    expired: Sequence[ExpiredIgnore],
    notes: Sequence[str],
) -> str:
    fail_on = policy.fail_on
    threshold = fail_on.severity
    signals = []
    if fail_on.kev:
        signals.append("in CISA's KEV")
    if fail_on.epss_score is not None:
        signals.append(f"EPSS >= {fail_on.epss_score:g}")
    if fail_on.epss_percentile is not None:
        signals.append(f"EPSS percentile >= {fail_on.epss_percentile:g}")
    if threshold is None and not signals:
        gate = "failing on findings is off (fail_on.severity: none)"
    else:
        parts = ([f"at or above {threshold.value}"] if threshold is not None else []) + signals
        gate = " or ".join(parts)
        # "with a fix" is a vulnerability criterion; a manifest finding can always be fixed.
        only_manifests = bool(findings) and all(v.kind in ("misconfiguration", "runtime") for v in findings)
        if fail_on.fixable_only and not only_manifests:
            gate += " with a fix"
        if new_only:
            gate += ", new since the baseline"
    found: list[str] = []
    if findings:
        found.append(f"{_plural(len(findings), 'finding')} {gate}")
    if image_violations:
        keys = sorted({v.rule for v in image_violations})
        found.append(f"{_plural(len(image_violations), 'image rule')} broken ({', '.join(keys)})")
    if found:
        head = "fail: " + ", ".join(found)
    elif threshold is None and not signals:
        head = f"pass: {gate}"
    else:
        head = f"pass: no findings {gate}"
    extra: list[str] = []
    if suppressed:
        extra.append(f"{len(suppressed)} suppressed")
    if expired:
        extra.append(f"{_plural(len(expired), 'ignore')} expired")
    extra.extend(notes)
    return f"{head} ({', '.join(extra)})" if extra else head

"""Trivy JSON reports (`trivy image --format json`, `trivy config --format json`, SchemaVersion 2) into
our models.

Read: `Trivy.Version`, `ArtifactName`, `ArtifactType`, `Metadata.OS{Family,Name}`, the image's layers
(`Metadata.DiffIDs`, `Metadata.Layers`), each result of class `os-pkgs` or `lang-pkgs`: its `Target`,
`Type`, `Packages` (present with `--list-all-pkgs`) and `Vulnerabilities`; and each result of class
`config`: its `Target` and `Misconfigurations`. Results of other classes (`license`, `secret`) are
skipped. One report may hold both kinds of findings (`trivy image --scanners vuln,misconfig`).

Mapping decisions:
- Package type: the purl type of `PkgIdentifier.PURL`; without a purl, from the result `Type`
  (`debian` → deb, `python-pkg` → pypi, ...; `generic` when unknown). A package without a purl gets one
  from `build_purl`.
- Package version: Trivy splits OS package versions into `Epoch`, `Version` and `Release`; they are
  joined back into `[epoch:]version[-release]`, as `dpkg-query` and `rpm -q` print them (and as Trivy's
  own `InstalledVersion` writes them). The source package is joined the same way.
- Package path: `FilePath` (packages) or `PkgPath` (vulnerabilities), made absolute for image scans as
  our catalogers write paths; OS packages have none, so theirs is the result `Target`.
- Layer: `LayerRef` with the layer's position in `Metadata.DiffIDs`, the blob digest when Trivy gives
  one (`Layer.Digest` or `Metadata.Layers`; "" otherwise, as for `docker save` archives) and the
  diff-id. No layer when the diff-id is not among the image's.
- A finding's package is the matching entry of the result's `Packages` list (by `PkgIdentifier.UID`,
  then by name, version and path) when the report has one, so it carries arch, source package and
  licences; otherwise it is built from the finding's own fields.
- `fixed_version`: of the entries in `FixedVersion` (Trivy joins the fixed versions of several
  branches with ", "), the smallest above the installed version in the package type's ordering (the
  fix for the installed branch); the first entry when they cannot be ordered. `status`: `Status`
  lower-cased, one of Trivy's statuses (anything else is an error naming the field); when empty,
  `fixed` if there is a fixed version, else `affected`.
- CVSS: from the `CVSS` entry of the `SeveritySource` (the source Trivy took the severity from), else
  `nvd`, else the first other source (by name) that has a score; within an entry the newest version
  with a score wins (V4.0, then V3.x, then V2).
- `severity_source` is `trivy:<SeveritySource>`; the match is recorded as a direct match by the
  `trivy` matcher in the result `Type`'s ecosystem (Trivy does not say whether it searched by the
  binary or the source package).
- Packages: every `Packages` entry (the report lists them with `--list-all-pkgs`), plus the packages
  of the findings not among them (all of them when there are no lists), without repeats.

Misconfigurations (`Results[].Misconfigurations[]`):
- Only `Status` FAIL is imported; PASS (with `--include-non-failures`) and EXCEPTION (ignored through
  Trivy's own ignore files or policies) are skipped.
- `rule_id` and `peer_id`: the check's id as Trivy 0.76 writes it (`KSV-0017`, `DS-0002`). Older
  Trivy wrote a short `ID` (`KSV017`) and the same id as `AVDID` with an `AVD-` prefix
  (`AVD-KSV-0017`), so a non-empty `AVDID` less that prefix wins over `ID`.
- `severity` is Trivy's own (`Severity`); `title` `Title`; `message` `Message` (or the title);
  `remediation` `Resolution`; `references` `PrimaryURL` then `References`, without repeats;
  `resource` `CauseMetadata.Resource`; `found_by` "trivy".
- `line` is `CauseMetadata.StartLine`: the instruction for Dockerfiles, the container or spec block's
  first line for Kubernetes. Trivy writes 0 or nothing for checks about something missing (no
  HEALTHCHECK, DS-0026; no USER, DS-0002), which becomes None.
- `path`: `Target` is relative to the scanned directory, so for filesystem and repository scans it is
  joined to `ArtifactName` (the directory as given to Trivy, assumed relative to the repository root
  when it is not absolute; a single-file scan's `ArtifactName` is the file itself), then made
  repository-relative (`RepoPaths`). Remote repositories (an URL) and images keep `Target` alone.
"""

from __future__ import annotations

import posixpath
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import ClassVar

from ci_security.ingest.base import (
    FindingKind,
    Imported,
    JSONObject,
    RepoPaths,
    ReportImportError,
    ShapeError,
    field_line,
    field_list,
    field_number,
    field_obj,
    field_purl,
    field_str,
    image_path,
    not_this_tool,
    obj,
    one_of,
    read_json,
    required_str,
    str_items,
    unique,
    version_epoch,
)
from ci_security.models import (
    LayerRef,
    MatchDetail,
    Misconfiguration,
    OSInfo,
    Package,
    Severity,
    Vulnerability,
    build_purl,
)
from ci_security.models.packagetype import package_type
from ci_security.models.purl import purl_qualifier, purl_type
from ci_security.models.vulnerability import VULN_STATUSES, VulnStatus
from ci_security.vulndb.versions.base import InvalidVersion
from ci_security.vulndb.versions.registry import SCHEMES

_TYPE_BY_RESULT = {
    **dict.fromkeys(("debian", "ubuntu", "echo"), "deb"),
    **dict.fromkeys(("alpine", "wolfi", "chainguard", "minimos"), "apk"),
    **dict.fromkeys(
        (
            "redhat",
            "centos",
            "rocky",
            "alma",
            "amazon",
            "oracle",
            "fedora",
            "photon",
            "cbl-mariner",
            "azurelinux",
            "opensuse",
            "opensuse-leap",
            "opensuse.leap",
            "opensuse-tumbleweed",
            "opensuse.tumbleweed",
            "sles",
            "slem",
            "suse linux enterprise server",
            "suse linux enterprise micro",
            "openeuler",
        ),
        "rpm",
    ),
    **dict.fromkeys(("python-pkg", "pip", "pipenv", "poetry", "uv"), "pypi"),
    **dict.fromkeys(("node-pkg", "npm", "yarn", "pnpm", "bun"), "npm"),
    **dict.fromkeys(("gobinary", "gomod"), "golang"),
    **dict.fromkeys(("jar", "pom", "gradle", "sbt"), "maven"),
    **dict.fromkeys(("gemspec", "bundler"), "gem"),
    **dict.fromkeys(("cargo", "rustbinary"), "cargo"),
    **dict.fromkeys(("nuget", "dotnet-core", "packages-props"), "nuget"),
    **dict.fromkeys(("composer", "composer-vendor"), "composer"),
    **dict.fromkeys(("conda-pkg", "conda-environment"), "conda"),
    "cocoapods": "cocoapods",
    "swift": "swift",
    "pub": "pub",
    "hex": "hex",
    "conan": "conan",
    "julia": "julia",
}
_PACKAGE_CLASSES = frozenset({"os-pkgs", "lang-pkgs"})
_IMAGE_ARTIFACTS = frozenset({"container_image", "vm"})
_SOURCE_ARTIFACTS = frozenset({"filesystem", "repository"})
_CVSS_VERSIONS = (("V40Score", "V40Vector"), ("V3Score", "V3Vector"), ("V2Score", "V2Vector"))


def _full_version(epoch: float | None, version: str, release: str) -> str:
    out = f"{version}-{release}" if release else version
    return f"{int(epoch)}:{out}" if epoch else out


@dataclass
class _Context:
    """What every result needs from the report's envelope."""

    os: OSInfo | None
    image_paths: bool
    diff_ids: tuple[str, ...]
    blob_digests: dict[str, str] = field(default_factory=dict)

    def layer(self, value: JSONObject | None, where: str) -> LayerRef | None:
        if value is None:
            return None
        diff_id = field_str(value, "DiffID", where)
        if not diff_id or diff_id not in self.diff_ids:
            return None
        digest = field_str(value, "Digest", where) or self.blob_digests.get(diff_id, "")
        return LayerRef(index=self.diff_ids.index(diff_id), digest=digest, diff_id=diff_id)

    def path(self, path: str) -> str:
        return image_path(path) if self.image_paths else path


@dataclass
class _Result:
    """One result's inventory: its packages, indexed for finding the package of a vulnerability."""

    packages: list[Package] = field(default_factory=list)
    by_uid: dict[str, Package] = field(default_factory=dict)
    by_key: dict[tuple[str, str, str], Package] = field(default_factory=dict)


class TrivyImporter:
    """Imports `trivy image --format json` and `trivy config --format json` reports."""

    name: ClassVar[str] = "trivy"
    report: ClassVar[str] = "a Trivy JSON report (`trivy image|fs|config -f json`)"
    produces: ClassVar[tuple[FindingKind, ...]] = ("vulnerabilities", "misconfigurations")

    def load(self, path: Path, base: Path | None = None) -> Imported:
        doc = read_json(path)
        if not isinstance(doc, dict) or "SchemaVersion" not in doc:
            raise not_this_tool(path, "Trivy", doc)
        schema = doc.get("SchemaVersion")
        if schema != 2:
            raise ReportImportError(
                f"{path}: unsupported Trivy report SchemaVersion {schema!r} (only 2 can be imported)"
            )
        try:
            return _parse(doc, RepoPaths.at(base))
        except ShapeError as exc:
            raise ReportImportError(f"{path}: not a valid Trivy report: {exc}") from None


def _parse(doc: JSONObject, paths: RepoPaths) -> Imported:
    trivy = field_obj(doc, "Trivy", "")
    metadata = field_obj(doc, "Metadata", "") or {}
    context = _Context(
        os=_os(metadata),
        image_paths=field_str(doc, "ArtifactType", "") in _IMAGE_ARTIFACTS,
        diff_ids=_diff_ids(metadata),
    )
    for i, item in enumerate(field_list(metadata, "Layers", "Metadata")):
        layer = obj(item, f"Metadata.Layers[{i}]")
        diff_id = field_str(layer, "DiffID", f"Metadata.Layers[{i}]")
        digest = field_str(layer, "Digest", f"Metadata.Layers[{i}]")
        if diff_id and digest:
            context.blob_digests[diff_id] = digest

    packages: list[Package] = []
    vulnerabilities: list[Vulnerability] = []
    misconfigurations: list[Misconfiguration] = []
    artifact = (field_str(doc, "ArtifactName", ""), field_str(doc, "ArtifactType", ""))
    for i, item in enumerate(field_list(doc, "Results", "")):
        where = f"Results[{i}]"
        result = obj(item, where)
        klass = field_str(result, "Class", where)
        if klass == "config":
            file = paths.relative(_config_path(*artifact, field_str(result, "Target", where)))
            for j, raw in enumerate(field_list(result, "Misconfigurations", where)):
                mwhere = f"{where}.Misconfigurations[{j}]"
                found = _misconfiguration(obj(raw, mwhere), mwhere, file)
                if found is not None:
                    misconfigurations.append(found)
            continue
        if klass and klass not in _PACKAGE_CLASSES:
            continue
        target = field_str(result, "Target", where)
        rtype = field_str(result, "Type", where)
        inventory = _Result()
        for j, raw in enumerate(field_list(result, "Packages", where)):
            _add_package(
                inventory,
                obj(raw, f"{where}.Packages[{j}]"),
                f"{where}.Packages[{j}]",
                target,
                rtype,
                context,
            )
        packages.extend(inventory.packages)
        for j, raw in enumerate(field_list(result, "Vulnerabilities", where)):
            vwhere = f"{where}.Vulnerabilities[{j}]"
            vulnerabilities.append(
                _vulnerability(obj(raw, vwhere), vwhere, target, rtype, inventory, context)
            )
    # A finding's package is normally one of the listed ones; without lists, the findings' are all.
    packages.extend(v.package for v in vulnerabilities)
    return Imported(
        tool="trivy",
        tool_version=(field_str(trivy, "Version", "Trivy") or None) if trivy else None,
        target=field_str(doc, "ArtifactName", "") or None,
        os=context.os,
        packages=unique(packages),
        vulnerabilities=tuple(vulnerabilities),
        misconfigurations=tuple(misconfigurations),
        # A config-only report (`trivy config`) looked for no vulnerabilities.
        vulnerability_scan=bool(packages or vulnerabilities),
    )


def _config_path(artifact_name: str, artifact_type: str, target: str) -> str:
    """A config result's file as the tool ran: `Target` is relative to the scanned directory."""
    name = artifact_name.replace("\\", "/").rstrip("/")
    if artifact_type not in _SOURCE_ARTIFACTS or not name or "://" in name or name.startswith("git@"):
        return target
    if name == target or name.endswith("/" + target):
        return name  # a single file was scanned
    return posixpath.join(name, target)


def _misconfiguration(raw: JSONObject, where: str, file: str) -> Misconfiguration | None:
    if field_str(raw, "Status", where).upper() != "FAIL":
        return None
    avd_id = field_str(raw, "AVDID", where)
    check_id = avd_id.removeprefix("AVD-") if avd_id else required_str(raw, "ID", where)
    cause = field_obj(raw, "CauseMetadata", where) or {}
    cwhere = f"{where}.CauseMetadata"
    title = field_str(raw, "Title", where) or check_id
    primary = field_str(raw, "PrimaryURL", where)
    return Misconfiguration(
        rule_id=check_id,
        title=title,
        severity=Severity.parse(field_str(raw, "Severity", where)),
        path=file,
        line=field_line(cause, "StartLine", cwhere),
        message=field_str(raw, "Message", where) or title,
        resource=field_str(cause, "Resource", cwhere),
        remediation=field_str(raw, "Resolution", where),
        references=tuple(dict.fromkeys(u for u in (primary, *str_items(raw, "References", where)) if u)),
        found_by="trivy",
        peer_id=check_id,
    )


def _os(metadata: JSONObject) -> OSInfo | None:
    os_field = field_obj(metadata, "OS", "Metadata")
    if os_field is None:
        return None
    family = field_str(os_field, "Family", "Metadata.OS")
    if not family:
        return None
    return OSInfo(family=family, version=field_str(os_field, "Name", "Metadata.OS") or None)


def _diff_ids(metadata: JSONObject) -> tuple[str, ...]:
    ids = str_items(metadata, "DiffIDs", "Metadata")
    if ids:
        return ids
    config = field_obj(metadata, "ImageConfig", "Metadata")
    rootfs = field_obj(config, "rootfs", "Metadata.ImageConfig") if config else None
    return str_items(rootfs, "diff_ids", "Metadata.ImageConfig.rootfs") if rootfs else ()


def _branch_fix(candidates: list[str], pkg: Package) -> str | None:
    """The smallest fixed version above the installed one, else the first candidate."""
    if len(candidates) < 2:
        return candidates[0] if candidates else None
    row = package_type(pkg.type)
    if row is None:
        return candidates[0]
    scheme = SCHEMES[row.scheme]
    try:
        installed = scheme.key(pkg.version)
        above = sorted((scheme.key(c), c) for c in candidates if scheme.key(c) > installed)
    except InvalidVersion:
        return candidates[0]
    return above[0][1] if above else candidates[0]


def _package_type(purl: str, rtype: str) -> str:
    return purl_type(purl) or _TYPE_BY_RESULT.get(rtype.lower(), "generic")


def _add_package(
    inventory: _Result, raw: JSONObject, where: str, target: str, rtype: str, context: _Context
) -> None:
    name = required_str(raw, "Name", where)
    identifier = field_obj(raw, "Identifier", where) or {}
    purl = field_purl(identifier, "PURL", f"{where}.Identifier")
    kind = _package_type(purl, rtype)
    epoch = field_number(raw, "Epoch", where)
    src_name = field_str(raw, "SrcName", where)
    src_version = field_str(raw, "SrcVersion", where)
    file_path = field_str(raw, "FilePath", where)
    analyzed_by = field_str(raw, "AnalyzedBy", where)
    pkg = Package(
        name=name,
        version=_full_version(epoch, field_str(raw, "Version", where), field_str(raw, "Release", where)),
        type=kind,
        purl=purl,
        source_name=src_name or None,
        source_version=(
            _full_version(
                field_number(raw, "SrcEpoch", where), src_version, field_str(raw, "SrcRelease", where)
            )
            if src_version
            else None
        ),
        arch=field_str(raw, "Arch", where) or None,
        epoch=int(epoch) if epoch else None,
        path=context.path(file_path) if file_path else target,
        layer=context.layer(field_obj(raw, "Layer", where), f"{where}.Layer"),
        found_by=f"trivy:{analyzed_by}" if analyzed_by else "trivy",
        licenses=str_items(raw, "Licenses", where),
        modularity_label=field_str(raw, "Modularitylabel", where) or None,
    )
    if not pkg.purl:
        pkg = _with_purl(pkg, context.os)
    inventory.packages.append(pkg)
    uid = field_str(identifier, "UID", f"{where}.Identifier")
    if uid:
        inventory.by_uid.setdefault(uid, pkg)
    inventory.by_key.setdefault((name, pkg.version, file_path), pkg)


def _with_purl(pkg: Package, os_info: OSInfo | None) -> Package:
    return replace(pkg, purl=build_purl(pkg, os_info))


def _vulnerability(
    raw: JSONObject, where: str, target: str, rtype: str, inventory: _Result, context: _Context
) -> Vulnerability:
    vid = required_str(raw, "VulnerabilityID", where)
    name = required_str(raw, "PkgName", where)
    installed = field_str(raw, "InstalledVersion", where)
    pkg_path = field_str(raw, "PkgPath", where)
    identifier = field_obj(raw, "PkgIdentifier", where) or {}
    uid = field_str(identifier, "UID", f"{where}.PkgIdentifier")
    pkg = inventory.by_uid.get(uid) if uid else None
    if pkg is None:
        pkg = inventory.by_key.get((name, installed, pkg_path))
    if pkg is None:
        purl = field_purl(identifier, "PURL", f"{where}.PkgIdentifier")
        kind = _package_type(purl, rtype)
        pkg = Package(
            name=name,
            version=installed,
            type=kind,
            purl=purl,
            arch=purl_qualifier(purl, "arch"),
            epoch=version_epoch(kind, installed),
            path=context.path(pkg_path) if pkg_path else target,
            layer=context.layer(field_obj(raw, "Layer", where), f"{where}.Layer"),
            found_by="trivy",
        )
        if not pkg.purl:
            pkg = _with_purl(pkg, context.os)

    fixed = field_str(raw, "FixedVersion", where)
    fixed_version = _branch_fix([part.strip() for part in fixed.split(",") if part.strip()], pkg)
    written = field_str(raw, "Status", where).strip().lower()
    status: VulnStatus = (
        one_of(written, VULN_STATUSES, f"{where}.Status")
        if written
        else ("fixed" if fixed_version else "affected")
    )
    severity_source = field_str(raw, "SeveritySource", where)
    score, vector = _cvss(field_obj(raw, "CVSS", where), severity_source, f"{where}.CVSS")
    return Vulnerability(
        id=vid,
        aliases=tuple(sorted(set(str_items(raw, "VendorIDs", where)) - {vid})),
        package=pkg,
        fixed_version=fixed_version,
        status=status,
        severity=Severity.parse(field_str(raw, "Severity", where)),
        cvss_score=score,
        cvss_vector=vector,
        severity_source=f"trivy:{severity_source}" if severity_source else "trivy",
        title=field_str(raw, "Title", where),
        description=field_str(raw, "Description", where),
        references=tuple(dict.fromkeys(str_items(raw, "References", where))),
        published=field_str(raw, "PublishedDate", where) or None,
        match=MatchDetail(
            matcher="trivy", kind="direct", ecosystem=rtype, name=name, version=installed, source="trivy"
        ),
    )


def _cvss(cvss: JSONObject | None, severity_source: str, where: str) -> tuple[float | None, str | None]:
    """Score and vector: the severity source's entry, else nvd's, else the first other source's that
    has a score; within an entry the newest CVSS version that has a score.
    """
    if not cvss:
        return None, None
    order = [severity_source, "nvd", *sorted(cvss)]
    for source in dict.fromkeys(s for s in order if s in cvss):
        entry = obj(cvss[source], f"{where}.{source}")
        for score_key, vector_key in _CVSS_VERSIONS:
            score = field_number(entry, score_key, f"{where}.{source}")
            if score is not None:
                return score, field_str(entry, vector_key, f"{where}.{source}") or None
    return None, None

"""Grype JSON reports (`grype <image> -o json`) into our models.

Read: `descriptor{name,version}`, `source{type,target}` (a string for directories, an object with
`userInput`, `layers` and the base64 `manifest` for images), `distro{name,version}` and each of
`matches[]`: `vulnerability{id,dataSource,namespace,severity,description,urls,cvss[],fix{versions,state},
advisories[]}`, `relatedVulnerabilities[]`, `matchDetails[]` and `artifact{name,version,type,locations[],
purl,upstreams[],licenses[],metadata}`. `ignoredMatches` (suppressed by Grype's own ignore rules) are
not imported. Grype lists only the packages that have findings, so `packages` is the distinct packages
of the findings.

Mapping decisions:
- Package type: the purl type of `artifact.purl`, else from Grype's artifact type (`python` → pypi,
  `go-module` → golang, `java-archive` → maven, `rust-crate` → cargo, `dotnet` → nuget,
  `php-composer` → composer, ...; `generic` when unknown). A package without a purl gets one from
  `build_purl`. Arch, epoch and rpm modularity label come from `artifact.metadata` (or the purl's `arch`
  qualifier and the version's `epoch:` prefix); the source package from `upstreams[0]` (its version
  defaults to the package's, as Grype leaves it out when they are equal).
- Path and layer: the first location's `path` and `layerID`. Grype's `layerID` is the layer's diff-id,
  the same digest `source.target.layers[].digest` lists, so its position there is the `LayerRef` index;
  the blob digest comes from the base64 `source.target.manifest` when it is there ("" otherwise). When
  the layer is not among the image's layers, `layer` is None.
- `fixed_version`: the first match detail's `fix.suggestedVersion` (the fix for the installed version's
  branch), else the first of `fix.versions` (Grype sorts them ascending). A `0:` epoch Grype writes on
  rpm and dpkg fixes is dropped when the installed version has no epoch, so both compare as written.
- `status` from `fix.state`: fixed → fixed, not-fixed → affected, wont-fix → will_not_fix,
  not-affected → not_affected, unknown → unknown (another of our statuses written with `-` is read as
  that status; anything else is an error naming the field); an empty state is `fixed` when there are
  fix versions, else `unknown`.
- `severity`: Grype's label; `Negligible` is LOW.
- CVSS: among the finding's own `cvss` entries, those whose `source` is the record's own (empty, or
  naming the namespace's vendor, as `nvd@nist.gov` does for `nvd:cpe`, or the `dataSource` domain) are
  preferred; the newest CVSS version wins, `Primary` before `Secondary`. A record without any CVSS entry
  (distro records usually have none) takes the score of its related records (the NVD record of the
  same CVE) by the same rule.
- `aliases`: the ids of `relatedVulnerabilities`; `references`: `dataSource`, `urls` and advisory
  links, without repeats; `severity_source` is `grype:<namespace>`.
- The match: matcher and kind from the first match detail (`exact-indirect-match` is indirect, through
  the source package; anything else is direct), ecosystem = namespace, and the package name and version
  the matcher searched with (`searchedBy.package`, e.g. the source package of an indirect match), else
  the artifact's.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from dataclasses import dataclass, replace
from pathlib import Path
from typing import ClassVar
from urllib.parse import urlparse

from ci_security.ingest.base import (
    FindingKind,
    Imported,
    JSONObject,
    ReportImportError,
    ShapeError,
    field_list,
    field_number,
    field_obj,
    field_purl,
    field_str,
    not_this_tool,
    obj,
    quoted,
    read_json,
    required_str,
    str_items,
    unique,
    version_epoch,
)
from ci_security.models import (
    LayerRef,
    MatchDetail,
    OSInfo,
    Package,
    Severity,
    Vulnerability,
    build_purl,
)
from ci_security.models.packagetype import package_type
from ci_security.models.purl import purl_qualifier, purl_type
from ci_security.models.vulnerability import VULN_STATUSES, MatchKind, VulnStatus
from ci_security.structured import choice

_TYPE_BY_ARTIFACT = {
    "deb": "deb",
    "apk": "apk",
    "rpm": "rpm",
    "python": "pypi",
    "npm": "npm",
    "go-module": "golang",
    "java-archive": "maven",
    "jenkins-plugin": "maven",
    "gem": "gem",
    "rust-crate": "cargo",
    "dotnet": "nuget",
    "php-composer": "composer",
    "cocoapods": "cocoapods",
    "conan": "conan",
    "dart-pub": "pub",
    "hex": "hex",
    "swift": "swift",
    "conda": "conda",
    "hackage": "hackage",
    "alpm": "alpm",
    "nix": "nix",
}
_STATUS: dict[str, VulnStatus] = {
    "fixed": "fixed",
    "not-fixed": "affected",
    "wont-fix": "will_not_fix",
    "not-affected": "not_affected",
    "unknown": "unknown",
}
_NOT_PROVIDED = "[not provided]"


@dataclass(frozen=True)
class _Image:
    """The scanned image's layers: diff-ids in order, and blob digests when the manifest gives them."""

    diff_ids: tuple[str, ...] = ()
    blob_digests: tuple[str, ...] = ()

    def layer(self, diff_id: str) -> LayerRef | None:
        if not diff_id or diff_id not in self.diff_ids:
            return None
        index = self.diff_ids.index(diff_id)
        digest = self.blob_digests[index] if len(self.blob_digests) == len(self.diff_ids) else ""
        return LayerRef(index=index, digest=digest, diff_id=diff_id)


class GrypeImporter:
    """Imports `grype -o json` reports."""

    name: ClassVar[str] = "grype"
    report: ClassVar[str] = "a Grype JSON report (`grype -o json`)"
    produces: ClassVar[tuple[FindingKind, ...]] = ("vulnerabilities",)

    def load(self, path: Path, base: Path | None = None) -> Imported:
        """`base` is not used: Grype's findings name paths inside the image, not repository files."""
        doc = read_json(path)
        if not isinstance(doc, dict) or not isinstance(doc.get("matches"), list):
            raise not_this_tool(path, "Grype", doc)
        descriptor = doc.get("descriptor")
        if isinstance(descriptor, dict) and descriptor.get("name") not in (None, "", "grype"):
            raise not_this_tool(path, "Grype", doc)
        try:
            return _parse(doc)
        except ShapeError as exc:
            raise ReportImportError(f"{path}: not a valid Grype report: {exc}") from None


def _parse(doc: JSONObject) -> Imported:
    descriptor = field_obj(doc, "descriptor", "") or {}
    version = field_str(descriptor, "version", "descriptor")
    os_info = _os(field_obj(doc, "distro", ""))
    target, image = _source(field_obj(doc, "source", ""))
    vulnerabilities = [
        _vulnerability(obj(raw, f"matches[{i}]"), f"matches[{i}]", os_info, image)
        for i, raw in enumerate(field_list(doc, "matches", ""))
    ]
    return Imported(
        tool="grype",
        tool_version=version if version and version != _NOT_PROVIDED else None,
        target=target,
        os=os_info,
        packages=unique([v.package for v in vulnerabilities]),
        vulnerabilities=tuple(vulnerabilities),
        vulnerability_scan=True,  # a Grype report is one, even with no matches
    )


def _os(distro: JSONObject | None) -> OSInfo | None:
    if not distro:
        return None
    name = field_str(distro, "name", "distro")
    if not name:
        return None
    return OSInfo(family=name, version=field_str(distro, "version", "distro") or None)


def _source(source: JSONObject | None) -> tuple[str | None, _Image]:
    if source is None:
        return None, _Image()
    target = source.get("target")
    if isinstance(target, str):
        return target or None, _Image()
    if not isinstance(target, dict):
        return None, _Image()
    where = "source.target"
    diff_ids = tuple(
        field_str(obj(item, f"{where}.layers[{i}]"), "digest", f"{where}.layers[{i}]")
        for i, item in enumerate(field_list(target, "layers", where))
    )
    user_input = field_str(target, "userInput", where)
    return user_input or None, _Image(
        diff_ids=diff_ids, blob_digests=_manifest_digests(target.get("manifest"))
    )


def _manifest_digests(raw: object) -> tuple[str, ...]:
    """The layer blob digests of the image manifest Grype embeds (base64 JSON), if it is readable."""
    if not isinstance(raw, str) or not raw:
        return ()
    try:
        manifest = json.loads(base64.b64decode(raw, validate=True))
    except (binascii.Error, ValueError, RecursionError):
        return ()
    layers = manifest.get("layers") if isinstance(manifest, dict) else None
    if not isinstance(layers, list):
        return ()
    digests = [layer.get("digest") if isinstance(layer, dict) else None for layer in layers]
    return tuple(d for d in digests if isinstance(d, str)) if all(isinstance(d, str) for d in digests) else ()


def _package(artifact: JSONObject, where: str, os_info: OSInfo | None, image: _Image) -> Package:
    name = required_str(artifact, "name", where)
    version = field_str(artifact, "version", where)
    purl = field_purl(artifact, "purl", where)
    kind = purl_type(purl) or _TYPE_BY_ARTIFACT.get(field_str(artifact, "type", where), "generic")
    metadata = artifact.get("metadata")
    meta = metadata if isinstance(metadata, dict) else {}
    arch = meta.get("architecture")
    epoch = meta.get("epoch")
    label = meta.get("modularityLabel")
    source_name: str | None = None
    source_version: str | None = None
    upstreams = field_list(artifact, "upstreams", where)
    if upstreams:
        upstream = obj(upstreams[0], f"{where}.upstreams[0]")
        source_name = field_str(upstream, "name", f"{where}.upstreams[0]") or None
        if source_name:
            source_version = field_str(upstream, "version", f"{where}.upstreams[0]") or version
    path = ""
    layer: LayerRef | None = None
    locations = field_list(artifact, "locations", where)
    if locations:
        location = obj(locations[0], f"{where}.locations[0]")
        path = field_str(location, "path", f"{where}.locations[0]")
        layer = image.layer(field_str(location, "layerID", f"{where}.locations[0]"))
    pkg = Package(
        name=name,
        version=version,
        type=kind,
        purl=purl,
        source_name=source_name,
        source_version=source_version,
        arch=arch if isinstance(arch, str) and arch else purl_qualifier(purl, "arch"),
        epoch=epoch
        if isinstance(epoch, int) and not isinstance(epoch, bool)
        else version_epoch(kind, version),
        path=path,
        layer=layer,
        found_by="grype",
        licenses=_licenses(field_list(artifact, "licenses", where)),
        modularity_label=label if isinstance(label, str) and label else None,
    )
    return pkg if pkg.purl else replace(pkg, purl=build_purl(pkg, os_info))


def _licenses(items: list[object]) -> tuple[str, ...]:
    # Grype writes licence strings; Syft-style objects ({"value": ...}) are accepted too.
    out: list[str] = []
    for item in items:
        value = item.get("value") if isinstance(item, dict) else item
        if isinstance(value, str) and value:
            out.append(value)
    return tuple(out)


def _vulnerability(match: JSONObject, where: str, os_info: OSInfo | None, image: _Image) -> Vulnerability:
    vwhere = f"{where}.vulnerability"
    vuln = obj(match.get("vulnerability"), vwhere)
    vid = required_str(vuln, "id", vwhere)
    namespace = field_str(vuln, "namespace", vwhere)
    data_source = field_str(vuln, "dataSource", vwhere)
    pkg = _package(obj(match.get("artifact"), f"{where}.artifact"), f"{where}.artifact", os_info, image)

    related = [
        obj(item, f"{where}.relatedVulnerabilities[{i}]")
        for i, item in enumerate(field_list(match, "relatedVulnerabilities", where))
    ]
    details = [
        obj(item, f"{where}.matchDetails[{i}]")
        for i, item in enumerate(field_list(match, "matchDetails", where))
    ]
    fix = field_obj(vuln, "fix", vwhere) or {}
    fix_versions = str_items(fix, "versions", f"{vwhere}.fix")
    fixed_version = _suggested_fix(details, where) or (fix_versions[0] if fix_versions else None)
    row = package_type(pkg.type)
    if fixed_version and row and row.epoch and fixed_version.startswith("0:") and pkg.epoch is None:
        fixed_version = fixed_version[2:]
    state = field_str(fix, "state", f"{vwhere}.fix").strip().lower()
    status: VulnStatus = "fixed" if fix_versions else "unknown"
    if state:
        ours = choice(_STATUS.get(state, state.replace("-", "_")), VULN_STATUSES)
        if ours is None:
            raise ShapeError(f"{vwhere}.fix.state", f"{quoted(state)} is not one of {', '.join(_STATUS)}")
        status = ours

    label = field_str(vuln, "severity", vwhere)
    severity = Severity.LOW if label.strip().lower() == "negligible" else Severity.parse(label)
    score, vector = _cvss(vuln, vwhere)
    if score is None:
        for i, record in enumerate(related):
            score, vector = _cvss(record, f"{where}.relatedVulnerabilities[{i}]")
            if score is not None:
                break

    references = [data_source, *str_items(vuln, "urls", vwhere)]
    for i, item in enumerate(field_list(vuln, "advisories", vwhere)):
        references.append(
            field_str(obj(item, f"{vwhere}.advisories[{i}]"), "link", f"{vwhere}.advisories[{i}]")
        )
    related_ids = {
        required_str(record, "id", f"{where}.relatedVulnerabilities[{i}]") for i, record in enumerate(related)
    }
    return Vulnerability(
        id=vid,
        aliases=tuple(sorted(related_ids - {vid})),
        package=pkg,
        fixed_version=fixed_version,
        status=status,
        severity=severity,
        cvss_score=score,
        cvss_vector=vector,
        severity_source=f"grype:{namespace}" if namespace else "grype",
        description=field_str(vuln, "description", vwhere),
        references=tuple(dict.fromkeys(ref for ref in references if ref)),
        match=_match(details, where, namespace, pkg),
    )


def _suggested_fix(details: list[JSONObject], where: str) -> str | None:
    for i, detail in enumerate(details):
        fix = field_obj(detail, "fix", f"{where}.matchDetails[{i}]")
        if fix:
            suggested = field_str(fix, "suggestedVersion", f"{where}.matchDetails[{i}].fix")
            if suggested:
                return suggested
    return None


def _match(details: list[JSONObject], where: str, namespace: str, pkg: Package) -> MatchDetail:
    matcher, name, version = "grype", pkg.name, pkg.version
    kind: MatchKind = "direct"
    ecosystem = namespace
    if details:
        dwhere = f"{where}.matchDetails[0]"
        detail = details[0]
        matcher = field_str(detail, "matcher", dwhere) or matcher
        if field_str(detail, "type", dwhere) == "exact-indirect-match":
            kind = "indirect"
        searched = detail.get("searchedBy")
        if isinstance(searched, dict):
            if not ecosystem:
                value = searched.get("namespace")
                ecosystem = value if isinstance(value, str) else ""
            searched_pkg = searched.get("package")
            if isinstance(searched_pkg, dict) and isinstance(searched_pkg.get("name"), str):
                name = searched_pkg["name"] or name
                searched_version = searched_pkg.get("version")
                version = (
                    searched_version if isinstance(searched_version, str) and searched_version else version
                )
    return MatchDetail(
        matcher=matcher, kind=kind, ecosystem=ecosystem, name=name, version=version, source="grype"
    )


def _cvss(record: JSONObject, where: str) -> tuple[float | None, str | None]:
    """Score and vector of one vulnerability record: its own source's entries first, then any; the
    newest CVSS version, `Primary` before `Secondary`.
    """
    namespace = field_str(record, "namespace", where)
    data_source = field_str(record, "dataSource", where)
    candidates: list[tuple[bool, tuple[int, ...], bool, float, str | None]] = []
    for i, item in enumerate(field_list(record, "cvss", where)):
        cwhere = f"{where}.cvss[{i}]"
        entry = obj(item, cwhere)
        metrics = field_obj(entry, "metrics", cwhere) or {}
        score = field_number(metrics, "baseScore", f"{cwhere}.metrics")
        if score is None:
            continue
        candidates.append(
            (
                _own_source(field_str(entry, "source", cwhere), namespace, data_source),
                _version_key(field_str(entry, "version", cwhere)),
                field_str(entry, "type", cwhere).lower() != "secondary",
                score,
                field_str(entry, "vector", cwhere) or None,
            )
        )
    if not candidates:
        return None, None
    # max() keeps the first of equal keys, so the report's order breaks ties.
    best = max(candidates, key=lambda c: (c[0], c[1], c[2]))
    return best[3], best[4]


def _version_key(version: str) -> tuple[int, ...]:
    parts = re.findall(r"\d+", version)
    return tuple(int(p) for p in parts) if parts else (0,)


def _own_source(source: str, namespace: str, data_source: str) -> bool:
    """Whether a CVSS entry comes from the record's own source. Entries without a source are the
    record's own; otherwise the source (`nvd@nist.gov`, `secalert@redhat.com`) must name the namespace's
    vendor (`nvd:cpe`, `redhat:distro:redhat:8`) or the data source's domain.
    """
    if not source:
        return True
    text = source.lower()
    words = set(re.split(r"[^a-z0-9]+", text))
    vendor = namespace.split(":", 1)[0].lower()
    if vendor and vendor in words:
        return True
    host = (urlparse(data_source).hostname or "").lower()
    domain = ".".join(host.split(".")[-2:])
    return bool(domain) and (text == domain or text.endswith(("@" + domain, "." + domain)))

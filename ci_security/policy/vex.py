"""OpenVEX (https://github.com/openvex/spec) in and out.

Reading: documents of the current spec (v0.2.0: `vulnerability` is an object with `name` and
`aliases`, products are objects with `@id`, `identifiers.purl` and `subcomponents`) and of the first
drafts (`vulnerability` a string, products and statement-level `subcomponents` as strings) are both
accepted. A document that cannot be used raises `PolicyError("<file>: …")`.

Matching a vulnerability finding: the statement must name the finding's id or one of its aliases
(as its `name` or one of its `aliases`, case-insensitively), and one of its products must cover the
finding's package:
- a product with subcomponents covers the packages whose purl matches a subcomponent, provided the
  product, when it names an image (`pkg:oci/…` or an image reference), is the scanned image;
- a product without subcomponents covers the package whose purl it is, or, when it names the scanned
  image, every package in it.
Purls are compared on type, namespace and name (case-insensitively, percent-decoded, PyPI names
normalised) and on version only when the VEX purl has one; qualifiers never matter (`models.purl`
has the rule). An `identifiers.purl` that packageurl-python cannot read is an error. When several
statements cover a finding, the latest (statement timestamp, else document timestamp, else order of
appearance) decides, as the spec says; the finding is suppressed when that statement says
`not_affected` with a justification or an impact statement.

Writing: `openvex_document` exports the policy's ignore entries that suppressed vulnerabilities in
this scan, and, after a dynamic scan, a `vulnerable_code_not_in_execute_path` statement for each
open vulnerability whose package the run never loaded (`Package.in_use` False), its notes saying
that this is the evidence of one bounded run and not proof. The product is the image (see
`image_product`), each package a subcomponent, one statement per ignore entry and vulnerability.
The OpenVEX schema allows a justification or an impact statement, not both, so an entry with a
`vex_justification` writes it as `justification` and its reason goes to `status_notes`; otherwise
the reason is the `impact_statement`. The output is a pure function of its inputs: the caller
supplies the timestamp and `@id` is a hash of the content.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal, TypeVar, get_args

from ci_security.errors import InvalidReferenceError
from ci_security.image.reference import DockerReference, parse_docker_reference, parse_image_ref
from ci_security.models import Decision, ImageTarget, ScanResult, Vulnerability, build_purl
from ci_security.models.purl import oci_purl, parse_purl, same_package
from ci_security.policy.model import PolicyError
from ci_security.structured import choice, load_json, read_document

CONTEXT = "https://openvex.dev/ns/v0.2.0"
AUTHOR = "ci-security"
VexStatus = Literal["not_affected", "affected", "fixed", "under_investigation"]
Justification = Literal[
    "component_not_present",
    "vulnerable_code_not_present",
    "vulnerable_code_not_in_execute_path",
    "vulnerable_code_cannot_be_controlled_by_adversary",
    "inline_mitigations_already_exist",
]
STATUSES: tuple[VexStatus, ...] = get_args(VexStatus)
JUSTIFICATIONS: tuple[Justification, ...] = get_args(Justification)
_EARLIEST = datetime.min.replace(tzinfo=UTC)
Choice = TypeVar("Choice", bound=str)


@dataclass(frozen=True, slots=True, kw_only=True)
class VexProduct:
    ids: tuple[str, ...]  # its `@id` and `identifiers.purl`, whichever are given
    subcomponents: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class VexStatement:
    index: int
    vulnerability: str
    aliases: tuple[str, ...]
    products: tuple[VexProduct, ...]
    status: VexStatus
    justification: Justification | None = None
    impact_statement: str | None = None
    status_notes: str | None = None
    timestamp: datetime | None = None

    @property
    def names(self) -> frozenset[str]:
        return frozenset(n.upper() for n in (self.vulnerability, *self.aliases))

    @property
    def suppresses(self) -> bool:
        return self.status == "not_affected" and bool(self.justification or self.impact_statement)

    @property
    def reason(self) -> str:
        text = self.impact_statement or self.status_notes or self.justification or self.status
        return text.replace("_", " ") if text in JUSTIFICATIONS else text


@dataclass(frozen=True, slots=True, kw_only=True)
class VexDocument:
    source: str
    id: str
    author: str
    timestamp: datetime | None
    statements: tuple[VexStatement, ...]


# --- reading -------------------------------------------------------------------------------------


def load_vex(path: Path) -> VexDocument:
    """Read and check one OpenVEX JSON document, within the `document-bytes` and `nesting-depth`
    limits (a pull request can change it).
    """
    data = read_document(path, "VEX document", error=PolicyError)
    return parse_vex(load_json(data, str(path), error=PolicyError, located=True), str(path))


def load_vex_documents(paths: Iterable[Path]) -> tuple[VexDocument, ...]:
    return tuple(load_vex(p) for p in paths)


def _fail(source: str, where: str, message: str) -> PolicyError:
    return PolicyError(f"{source}: {where}: {message}" if where else f"{source}: {message}")


def _timestamp(value: Any, source: str, where: str) -> datetime | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise _fail(source, where, "timestamp must be an RFC 3339 string")
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise _fail(source, where, f"timestamp {value!r} is not RFC 3339") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _strings(value: Any, source: str, where: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise _fail(source, where, "must be a list of non-empty strings")
    return tuple(value)


def _component_ids(item: Any, source: str, where: str) -> tuple[str, ...]:
    if isinstance(item, str) and item:
        return (item,)
    if not isinstance(item, dict):
        raise _fail(source, where, "must be an object with @id or identifiers.purl")
    ids: list[str] = []
    ident = item.get("@id")
    if ident is not None:
        if not isinstance(ident, str) or not ident:
            raise _fail(source, f"{where}.@id", "must be a non-empty string")
        ids.append(ident)
    identifiers = item.get("identifiers")
    if identifiers is not None:
        if not isinstance(identifiers, dict):
            raise _fail(source, f"{where}.identifiers", "must be an object")
        purl = identifiers.get("purl")
        if purl is not None:
            if not isinstance(purl, str) or parse_purl(purl) is None:
                raise _fail(source, f"{where}.identifiers.purl", f"{purl!r} is not a package URL")
            if purl not in ids:
                ids.append(purl)
    if not ids:
        raise _fail(source, where, "has neither @id nor identifiers.purl, so it names nothing")
    return tuple(ids)


def _one_of(value: object, allowed: tuple[Choice, ...], source: str, where: str) -> Choice:
    found = choice(value, allowed)
    if found is None:
        raise _fail(source, where, f"{value!r} is not one of {', '.join(allowed)}")
    return found


def _products(stmt: Mapping[str, Any], source: str, where: str) -> tuple[VexProduct, ...]:
    raw = stmt.get("products")
    if not isinstance(raw, list) or not raw:
        raise _fail(source, f"{where}.products", "must be a non-empty list")
    # Draft documents put subcomponents on the statement, for every product.
    statement_subs = stmt.get("subcomponents")
    if statement_subs is not None and not isinstance(statement_subs, list):
        raise _fail(source, f"{where}.subcomponents", "must be a list")
    shared = tuple(
        i
        for j, sub in enumerate(statement_subs or [])
        for i in _component_ids(sub, source, f"{where}.subcomponents[{j}]")
    )
    products = []
    for j, item in enumerate(raw):
        here = f"{where}.products[{j}]"
        ids = _component_ids(item, source, here)
        subs = list(shared)
        if isinstance(item, dict) and item.get("subcomponents") is not None:
            if not isinstance(item["subcomponents"], list):
                raise _fail(source, f"{here}.subcomponents", "must be a list")
            for k, sub in enumerate(item["subcomponents"]):
                subs.extend(_component_ids(sub, source, f"{here}.subcomponents[{k}]"))
        products.append(VexProduct(ids=ids, subcomponents=tuple(subs)))
    return tuple(products)


def _statement(index: int, stmt: Any, source: str) -> VexStatement:
    where = f"statements[{index}]"
    if not isinstance(stmt, dict):
        raise _fail(source, where, "must be an object")
    vuln = stmt.get("vulnerability")
    aliases: tuple[str, ...] = ()
    if isinstance(vuln, dict):
        name = vuln.get("name")
        aliases = _strings(vuln.get("aliases"), source, f"{where}.vulnerability.aliases")
    else:
        name = vuln
    if not isinstance(name, str) or not name.strip():
        raise _fail(source, f"{where}.vulnerability", "needs a name (the vulnerability id)")
    status = _one_of(stmt.get("status"), STATUSES, source, f"{where}.status")
    written = stmt.get("justification")
    justification = (
        None if written is None else _one_of(written, JUSTIFICATIONS, source, f"{where}.justification")
    )
    texts = {}
    for key in ("impact_statement", "status_notes", "action_statement"):
        value = stmt.get(key)
        if value is not None and not isinstance(value, str):
            raise _fail(source, f"{where}.{key}", "must be a string")
        texts[key] = value or None
    if status == "not_affected" and not (justification or texts["impact_statement"]):
        raise _fail(source, where, "status not_affected needs a justification or an impact_statement")
    return VexStatement(
        index=index,
        vulnerability=name.strip(),
        aliases=aliases,
        products=_products(stmt, source, where),
        status=status,
        justification=justification,
        impact_statement=texts["impact_statement"],
        status_notes=texts["status_notes"],
        timestamp=_timestamp(stmt.get("timestamp"), source, f"{where}.timestamp"),
    )


def parse_vex(data: Any, source: str) -> VexDocument:
    """Check decoded JSON `data` as an OpenVEX document; `source` names it in errors."""
    if not isinstance(data, dict):
        raise _fail(source, "", "not an OpenVEX document (expected a JSON object)")
    context = data.get("@context")
    if not isinstance(context, str) or not context.startswith("https://openvex.dev/ns"):
        raise _fail(source, "", f"not an OpenVEX document (@context is {context!r})")
    statements = data.get("statements")
    if not isinstance(statements, list):
        raise _fail(source, "statements", "must be a list")
    ident, author = data.get("@id"), data.get("author")
    return VexDocument(
        source=source,
        id=ident if isinstance(ident, str) else "",
        author=author if isinstance(author, str) else "",
        timestamp=_timestamp(data.get("timestamp"), source, "timestamp"),
        statements=tuple(_statement(i, s, source) for i, s in enumerate(statements)),
    )


# --- matching ------------------------------------------------------------------------------------


def _is_package_purl(ident: str) -> bool:
    return ident.startswith("pkg:") and not ident.startswith("pkg:oci/")


def _docker(text: str) -> DockerReference | None:
    try:
        return parse_docker_reference(text)
    except InvalidReferenceError:
        return None


def image_names(target: ImageTarget) -> tuple[DockerReference, ...]:
    """The registry names the image goes by: its reference when it is pulled from a registry or the
    Docker daemon, else the tags recorded in the archive.
    """
    try:
        ref = parse_image_ref(target.reference)
    except InvalidReferenceError:
        ref = None
    if ref is not None and ref.docker is not None:
        return (ref.docker,)
    names = [d for d in (_docker(t) for t in target.repo_tags) if d is not None]
    if ref is not None and ref.transport == "docker-archive" and ref.name:
        named = _docker(ref.name)
        if named is not None and named not in names:
            names.append(named)
    return tuple(names)


def _digests(target: ImageTarget) -> set[str]:
    found = {target.digest.lower(), target.image_id.lower()}
    found.update(d.rpartition("@")[2].lower() for d in target.repo_digests if "@" in d)
    return {d for d in found if d}


def _repositories(target: ImageTarget) -> set[str]:
    repos = {f"{n.registry}/{n.repository}" for n in image_names(target)}
    for digest_ref in target.repo_digests:
        parsed = _docker(digest_ref)
        if parsed is not None:
            repos.add(f"{parsed.registry}/{parsed.repository}")
    return repos


def image_matches(ident: str, target: ImageTarget | None) -> bool:
    """True when VEX product `ident` (a `pkg:oci` purl or an image reference) is the scanned image."""
    if target is None:
        return False
    purl = parse_purl(ident)
    if purl is not None:
        if purl.type != "oci":
            return False
        repository_url = purl.qualifiers.get("repository_url")
        if repository_url:
            parsed = _docker(repository_url.rstrip("/"))
            repo = f"{parsed.registry}/{parsed.repository}" if parsed else repository_url
            if repo not in _repositories(target):
                return False
        elif not purl.version and not any(r.rsplit("/", 1)[-1] == purl.name for r in _repositories(target)):
            return False
        tag = purl.qualifiers.get("tag")
        if tag and tag not in {n.tag for n in image_names(target)}:
            return False
        return purl.version is None or purl.version.lower() in _digests(target)
    if ident in {target.reference, *target.repo_tags, *target.repo_digests}:
        return True
    parsed = _docker(ident)
    if parsed is None:
        return False
    if parsed.digest:
        repo = f"{parsed.registry}/{parsed.repository}"
        return parsed.digest.lower() in _digests(target) and repo in _repositories(target)
    return parsed in image_names(target)


def _covers(product: VexProduct, vuln: Vulnerability, target: ImageTarget | None) -> bool:
    purl = vuln.package.purl
    if product.subcomponents:
        image_ids = [i for i in product.ids if not _is_package_purl(i)]
        if image_ids and not any(image_matches(i, target) for i in image_ids):
            return False
        return any(same_package(s, purl) for s in product.subcomponents)
    return any(
        same_package(i, purl) if _is_package_purl(i) else image_matches(i, target) for i in product.ids
    )


def statement_for(
    documents: Sequence[VexDocument], vuln: Vulnerability, target: ImageTarget | None
) -> tuple[VexDocument, VexStatement] | None:
    """The statement that decides `vuln`'s status: the latest one that covers it, or None."""
    names = {vuln.id.upper(), *(a.upper() for a in vuln.aliases)}
    best: tuple[tuple[datetime, int, int], VexDocument, VexStatement] | None = None
    for d, doc in enumerate(documents):
        for stmt in doc.statements:
            if names.isdisjoint(stmt.names) or not any(_covers(p, vuln, target) for p in stmt.products):
                continue
            key = (stmt.timestamp or doc.timestamp or _EARLIEST, d, stmt.index)
            if best is None or key >= best[0]:
                best = (key, doc, stmt)
    return None if best is None else (best[1], best[2])


# --- writing -------------------------------------------------------------------------------------


def image_product(target: ImageTarget) -> dict[str, Any]:
    """The OpenVEX product naming the image: `pkg:oci/NAME@DIGEST?repository_url=…` when a manifest
    digest is known, `pkg:oci/NAME?repository_url=…&tag=…` for a named image without one (a `docker
    save` archive), else the image reference itself.
    """
    ident = ""
    for digest_ref in sorted(target.repo_digests):
        parsed = _docker(digest_ref)
        if parsed is not None and parsed.digest:
            ident = _oci_purl(parsed, parsed.digest)
            break
    names = image_names(target)
    manifest_digest = target.digest if target.digest != target.image_id else ""
    if not ident and names:
        ident = _oci_purl(names[0], manifest_digest if target.transport == "docker" else "")
    product: dict[str, Any] = {"@id": ident or target.reference}
    if ident:
        product["identifiers"] = {"purl": ident}
    algorithm, _, value = manifest_digest.partition(":")
    if algorithm == "sha256" and value:
        product["hashes"] = {"sha-256": value}
    return product


def _oci_purl(name: DockerReference, digest: str) -> str:
    repository = f"{name.registry}/{name.repository}"
    return oci_purl(name.repository.rsplit("/", 1)[-1], repository, digest=digest, tag=name.tag or "")


def _notes(expires: str | None, source: str) -> str:
    until = f" until {expires}" if expires else ""
    return f"Accepted{until} by the ci-security policy ({source})."


def _not_loaded(decision: Decision, result: ScanResult) -> list[dict[str, Any]]:
    """After a dynamic scan: one statement per open vulnerability whose packages were never loaded."""
    run = result.sandbox
    if run is None:
        return []
    os_info = result.target.os if result.target else None
    groups: dict[tuple[str, tuple[str, ...]], set[str]] = {}
    for vuln in result.vulnerabilities:
        if vuln.package.in_use is not False or decision.suppression_of(vuln.fingerprint) is not None:
            continue
        aliases = tuple(sorted(set(vuln.aliases) - {vuln.id}))
        groups.setdefault((vuln.id, aliases), set()).add(
            vuln.package.purl or build_purl(vuln.package, os_info)
        )
    notes = (
        f"The evidence of one bounded run, not proof: ci-security ran the image's entrypoint in a sandbox "
        f"for {run.elapsed:g} s (of at most {run.duration_limit:g} s) and no file of this package was "
        "opened, mapped or executed. Code loaded later, or only for some requests or configurations, "
        "was not seen."
    )
    statements = []
    for (vuln_id, aliases), purls in sorted(groups.items()):
        vulnerability: dict[str, Any] = {"name": vuln_id}
        if aliases:
            vulnerability["aliases"] = list(aliases)
        subcomponents = [{"@id": p, "identifiers": {"purl": p}} for p in sorted(purls)]
        products = (
            [{**image_product(result.target), "subcomponents": subcomponents}]
            if result.target is not None
            else subcomponents
        )
        statements.append(
            {
                "vulnerability": vulnerability,
                "products": products,
                "status": "not_affected",
                "justification": "vulnerable_code_not_in_execute_path",
                "status_notes": notes,
            }
        )
    return statements


def openvex_document(decision: Decision, result: ScanResult, *, now: str) -> dict[str, Any]:
    """The policy's ignore entries that suppressed vulnerabilities in `result` (and, after a dynamic
    scan, the vulnerabilities of packages never loaded), as an OpenVEX document issued at `now` (an
    RFC 3339 timestamp). With nothing to state `statements` is empty, which the OpenVEX schema
    (minItems 1) rejects.
    """
    by_fingerprint = {v.fingerprint: v for v in result.vulnerabilities if v.fingerprint}
    os_info = result.target.os if result.target else None
    groups: dict[tuple[str, tuple[str, ...], str, str, str, str], set[str]] = {}
    for sup in decision.suppressed:
        vuln = by_fingerprint.get(sup.fingerprint)
        if sup.kind != "ignore" or vuln is None:
            continue
        purl = vuln.package.purl or build_purl(vuln.package, os_info)
        aliases = tuple(sorted(set(vuln.aliases) - {vuln.id}))
        key = (vuln.id, aliases, sup.reason, sup.justification or "", sup.expires or "", sup.source)
        groups.setdefault(key, set()).add(purl)
    statements = []
    for (vuln_id, aliases, reason, justification, expires, source), purls in sorted(groups.items()):
        vulnerability: dict[str, Any] = {"name": vuln_id}
        if aliases:
            vulnerability["aliases"] = list(aliases)
        subcomponents = [{"@id": p, "identifiers": {"purl": p}} for p in sorted(purls)]
        if result.target is not None:
            products = [{**image_product(result.target), "subcomponents": subcomponents}]
        else:
            products = subcomponents
        statement: dict[str, Any] = {
            "vulnerability": vulnerability,
            "products": products,
            "status": "not_affected",
        }
        if justification:
            statement["justification"] = justification
            stop = "" if reason.endswith((".", "!", "?")) else "."
            statement["status_notes"] = f"{reason}{stop} {_notes(expires, source)}"
        else:
            statement["impact_statement"] = reason
            statement["status_notes"] = _notes(expires, source)
        statements.append(statement)
    statements.extend(_not_loaded(decision, result))
    body = {"author": AUTHOR, "timestamp": now, "version": 1, "statements": statements}
    digest = hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()
    return {"@context": CONTEXT, "@id": f"urn:ci-security:openvex:{digest}", **body}

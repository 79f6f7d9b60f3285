"""Signatures attached to a database artifact, checked when `db pull` downloads it.

What is looked for, on the manifest being pulled (only when it is downloaded: an unchanged database
costs no request for this):

- OCI referrers (the referrers API, or its tag fallback `sha256-<hex>`):
  - Sigstore bundles (`application/vnd.dev.sigstore.bundle.v0.3+json`), which `cosign sign
    --new-bundle-format` (the default from cosign 3) attaches: a DSSE envelope holding an in-toto
    statement of type `https://sigstore.dev/cosign/sign/v1` whose subject is the manifest's digest;
  - Notary Project signatures (`application/vnd.cncf.notary.signature`, from `notation sign`);
- a legacy cosign signature, the tag `sha256-<hex>.sig`.

A Sigstore bundle is verified with the `sigstore` Python library when it is installed (it is not a
dependency of ci-security: install it beside it) against the signer the pipeline names
(`--db-signer-identity`, the certificate's identity, e.g. the builder workflow's URL, and
`--db-signer-issuer`, the OIDC issuer, e.g. `https://token.actions.githubusercontent.com`): the
bundle's certificate chain and transparency-log entry against Sigstore's public-good trust root
(which the library refreshes through TUF), the signer's identity, and the statement's subject. A
bundle that does not verify fails the pull (exit 2; the live database stays).

What cannot be verified is said, never passed over: a warning names each signature that was found
and not verified, and why (the library is missing, no signer was named, a notation or legacy cosign
signature, which `notation verify` or `cosign verify` checks). A signer named when no Sigstore
signature is attached fails the pull: asking for a signature means requiring one.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ci_security import limits
from ci_security.image.digest import check_digest, is_digest
from ci_security.structured import load_json
from ci_security.vulndb.store import VulnDbError

if TYPE_CHECKING:
    from ci_security.image.distribution import RegistryClient

SIGSTORE_BUNDLE_TYPES = (
    "application/vnd.dev.sigstore.bundle.v0.3+json",
    "application/vnd.dev.sigstore.bundle+json;version=0.3",
)
NOTATION_TYPE = "application/vnd.cncf.notary.signature"
IN_TOTO_PAYLOAD = "application/vnd.in-toto+json"
SIGN_PREDICATE = "https://sigstore.dev/cosign/sign/v1"
_OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
_SHOWN = 300  # characters of a library's message kept in ours


@dataclass(frozen=True, slots=True)
class Signer:
    """Who must have signed: the certificate's identity (SAN) and the OIDC issuer."""

    identity: str
    issuer: str


@dataclass(frozen=True, slots=True)
class _Found:
    kind: str  # "sigstore", "notation", "cosign"
    digest: str  # the signature's manifest


def _discover(client: RegistryClient, digest: str) -> list[_Found]:
    found: list[_Found] = []
    for item in client.referrers(digest):
        kind = item.get("artifactType")
        ref = item.get("digest")
        if not is_digest(ref):
            continue
        assert isinstance(ref, str)
        if kind in SIGSTORE_BUNDLE_TYPES:
            found.append(_Found("sigstore", ref))
        elif kind == NOTATION_TYPE:
            found.append(_Found("notation", ref))
    legacy = f"{digest.replace(':', '-')}.sig"
    head = client.manifest_head(legacy, _OCI_MANIFEST)
    if head is not None:
        found.append(_Found("cosign", head[0]))
    return found


def check(client: RegistryClient, digest: str, signer: Signer | None, label: str) -> list[str]:
    """Check the signatures attached to manifest `digest`; the warnings to show. Raises when a
    named signer's signature is missing or does not verify.
    """
    found = _discover(client, digest)
    warnings = [
        f"{label}: a {'Notary Project' if f.kind == 'notation' else 'legacy cosign'} signature is attached "
        f"({f.digest}) but was not verified: ci-security verifies Sigstore bundles (cosign sign "
        f"--new-bundle-format); check it with `{'notation' if f.kind == 'notation' else 'cosign'} verify`"
        for f in found
        if f.kind != "sigstore"
    ]
    bundles = [f for f in found if f.kind == "sigstore"]
    if not bundles:
        if signer is not None:
            raise VulnDbError(
                f"{label}: no Sigstore signature is attached to {digest}, and --db-signer-identity asks for "
                "one (sign the database with `cosign sign --new-bundle-format`)"
            )
        return warnings
    if importlib.util.find_spec("sigstore") is None:
        return [
            *warnings,
            f"{label}: a Sigstore signature is attached but was not verified: the `sigstore` Python "
            "package is not installed (pip install sigstore)",
        ]
    if signer is None:
        return [
            *warnings,
            f"{label}: a Sigstore signature is attached but was not verified: no signer named "
            "(--db-signer-identity and --db-signer-issuer)",
        ]
    reasons: list[str] = []
    for bundle in bundles:
        try:
            _verify(client, bundle.digest, digest, signer, label)
        except VulnDbError as exc:
            reasons.append(str(exc))
        else:
            return warnings
    raise VulnDbError(reasons[0] if len(reasons) == 1 else f"{reasons[0]} (and {len(reasons) - 1} more)")


def _bundle_bytes(client: RegistryClient, signature: str, label: str) -> bytes:
    body, _, got = client.manifest(signature, _OCI_MANIFEST)
    if got != signature:
        raise VulnDbError(f"{label}: signature manifest {signature} does not match its digest")
    doc = load_json(
        body, f"{label}: signature {signature}", size_limit="image_metadata_bytes", error=VulnDbError
    )
    layers = doc.get("layers") if isinstance(doc, dict) else None
    for layer in layers if isinstance(layers, list) else ():
        if isinstance(layer, dict) and layer.get("mediaType") in SIGSTORE_BUNDLE_TYPES:
            blob = check_digest(
                layer.get("digest"), f"{label}: signature {signature} layer", error=VulnDbError
            )
            size = layer.get("size")
            cap = limits.active().image_metadata_bytes
            if not isinstance(size, int) or isinstance(size, bool) or not 0 <= size <= cap:
                raise VulnDbError(f"{label}: signature {signature}: the bundle's size is unusable")
            data = client.blob_bytes(blob, size)
            if f"sha256:{hashlib.sha256(data).hexdigest()}" != blob:
                raise VulnDbError(f"{label}: signature {signature}: the bundle does not match its digest")
            return data
    raise VulnDbError(f"{label}: signature {signature} holds no Sigstore bundle")


def _verify(client: RegistryClient, signature: str, digest: str, signer: Signer, label: str) -> None:
    from sigstore.errors import Error as SigstoreError
    from sigstore.models import Bundle
    from sigstore.verify import Verifier
    from sigstore.verify.policy import Identity

    data = _bundle_bytes(client, signature, label)
    where = f"{label}: Sigstore signature {signature}"
    try:
        bundle = Bundle.from_json(data)
        verifier = Verifier.production()
        payload_type, payload = verifier.verify_dsse(
            bundle, Identity(identity=signer.identity, issuer=signer.issuer)
        )
    except (SigstoreError, ValueError) as exc:
        text = " ".join(str(exc).split())[:_SHOWN]
        raise VulnDbError(
            f"{where} does not verify for {signer.identity} ({signer.issuer}): {text}"
        ) from None
    if payload_type != IN_TOTO_PAYLOAD:
        raise VulnDbError(
            f"{where}: the signed payload is {str(payload_type)[:80]!r}, not an in-toto statement"
        )
    statement = _statement(payload, where)
    if statement.get("predicateType") != SIGN_PREDICATE:
        shown = str(statement.get("predicateType"))[:100]
        raise VulnDbError(f"{where}: the statement is a {shown!r}, not a signature ({SIGN_PREDICATE})")
    hexdigest = digest.partition(":")[2]
    subjects = statement.get("subject")
    for subject in subjects if isinstance(subjects, list) else ():
        digests = subject.get("digest") if isinstance(subject, dict) else None
        if isinstance(digests, dict) and digests.get("sha256") == hexdigest:
            return
    raise VulnDbError(f"{where}: the statement signs another artifact, not {digest}")


def _statement(payload: Any, where: str) -> dict[str, Any]:
    try:
        doc = json.loads(payload)
    except (TypeError, ValueError):
        raise VulnDbError(f"{where}: the signed statement is not JSON") from None
    if not isinstance(doc, dict) or not str(doc.get("_type", "")).startswith("https://in-toto.io/Statement/"):
        raise VulnDbError(f"{where}: the signed payload is not an in-toto statement")
    return doc

"""Signatures attached to a database artifact (`dbartifact.signature`), on the real docker-registry.

docker-registry 2.8 has no referrers API, so the signatures are attached the way the distribution
spec's fallback says and cosign does on such registries: the signature's manifest (with `subject`)
pushed by digest, and an index listing it under the tag `sha256-<hex>`; a legacy cosign signature
under `sha256-<hex>.sig`.

The `sigstore` library is not a dependency and not installed here; where its verification is
exercised, a stand-in module with the same API surface (`sigstore.models.Bundle.from_json`,
`sigstore.verify.Verifier.production().verify_dsse`, `sigstore.verify.policy.Identity`,
`sigstore.errors.Error`, as sigstore-python 3/4 has them) checks the identity it is given and
returns the envelope's payload, so what is tested is ci-security's side: which signatures are found,
what is required of the signed statement, and what fails the pull.
"""

from __future__ import annotations

import base64
import hashlib
import importlib.machinery
import json
import shutil
import sys
import types
from pathlib import Path

import pytest
from click.testing import CliRunner
from testkit.registries import docker_registry

from ci_security.cli import main
from ci_security.dbartifact import signature
from ci_security.dbartifact.artifact import OCI_MANIFEST, RegistryAccess, pull, push
from ci_security.dbartifact.signature import Signer
from ci_security.image.distribution import RegistryClient
from ci_security.image.reference import parse_docker_reference
from ci_security.vulndb.dbimport import import_paths
from ci_security.vulndb.store import SCHEMA_VERSION, VulnDbError

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
BUNDLE_TYPE = "application/vnd.dev.sigstore.bundle.v0.3+json"
EMPTY = b"{}"
IDENTITY = "https://github.com/example/security/.github/workflows/db.yml@refs/heads/main"
ISSUER = "https://token.actions.githubusercontent.com"

pytestmark = pytest.mark.skipif(shutil.which("docker-registry") is None, reason="needs docker-registry")


def _digest(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


@pytest.fixture
def published(tmp_path):
    """A registry holding a database; (reference, manifest digest, a client to attach things with)."""
    source = tmp_path / "builder" / "osv.sqlite"
    import_paths(source, sorted((FIXTURES / "osv" / "distro").glob("DEBIAN-*.json")))
    with docker_registry(tmp_path / "registry") as reg:
        reference = f"{reg.host}/org/ci-security-db"
        (pushed,) = push(source, [reference], RegistryAccess())
        ref = parse_docker_reference(f"{reference}:{SCHEMA_VERSION}")
        client = RegistryClient(ref, label="test", credentials=None)
        try:
            yield reference, pushed.digest, client, tmp_path
        finally:
            client.close()


def _blob(client: RegistryClient, data: bytes, workdir: Path) -> dict:
    path = workdir / _digest(data).replace(":", "-")
    path.write_bytes(data)
    client.upload_blob(path, _digest(data), len(data))
    return {"digest": _digest(data), "size": len(data)}


def _attach(client: RegistryClient, subject: str, artifact_type: str, layer: bytes, workdir: Path) -> None:
    """Attach an artifact to `subject` through the referrers tag schema (an index at sha256-<hex>)."""
    manifest = json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST,
            "artifactType": artifact_type,
            "config": {"mediaType": "application/vnd.oci.empty.v1+json", **_blob(client, EMPTY, workdir)},
            "layers": [{"mediaType": artifact_type, **_blob(client, layer, workdir)}],
            "subject": {"mediaType": OCI_MANIFEST, "digest": subject, "size": 1},
        }
    ).encode()
    client.put_manifest(_digest(manifest), manifest, OCI_MANIFEST)
    index = json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.index.v1+json",
            "manifests": [
                {
                    "mediaType": OCI_MANIFEST,
                    "digest": _digest(manifest),
                    "size": len(manifest),
                    "artifactType": artifact_type,
                }
            ],
        }
    ).encode()
    client.put_manifest(subject.replace(":", "-"), index, "application/vnd.oci.image.index.v1+json")


def _statement(subject_hex: str, predicate: str = signature.SIGN_PREDICATE) -> str:
    return json.dumps(
        {
            "_type": "https://in-toto.io/Statement/v1",
            "subject": [{"name": "ci-security-db", "digest": {"sha256": subject_hex}}],
            "predicateType": predicate,
            "predicate": {},
        }
    )


def _bundle(statement: str, identity: str = IDENTITY) -> bytes:
    """A bundle as the stand-in library reads it: the signer and the DSSE envelope's payload."""
    return json.dumps(
        {
            "mediaType": BUNDLE_TYPE,
            "standInSigner": identity,
            "dsseEnvelope": {
                "payloadType": "application/vnd.in-toto+json",
                "payload": base64.b64encode(statement.encode()).decode(),
            },
        }
    ).encode()


@pytest.fixture
def stand_in_sigstore(monkeypatch):
    """The `sigstore` package's API surface, verifying nothing but the identity."""

    class Error(Exception):
        pass

    class Bundle:
        def __init__(self, doc: dict) -> None:
            self.doc = doc

        @classmethod
        def from_json(cls, raw: bytes) -> Bundle:
            try:
                return cls(json.loads(raw))
            except ValueError as exc:
                raise Error(f"failed to load bundle: {exc}") from None

    class Identity:
        def __init__(self, *, identity: str, issuer: str | None = None) -> None:
            self.identity, self.issuer = identity, issuer

    class Verifier:
        @classmethod
        def production(cls, *, offline: bool = False) -> Verifier:
            return cls()

        def verify_dsse(self, bundle: Bundle, policy: Identity) -> tuple[str, bytes]:
            if bundle.doc.get("standInSigner") != policy.identity or policy.issuer != ISSUER:
                raise Error(f"Certificate's SANs do not match {policy.identity}")
            envelope = bundle.doc["dsseEnvelope"]
            return envelope["payloadType"], base64.b64decode(envelope["payload"])

    modules = {}
    for name, attributes in {
        "sigstore": {},
        "sigstore.errors": {"Error": Error},
        "sigstore.models": {"Bundle": Bundle},
        "sigstore.verify": {"Verifier": Verifier},
        "sigstore.verify.policy": {"Identity": Identity},
    }.items():
        module = types.ModuleType(name)
        module.__spec__ = importlib.machinery.ModuleSpec(name, None)
        module.__dict__.update(attributes)
        modules[name] = module
    for name, module in modules.items():
        monkeypatch.setitem(sys.modules, name, module)
    return modules


def _pull(reference: str, tmp_path: Path, signer: Signer | None = None):
    return pull(reference, tmp_path / "ci" / "osv.sqlite", RegistryAccess(), signer=signer)


def test_an_unsigned_database_pulls_without_a_word(published):
    reference, _, _, tmp_path = published
    assert _pull(reference, tmp_path).warnings == ()


def test_a_named_signer_requires_a_signature(published):
    reference, digest, _, tmp_path = published
    result = CliRunner().invoke(
        main,
        ["db", "pull", reference, "--db", str(tmp_path / "ci" / "osv.sqlite"),
         "--db-signer-identity", IDENTITY, "--db-signer-issuer", ISSUER],
    )  # fmt: skip
    assert result.exit_code == 2
    assert f"no Sigstore signature is attached to {digest}" in result.output
    assert not (tmp_path / "ci" / "osv.sqlite").exists()
    result = CliRunner().invoke(main, ["db", "pull", reference, "--db-signer-identity", IDENTITY])
    assert result.exit_code == 2 and "go together" in result.output


def test_a_signature_the_library_is_missing_for_is_named_in_a_warning(published, monkeypatch):
    reference, digest, client, tmp_path = published
    _attach(client, digest, BUNDLE_TYPE, _bundle(_statement(digest[7:])), tmp_path)
    real = signature.importlib.util.find_spec
    monkeypatch.setattr(
        signature.importlib.util, "find_spec", lambda name: None if name == "sigstore" else real(name)
    )
    (warning,) = _pull(reference, tmp_path, Signer(IDENTITY, ISSUER)).warnings
    assert "a Sigstore signature is attached but was not verified: the `sigstore` Python package" in warning
    assert "is not installed (pip install sigstore)" in warning


def test_a_sigstore_signature_is_verified(published, stand_in_sigstore):
    reference, digest, client, tmp_path = published
    _attach(client, digest, BUNDLE_TYPE, _bundle(_statement(digest[7:])), tmp_path)
    pulled = _pull(reference, tmp_path, Signer(IDENTITY, ISSUER))
    assert (pulled.status, pulled.warnings) == ("pulled", ())
    # Without a signer named, nothing is verified, and that is said.
    (tmp_path / "ci" / "osv.sqlite").unlink()
    (warning,) = _pull(reference, tmp_path).warnings
    assert "not verified: no signer named (--db-signer-identity and --db-signer-issuer)" in warning


@pytest.mark.parametrize(
    ("signer", "statement", "message"),
    [
        (
            Signer("https://github.com/someone/else", ISSUER),
            None,
            "does not verify for https://github.com/someone/else",
        ),
        (Signer(IDENTITY, ISSUER), _statement("0" * 64), "the statement signs another artifact"),
        (Signer(IDENTITY, ISSUER), "predicate", r"not a signature \(https://sigstore.dev/cosign/sign/v1\)"),
    ],
)
def test_a_signature_that_does_not_hold_fails_the_pull(
    published, stand_in_sigstore, signer, statement, message
):
    reference, digest, client, tmp_path = published
    if statement == "predicate":
        statement = _statement(digest[7:], "https://slsa.dev/provenance/v1")
    _attach(client, digest, BUNDLE_TYPE, _bundle(statement or _statement(digest[7:])), tmp_path)
    with pytest.raises(VulnDbError, match=message):
        _pull(reference, tmp_path, signer)
    assert not (tmp_path / "ci" / "osv.sqlite").exists()


def test_notation_and_legacy_cosign_signatures_are_named_as_not_verified(published):
    reference, digest, client, tmp_path = published
    _attach(client, digest, signature.NOTATION_TYPE, b"jws", tmp_path)
    legacy = json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST,
            "config": {
                "mediaType": "application/vnd.oci.image.config.v1+json",
                **_blob(client, b'{"a":1}', tmp_path),
            },
            "layers": [
                {
                    "mediaType": "application/vnd.dev.cosign.simplesigning.v1+json",
                    **_blob(client, b"sig", tmp_path),
                }
            ],
        }
    ).encode()
    client.put_manifest(f"{digest.replace(':', '-')}.sig", legacy, OCI_MANIFEST)
    warnings = _pull(reference, tmp_path).warnings
    assert len(warnings) == 2
    assert "a Notary Project signature is attached" in warnings[0] and "`notation verify`" in warnings[0]
    assert "a legacy cosign signature is attached" in warnings[1] and "`cosign verify`" in warnings[1]

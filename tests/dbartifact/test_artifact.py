"""The database as an OCI artifact, against the real docker-registry on 127.0.0.1, behind htpasswd
basic auth and behind bearer tokens (docker-registry's `auth: token`, with `DockerTokenServer`
issuing the JWTs it verifies): push then pull round-trips byte for byte; a second pull of the same
digest downloads nothing (a recording proxy in front of the registry counts the requests); a
corrupted blob, a truncated download, a wrong schema and an integrity failure each leave the live
database untouched and exit 2 naming the cause; and the manifest validates against the OCI image
manifest schema written here from the specification's field definitions (tests/fixtures/oci).
"""

from __future__ import annotations

import hashlib
import json
import shutil
import sqlite3
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import jsonschema
import pytest
import zstandard
from click.testing import CliRunner
from testkit.registries import RecordingProxy, docker_registry, token_registry

from ci_security.cli import main
from ci_security.dbartifact import artifact
from ci_security.dbartifact.artifact import OCI_MANIFEST, RegistryAccess, pack, pull, push
from ci_security.errors import RegistryError
from ci_security.image.distribution import RegistryClient
from ci_security.image.reference import parse_docker_reference
from ci_security.vulndb.dbimport import import_paths
from ci_security.vulndb.store import SCHEMA_VERSION, VulnDB, VulnDbError

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
RECORDS = sorted((FIXTURES / "osv" / "distro").glob("*.json"))
SCHEMA = json.loads((FIXTURES / "oci" / "image-manifest.schema.json").read_text())
BUILDER = ("builder", "b-secret-1")
READER = ("reader", "r-secret-2")

pytestmark = pytest.mark.skipif(shutil.which("docker-registry") is None, reason="needs docker-registry")


@dataclass
class Registry:
    """A registry reached through a recording proxy, and the credentials of its two users."""

    host: str
    proxy: RecordingProxy
    storage: Path
    builder: RegistryAccess
    reader: RegistryAccess
    auth: str

    def repository(self, name: str = "org/ci-security-db") -> str:
        return f"{self.host}/{name}"

    def downloads(self) -> list[str]:
        return [f"{seen.method} {seen.path}" for seen in self.proxy.seen if seen.method == "GET"]


@contextmanager
def _registry(kind: str, workdir: Path) -> Iterator[Registry]:
    if kind == "basic":
        # htpasswd knows one user; docker-registry's basic auth has no read-only users.
        with (
            docker_registry(workdir, username=BUILDER[0], password=BUILDER[1]) as reg,
            RecordingProxy(reg.host) as proxy,
        ):
            both = RegistryAccess(*BUILDER)
            yield Registry(proxy.host, proxy, workdir / "data", both, both, kind)
        return
    users = {
        BUILDER[0]: (BUILDER[1], frozenset({"pull", "push"})),
        READER[0]: (READER[1], frozenset({"pull"})),
    }
    with token_registry(workdir, users) as (reg, _), RecordingProxy(reg.host) as proxy:
        yield Registry(
            proxy.host, proxy, workdir / "data", RegistryAccess(*BUILDER), RegistryAccess(*READER), kind
        )


@pytest.fixture(params=["basic", "bearer"])
def registry(request, tmp_path) -> Iterator[Registry]:
    with _registry(request.param, tmp_path / "registry") as reg:
        yield reg


@pytest.fixture
def source(tmp_path) -> Path:
    path = tmp_path / "builder" / "osv.sqlite"
    import_paths(path, RECORDS)
    return path


def _no_sleep(seconds: float) -> None:
    return


def _vacuumed(path: Path) -> bytes:
    with tempfile.TemporaryDirectory() as tmp:
        copy = Path(tmp) / "copy.sqlite"
        with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as conn:
            conn.execute("VACUUM INTO ?", (str(copy),))
        conn.close()
        return copy.read_bytes()


def _raw(reg: Registry, reference: str, path: str) -> bytes:
    """A manifest or blob read with a plain client, as any OCI client (oras) would."""
    ref = parse_docker_reference(reference)
    from ci_security.image.auth import Credentials

    client = RegistryClient(
        ref, label="test", credentials=Credentials(reg.reader.username, reg.reader.password, "test")
    )
    try:
        if path == "manifest":
            return client.manifest(ref.tag or "", OCI_MANIFEST)[0]
        return client.blob_bytes(path)
    finally:
        client.close()


def _cli(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.output


def _untouched(live: Path) -> Iterator[None]:
    before = live.read_bytes()
    state = artifact.state_path(live).read_bytes()
    yield
    assert live.read_bytes() == before
    assert artifact.state_path(live).read_bytes() == state
    assert sorted(p.name for p in live.parent.iterdir()) == sorted(
        [live.name, artifact.state_path(live).name]
    )


untouched = contextmanager(_untouched)


def _pull_args(reg: Registry, live: Path, reference: str) -> list[str]:
    user, password = reg.reader.username, reg.reader.password
    assert user and password
    return ["db", "pull", reference, "--db", str(live),
            "--db-registry-username", user, "--db-registry-password", password]  # fmt: skip


# --- the round trip ---------------------------------------------------------------------------


def test_push_then_pull_round_trips_byte_identical(registry, source, tmp_path):
    live = tmp_path / "ci" / "osv.sqlite"
    reference = registry.repository()
    (pushed,) = push(source, [reference], registry.builder)
    assert pushed.reference.endswith(f"/org/ci-security-db:{SCHEMA_VERSION}")  # no tag: the schema's
    pulled = pull(reference, live, registry.reader)
    assert (pulled.status, pulled.digest) == ("pulled", pushed.digest)

    # Byte for byte: the SQLite file after VACUUM, what is in the registry, and what landed.
    manifest = json.loads(_raw(registry, pushed.reference, "manifest"))
    (layer,) = manifest["layers"]
    stored = zstandard.ZstdDecompressor().decompress(_raw(registry, pushed.reference, layer["digest"]))
    assert live.read_bytes() == stored == _vacuumed(source)
    with VulnDB(live) as got, VulnDB(source) as want:
        assert got.count() == want.count()
        assert got.info().sources == want.info().sources
    assert oct(live.stat().st_mode & 0o777) == "0o644"

    # What an ORAS-style client reads: an OCI manifest by the spec's field definitions.
    jsonschema.validate(manifest, SCHEMA, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER)
    assert manifest["artifactType"] == "application/vnd.ci-security.db.v1"
    assert layer["annotations"] == {"org.opencontainers.image.title": "osv.sqlite.zst"}
    assert layer["mediaType"] == "application/vnd.ci-security.db.layer.v1.sqlite+zstd"
    assert manifest["annotations"]["vnd.ci-security.db.schema"] == str(SCHEMA_VERSION)
    config = json.loads(_raw(registry, pushed.reference, manifest["config"]["digest"]))
    assert config["schemaVersion"] == SCHEMA_VERSION
    assert config["created"] == manifest["annotations"]["org.opencontainers.image.created"]
    assert config["database"] == {
        "mediaType": "application/vnd.sqlite3",
        "digest": "sha256:" + hashlib.sha256(stored).hexdigest(),
        "size": len(stored),
    }
    assert config["counts"]["advisories"] == len(RECORDS)
    assert sorted(s["name"] for s in config["sources"]) == sorted(f"import:{p.resolve()}" for p in RECORDS)
    assert {s["records"] for s in config["sources"]} == {1}


def test_a_second_pull_of_the_same_digest_downloads_nothing(registry, source, tmp_path):
    live = tmp_path / "ci" / "osv.sqlite"
    (pushed,) = push(source, [registry.repository()], registry.builder)
    pull(registry.repository(), live, registry.reader)
    registry.proxy.seen.clear()
    again = pull(registry.repository(), live, registry.reader)
    assert again.status == "current" and again.digest == pushed.digest
    # One HEAD of the tag (after its authentication challenge); no manifest body, no blob.
    assert {(seen.method, seen.path) for seen in registry.proxy.seen} == {
        ("HEAD", f"/v2/org/ci-security-db/manifests/{SCHEMA_VERSION}")
    }
    assert registry.downloads() == []

    # A cache restore changes the file's time, not its content: still nothing downloaded.
    stat = live.stat()
    import os

    os.utime(live, ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))
    registry.proxy.seen.clear()
    assert pull(registry.repository(), live, registry.reader).status == "current"
    assert registry.downloads() == []

    # A new database behind the tag is downloaded.
    import_paths(source, [FIXTURES / "osv" / "distro" / "ALPINE-CVE-2023-5678.json"])  # updated_at moves
    (newer,) = push(source, [registry.repository()], registry.builder)
    assert newer.digest != pushed.digest
    registry.proxy.seen.clear()
    assert pull(registry.repository(), live, registry.reader).status == "pulled"
    assert any("/blobs/sha256:" in line for line in registry.downloads())


def test_pushing_the_same_database_again_sends_no_blob(registry, source):
    (first,) = push(source, [registry.repository()], registry.builder)
    registry.proxy.seen.clear()
    (second,) = push(source, [registry.repository()], registry.builder)
    assert second.digest == first.digest
    assert {how for _, how in second.blobs} == {"exists"}
    assert not any(seen.method in ("PATCH", "POST") for seen in registry.proxy.seen)


def test_a_second_repository_mounts_the_blobs_and_chunked_uploads_work(registry, source, tmp_path):
    first, other = registry.repository(), registry.repository("team/ci-security-db")
    done = push(source, [first, other], registry.builder, chunk_size=4096)
    assert [how for _, how in done[0].blobs] == ["uploaded", "uploaded"]
    assert [how for _, how in done[1].blobs] == ["mounted", "mounted"]
    uploads = [seen for seen in registry.proxy.seen if seen.method == "PATCH"]
    assert uploads and all(seen.path.startswith("/v2/org/ci-security-db/blobs/uploads/") for seen in uploads)
    assert any("mount=" in seen.path and seen.status == 201 for seen in registry.proxy.seen)
    live = tmp_path / "ci" / "osv.sqlite"
    pull(other, live, registry.reader)
    assert live.read_bytes() == _vacuumed(source)


def test_the_cli_pushes_and_pulls(registry, source, tmp_path, monkeypatch):
    monkeypatch.setenv("CI_SECURITY_DB_REGISTRY_USERNAME", registry.builder.username or "")
    monkeypatch.setenv("CI_SECURITY_DB_REGISTRY_PASSWORD", registry.builder.password or "")
    code, out = _cli("db", "push", "--db", str(source), registry.repository())
    assert code == 0, out
    assert "pushed" in out and registry.builder.password not in out
    live = tmp_path / "ci" / "osv.sqlite"
    monkeypatch.setenv("CI_SECURITY_DB_REPOSITORY", registry.repository())
    code, out = _cli("db", "update", "--db", str(live))
    assert code == 0 and ": pulled (built " in out, out
    code, out = _cli("db", "pull", "--db", str(live))
    assert code == 0 and "nothing downloaded" in out, out
    code, out = _cli("db", "update", "--db", str(live), "--ecosystem", "Debian")
    assert code == 2 and "--from pulls a whole database: --ecosystem cannot apply" in out


def test_a_pulled_database_is_not_pushed_back_unchanged(registry, source, tmp_path):
    live = tmp_path / "ci" / "osv.sqlite"
    push(source, [registry.repository()], registry.builder)
    pull(registry.repository(), live, registry.reader)
    with pytest.raises(VulnDbError, match=r"was pulled from .* and has not been updated since"):
        push(live, [registry.repository()], registry.builder)
    # Elsewhere (a mirror), or once updated, it may be pushed.
    push(live, [registry.repository("mirror/ci-security-db")], registry.builder)
    import_paths(live, [FIXTURES / "osv" / "distro" / "ALPINE-CVE-2023-5678.json"])
    push(live, [registry.repository()], registry.builder)


def test_read_only_credentials_cannot_push(tmp_path, source):
    denied = pytest.raises(RegistryError, match=r"may not push to org/ci-security-db \(HTTP 401\)")
    with _registry("bearer", tmp_path / "registry") as reg, denied:
        push(source, [reg.repository()], reg.reader)


# --- failures leave the live database as it was --------------------------------------------------


@pytest.fixture
def live(registry, source, tmp_path) -> Path:
    """A live database pulled from the registry; the tag then moves to a newer database."""
    path = tmp_path / "ci" / "osv.sqlite"
    push(source, [registry.repository()], registry.builder)
    pull(registry.repository(), path, registry.reader)
    import_paths(source, [FIXTURES / "osv" / "distro" / "ALPINE-CVE-2023-5678.json"])
    return path


def _blob_file(reg: Registry, digest: str) -> Path:
    hexdigest = digest.partition(":")[2]
    return (
        reg.storage / "docker" / "registry" / "v2" / "blobs" / "sha256" / hexdigest[:2] / hexdigest / "data"
    )


def test_a_corrupted_blob_is_refused(registry, source, live):
    (pushed,) = push(source, [registry.repository()], registry.builder)
    manifest = json.loads(_raw(registry, pushed.reference, "manifest"))
    stored = _blob_file(registry, manifest["layers"][0]["digest"])
    data = bytearray(stored.read_bytes())
    data[len(data) // 2] ^= 0xFF
    stored.write_bytes(bytes(data))
    with untouched(live):
        code, out = _cli(*_pull_args(registry, live, registry.repository()))
    assert code == 2
    assert f"blob {manifest['layers'][0]['digest']} does not match its digest" in out


def test_a_truncated_download_is_refused(registry, source, live):
    (pushed,) = push(source, [registry.repository()], registry.builder)
    layer = json.loads(_raw(registry, pushed.reference, "manifest"))["layers"][0]["digest"]
    registry.proxy.cut[layer] = 100  # every attempt breaks off halfway
    with (
        untouched(live),
        pytest.raises(RegistryError, match=r"blobs/sha256:[0-9a-f]{64}: transfer broke off"),
    ):
        pull(registry.repository(), live, registry.reader, sleep=_no_sleep)
    attempts = [line for line in registry.downloads() if line.endswith(f"/blobs/{layer}")]
    assert len(attempts) == 5  # started again after each break, then given up


def _push_crafted(
    reg: Registry,
    workdir: Path,
    source: Path,
    *,
    config_schema: int | None = None,
    database: bytes | None = None,
    layer_bytes: bytes | None = None,
) -> str:
    """Push `source` packed, with the config's schema version changed, or another SQLite file as the
    layer (its config describing it truly), or any bytes as the layer (the config unchanged), as a
    builder that went wrong, or a hostile one, would.
    """
    packed = pack(source, workdir)
    config = json.loads(packed.config)
    manifest = json.loads(packed.manifest)
    layer, layer_digest, layer_size = packed.layer, packed.layer_digest, packed.layer_size
    if config_schema is not None:
        config["schemaVersion"] = config_schema
    if database is not None:
        layer_bytes = zstandard.ZstdCompressor(write_checksum=True).compress(database)
        config["database"].update(digest="sha256:" + hashlib.sha256(database).hexdigest(), size=len(database))
    if layer_bytes is not None:
        layer = workdir / "crafted.zst"
        layer.write_bytes(layer_bytes)
        layer_digest = "sha256:" + hashlib.sha256(layer_bytes).hexdigest()
        layer_size = len(layer_bytes)
        manifest["layers"][0].update(digest=layer_digest, size=layer_size)
    config_bytes = json.dumps(config).encode()
    config_digest = "sha256:" + hashlib.sha256(config_bytes).hexdigest()
    manifest["config"].update(digest=config_digest, size=len(config_bytes))
    (workdir / "config").write_bytes(config_bytes)
    ref = parse_docker_reference(reg.repository() + f":{SCHEMA_VERSION}")
    from ci_security.image.auth import Credentials

    user, password = reg.builder.username, reg.builder.password
    client = RegistryClient(ref, label="test", credentials=Credentials(user, password, "test"))
    try:
        client.upload_blob(workdir / "config", config_digest, len(config_bytes))
        client.upload_blob(layer, layer_digest, layer_size)
        return client.put_manifest(str(SCHEMA_VERSION), json.dumps(manifest).encode(), OCI_MANIFEST)
    finally:
        client.close()


def test_a_database_of_another_schema_is_refused_before_its_download(registry, source, live, tmp_path):
    _push_crafted(registry, tmp_path, source, config_schema=SCHEMA_VERSION + 1)
    registry.proxy.seen.clear()
    with untouched(live):
        code, out = _cli(*_pull_args(registry, live, registry.repository()))
    assert code == 2
    newer, ours = SCHEMA_VERSION + 1, SCHEMA_VERSION
    expected = (
        f"the database has schema {newer}, written by a newer ci-security; this one needs schema {ours}"
    )
    assert expected in " ".join(out.split())
    assert len([line for line in registry.downloads() if "/blobs/" in line]) == 1  # the config only


def test_a_database_that_fails_the_integrity_check_is_refused(registry, source, live, tmp_path):
    broken = tmp_path / "broken.sqlite"
    broken.write_bytes(_vacuumed(source))
    with sqlite3.connect(broken) as conn:
        (root,) = conn.execute("SELECT rootpage FROM sqlite_master WHERE name = 'affected_lookup'").fetchone()
        (page_size,) = conn.execute("PRAGMA page_size").fetchone()
    conn.close()
    data = bytearray(broken.read_bytes())
    offset = (root - 1) * page_size
    data[offset + 8 : offset + 40] = b"\xff" * 32  # the index page's cell pointers point nowhere
    _push_crafted(registry, tmp_path, source, database=bytes(data))
    with untouched(live):
        code, out = _cli(*_pull_args(registry, live, registry.repository()))
    assert code == 2
    assert "the downloaded database fails SQLite's integrity check" in out


@pytest.mark.parametrize(
    ("layer", "message"),
    [
        # 64 MiB of zeros in a few KiB: stopped at the size the config states, not inflated further.
        (lambda db: zstandard.ZstdCompressor().compress(b"\0" * (64 << 20)), "decompresses past the"),
        (
            lambda db: zstandard.ZstdCompressor().compress(db) * 2,
            "holds data after its zstd frame|decompresses past",
        ),
        (lambda db: zstandard.ZstdCompressor().compress(db)[:-40], "not a valid zstd stream|decompresses to"),
        (lambda db: b"not zstd at all", "not a valid zstd stream"),
    ],
    ids=["bomb", "trailing-frame", "cut-frame", "not-zstd"],
)
def test_a_hostile_layer_is_refused_with_the_database_untouched(tmp_path, source, layer, message):
    with _registry("basic", tmp_path / "registry") as reg:
        live = tmp_path / "ci" / "osv.sqlite"
        push(source, [reg.repository()], reg.builder)
        pull(reg.repository(), live, reg.reader)
        import_paths(source, [FIXTURES / "osv" / "distro" / "ALPINE-CVE-2023-5678.json"])
        _push_crafted(reg, tmp_path, source, layer_bytes=layer(_vacuumed(source)))
        with untouched(live), pytest.raises(VulnDbError, match=message):
            pull(reg.repository(), live, reg.reader)


def test_a_layer_larger_than_download_bytes_is_not_downloaded(registry, source, live):
    from ci_security import limits

    push(source, [registry.repository()], registry.builder)
    registry.proxy.seen.clear()
    with (
        untouched(live),
        limits.use(limits.with_overrides(limits.DEFAULTS, {"download_bytes": 1024})),
        pytest.raises(limits.LimitExceededError, match=r"manifest layer: exceeds the download-bytes limit"),
    ):
        pull(registry.repository(), live, registry.reader)
    assert not [line for line in registry.downloads() if "/blobs/" in line]


def test_a_missing_tag_and_a_foreign_artifact_are_named(registry, source, live, tmp_path):
    with untouched(live), pytest.raises(VulnDbError, match="has no tag 9"):
        pull(registry.repository() + ":9", live, registry.reader)
    # An ordinary image manifest under the tag: not a database.
    image = json.loads(pack(source, tmp_path).manifest)
    image.pop("artifactType")
    image["config"]["mediaType"] = "application/vnd.oci.image.config.v1+json"
    body = json.dumps(image).encode()
    with pytest.raises(VulnDbError, match="not a ci-security database"):
        artifact.read_manifest(body, OCI_MANIFEST, "x")


# --- the manifest and config readers -------------------------------------------------------------


def test_manifest_reader_refuses_what_it_cannot_use(source, tmp_path):
    good = json.loads(pack(source, tmp_path).manifest)

    def refused(change, match: str) -> None:
        doc = json.loads(json.dumps(good))
        change(doc)
        with pytest.raises(VulnDbError, match=match):
            artifact.read_manifest(json.dumps(doc).encode(), OCI_MANIFEST, "x")

    refused(lambda d: d.update(schemaVersion=1), "not an OCI image manifest")
    refused(lambda d: d["layers"].append(d["layers"][0]), "expected one layer")
    refused(
        lambda d: d["layers"][0].update(mediaType="application/vnd.oci.image.layer.v1.tar"),
        "layer's media type",
    )
    refused(lambda d: d["layers"][0].update(digest="sha256:../../etc"), "invalid digest")
    refused(lambda d: d["layers"][0].update(size=-1), "not a byte count")
    refused(lambda d: d["config"].update(mediaType="application/json"), "config's media type")
    # The fixture schema says the same of broken manifests (it is not a schema that accepts anything).
    broken = json.loads(json.dumps(good))
    broken["layers"][0]["digest"] = "sha256:XYZ"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(broken, SCHEMA)
    no_type = json.loads(json.dumps(good))
    no_type.pop("artifactType")
    no_type["config"]["mediaType"] = "application/vnd.oci.empty.v1+json"
    with pytest.raises(jsonschema.ValidationError, match="'artifactType' is a required property"):
        jsonschema.validate(no_type, SCHEMA)


def test_a_reference_without_a_tag_gets_the_schema_version():
    assert artifact.db_reference("ghcr.io/org/ci-security-db").tag == str(SCHEMA_VERSION)
    assert artifact.db_reference("127.0.0.1:5000/org/db").tag == str(SCHEMA_VERSION)
    assert artifact.db_reference("ghcr.io/org/ci-security-db:nightly").tag == "nightly"
    assert artifact.db_reference("ghcr.io/org/db@sha256:" + "a" * 64).tag is None

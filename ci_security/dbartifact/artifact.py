"""The vulnerability database as an OCI artifact: built once, pulled from any registry.

`ci-security db push REF…` publishes the database; `db pull REF`, `db update --from REF`,
`CI_SECURITY_DB_REPOSITORY` and the CI step with a repository fetch it. Trivy and Grype distribute
their databases the same way; the registry is the one every CI user already has.

The artifact (an OCI image manifest, OCI 1.1 `artifactType`, so `oras pull REF` fetches it too):

- `artifactType` `application/vnd.ci-security.db.v1`; annotations `org.opencontainers.image.created`
  (when the data was built), `org.opencontainers.image.source` (where the builder runs, when known),
  `org.opencontainers.image.description`, and `vnd.ci-security.db.schema` (the database's schema);
- config `application/vnd.ci-security.db.config.v1+json`: the schema version, the build time, the
  generator, every source with its record count and freshness, the table counts, and the SQLite
  file's own digest and size;
- one layer `application/vnd.ci-security.db.layer.v1.sqlite+zstd`: the SQLite file after `VACUUM`,
  as one zstd frame with a content checksum, titled `osv.sqlite.zst` (the name `oras pull` writes).

The same database pushes to the same digests (the manifest's time is the data's build time, and
`VACUUM` and zstd are deterministic), so pushing an unchanged database changes nothing anywhere.

A reference without a tag gets the schema version as its tag (`ghcr.io/org/ci-security-db` is
`ghcr.io/org/ci-security-db:3` for this version), as Trivy's `trivy-db:2` does: a pipeline pulls
the database its ci-security can read, whatever else the repository holds.

Pulling is built to be cheap when nothing changed and to leave the live database alone when
anything is wrong:

1. the tag is resolved with a HEAD request; when its digest is the one the live database came from
   (`<db>.artifact.json` beside it, checked against the file's size and time, or its SHA-256 when
   those changed), nothing else is requested;
2. otherwise the manifest (by digest, verified) and the config (verified) are read; a schema this
   ci-security does not read is refused before any download, naming the schema it needs;
3. signatures attached to the manifest are checked (`signature`);
4. the layer streams through its digest check and the zstd decoder into a temp file beside the
   live one, bounded by `download-bytes`, `database-bytes` and `compression-ratio`; the SQLite file
   must have exactly the size and SHA-256 the config states;
5. the temp file must open as a database of the schema this version reads and pass SQLite's
   `PRAGMA quick_check`; only then is it renamed over the live file.

A corrupted or truncated blob, a wrong schema, a failed check: the live database stays exactly as it
was, the temp file is removed, and the error (exit 2) names the cause.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import sqlite3
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, Literal, cast

from ci_security import __version__, limits
from ci_security.errors import CiSecurityError, UsageError
from ci_security.image.digest import check_digest, is_digest
from ci_security.image.reference import DockerReference, parse_docker_reference
from ci_security.structured import load_json
from ci_security.vulndb.store import PAGE_SIZE, SCHEMA_VERSION, VulnDB, VulnDbError, check_schema

if TYPE_CHECKING:
    from ci_security.dbartifact.signature import Signer
    from ci_security.image.distribution import RegistryClient

ARTIFACT_TYPE = "application/vnd.ci-security.db.v1"
CONFIG_TYPE = "application/vnd.ci-security.db.config.v1+json"
LAYER_TYPE = "application/vnd.ci-security.db.layer.v1.sqlite+zstd"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
LAYER_TITLE = "osv.sqlite.zst"
SCHEMA_ANNOTATION = "vnd.ci-security.db.schema"
# zstd: level 9 takes a 400 MiB database to ~55 % in ~5 s on one core (the advisory records inside
# are deflated already; level 19 saves 7 % more for 50 times the time). The frame carries the
# content size and a checksum; windows stay at zstd's default 8 MiB for this level.
ZSTD_LEVEL = 9
MAX_WINDOW = 1 << 27  # what a decoder accepts: zstd's own default limit (128 MiB)
_CHUNK = 1 << 20
_RATIO_FLOOR = 64 * limits.MiB


@dataclass(frozen=True, slots=True)
class RegistryAccess:
    """How to reach registries: credentials (else the Docker config and its helpers), the Docker
    config to read, and the registries spoken to over plain HTTP.
    """

    username: str | None = None
    password: str | None = field(default=None, repr=False)
    docker_config: Path | None = None
    insecure_registries: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Packed:
    """A database packed for pushing: the files, their digests, the manifest."""

    layer: Path
    layer_digest: str
    layer_size: int
    config: bytes
    config_digest: str
    manifest: bytes
    manifest_digest: str
    database_digest: str
    database_size: int


@dataclass(frozen=True, slots=True)
class Pushed:
    """One reference pushed: its manifest digest, and per blob whether it was uploaded, mounted
    from another repository of the registry, or there already.
    """

    reference: str
    digest: str
    blobs: tuple[tuple[str, str], ...]


@dataclass(frozen=True, slots=True)
class Pulled:
    """The result of a pull: the manifest digest, whether the database was replaced ("pulled") or
    was that one already ("current"), when its data was built, and warnings (signatures not
    verified).
    """

    reference: str
    digest: str
    status: Literal["pulled", "current"]
    built: str
    warnings: tuple[str, ...] = ()


def db_reference(text: str) -> DockerReference:
    """A database repository or reference; without a tag, the schema version is the tag."""
    ref = parse_docker_reference(text.strip())
    last = text.strip().rsplit("/", 1)[-1]
    if ref.digest is None and ":" not in last:
        ref = DockerReference(ref.registry, ref.repository, str(SCHEMA_VERSION))
    return ref


def _client(
    ref: DockerReference, access: RegistryAccess, label: str, sleep: Callable[[float], None] = time.sleep
) -> RegistryClient:
    # requests costs ~90 ms to import; only the registry commands need it.
    from ci_security.image.auth import Credentials, find_credentials
    from ci_security.image.distribution import RegistryClient

    if access.username or access.password:
        if not (access.username and access.password):
            raise UsageError(
                "the database's registry credentials need both CI_SECURITY_DB_REGISTRY_USERNAME and _PASSWORD"
            )
        credentials: Credentials | None = Credentials(
            access.username, access.password, "CI_SECURITY_DB_REGISTRY_USERNAME/PASSWORD"
        )
    else:
        credentials = find_credentials(
            ref.registry, username=None, password=None, config=access.docker_config
        )
    insecure = ref.registry in access.insecure_registries or ref.api_host in access.insecure_registries
    return RegistryClient(ref, label=label, credentials=credentials, insecure=insecure, sleep=sleep)


class _Hashing:
    """A file whose bytes read or written are hashed on the way (SHA-256)."""

    def __init__(self, file: Any) -> None:
        self.file = file
        self.hasher = hashlib.sha256()

    def read(self, size: int = -1) -> bytes:
        data: bytes = self.file.read(size)
        self.hasher.update(data)
        return data

    def write(self, data: bytes) -> int:
        self.hasher.update(data)
        return int(self.file.write(data))


def _canonical(doc: Any) -> bytes:
    return json.dumps(doc, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


# --- packing and pushing ---------------------------------------------------------------------


def _describe(db_path: Path) -> tuple[str, dict[str, Any]]:
    """(when the data was built, the config's description of the database) from the database."""
    with VulnDB(db_path) as db:
        total, withdrawn = db.count()
        sources = [
            {"name": n, "origin": o, "records": r, "lastModified": m, "importedAt": i}
            for n, o, r, m, i in db.source_rows()
        ]
        counts = {
            "advisories": total,
            "withdrawn": withdrawn,
            "cveRatings": db.count_rows("cve_rating"),
            "kev": db.count_rows("kev"),
            "epss": db.count_rows("epss"),
            "repositoryCpes": db.count_rows("repository_cpe"),
        }
        built = db.updated() or ""
    return built, {"sources": sources, "counts": counts}


def pack(db_path: Path, workdir: Path, *, source: str | None = None) -> Packed:
    """Pack the database at `db_path` into `workdir`: VACUUM INTO a copy (8 KiB pages), zstd, the
    config and the manifest.
    """
    import zstandard

    built, described = _describe(db_path)
    copy = workdir / "osv.sqlite"
    try:
        with contextlib.closing(sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)) as conn:
            conn.execute("VACUUM INTO ?", (str(copy),))
        with contextlib.closing(sqlite3.connect(copy, isolation_level=None)) as conn:
            if conn.execute("PRAGMA page_size").fetchone()[0] != PAGE_SIZE:
                # A database built before 8 KiB pages: rewritten once more, for the smaller file.
                conn.execute(f"PRAGMA page_size={PAGE_SIZE}")
                conn.execute("VACUUM")
    except sqlite3.Error as exc:
        raise VulnDbError(f"{db_path}: cannot pack the database ({exc})") from None
    layer = workdir / LAYER_TITLE
    size = copy.stat().st_size
    compressor = zstandard.ZstdCompressor(level=ZSTD_LEVEL, write_checksum=True, write_content_size=True)
    with open(copy, "rb") as src, open(layer, "wb") as dst:
        reading, writing = _Hashing(src), _Hashing(dst)
        # zstandard reads and writes through any object with read/write (typed as IO[bytes]).
        compressor.copy_stream(
            cast("IO[bytes]", reading),
            cast("IO[bytes]", writing),
            size=size,
            read_size=_CHUNK,
            write_size=_CHUNK,
        )
    database, compressed = reading.hasher, writing.hasher
    copy.unlink()
    config = _canonical(
        {
            "schemaVersion": SCHEMA_VERSION,
            "created": built,
            "generator": f"ci-security {__version__}",
            "database": {
                "mediaType": "application/vnd.sqlite3",
                "digest": f"sha256:{database.hexdigest()}",
                "size": size,
            },
            **described,
        }
    )
    config_digest = f"sha256:{hashlib.sha256(config).hexdigest()}"
    layer_digest = f"sha256:{compressed.hexdigest()}"
    annotations = {
        "org.opencontainers.image.created": built,
        "org.opencontainers.image.description": "ci-security vulnerability database (OSV, NVD, KEV, EPSS)",
        SCHEMA_ANNOTATION: str(SCHEMA_VERSION),
    }
    if source:
        annotations["org.opencontainers.image.source"] = source
    manifest = _canonical(
        {
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST,
            "artifactType": ARTIFACT_TYPE,
            "config": {"mediaType": CONFIG_TYPE, "digest": config_digest, "size": len(config)},
            "layers": [
                {
                    "mediaType": LAYER_TYPE,
                    "digest": layer_digest,
                    "size": layer.stat().st_size,
                    "annotations": {"org.opencontainers.image.title": LAYER_TITLE},
                }
            ],
            "annotations": annotations,
        }
    )
    return Packed(
        layer=layer,
        layer_digest=layer_digest,
        layer_size=layer.stat().st_size,
        config=config,
        config_digest=config_digest,
        manifest=manifest,
        manifest_digest=f"sha256:{hashlib.sha256(manifest).hexdigest()}",
        database_digest=f"sha256:{database.hexdigest()}",
        database_size=size,
    )


def push(
    db_path: Path,
    references: Sequence[str],
    access: RegistryAccess,
    *,
    chunk_size: int | None = None,
    source: str | None = None,
) -> list[Pushed]:
    """Pack the database once and push it to every reference, in order. A blob a repository has
    already is not sent again; one pushed to an earlier repository of the same registry is mounted
    from there (cross-repository mount) instead of uploaded.
    """
    refs = [db_reference(text) for text in references]
    for text, ref in zip(references, refs, strict=True):
        if ref.digest is not None:
            raise VulnDbError(f"db push {text}: a digest names what is there already; push to a tag")
    if not db_path.is_file():
        raise VulnDbError(f"no vulnerability database at {db_path}: build it with `ci-security db update`")
    _refuse_a_round_trip(db_path, refs)
    done: list[Pushed] = []
    with tempfile.TemporaryDirectory(prefix=".ci-security-push-", dir=db_path.parent) as tmp:
        packed = pack(db_path, Path(tmp), source=source)
        config_path = Path(tmp) / "config.json"
        config_path.write_bytes(packed.config)
        blobs = (
            (packed.config_digest, len(packed.config), config_path),
            (packed.layer_digest, packed.layer_size, packed.layer),
        )
        for index, ref in enumerate(refs):
            label = f"db push {ref}"
            client = _client(ref, access, label)
            try:
                how: list[tuple[str, str]] = []
                for digest, size, path in blobs:
                    mount_from = next(
                        (p.repository for p in refs[:index] if p.api_host == ref.api_host),
                        None,
                    )
                    if client.blob_exists(digest):
                        how.append((digest, "exists"))
                    elif (
                        mount_from and mount_from != ref.repository and client.mount_blob(digest, mount_from)
                    ):
                        how.append((digest, "mounted"))
                    else:
                        client.upload_blob(path, digest, size, chunk_size=chunk_size)
                        how.append((digest, "uploaded"))
                assert ref.tag is not None
                digest = client.put_manifest(ref.tag, packed.manifest, OCI_MANIFEST)
            finally:
                client.close()
            done.append(Pushed(str(ref), digest, tuple(how)))
    return done


def _refuse_a_round_trip(db_path: Path, refs: Sequence[DockerReference]) -> None:
    """A database pulled from a repository and not updated since is not pushed back there: that is a
    builder whose `db update` pulled (CI_SECURITY_DB_REPOSITORY set where it runs), and it would
    publish yesterday's data as today's, every day.
    """
    state = _read_state(db_path)
    manifest = state.get("manifest") if state else None
    if state is None or not isinstance(manifest, str) or not _is_live(db_path, state, manifest):
        return
    try:
        origin = db_reference(str(state.get("reference")))
    except CiSecurityError:
        return
    for ref in refs:
        if (ref.registry, ref.repository) == (origin.registry, origin.repository):
            raise VulnDbError(
                f"db push {ref}: the database at {db_path} was pulled from {origin} and has not been "
                "updated since; pushing it back would publish the same data again (does the builder "
                "have CI_SECURITY_DB_REPOSITORY set? `db update` pulls instead of building then)"
            )


# --- pulling ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Layer:
    digest: str
    size: int


@dataclass(frozen=True, slots=True)
class _Database:
    schema: int
    built: str
    digest: str
    size: int


def _descriptor(value: Any, what: str, cap: int, limit: str) -> tuple[str, int]:
    if not isinstance(value, dict):
        raise VulnDbError(f"{what}: not a descriptor (expected an object)")
    digest = check_digest(value.get("digest"), f"{what} digest", error=VulnDbError)
    size = value.get("size")
    if not isinstance(size, int) or isinstance(size, bool) or size < 0:
        raise VulnDbError(f"{what}: descriptor size {str(size)[:40]!r} is not a byte count")
    if size > cap:
        raise limits.LimitExceededError(what, limit, f"the descriptor says {size:,} bytes")
    return digest, size


def read_manifest(body: bytes, media_type: str | None, label: str) -> tuple[tuple[str, int], _Layer]:
    """The config descriptor and the layer of a database manifest, every field this tool reads
    checked: an OCI image manifest, of this artifact type (or this config type), one layer of
    the database's media type.
    """
    where = f"{label}: manifest"
    doc = load_json(body, where, size_limit="image_metadata_bytes", error=VulnDbError)
    if not isinstance(doc, dict):
        raise VulnDbError(f"{where}: not a JSON object")
    kind = doc.get("mediaType") or media_type
    if doc.get("schemaVersion") != 2 or kind != OCI_MANIFEST:
        raise VulnDbError(f"{where}: not an OCI image manifest (media type {str(kind)[:80]!r})")
    config = doc.get("config")
    artifact = doc.get("artifactType")
    config_type = config.get("mediaType") if isinstance(config, dict) else None
    if artifact != ARTIFACT_TYPE and config_type != CONFIG_TYPE:
        shown = str(artifact or config_type)[:100]
        raise VulnDbError(
            f"{where}: not a ci-security database (artifact type {shown!r}, not {ARTIFACT_TYPE})"
        )
    if config_type != CONFIG_TYPE:
        raise VulnDbError(
            f"{where}: the config's media type is {str(config_type)[:100]!r}, not {CONFIG_TYPE}"
        )
    bounds = limits.active()
    config_descriptor = _descriptor(
        config, f"{where} config", bounds.image_metadata_bytes, "image_metadata_bytes"
    )
    layers = doc.get("layers")
    if not isinstance(layers, list) or len(layers) != 1:
        raise VulnDbError(f"{where}: expected one layer, the database")
    if not isinstance(layers[0], dict) or layers[0].get("mediaType") != LAYER_TYPE:
        shown = str(layers[0].get("mediaType") if isinstance(layers[0], dict) else layers[0])[:100]
        raise VulnDbError(f"{where}: the layer's media type is {shown!r}, not {LAYER_TYPE}")
    digest, size = _descriptor(layers[0], f"{where} layer", bounds.download_bytes, "download_bytes")
    return config_descriptor, _Layer(digest, size)


def read_config(body: bytes, label: str) -> _Database:
    """What the config says of the database; a schema this version does not read is refused here,
    before anything is downloaded.
    """
    where = f"{label}: config"
    doc = load_json(body, where, size_limit="image_metadata_bytes", error=VulnDbError)
    if not isinstance(doc, dict):
        raise VulnDbError(f"{where}: not a JSON object")
    schema = doc.get("schemaVersion")
    if not isinstance(schema, int) or isinstance(schema, bool):
        raise VulnDbError(f"{where}: no schema version")
    if schema != SCHEMA_VERSION:
        newer = "a newer" if schema > SCHEMA_VERSION else "an older"
        raise VulnDbError(
            f"{label}: the database has schema {schema}, written by {newer} ci-security; this one needs "
            f"schema {SCHEMA_VERSION}: pull the tag a ci-security of schema {SCHEMA_VERSION} pushed "
            f"(`{SCHEMA_VERSION}` by default), or use the ci-security version that matches the database"
        )
    database = doc.get("database")
    digest, size = _descriptor(
        database, f"{where} database", limits.active().database_bytes, "database_bytes"
    )
    built = doc.get("created")
    return _Database(schema, built if isinstance(built, str) else "", digest, size)


class _Pieces:
    """The verified blob's pieces as a file for the zstd decoder (which reads what it needs)."""

    def __init__(self, chunks: Iterator[bytes]) -> None:
        self._chunks = chunks
        self._pending = b""
        self.read_bytes = 0

    def read(self, size: int = -1) -> bytes:
        while not self._pending:
            try:
                self._pending = next(self._chunks)
            except StopIteration:
                return b""
        take = self._pending if size < 0 else self._pending[:size]
        self._pending = self._pending[len(take) :]
        self.read_bytes += len(take)
        return take

    def rest(self) -> int:
        """Consume what the decoder left (running the digest check at the end); its length."""
        left = len(self._pending)
        self._pending = b""
        for chunk in self._chunks:
            left += len(chunk)
        return left


def _decompress_into(
    client: RegistryClient, layer: _Layer, expected: _Database, directory: Path, name: str, label: str
) -> Path:
    """Stream the layer through its digest check and the zstd decoder into a temp file in
    `directory`; the file has exactly the size and SHA-256 the config states, or is removed.
    """
    import zstandard

    bounds = limits.active()

    def decode(source: _Pieces, out: IO[bytes]) -> str:
        """Decompress `source` into `out`; the SHA-256 of what was written."""
        hasher = hashlib.sha256()
        written = 0
        decoder = zstandard.ZstdDecompressor(max_window_size=MAX_WINDOW)
        with decoder.stream_reader(cast("IO[bytes]", source), read_size=_CHUNK, closefd=False) as reader:
            while True:
                try:
                    piece = reader.read(_CHUNK)
                except zstandard.ZstdError as exc:
                    raise VulnDbError(f"{label}: the layer is not a valid zstd stream ({exc})") from None
                if not piece:
                    break
                written += len(piece)
                if written > expected.size:
                    raise VulnDbError(
                        f"{label}: the layer decompresses past the {expected.size:,} bytes its config states"
                    )
                if written > _RATIO_FLOOR and written > bounds.compression_ratio * max(source.read_bytes, 1):
                    raise limits.LimitExceededError(
                        label, "compression_ratio", f"{written:,} bytes decompressed"
                    )
                hasher.update(piece)
                out.write(piece)
        if source.rest():
            raise VulnDbError(f"{label}: the layer holds data after its zstd frame")
        if written != expected.size:
            raise VulnDbError(
                f"{label}: the layer decompresses to {written:,} bytes, not the {expected.size:,} its "
                "config states"
            )
        return f"sha256:{hasher.hexdigest()}"

    def consume(chunks: Iterator[bytes]) -> Path:
        fd, temp = tempfile.mkstemp(prefix=f".{name}.", suffix=".pulling", dir=directory)
        path = Path(temp)
        source = _Pieces(chunks)
        try:
            with os.fdopen(fd, "wb") as out:
                try:
                    got = decode(source, out)
                except CiSecurityError:
                    # A download that was corrupted or cut off is the cause, not what the decoder made
                    # of it: the rest of the blob goes through the digest check first (which raises).
                    source.rest()
                    raise
            if got != expected.digest:
                raise VulnDbError(
                    f"{label}: the decompressed database ({got}) is not the one its config states "
                    f"({expected.digest})"
                )
        except BaseException:
            path.unlink(missing_ok=True)
            raise
        return path

    return client.stream_blob(layer.digest, layer.size, consume, what="layer", limit="download_bytes")


def check_database(path: Path, label: str) -> None:
    """The database at `path` opens, has the schema this version reads, and passes SQLite's
    `PRAGMA quick_check`.
    """
    try:
        with contextlib.closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as conn:
            try:
                check_schema(conn, path)
            except VulnDbError as exc:
                raise VulnDbError(f"{label}: {str(exc).removeprefix(f'{path}: ')}") from None
            rows = conn.execute("PRAGMA quick_check").fetchmany(5)
    except sqlite3.Error as exc:
        raise VulnDbError(f"{label}: the downloaded database is unreadable ({exc})") from None
    if rows != [("ok",)]:
        found = " ".join("; ".join(str(row[0]) for row in rows).split())[:300]
        raise VulnDbError(f"{label}: the downloaded database fails SQLite's integrity check ({found})")


# The live database's origin, beside it: what `db pull` compares the tag's digest with.
STATE_SUFFIX = ".artifact.json"


def state_path(db_path: Path) -> Path:
    return db_path.with_name(db_path.name + STATE_SUFFIX)


def _read_state(db_path: Path) -> dict[str, Any] | None:
    path = state_path(db_path)
    try:
        doc = json.loads(path.read_bytes()[: 64 * limits.KiB])
    except (OSError, ValueError):
        return None
    return doc if isinstance(doc, dict) else None


def _write_state(db_path: Path, state: dict[str, Any]) -> None:
    path = state_path(db_path)
    fd, temp = tempfile.mkstemp(prefix=f".{path.name}.", dir=db_path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            json.dump(state, out, sort_keys=True)
        Path(temp).chmod(0o644)
        Path(temp).replace(path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise


def _sha256_file(path: Path) -> str:
    hasher = hashlib.sha256()
    with open(path, "rb") as src:
        while piece := src.read(_CHUNK):
            hasher.update(piece)
    return f"sha256:{hasher.hexdigest()}"


def _is_live(db_path: Path, state: dict[str, Any], digest: str) -> bool:
    """Whether the live database is the one manifest `digest` holds: the state file says it came
    from there, and the file is still what was written (same size and time, or same SHA-256).
    """
    if state.get("manifest") != digest or not is_digest(state.get("database")):
        return False
    try:
        stat = db_path.stat()
    except OSError:
        return False
    if stat.st_size != state.get("size"):
        return False
    if stat.st_mtime_ns == state.get("mtime_ns"):
        return True
    # Restored from a cache, touched: the content decides (and the state is brought up to date).
    if _sha256_file(db_path) != state["database"]:
        return False
    _write_state(db_path, {**state, "mtime_ns": stat.st_mtime_ns})
    return True


def pull(
    reference: str,
    db_path: Path,
    access: RegistryAccess,
    *,
    signer: Signer | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> Pulled:
    """Make the database at `db_path` the one `reference` names (see the module docstring);
    `sleep` waits between retries of a broken download.
    """
    from ci_security.dbartifact import signature

    ref = db_reference(reference)
    label = f"db pull {ref}"
    db_path.parent.mkdir(parents=True, exist_ok=True)
    client = _client(ref, access, label, sleep)
    try:
        if ref.digest is not None:
            digest = ref.digest
        else:
            assert ref.tag is not None
            head = client.manifest_head(ref.tag, OCI_MANIFEST)
            if head is None:
                raise VulnDbError(
                    f"{label}: {ref.registry}/{ref.repository} has no tag {ref.tag} "
                    "(push a database there with `ci-security db push`)"
                )
            digest = head[0]
        state = _read_state(db_path)
        if state is not None and _is_live(db_path, state, digest):
            return Pulled(str(ref), digest, "current", str(state.get("built", "")))
        body, media_type, got = client.manifest(digest, OCI_MANIFEST)
        if got != digest:
            raise VulnDbError(
                f"{label}: the manifest does not match its digest (expected {digest}, got {got})"
            )
        (config_digest, config_size), layer = read_manifest(body, media_type, label)
        config_body = client.blob_bytes(config_digest, config_size)
        if f"sha256:{hashlib.sha256(config_body).hexdigest()}" != config_digest:
            raise VulnDbError(f"{label}: the config does not match its digest {config_digest}")
        database = read_config(config_body, label)
        warnings = signature.check(client, digest, signer, label)
        temp = _decompress_into(client, layer, database, db_path.parent, db_path.name, label)
    finally:
        client.close()
    try:
        check_database(temp, label)
        temp.chmod(0o644)
        temp.replace(db_path)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
    stat = db_path.stat()
    _write_state(
        db_path,
        {
            "reference": str(ref),
            "manifest": digest,
            "database": database.digest,
            "size": stat.st_size,
            "mtime_ns": stat.st_mtime_ns,
            "built": database.built,
        },
    )
    return Pulled(str(ref), digest, "pulled", database.built, tuple(warnings))

"""Java archives: `.jar`, `.war`, `.ear`, `.par` and Jenkins `.jpi`/`.hpi`, including the archives
nested inside them (`WEB-INF/lib/*.jar`, `BOOT-INF/lib/*.jar`, an ear's `lib/*.jar`).

Every package is a Maven coordinate, reported as `groupId:artifactId` (the purl builder splits it).
Nothing is looked up online: Trivy falls back to a SHA-1 search of Maven Central, we do not.

Identification, per archive:

1. Every `META-INF/maven/<group>/<artifact>/pom.properties` with `groupId`, `artifactId` and
   `version` is a package. Maven's archiver writes one for the project being packaged, and the shade
   and assembly plugins keep those of the dependencies they merge, so a fat jar holds several.
   (`WEB-INF/classes/` and `BOOT-INF/classes/` are classpath roots too, so their `META-INF` counts.)
2. A pom.properties identifies the archive itself when its artifactId is the one in the file name
   (`jackson-core-2.9.10.jar` → `jackson-core`); when the file name carries no version it was
   renamed (`app.jar`, `ROOT.war`), and a single pom.properties is taken to be the archive's own.
3. Otherwise the archive is identified from the main section of `META-INF/MANIFEST.MF` and its
   name. The version is `Implementation-Version`, else `Specification-Version`, else
   `Bundle-Version` (Trivy's order), else the file name's. Gradle writes `unspecified` when a
   project has no version, so a manifest value counts only if it holds a digit.
   The coordinates come from the first rule that gives an answer:
   - a `META-INF/maven/<group>/<artifact>/` or `META-INF/native-image/<group>/<artifact>/`
     directory whose artifact is the file name's. Both layouts are written by the build that
     produced the archive: Maven's archiver puts pom.xml there, and GraalVM's documentation
     tells library authors to keep native-image configuration under exactly that path;
   - when the file name has no version, the only such directory pair in the archive
     (`test.jar` holding `META-INF/native-image/org.apache.tomcat.embed/tomcat-embed-websocket/`
     is Tomcat's websocket jar);
   - else the artifact is the file name's, and the group is `Implementation-Vendor-Id` when it is
     a dotted name (older maven-archiver default entries put the groupId there), else it is
     recovered from `Bundle-SymbolicName` by running backwards maven-bundle-plugin's documented
     default: `groupId.artifactId` (`org.mockito.mockito-core`); the groupId alone when the
     artifactId is its last part (`com.google.guava`); the artifactId minus that part otherwise
     (`org.apache.commons:commons-lang3` → `org.apache.commons.lang3`). The first two overlap
     when the name ends in the artifactId; the groupId-only reading wins (the plugin tests it
     first) unless the artifactId is not one word, as a package-style groupId part is
     (`com.fasterxml.jackson.core.jackson-databind`). A recovered group must have a dot: the plugin
     names one-part groups after a Java package instead. Trivy cuts the name at its last dot
     (`com.google.guava` → `com.google`); `Automatic-Module-Name` follows the root package
     (`com.fasterxml.jackson.databind`), not the groupId, so it is not used. Tomcat sets its own
     name, `org.apache.tomcat-embed-websocket`, which reads as `org.apache`: the directory rules
     come first for that reason;
   - failing all of that the group is the artifactId. Maven's oldest groups were named that way
     (`commons-io:commons-io`, `log4j:log4j`), and those are the jars most likely to carry no
     metadata. Syft falls back the same way.
   An archive with no version from any source is not reported: a package without a version
   cannot be matched to an advisory.

File names split at the first `-<digit>` after which only qualifier segments follow
(`log4j-1.2-api-2.17.1` → `log4j-1.2-api` `2.17.1`; `guava-31.1-jre` → `guava` `31.1-jre`;
`plexus-utils-1.0-alpha-9` and timestamped snapshots `foo-1.0-20230101.120000-1` stay whole).

A nested archive's path is jar-URL style: `/app/test.war!/WEB-INF/lib/slf4j-api-1.7.30.jar`.

Hostile archives. A layer is untrusted input, and a zip can claim anything:
- the central directory is read whole into memory by `zipfile`, so one above 32 MiB is refused;
- only stored and deflated entries are read. Those are the only methods the JAR format uses, and
  `zipfile` inflates bzip2 and LZMA without an output limit;
- `zipfile` never yields more than an entry's declared size, so declared sizes are checked before
  anything is read: metadata files above 1 MiB are skipped, and so are nested archives above
  256 MiB or (above 1 MiB) expanding more than 100 times; nested archives are already compressed,
  so a high ratio means a bomb. Every top-level archive has a budget of 1 GiB of decompressed
  bytes for everything read from it, nested archives and their contents included;
- nesting stops at depth 3; a nested archive goes to memory up to 16 MiB, else to an anonymous
  temporary file in the cataloger's scratch directory, deleted when it has been read. Entry names
  never become file names, and a nested entry named with `..` or an absolute path is skipped.
A nested archive that is over a limit, damaged or unreadable is skipped and the rest of the archive
is still reported (Trivy does the same); the runner has no warning channel for a part of a file.
A top-level file that is not a readable zip raises `CatalogError`. A `.jar` that starts with `#!`
is Spring Boot's "fully executable" launcher script with a zip appended, and is read as one;
if no zip is found after the script, the file yields nothing.
"""

from __future__ import annotations

import io
import lzma
import posixpath
import re
import shutil
import struct
import tempfile
import zipfile
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, ClassVar, cast

from ci_security.catalog.base import CatalogerKind, CatalogInput, CatalogOutput, seekable
from ci_security.catalog.bounded import Continuations, check_size
from ci_security.errors import CatalogError
from ci_security.models import Package

ARCHIVE_SUFFIXES = (".jar", ".war", ".ear", ".par", ".jpi", ".hpi")
MAX_DEPTH = 3
MAX_NESTED_SIZE = 256 << 20
TOTAL_BUDGET = 1 << 30
MAX_RATIO = 100
RATIO_FLOOR = 1 << 20
IN_MEMORY_LIMIT = 16 << 20
MAX_METADATA_SIZE = 1 << 20
MAX_CENTRAL_DIRECTORY = 32 << 20

_READABLE_METHODS = frozenset({zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED})
# What zipfile and its decompressors raise for a damaged, encrypted or unsupported zip or entry.
_ZIP_ERRORS = (
    zipfile.BadZipFile,
    zlib.error,
    lzma.LZMAError,
    NotImplementedError,
    RuntimeError,
    EOFError,
    OSError,
    ValueError,
    struct.error,
)

_COORDINATE_DIR = re.compile(
    r"^(?:(?:WEB-INF|BOOT-INF)/classes/)?(?i:META-INF)/(?P<kind>maven|native-image)/"
    r"(?P<group>[^/]+)/(?P<artifact>[^/]+)/(?P<rest>.+)$"
)
_GROUP_ID = re.compile(r"[A-Za-z0-9_\-]+(?:\.[A-Za-z0-9_\-]+)*")
_WORD = re.compile(r"[A-Za-z][A-Za-z0-9]*")
_FILE_NAME = re.compile(
    r"^(?P<artifact>.+?)-(?P<version>\d[^-]*(?:-\d{8}\.\d{6}-\d+)?"
    r"(?:-(?i:alpha|beta|rc|cr|m|milestone|preview|ea)-\d[^-]*|-[A-Za-z][^-]*)*)$"
)
_LINE_BREAK = re.compile(r"\r\n|\r|\n")
_ESCAPES = {"t": "\t", "n": "\n", "r": "\r", "f": "\f"}

_EOCD = b"PK\x05\x06"
_ZIP64_LOCATOR = b"PK\x06\x07"
_ZIP64_EOCD = b"PK\x06\x06"
_EOCD_SIZE = 22
_ZIP64_LOCATOR_SIZE = 20
_ZIP64_EOCD_SIZE = 56


class _NotAZipError(CatalogError):
    """The file holds no zip central directory at all."""


@dataclass(frozen=True, slots=True)
class _Coordinates:
    group: str
    artifact: str
    version: str


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0][:200] if text else type(exc).__name__


def split_file_name(name: str) -> tuple[str, str | None]:
    """`artifactId` and version from an archive's base name; the version is None when the name
    carries none (`app.jar`).
    """
    stem = name
    lowered = name.lower()
    for suffix in ARCHIVE_SUFFIXES:
        if lowered.endswith(suffix):
            stem = name[: -len(suffix)]
            break
    match = _FILE_NAME.match(stem)
    if match is None:
        return stem, None
    return match["artifact"], match["version"]


def _unescape(text: str) -> str:
    out: list[str] = []
    i = 0
    while i < len(text):
        char = text[i]
        if char != "\\" or i + 1 == len(text):
            out.append(char)
            i += 1
            continue
        nxt = text[i + 1]
        if nxt == "u" and re.fullmatch(r"[0-9A-Fa-f]{4}", text[i + 2 : i + 6]):
            out.append(chr(int(text[i + 2 : i + 6], 16)))
            i += 6
            continue
        out.append(_ESCAPES.get(nxt, nxt))
        i += 2
    return "".join(out)


def _split_property(line: str) -> tuple[str, str]:
    # The key ends at the first unescaped `=`, `:` or whitespace; whitespace around one `=`/`:` is
    # part of the separator (java.util.Properties.load).
    i = 0
    while i < len(line) and line[i] not in "=: \t\f":
        i += 2 if line[i] == "\\" else 1
    key = line[:i]
    rest = line[i:].lstrip(" \t\f")
    if rest[:1] in ("=", ":"):
        rest = rest[1:].lstrip(" \t\f")
    return _unescape(key), _unescape(rest)


def parse_properties(data: bytes) -> dict[str, str]:
    r"""A `.properties` file: `#`/`!` comments, `key=value`, `key: value` or `key value`, trailing
    backslash continuations and `\uXXXX` escapes. Maven writes ISO-8859-1; UTF-8 is accepted too.
    """
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        text = data.decode("latin-1")
    props: dict[str, str] = {}
    lines = iter(_LINE_BREAK.split(text))
    for raw in lines:
        line = raw.lstrip(" \t\f")
        if not line or line[0] in "#!":
            continue
        # Continued lines are collected and joined once: appending to the string in the loop would
        # copy it for every line, quadratic in a file of many one-character continuation lines.
        parts = [line]
        continuations = Continuations()
        while _continues(parts[-1]):
            continuations.add("pom.properties")
            parts[-1] = parts[-1][:-1]
            parts.append(next(lines, "").lstrip(" \t\f"))
        key, value = _split_property("".join(parts))
        props[key] = value
    return props


def _continues(line: str) -> bool:
    """Whether `line` ends in an odd number of backslashes (an escaped backslash does not continue)."""
    return (len(line) - len(line.rstrip("\\"))) % 2 == 1


def parse_manifest(data: bytes) -> dict[str, str]:
    """The main section of a JAR manifest, keyed by lower-cased attribute name. It ends at the first
    blank line; the per-entry sections after it describe packages inside the archive (Tomcat's names
    `javax/websocket/` with its own `Implementation-Version: 1.1.FR`). Lines are at most 72 bytes,
    and a line starting with one space continues the previous value.
    """
    attrs: dict[str, list[str]] = {}
    name: str | None = None
    continuations = Continuations()
    for line in _LINE_BREAK.split(data.decode("utf-8", errors="replace")):
        if not line:
            break
        if line.startswith(" "):
            continuations.add("META-INF/MANIFEST.MF main section")
            if name is not None:
                attrs[name].append(line[1:])
            continue
        key, sep, value = line.partition(":")
        if not sep:
            name = None
            continue
        name = key.strip().lower()
        attrs[name] = [value.removeprefix(" ")]
    # Joined once: appending each continuation to the value would be quadratic in their number.
    return {key: "".join(parts) for key, parts in attrs.items()}


def _usable(value: str | None) -> str | None:
    # `%key` is an OSGi localisation reference and `${...}` an unexpanded build placeholder.
    value = (value or "").strip()
    if not value or value.startswith("%") or "${" in value:
        return None
    return value


def _manifest_version(manifest: dict[str, str]) -> str | None:
    for attr in ("implementation-version", "specification-version", "bundle-version"):
        value = _usable(manifest.get(attr))
        if value and any(c.isdigit() for c in value):
            return value
    return None


def group_from_symbolic_name(symbolic_name: str, artifact: str) -> str | None:
    """The groupId that maven-bundle-plugin's default rule would have turned, with `artifact`, into
    `symbolic_name`, or None when the name does not fit the rule.
    """
    bsn = symbolic_name.split(";", 1)[0].strip()
    if not _GROUP_ID.fullmatch(bsn) or "." not in bsn:
        return None
    # Reading the whole name as the group needs a one-word artifactId: groupId parts are
    # package-style words, so `com.fasterxml.jackson.core.jackson-databind` is group + artifact.
    if bsn.rsplit(".", 1)[1] == artifact and _WORD.fullmatch(artifact):
        return bsn
    # Every reading puts the name's tail after the dot into the artifactId, so only the dots within
    # len(artifact) + 1 characters of the end can split it: the work is bounded by the artifactId,
    # not by the (attacker-chosen) length of the name.
    dot = bsn.rfind(".")
    floor = max(0, len(bsn) - len(artifact) - 2)
    while dot > floor:
        rest = bsn[dot + 1 :]
        previous = bsn.rfind(".", 0, dot)
        last = bsn[previous + 1 : dot]
        fits = (
            rest == artifact
            or artifact == last + rest
            or (
                len(artifact) == len(last) + 1 + len(rest)
                and artifact.startswith(last)
                and artifact.endswith(rest)
                and not artifact[len(last)].isalnum()
            )
        )
        if fits:
            return bsn[:dot] if previous >= 0 else None
        dot = previous
    return None


def _central_directory_size(stream: BinaryIO) -> int:
    """The central directory size the end record declares (0 if there is none: zipfile will say so)."""
    end = stream.seek(0, io.SEEK_END)
    tail_size = min(end, _EOCD_SIZE + 0xFFFF + _ZIP64_LOCATOR_SIZE + _ZIP64_EOCD_SIZE)
    stream.seek(end - tail_size)
    tail = stream.read(tail_size)
    pos = tail.rfind(_EOCD)
    if pos < 0 or pos + _EOCD_SIZE > len(tail):
        return 0
    (size,) = struct.unpack_from("<L", tail, pos + 12)
    locator = pos - _ZIP64_LOCATOR_SIZE
    record = locator - _ZIP64_EOCD_SIZE
    if record >= 0 and tail.startswith(_ZIP64_LOCATOR, locator) and tail.startswith(_ZIP64_EOCD, record):
        (size,) = struct.unpack_from("<Q", tail, record + 40)
    return int(size)


def _safe_entry_name(name: str) -> bool:
    return not (
        name.startswith("/")
        or "\\" in name
        or "\x00" in name
        or re.match(r"^[A-Za-z]:", name) is not None
        or ".." in name.split("/")
    )


class _Budget:
    """Decompressed bytes still allowed for one top-level archive."""

    def __init__(self, total: int) -> None:
        self.left = total

    def take(self, size: int) -> bool:
        if size > self.left:
            return False
        self.left -= size
        return True


class _Walk:
    """One top-level archive and everything nested in it."""

    def __init__(self, tmpdir: Path) -> None:
        self.tmpdir = tmpdir
        self.budget = _Budget(TOTAL_BUDGET)

    def archive(self, stream: BinaryIO, name: str, path: str, depth: int) -> list[Package]:
        size = _central_directory_size(stream)
        if size > MAX_CENTRAL_DIRECTORY:
            raise CatalogError(f"zip central directory is larger than {MAX_CENTRAL_DIRECTORY >> 20} MiB")
        check_size(size, "zip central directory")
        stream.seek(0)
        try:
            zf = zipfile.ZipFile(stream)
        except zipfile.BadZipFile as exc:
            raise _NotAZipError(f"not a zip archive ({_one_line(exc)})") from exc
        except _ZIP_ERRORS as exc:
            raise CatalogError(f"unreadable zip archive ({_one_line(exc)})") from exc
        with zf:
            return self._contents(zf, name, path, depth)

    def _read_metadata(self, zf: zipfile.ZipFile, info: zipfile.ZipInfo) -> bytes | None:
        if (
            info.file_size > MAX_METADATA_SIZE
            or info.compress_type not in _READABLE_METHODS
            or not self.budget.take(info.file_size)
        ):
            return None
        try:
            with zf.open(info) as entry:
                return entry.read(MAX_METADATA_SIZE)
        except _ZIP_ERRORS as exc:
            raise CatalogError(f"{info.filename}: {_one_line(exc)}") from exc

    def _contents(self, zf: zipfile.ZipFile, name: str, path: str, depth: int) -> list[Package]:
        poms: list[_Coordinates] = []
        pairs: dict[tuple[str, str], None] = {}  # ordered set of (group, artifact) directories
        manifest: dict[str, str] | None = None
        nested: list[zipfile.ZipInfo] = []
        for info in zf.infolist():
            if info.is_dir():
                continue
            entry = info.filename
            coordinate = _COORDINATE_DIR.match(entry)
            if coordinate is not None:
                pairs[(coordinate["group"], coordinate["artifact"])] = None
                if coordinate["kind"] == "maven" and coordinate["rest"] == "pom.properties":
                    data = self._read_metadata(zf, info)
                    props = parse_properties(data) if data is not None else {}
                    group, artifact = (_usable(props.get(k)) for k in ("groupId", "artifactId"))
                    version = _usable(props.get("version"))
                    if group and artifact and version:
                        poms.append(_Coordinates(group, artifact, version))
            elif manifest is None and entry.upper() == "META-INF/MANIFEST.MF":
                data = self._read_metadata(zf, info)
                manifest = parse_manifest(data) if data is not None else {}
            elif depth < MAX_DEPTH and entry.lower().endswith(ARCHIVE_SUFFIXES):
                nested.append(info)

        packages = [
            Package(name=f"{p.group}:{p.artifact}", version=p.version, type="maven", path=path) for p in poms
        ]
        file_artifact, file_version = split_file_name(name)
        owned = any(p.artifact == file_artifact for p in poms) or (file_version is None and len(poms) == 1)
        if not owned:
            own = _identify(manifest or {}, file_artifact, file_version, list(pairs))
            if own is not None:
                packages.append(
                    Package(name=f"{own.group}:{own.artifact}", version=own.version, type="maven", path=path)
                )
        for info in nested:
            packages.extend(self._nested(zf, info, path, depth))
        return packages

    def _nested(self, zf: zipfile.ZipFile, info: zipfile.ZipInfo, path: str, depth: int) -> list[Package]:
        size = info.file_size
        if (
            not _safe_entry_name(info.filename)
            or info.compress_type not in _READABLE_METHODS
            or size > MAX_NESTED_SIZE
            or (size > RATIO_FLOOR and size > MAX_RATIO * max(info.compress_size, 1))
            or not self.budget.take(size)
        ):
            return []
        try:
            with self._open(zf, info) as inner:
                return self.archive(
                    inner, posixpath.basename(info.filename), f"{path}!/{info.filename}", depth + 1
                )
        except (CatalogError, *_ZIP_ERRORS):
            return []

    @contextmanager
    def _open(self, zf: zipfile.ZipFile, info: zipfile.ZipInfo) -> Iterator[BinaryIO]:
        if info.file_size <= IN_MEMORY_LIMIT:
            with zf.open(info) as entry:
                data = entry.read()
            yield io.BytesIO(data)
            return
        with tempfile.TemporaryFile(dir=self.tmpdir) as spool:
            with zf.open(info) as entry:
                shutil.copyfileobj(entry, spool, 1 << 20)
            spool.seek(0)
            yield cast(BinaryIO, spool)


def _identify(
    manifest: dict[str, str], artifact: str, file_version: str | None, pairs: list[tuple[str, str]]
) -> _Coordinates | None:
    version = _manifest_version(manifest) or file_version
    if not version:
        return None
    for group, pair_artifact in pairs:
        if pair_artifact == artifact and _GROUP_ID.fullmatch(group):
            return _Coordinates(group, artifact, version)
    if file_version is None and len(pairs) == 1 and _GROUP_ID.fullmatch(pairs[0][0]):
        return _Coordinates(pairs[0][0], pairs[0][1], version)
    if not artifact:
        return None
    vendor_id = _usable(manifest.get("implementation-vendor-id"))
    if vendor_id and "." in vendor_id and _GROUP_ID.fullmatch(vendor_id):
        return _Coordinates(vendor_id, artifact, version)
    symbolic_name = _usable(manifest.get("bundle-symbolicname"))
    derived = group_from_symbolic_name(symbolic_name, artifact) if symbolic_name else None
    return _Coordinates(derived or artifact, artifact, version)


class JavaArchiveCataloger:
    """Maven artifacts in Java archives, and in the archives nested inside them."""

    name: ClassVar[str] = "java/archive"
    version: ClassVar[int] = 1
    kind: ClassVar[CatalogerKind] = "language"
    max_file_size: ClassVar[int] = 1 << 30
    # A local file header, an empty archive's end record, or a launcher script in front of the zip.
    magic: ClassVar[tuple[bytes, ...]] = (b"PK\x03\x04", b"PK\x05\x06", b"#!")

    def file_required(self, path: str, mode: int) -> bool:
        return path.lower().endswith(ARCHIVE_SUFFIXES)

    def catalog(self, inp: CatalogInput) -> CatalogOutput:
        with seekable(inp) as stream:
            script = stream.read(2) == b"#!"
            stream.seek(0)
            try:
                packages = _Walk(inp.tmpdir).archive(stream, posixpath.basename(inp.path), "/" + inp.path, 0)
            except _NotAZipError:
                if script:
                    return CatalogOutput()
                raise
        unique = dict.fromkeys(packages)
        return CatalogOutput(packages=tuple(unique))

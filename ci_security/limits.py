"""Every bound the tool puts on untrusted input, stated once.

Images, package databases, manifests, policy files, OSV data, the layer cache and the answers of
registries and mirrors are all written by somebody else (see `docs/security.md` for the threat model).
Each parser asks this module how much it may read, expand, nest or wait, instead of carrying a
constant of its own, so that one table (`docs/security.md`, generated from `LIMITS`) says what the
tool accepts and how to change it.

A limit is changed with `--limit NAME=VALUE` (repeatable; `CI_SECURITY_LIMIT="NAME=VALUE ..."`) or
the policy file's `limits:` mapping; the command line wins. Sizes accept `KiB`/`MiB`/`GiB` (and
`K`/`M`/`G`, all powers of 1024), durations a bare number of seconds.

Exceeding a limit raises `LimitExceededError` (exit 2, one line naming the file and the limit) where the
whole input is unusable, or becomes a partial-scan warning naming them where the rest of the scan is
still sound (one package database of many, one manifest of many). It is never a crash, a hang or an
out-of-memory kill.

The active limits are process-wide (`active()`), set once per command by `use()`: parsers run on
worker threads, and a scan is one command in one process.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, fields, replace
from typing import Literal

from ci_security.errors import CiSecurityError, UsageError

Unit = Literal["bytes", "count", "seconds", "ratio"]

KiB, MiB, GiB = 1 << 10, 1 << 20, 1 << 30


class LimitExceededError(CiSecurityError):
    """An input went past one of the limits; the message names the input and the limit."""

    def __init__(self, where: str, limit: str, detail: str = "") -> None:
        spec = SPECS[limit]
        value = format_value(getattr(active(), limit), spec.unit)
        text = f"{where}: exceeds the {spec.flag} limit ({value})"
        if detail:
            text += f": {detail}"
        super().__init__(f"{text}; raise it with --limit {spec.flag}=VALUE if the input is trusted")
        self.where = where
        self.limit = limit

    def __reduce__(self) -> tuple[object, tuple[str, str, str]]:
        # Pickled as its message (a worker process raises it, the parent re-raises it): rebuilt
        # without formatting the message again under the parent's limits.
        return _rebuilt_limit_error, (str(self), self.where, self.limit)


def _rebuilt_limit_error(message: str, where: str, limit: str) -> LimitExceededError:
    error = LimitExceededError.__new__(LimitExceededError)
    Exception.__init__(error, message)
    error.where, error.limit = where, limit
    return error


@dataclass(frozen=True, slots=True)
class Limits:
    """The values in force. Field names are the limits' names (`--limit` takes them with dashes)."""

    # --- image archives and layers
    layer_bytes: int = 16 * GiB
    image_bytes: int = 64 * GiB
    compression_ratio: int = 1000
    spool_bytes: int = 32 * GiB
    layer_files: int = 2_000_000
    path_bytes: int = 4096
    path_components: int = 256
    symlink_hops: int = 40
    symlink_target_bytes: int = 4096
    image_metadata_bytes: int = 8 * MiB
    metadata_bytes: int = 64 * MiB
    # --- structured documents (JSON, YAML) from images, repositories, caches and mirrors
    nesting_depth: int = 200
    yaml_nodes: int = 200_000
    policy_bytes: int = 1 * MiB
    document_bytes: int = 256 * MiB
    # Real install bundles of operators are single files of several MiB (argo-cd's install.yaml is
    # 1.9 MB, prometheus-operator's CRD bundle 4.3 MB); 8 MiB parses in about 3 s and 140 MB. Alias
    # bombs are stopped by yaml_nodes and nesting_depth, not by size.
    manifest_bytes: int = 8 * MiB
    # --- line-oriented records (dpkg status, METADATA, MANIFEST.MF, Dockerfiles)
    line_bytes: int = 1 * MiB
    continuation_lines: int = 100_000
    expansion_bytes: int = 1 * MiB
    package_entries: int = 1_000_000
    # --- advisory data
    records_per_file: int = 5_000_000
    record_bytes: int = 16 * MiB
    download_bytes: int = 8 * GiB
    database_bytes: int = 16 * GiB
    # --- the layer cache
    cache_entry_bytes: int = 256 * MiB
    # --- network
    metadata_seconds: int = 120
    transfer_seconds: int = 3600
    retry_after_seconds: int = 60
    redirects: int = 5
    # --- the dynamic scan's sandbox (`ci-security sandbox`): what the image's processes may use
    sandbox_cpu_seconds: int = 60
    sandbox_memory_bytes: int = 2 * GiB
    sandbox_processes: int = 128
    sandbox_file_bytes: int = 256 * MiB
    sandbox_open_files: int = 1024
    sandbox_tmp_bytes: int = 256 * MiB
    sandbox_trace_bytes: int = 256 * MiB
    sandbox_events: int = 50_000
    # --- remediation (`ci-security fix`): registries list tags, repositories name images
    registry_tags: int = 50_000
    registry_pages: int = 100
    fix_references: int = 2_000
    fix_candidates: int = 3
    fix_scans: int = 30


@dataclass(frozen=True, slots=True)
class LimitSpec:
    """What a limit bounds, for the docs and for error messages."""

    name: str
    unit: Unit
    bounds: str
    when_exceeded: str

    @property
    def flag(self) -> str:
        return self.name.replace("_", "-")


_ERROR = "error (exit 2)"
_PARTIAL = "partial-scan warning for that file"
_PARTIAL_OR_MAN001 = "partial-scan warning for that file (MAN001 for a Dockerfile)"

SPECS: dict[str, LimitSpec] = {
    spec.name: spec
    for spec in (
        LimitSpec("layer_bytes", "bytes", "bytes one layer decompresses to", _ERROR),
        LimitSpec("image_bytes", "bytes", "bytes all layers of one image decompress to", _ERROR),
        LimitSpec(
            "compression_ratio",
            "ratio",
            "decompressed ÷ compressed size of a layer, archive or cache entry, once past 64 MiB",
            _ERROR,
        ),
        LimitSpec(
            "spool_bytes", "bytes", "bytes written to the private temp dir (downloads, archives)", _ERROR
        ),
        LimitSpec("layer_files", "count", "tar members in one layer", _ERROR),
        LimitSpec("path_bytes", "bytes", "length of one path in a layer or archive", _ERROR),
        LimitSpec("path_components", "count", "components of one path in a layer or archive", _ERROR),
        LimitSpec("symlink_hops", "count", "symbolic links followed to resolve one path", _PARTIAL),
        LimitSpec("symlink_target_bytes", "bytes", "length of one symbolic link's target", _ERROR),
        LimitSpec(
            "image_metadata_bytes",
            "bytes",
            "one JSON document of an image: manifest.json, index.json, a manifest or index, the config",
            _ERROR,
        ),
        LimitSpec(
            "metadata_bytes",
            "bytes",
            "one metadata file read into memory (package database, lockfile)",
            _PARTIAL,
        ),
        LimitSpec(
            "nesting_depth",
            "count",
            "nesting of one JSON or YAML document (an alias counts with what it expands to)",
            _ERROR + "; a MAN001 finding for a manifest",
        ),
        LimitSpec(
            "yaml_nodes",
            "count",
            "nodes that aliases add to one YAML file once expanded",
            _ERROR + "; a MAN001 finding for a manifest",
        ),
        LimitSpec(
            "policy_bytes",
            "bytes",
            "size of the policy file (`--limit` only: the file is read before its own `limits:`)",
            _ERROR,
        ),
        LimitSpec(
            "document_bytes", "bytes", "size of a VEX document, baseline report or imported report", _ERROR
        ),
        LimitSpec(
            "manifest_bytes",
            "bytes",
            "size of one Dockerfile, Kubernetes or compose file (and of a `.gitignore`, an error)",
            "MAN001 finding (HIGH) for that file",
        ),
        LimitSpec(
            "line_bytes",
            "bytes",
            "length of one line, and of one field or instruction with its continuation lines",
            _PARTIAL_OR_MAN001,
        ),
        LimitSpec(
            "continuation_lines",
            "count",
            "continuation lines of one record or instruction",
            _PARTIAL_OR_MAN001,
        ),
        LimitSpec(
            "expansion_bytes",
            "bytes",
            "what variables add to one expansion in a Dockerfile; also all ARG/ENV values of one file "
            "together, and 16 times this for all expansions of one file",
            "MAN001 for that Dockerfile",
        ),
        LimitSpec("package_entries", "count", "entries of one package database", _PARTIAL),
        LimitSpec("records_per_file", "count", "records in one OSV export or advisory file", _ERROR),
        LimitSpec("record_bytes", "bytes", "one advisory record, inflated", _ERROR),
        LimitSpec(
            "download_bytes", "bytes", "one download from an advisory mirror, or a database's layer", _ERROR
        ),
        LimitSpec(
            "database_bytes",
            "bytes",
            "the vulnerability database `db pull` decompresses from a registry",
            _ERROR,
        ),
        LimitSpec(
            "cache_entry_bytes",
            "bytes",
            "one layer-cache entry, decompressed (a bad entry is a miss)",
            "cache miss",
        ),
        LimitSpec(
            "metadata_seconds",
            "seconds",
            "one small HTTP exchange from start to last byte (manifest, token, index)",
            _ERROR,
        ),
        LimitSpec(
            "transfer_seconds", "seconds", "one blob or export download from start to last byte", _ERROR
        ),
        LimitSpec(
            "retry_after_seconds",
            "seconds",
            "the longest `Retry-After` honoured (a registry or mirror asking for more is not retried)",
            _ERROR,
        ),
        LimitSpec("redirects", "count", "HTTP redirects followed for one request", _ERROR),
        LimitSpec(
            "sandbox_cpu_seconds",
            "seconds",
            "CPU time of each process in the sandbox (RLIMIT_CPU)",
            "the process is killed (SIGXCPU, then SIGKILL)",
        ),
        LimitSpec(
            "sandbox_memory_bytes",
            "bytes",
            "address space of each process in the sandbox (RLIMIT_AS)",
            "allocations fail in that process",
        ),
        LimitSpec(
            "sandbox_processes",
            "count",
            "processes and threads the image may run at once in the sandbox (RLIMIT_NPROC)",
            "fork fails with EAGAIN (finding RT010)",
        ),
        LimitSpec(
            "sandbox_file_bytes",
            "bytes",
            "size of one file a sandboxed process writes, its output included (RLIMIT_FSIZE)",
            "the write fails (SIGXFSZ)",
        ),
        LimitSpec(
            "sandbox_open_files",
            "count",
            "open files of each process in the sandbox (RLIMIT_NOFILE)",
            "open fails with EMFILE",
        ),
        LimitSpec(
            "sandbox_tmp_bytes",
            "bytes",
            "size of each writable tmpfs in the sandbox (/tmp, /run, /var/tmp)",
            "writes fail with ENOSPC",
        ),
        LimitSpec(
            "sandbox_trace_bytes",
            "bytes",
            "the tracer's output for one run",
            "the run is stopped early; a partial-scan warning",
        ),
        LimitSpec(
            "sandbox_events",
            "count",
            "events kept from one run (a file read counts once per file)",
            "later events are counted but not kept or judged; a partial-scan warning",
        ),
        LimitSpec(
            "registry_tags", "count", "tags read from one repository's tag list", "that reference skipped"
        ),
        LimitSpec(
            "registry_pages",
            "count",
            "pages (`Link` next links) of one repository's tag list",
            "that reference skipped",
        ),
        LimitSpec(
            "fix_references",
            "count",
            "image references and dependency entries one `fix` run looks at",
            "the rest skipped, each with the reason",
        ),
        LimitSpec(
            "fix_candidates",
            "count",
            "newer tags scanned for one image reference (besides the current one)",
            "fewer candidates compared",
        ),
        LimitSpec(
            "fix_scans",
            "count",
            "images one `fix` run scans for evidence (shared layers are cached)",
            "the rest skipped, each with the reason",
        ),
    )
}

assert set(SPECS) == {f.name for f in fields(Limits)}, "every limit needs its LimitSpec"

DEFAULTS = Limits()

_lock = threading.Lock()
_active: Limits = DEFAULTS


def active() -> Limits:
    """The limits in force for this command."""
    return _active


@contextmanager
def use(limits: Limits) -> Iterator[Limits]:
    """Put `limits` in force for the duration of a command (tests nest it freely)."""
    global _active
    with _lock:
        previous, _active = _active, limits
    try:
        yield limits
    finally:
        with _lock:
            _active = previous


_SIZE = re.compile(r"(?i)^\s*(\d+)\s*(k|kb|kib|m|mb|mib|g|gb|gib|b)?\s*$")
_FACTORS = {"": 1, "b": 1, "k": KiB, "m": MiB, "g": GiB}


def parse_value(name: str, text: str) -> int:
    """An integer value for limit `name` from `text` (`512MiB`, `30`, ...)."""
    spec = SPECS.get(name)
    if spec is None:
        raise UsageError(f"unknown limit {name.replace('_', '-')!r} (known: {', '.join(known_flags())})")
    match = _SIZE.match(text)
    if match is None or (match.group(2) and spec.unit != "bytes"):
        raise UsageError(
            f"--limit {spec.flag}={text!r}: expected a whole number"
            + (" with an optional KiB/MiB/GiB suffix" if spec.unit == "bytes" else "")
        )
    value = int(match.group(1)) * _FACTORS[(match.group(2) or "")[:1].lower()]
    if value <= 0:
        raise UsageError(f"--limit {spec.flag}={text!r}: must be greater than zero")
    return value


def known_flags() -> list[str]:
    return [spec.flag for spec in SPECS.values()]


def with_overrides(base: Limits, overrides: Mapping[str, str | int]) -> Limits:
    """`base` with `overrides` applied; keys may use dashes or underscores."""
    values: dict[str, int] = {}
    for key, raw in overrides.items():
        name = key.strip().replace("-", "_")
        values[name] = parse_value(name, str(raw))
    return replace(base, **values)


def parse_assignments(items: tuple[str, ...] | list[str]) -> dict[str, str]:
    """`NAME=VALUE` items (from `--limit` or the environment variable, space-separated) as a dict."""
    parsed: dict[str, str] = {}
    for item in items:
        for word in item.split():
            name, sep, value = word.partition("=")
            if not sep or not name or not value:
                raise UsageError(f"--limit {word!r}: expected NAME=VALUE (e.g. layer-bytes=4GiB)")
            parsed[name.replace("-", "_")] = value
    return parsed


def format_value(value: int, unit: Unit) -> str:
    if unit == "bytes":
        for factor, suffix in ((GiB, "GiB"), (MiB, "MiB"), (KiB, "KiB")):
            if value >= factor and value % factor == 0:
                return f"{value // factor} {suffix}"
        return f"{value} bytes"
    if unit == "seconds":
        return f"{value} s"
    return f"{value:,}"


def table_markdown() -> str:
    """The limits table of `docs/security.md` (a test keeps the file in step with this)."""
    rows = [
        "| limit (`--limit NAME=…`, policy `limits: {NAME: …}`) | default | bounds | when exceeded |",
        "| --- | ---: | --- | --- |",
    ]
    for spec in SPECS.values():
        default = format_value(getattr(DEFAULTS, spec.name), spec.unit)
        rows.append(f"| `{spec.flag}` | {default} | {spec.bounds} | {spec.when_exceeded} |")
    return "\n".join(rows) + "\n"

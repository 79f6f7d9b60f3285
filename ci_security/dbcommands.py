"""The `db` commands' work: update, pull, push, import, info. Each is a run in the CI layer's
shape: it yields the lines to print (`ci.Line`) and returns the exit code; `cli.py` parses the
options and prints.
"""

from __future__ import annotations

import os
import re
from collections.abc import Generator
from pathlib import Path
from typing import TYPE_CHECKING

from ci_security import limits, sanitize
from ci_security.ci import Line
from ci_security.errors import EXIT_PASS, UsageError

if TYPE_CHECKING:
    from ci_security.dbartifact.artifact import RegistryAccess
    from ci_security.dbartifact.signature import Signer

Steps = Generator[Line, None, int]


def _out(text: str) -> Line:
    """A line of the command's result, for standard output: cleaned as `sanitize.log_line` cleans
    a message (it can hold a path or a registry's answer).
    """
    return Line(sanitize.log_line(text) + "\n", "report")


def update(
    path: Path,
    ecosystems: tuple[str, ...],
    *,
    mirror: str | None,
    full: bool,
    feed_mirrors: tuple[str, ...],
    nvd_api_key: str | None,
) -> Steps:
    """`db update`: download the OSV exports and the other sources (all or nothing)."""
    from ci_security.vulndb.feeds.sources import parse_feed_mirrors
    from ci_security.vulndb.sync import DEFAULT_ECOSYSTEMS, DEFAULT_MIRROR
    from ci_security.vulndb.sync import update as sync_update

    summary = sync_update(
        path,
        ecosystems or DEFAULT_ECOSYSTEMS,
        mirror=mirror or DEFAULT_MIRROR,
        full=full,
        feeds=parse_feed_mirrors(feed_mirrors),
        nvd_api_key=nvd_api_key or None,
    )
    for ecosystem, (how, count) in summary.updated.items():
        yield _out(f"{ecosystem}: {how}, {count} record(s)")
    yield _out(f"database: {path}")
    return EXIT_PASS


def check_update_from(ecosystems: tuple[str, ...], mirror: str | None, full: bool) -> None:
    """`db update --from` pulls a whole database: the options that choose what to download cannot apply."""
    given = [
        flag for flag, value in (("--ecosystem", ecosystems), ("--mirror", mirror), ("--full", full)) if value
    ]
    if given:
        raise UsageError(f"--from pulls a whole database: {', '.join(given)} cannot apply to it")


def pull(reference: str, path: Path, access: RegistryAccess, signer: Signer | None) -> Steps:
    """`db pull` (and `db update --from`): the database from a registry, when its digest changed."""
    from ci_security.dbartifact.artifact import pull as pull_artifact

    pulled = pull_artifact(reference, path, access, signer=signer)
    for warning in pulled.warnings:
        yield Line(f"ci-security: warning: {warning}")
    source = f"{pulled.reference}@{pulled.digest}"
    built = pulled.built or "at an unknown time"
    if pulled.status == "current":
        yield _out(f"{source}: the database is current (built {built}); nothing downloaded")
    else:
        yield _out(f"{source}: pulled (built {built})")
    yield _out(f"database: {path}")
    return EXIT_PASS


def push(
    path: Path,
    references: tuple[str, ...],
    access: RegistryAccess,
    *,
    chunk_size: str | None,
    source: str | None,
) -> Steps:
    """`db push`: the database as an OCI artifact to each reference."""
    from ci_security.dbartifact.artifact import push as push_artifact

    size = parse_size(chunk_size, "--chunk-size") if chunk_size else None
    done = push_artifact(path, references, access, chunk_size=size, source=source or ci_source())
    for pushed in done:
        blobs = ", ".join(f"{digest[:19]} {how}" for digest, how in pushed.blobs)
        yield _out(f"{pushed.reference}@{pushed.digest}: pushed ({blobs})")
    return EXIT_PASS


def parse_size(text: str, flag: str) -> int:
    """A size such as `64MiB`, `512k` or `1048576`, in bytes."""
    match = re.fullmatch(r"(?i)\s*(\d+)\s*(k|kib|m|mib|g|gib)?\s*", text)
    if match is None or int(match.group(1)) <= 0:
        raise UsageError(f"{flag} {text!r}: expected a size such as 64MiB")
    factor = {"": 1, "k": limits.KiB, "m": limits.MiB, "g": limits.GiB}[(match.group(2) or "")[:1].lower()]
    return int(match.group(1)) * factor


def ci_source() -> str | None:
    """The CI project's URL, when the CI system says it (GitHub Actions, GitLab CI)."""
    server, repository = os.environ.get("GITHUB_SERVER_URL"), os.environ.get("GITHUB_REPOSITORY")
    if server and repository:
        return f"{server.rstrip('/')}/{repository}"
    return os.environ.get("CI_PROJECT_URL") or None


def import_(path: Path, paths: tuple[Path, ...]) -> Steps:
    """`db import`: OSV records and feed files from files, folders or exports."""
    from ci_security.vulndb.dbimport import import_paths

    summary = import_paths(path, paths)
    for ecosystem, count in sorted(summary.stored.items()):
        yield _out(f"{ecosystem}: {count} record(s)")
    for skipped in summary.skipped:
        yield Line(f"skipped (not an OSV record): {skipped}")
    yield _out(f"database: {path}")
    return EXIT_PASS


def info(path: Path) -> Steps:
    """`db info`: what the database holds and how old it is."""
    from ci_security.vulndb.store import VulnDB

    with VulnDB(path) as vdb:
        total, withdrawn = vdb.count()
        lines = [
            f"database:  {vdb.path}",
            f"schema:    {vdb.meta('schema_version')}",
            f"updated:   {vdb.updated() or 'unknown'}",
        ]
        hours = vdb.age_hours()
        if hours is not None:
            lines.append(f"age:       {int(hours // 24)} d {int(hours % 24)} h")
        lines.append(f"records:   {total} ({withdrawn} withdrawn, not matched)")
        rated, kev, epss = (vdb.count_rows(t) for t in ("cve_rating", "kev", "epss"))
        lines.append(
            f"cves:      {rated} CVSS record(s) (NVD, CVE 5), {kev} in CISA KEV, {epss} EPSS score(s)"
        )
        for name, origin, records, last_modified, imported_at in vdb.source_rows():
            lines.append(
                f"source:    {name}: {records} record(s), newest {last_modified or '-'}, "
                f"imported {imported_at} from {origin}"
            )
    for line in lines:
        yield _out(line)
    return EXIT_PASS

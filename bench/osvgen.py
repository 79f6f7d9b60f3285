#!/usr/bin/env python3
"""A synthetic OSV export of realistic size and shape, generated here (no third-party data).

`python3 bench/osvgen.py OUT [--records N]` writes, per ecosystem, what the OSV bucket serves:
`OUT/<ECOSYSTEM>/all.zip` (one `<ID>.json` per record, deflated) and `OUT/<ECOSYSTEM>/modified_id.csv`
(`<modified>,<id>` rows, newest first). The mix follows the bucket's proportions for the ecosystems
a container scan uses most (counts for the default 300,000):

| ecosystem | records | ids, as the real feeds name them |
| --- | ---: | --- |
| Debian | 60,000 | `DEBIAN-CVE-*`, `DSA-*`, `DLA-*`: one entry per release, with `versions[]` |
| Ubuntu | 50,000 | `UBUNTU-CVE-*`, `USN-*`: per release, priority + CVSS, binaries |
| Alpine | 15,000 | `ALPINE-CVE-*`: per branch (`Alpine:v3.20`), `-rN` fixed versions |
| npm | 140,000 | 120,000 `MAL-*` (malicious packages, OpenSSF's shape), 20,000 `GHSA-*` |
| PyPI | 25,000 | 8,000 `MAL-*`, 9,000 `PYSEC-*` (ECOSYSTEM + GIT ranges), 8,000 `GHSA-*` |
| Maven | 10,000 | `GHSA-*` (`groupId:artifactId`, ECOSYSTEM ranges) |

Other record counts scale every row alike. The same seed gives the same export, byte for byte, so
runs compare like with like.
"""

from __future__ import annotations

import argparse
import csv
import io
import itertools
import json
import random
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

DEFAULT_RECORDS = 300_000
# (ecosystem, records out of 300,000); another total scales every row alike.
MIX = (
    ("Debian", 60_000),
    ("Ubuntu", 50_000),
    ("Alpine", 15_000),
    ("npm", 140_000),
    ("PyPI", 25_000),
    ("Maven", 10_000),
)
VERSION = "1"  # bump when the output changes, so cached exports are rebuilt

_CVSS = (
    "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
    "CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:U/C:H/I:H/A:H",
    "CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:U/C:H/I:N/A:N",
    "CVSS:3.1/AV:L/AC:L/PR:L/UI:N/S:U/C:H/I:H/A:H",
    "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H",
    "CVSS:3.1/AV:N/AC:L/PR:L/UI:N/S:U/C:L/I:L/A:N",
    "CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:C/C:L/I:L/A:N",
    "CVSS:3.1/AV:L/AC:H/PR:L/UI:N/S:U/C:H/I:N/A:N",
    "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N",
    "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:L/I:N/A:N",
)
_TEXT = (
    "buffer overflow heap use-after-free out-of-bounds read write integer null pointer dereference "
    "denial of service remote attacker crafted request allows arbitrary code execution via the parser "
    "in the function when handling malformed input leading to memory corruption information disclosure "
    "improper validation of certificate path traversal server-side request forgery prototype pollution "
    "regular expression complexity cross-site scripting sanitisation of user supplied data"
)
_WORDS = tuple(_TEXT.split())
_DEBIAN_RELEASES = ("Debian:11", "Debian:12", "Debian:13")
_UBUNTU_RELEASES = (
    "Ubuntu:20.04:LTS",
    "Ubuntu:22.04:LTS",
    "Ubuntu:24.04:LTS",
    "Ubuntu:24.10",
    "Ubuntu:Pro:18.04:LTS",
)
_ALPINE_BRANCHES = ("Alpine:v3.18", "Alpine:v3.19", "Alpine:v3.20", "Alpine:v3.21")
_URGENCY = ("low", "medium", "high", "unimportant", "not yet assigned")
_PRIORITY = ("negligible", "low", "medium", "high", "critical")
_GHSA_SEVERITY = ("LOW", "MODERATE", "HIGH", "CRITICAL")


def _ghsa_id(rng: random.Random) -> str:
    alphabet = "23456789cfghjmpqrvwx"
    return "GHSA-" + "-".join("".join(rng.choice(alphabet) for _ in range(4)) for _ in range(3))


def _text(rng: random.Random, low: int, high: int) -> str:
    return " ".join(rng.choice(_WORDS) for _ in range(rng.randint(low, high))).capitalize() + "."


def _stamp(rng: random.Random) -> str:
    return (
        f"20{rng.randint(18, 26):02d}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}T"
        f"{rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}:{rng.randint(0, 59):02d}Z"
    )


class _Names:
    """Package-name pools, so packages get several advisories each, as real ones do."""

    def __init__(self, rng: random.Random) -> None:
        syll = ("lib", "py", "node", "core", "net", "http", "xml", "json", "ssl", "crypt", "img", "z", "db")
        tail = ("utils", "parser", "client", "server", "tools", "kit", "js", "io", "base", "ng", "lite")
        self.source = sorted(
            {f"{rng.choice(syll)}{rng.choice(tail)}{rng.randint(0, 400)}" for _ in range(4000)}
        )
        self.npm = sorted(
            {f"{rng.choice(syll)}-{rng.choice(tail)}-{rng.randint(0, 99999)}" for _ in range(150_000)}
        )
        self.scoped = [f"@{rng.choice(syll)}{rng.randint(0, 99)}/{n}" for n in self.npm[:20_000]]
        self.pypi = sorted(
            {f"{rng.choice(syll)}-{rng.choice(tail)}{rng.randint(0, 9999)}" for _ in range(30_000)}
        )
        self.maven = sorted(
            {
                f"org.{rng.choice(syll)}{rng.randint(0, 300)}:{rng.choice(tail)}-{rng.choice(syll)}"
                for _ in range(6000)
            }
        )


def _deb_versions(rng: random.Random, count: int) -> list[str]:
    major, minor = rng.randint(0, 9), rng.randint(0, 30)
    out = []
    for i in range(count):
        out.append(f"{major}.{minor}.{i}-{rng.randint(1, 4)}" + (f"+deb12u{i}" if i % 3 == 2 else ""))
    return out


def _semver_versions(rng: random.Random, count: int) -> list[str]:
    major = rng.randint(0, 12)
    return [f"{major}.{i // 5}.{i % 5}" for i in range(count)]


def _references(rng: random.Random, ident: str, count: int) -> list[dict[str, str]]:
    kinds = ("ADVISORY", "WEB", "FIX", "REPORT", "PACKAGE")
    return [
        {"type": rng.choice(kinds), "url": f"https://example.org/advisories/{ident.lower()}/{i}"}
        for i in range(count)
    ]


def _debian(rng: random.Random, names: _Names, n: int) -> dict[str, Any]:
    package = rng.choice(names.source)
    cve = f"CVE-{rng.randint(2005, 2026)}-{rng.randint(1000, 59999)}"
    kind = rng.random()
    ident = f"DEBIAN-{cve}" if kind < 0.83 else (f"DSA-{5000 + n}-1" if kind < 0.9 else f"DLA-{3000 + n}-1")
    affected = []
    for release in rng.sample(_DEBIAN_RELEASES, rng.randint(1, 3)):
        versions = _deb_versions(rng, rng.randint(3, 18))
        events: list[dict[str, str]] = [{"introduced": "0"}]
        if rng.random() < 0.8:
            events.append({"fixed": versions[-1] + "+fix1"})
        affected.append(
            {
                "package": {
                    "ecosystem": release,
                    "name": package,
                    "purl": f"pkg:deb/debian/{package}?arch=source",
                },
                "ranges": [{"type": "ECOSYSTEM", "events": events}],
                "versions": versions,
                "ecosystem_specific": {"urgency": rng.choice(_URGENCY)},
            }
        )
    return {
        "id": ident,
        "schema_version": "1.6.0",
        "modified": _stamp(rng),
        "published": _stamp(rng),
        "upstream": [cve],
        "details": _text(rng, 20, 80),
        "affected": affected,
        "references": _references(rng, ident, rng.randint(1, 3)),
    }


def _ubuntu(rng: random.Random, names: _Names, n: int) -> dict[str, Any]:
    package = rng.choice(names.source)
    cve = f"CVE-{rng.randint(2005, 2026)}-{rng.randint(1000, 59999)}"
    ident = f"UBUNTU-{cve}" if n % 10 else f"USN-{6000 + n // 10}-1"
    severity = [{"type": "Ubuntu", "score": rng.choice(_PRIORITY)}]
    if rng.random() < 0.7:
        severity.append({"type": "CVSS_V3", "score": rng.choice(_CVSS[:8])})
    affected = []
    for release in rng.sample(_UBUNTU_RELEASES, rng.randint(1, 4)):
        versions = _deb_versions(rng, rng.randint(2, 12))
        fixed = versions[-1] + "ubuntu0.1"
        affected.append(
            {
                "package": {
                    "ecosystem": release,
                    "name": package,
                    "purl": f"pkg:deb/ubuntu/{package}?arch=source",
                },
                "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": fixed}]}],
                "versions": versions,
                "ecosystem_specific": {
                    "binaries": [
                        {"binary_name": f"{package}{suffix}", "binary_version": fixed}
                        for suffix in ("", "-dev", "-doc")[: rng.randint(1, 3)]
                    ],
                    "availability": "No subscription required",
                },
            }
        )
    return {
        "id": ident,
        "schema_version": "1.6.3",
        "modified": _stamp(rng),
        "published": _stamp(rng),
        "upstream": [cve],
        "summary": f"{package} vulnerability",
        "details": _text(rng, 20, 70),
        "severity": severity,
        "affected": affected,
        "references": _references(rng, ident, rng.randint(2, 5)),
    }


def _alpine(rng: random.Random, names: _Names, n: int) -> dict[str, Any]:
    package = rng.choice(names.source)
    cve = f"CVE-{rng.randint(2005, 2026)}-{rng.randint(1000, 59999)}"
    affected = [
        {
            "package": {"ecosystem": branch, "name": package, "purl": f"pkg:apk/alpine/{package}"},
            "ranges": [
                {
                    "type": "ECOSYSTEM",
                    "events": [
                        {"introduced": "0"},
                        {
                            "fixed": f"{rng.randint(0, 9)}.{rng.randint(0, 40)}.{rng.randint(0, 20)}"
                            f"-r{rng.randint(0, 6)}"
                        },
                    ],
                }
            ],
        }
        for branch in rng.sample(_ALPINE_BRANCHES, rng.randint(1, 4))
    ]
    return {
        "id": f"ALPINE-{cve}",
        "schema_version": "1.6.0",
        "modified": _stamp(rng),
        "published": _stamp(rng),
        "upstream": [cve],
        "details": _text(rng, 15, 60),
        "affected": affected,
        "references": _references(rng, cve, rng.randint(1, 2)),
    }


def _malicious(rng: random.Random, ecosystem: str, name: str, n: int) -> dict[str, Any]:
    ident = f"MAL-{rng.randint(2022, 2026)}-{n}"
    entry: dict[str, Any] = {"package": {"ecosystem": ecosystem, "name": name}}
    if rng.random() < 0.6:
        entry["versions"] = _semver_versions(rng, rng.randint(1, 4))
    else:
        entry["ranges"] = [{"type": "SEMVER", "events": [{"introduced": "0"}]}]
    entry["database_specific"] = {
        "source": f"https://github.com/ossf/malicious-packages/blob/main/osv/malicious/{ident}.json"
    }
    return {
        "id": ident,
        "schema_version": "1.5.0",
        "modified": _stamp(rng),
        "published": _stamp(rng),
        "summary": f"Malicious code in {name} ({ecosystem})",
        "details": "\n---\n_-= Per source details. Do not edit below this line.=-_\n\n"
        "## Source: ghsa-malware\n" + _text(rng, 15, 40),
        "affected": [entry],
        "references": [{"type": "WEB", "url": f"https://socket.dev/{ecosystem.lower()}/package/{name}"}],
        "database_specific": {
            "malicious-packages-origins": [
                {
                    "source": rng.choice(
                        ("ghsa-malware", "amazon-inspector", "socket", "ossf-package-analysis")
                    ),
                    "import_time": _stamp(rng),
                    "modified_time": _stamp(rng),
                    "versions": entry.get("versions", []),
                }
            ]
        },
        "credits": [{"name": "OpenSSF: Package Analysis", "type": "FINDER"}],
    }


def _ghsa(rng: random.Random, ecosystem: str, name: str, range_type: str) -> dict[str, Any]:
    ident = _ghsa_id(rng)
    cve = f"CVE-{rng.randint(2015, 2026)}-{rng.randint(1000, 59999)}"
    versions = _semver_versions(rng, rng.randint(4, 30))
    fix = rng.randint(1, len(versions) - 1)
    entry: dict[str, Any] = {
        "package": {"ecosystem": ecosystem, "name": name},
        "ranges": [
            {
                "type": range_type,
                "events": [{"introduced": versions[rng.randint(0, fix - 1)]}, {"fixed": versions[fix]}],
            }
        ],
        "database_specific": {
            "source": f"https://github.com/github/advisory-database/blob/main/advisories/{ident}.json"
        },
    }
    if range_type == "ECOSYSTEM":
        entry["versions"] = versions[:fix]
    return {
        "id": ident,
        "schema_version": "1.4.0",
        "modified": _stamp(rng),
        "published": _stamp(rng),
        "aliases": [cve],
        "summary": _text(rng, 5, 12),
        "details": _text(rng, 40, 160),
        "severity": [{"type": "CVSS_V3", "score": rng.choice(_CVSS)}],
        "affected": [entry],
        "references": _references(rng, ident, rng.randint(2, 8)),
        "database_specific": {
            "cwe_ids": [f"CWE-{rng.randint(20, 1300)}"],
            "severity": rng.choice(_GHSA_SEVERITY),
            "github_reviewed": True,
            "github_reviewed_at": _stamp(rng),
            "nvd_published_at": _stamp(rng),
        },
    }


def _pysec(rng: random.Random, name: str, n: int) -> dict[str, Any]:
    versions = _semver_versions(rng, rng.randint(5, 60))
    fix = rng.randint(1, len(versions) - 1)
    return {
        "id": f"PYSEC-{rng.randint(2014, 2026)}-{n}",
        "modified": _stamp(rng),
        "published": _stamp(rng),
        "aliases": [f"CVE-{rng.randint(2014, 2026)}-{rng.randint(1000, 59999)}"],
        "details": _text(rng, 20, 90),
        "affected": [
            {
                "package": {"ecosystem": "PyPI", "name": name, "purl": f"pkg:pypi/{name}"},
                "ranges": [
                    {
                        "type": "GIT",
                        "repo": f"https://github.com/example/{name}",
                        "events": [{"introduced": "0"}, {"fixed": f"{rng.getrandbits(160):040x}"}],
                    },
                    {"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": versions[fix]}]},
                ],
                "versions": versions[:fix],
            }
        ],
        "references": _references(rng, name, rng.randint(1, 4)),
    }


def generate(ecosystem: str, seed: int) -> Iterator[dict[str, Any]]:
    """Records of `ecosystem`, without end (ids may repeat: the writer keeps the first)."""
    rng = random.Random(f"{seed}-{ecosystem}")
    names = _Names(random.Random(seed))
    for n in itertools.count():
        if ecosystem == "Debian":
            yield _debian(rng, names, n)
        elif ecosystem == "Ubuntu":
            yield _ubuntu(rng, names, n)
        elif ecosystem == "Alpine":
            yield _alpine(rng, names, n)
        elif ecosystem == "npm":
            pool = names.scoped if n % 7 == 0 else names.npm
            yield (
                _malicious(rng, "npm", rng.choice(pool), n)
                if n % 7 < 6
                else _ghsa(rng, "npm", rng.choice(pool), "SEMVER")
            )
        elif ecosystem == "PyPI":
            name = rng.choice(names.pypi)
            kind = n % 25
            if kind < 8:
                yield _malicious(rng, "PyPI", name, 1_000_000 + n)  # MAL ids are unique across ecosystems
            elif kind < 17:
                yield _pysec(rng, name, n)
            else:
                yield _ghsa(rng, "PyPI", name, "ECOSYSTEM")
        elif ecosystem == "Maven":
            yield _ghsa(rng, "Maven", rng.choice(names.maven), "ECOSYSTEM")
        else:
            raise ValueError(ecosystem)


def counts(total: int) -> dict[str, int]:
    whole = sum(share for _, share in MIX)
    out = {eco: total * share // whole for eco, share in MIX}
    out[MIX[0][0]] += total - sum(out.values())
    return out


def write_export(out: Path, total: int = DEFAULT_RECORDS, seed: int = 18) -> dict[str, int]:
    """Write the export under `out`; returns the records per ecosystem."""
    planned = counts(total)
    for ecosystem, count in planned.items():
        folder = out / ecosystem
        folder.mkdir(parents=True, exist_ok=True)
        rows: dict[str, str] = {}
        with zipfile.ZipFile(folder / "all.zip.part", "w", zipfile.ZIP_DEFLATED) as archive:
            for doc in generate(ecosystem, seed):
                if len(rows) == count:
                    break
                if doc["id"] in rows:  # a repeated random id: keep one record per id, as OSV does
                    continue
                rows[doc["id"]] = doc["modified"]
                info = zipfile.ZipInfo(f"{doc['id']}.json", date_time=(2026, 1, 1, 0, 0, 0))
                info.compress_type = zipfile.ZIP_DEFLATED
                archive.writestr(info, json.dumps(doc, indent=2))
        (folder / "all.zip.part").replace(folder / "all.zip")
        listing = io.StringIO()
        writer = csv.writer(listing, lineterminator="\n")
        for record_id, modified in sorted(rows.items(), key=lambda item: (item[1], item[0]), reverse=True):
            writer.writerow([modified, record_id])
        (folder / "modified_id.csv").write_text(listing.getvalue())
        planned[ecosystem] = len(rows)
    return planned


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--records", type=int, default=DEFAULT_RECORDS)
    parser.add_argument("--seed", type=int, default=18)
    args = parser.parse_args()
    written = write_export(args.out, args.records, args.seed)
    for ecosystem, count in written.items():
        print(f"{ecosystem}: {count:,} records")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""DF017: package signature or integrity verification disabled.

Flagged in RUN commands: apt-get/apt `--allow-unauthenticated`, `--force-yes`,
`--allow-insecure-repositories`; `apk --allow-untrusted` when it installs or fetches (not `apk
index`, which builds a local index); yum/dnf/microdnf/tdnf `--nogpgcheck`;
zypper `--no-gpg-checks`; rpm `--nosignature`, `--nodigest`, `--nofiledigest`, `--noverify`,
`--nogpgcheck`. Anywhere in a RUN's text (so also in configuration written with `echo` or a
here-document): apt `AllowUnauthenticated`/`AllowInsecureRepositories`/
`AllowDowngradeToInsecureRepositories` set to true, a `[trusted=yes]` or `[allow-insecure=yes]`
sources entry for a remote repository (a local `file:` repository built in the image, as the
official postgres and nginx images do, fetches nothing a signature would protect), and
`gpgcheck=0` (also `repo_gpgcheck`, `--setopt=…gpgcheck=0`). In ENV, ARG and RUN variables:
`GOSUMDB=off`, which turns off Go's module checksum database.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import ClassVar

from ci_security.manifests.dockerfile import Dockerfile
from ci_security.manifests.shell import Command, Options, parse_options
from ci_security.models import Severity
from ci_security.rules.base import Hit, RuleMeta
from ci_security.rules.dockerfile.common import (
    apk_options,
    apt_options,
    rpm_manager,
    rpm_options,
    verification_hits,
)

_APT_FLAGS = ("allow-unauthenticated", "force-yes", "allow-insecure-repositories")
_RPM_FLAGS = ("nosignature", "nodigest", "nofiledigest", "noverify", "nogpgcheck")
_TEXT = (
    (
        "apt AllowUnauthenticated/AllowInsecureRepositories",
        re.compile(
            r"Allow(?:Unauthenticated|InsecureRepositories|DowngradeToInsecureRepositories)"
            r"(?:\s*=\s*|\s+)[\"']?(?:true|1|yes)\b",
            re.I,
        ),
    ),
    (
        "apt source marked trusted=yes",
        # A local repository (`deb [trusted=yes] file:/tmp/debs ./`) is not fetched from anywhere. No
        # `[` inside the brackets: from each `[` the search stops at the next one, so a line of
        # thousands of `[` is linear (apt's option lists never hold one).
        re.compile(
            r"\[[^\][]*\b(?:trusted|allow-insecure)=yes\b[^\][]*\](?![ \t]*[\"']?(?:file|copy|cdrom):)", re.I
        ),
    ),
    ("gpgcheck=0", re.compile(r"gpgcheck\s*=\s*[\"']?(?:0|false|no)\b", re.I)),
)


def unverified_variable(name: str, value: str) -> str | None:
    if name.upper() == "GOSUMDB" and value.strip().lower() == "off":
        return "GOSUMDB=off"
    return None


_APK_FETCHING = frozenset({"add", "upgrade", "fix", "fetch", "update", "cache"})


def _apk_fetches_untrusted(options: Options) -> bool:
    """Whether `apk --allow-untrusted` lets unsigned packages in: not for actions that install nothing
    (`apk index --allow-untrusted` builds a local index, which `abuild-sign` then signs, as the
    official nginx image does when it builds its own packages).
    """
    action = options.positionals[0] if options.positionals else ""
    return not action or action in _APK_FETCHING


def _command_problems(command: Command) -> Iterator[str]:
    for key, value in command.env:
        if (problem := unverified_variable(key, value)) is not None:
            yield problem
    if command.name == "export":
        for arg in command.args:
            key, eq, value = arg.partition("=")
            if eq and (problem := unverified_variable(key, value)) is not None:
                yield problem
    apt = apt_options(command)
    if apt is not None:
        yield from (f"{command.name} --{flag}" for flag in _APT_FLAGS if apt.has(flag))
        return
    apk = apk_options(command)
    if apk is not None:
        if apk.has("allow-untrusted") and _apk_fetches_untrusted(apk):
            yield "apk --allow-untrusted"
        return
    manager = rpm_manager(command)
    if manager is not None:
        options = rpm_options(command)
        if options is not None and options.has("nogpgcheck", "no-gpg-checks"):
            yield f"{manager} --{'no-gpg-checks' if manager == 'zypper' else 'nogpgcheck'}"
        return
    if command.name == "rpm":
        options = parse_options(command.args, frozenset("rD") | {"root", "dbpath", "define"})
        yield from (f"rpm --{flag}" for flag in _RPM_FLAGS if options.has(flag))


class Df017SignatureCheckDisabled:
    meta: ClassVar[RuleMeta] = RuleMeta(
        id="DF017",
        kind="dockerfile",
        title="Package signature verification disabled",
        severity=Severity.HIGH,
        rationale="Package signatures are what proves a package comes from the distribution or vendor; "
        "with the check off, a mirror, proxy or attacker on the network can install any package it likes "
        "as root in the image.",
        remediation="Remove the option; import the repository's signing key instead (`apt`: `signed-by=` "
        "with the key in `/etc/apt/keyrings`; `rpm --import <key>`; `apk` keys in `/etc/apk/keys`).",
        references=(
            "https://wiki.debian.org/SecureApt",
            "https://wiki.alpinelinux.org/wiki/Alpine_Package_Keeper",
            "https://go.dev/ref/mod#checksum-database",
        ),
        peers=(
            ("checkov", "CKV2_DOCKER_7"),
            ("checkov", "CKV2_DOCKER_8"),
            ("checkov", "CKV2_DOCKER_9"),
            ("checkov", "CKV2_DOCKER_10"),
            ("checkov", "CKV2_DOCKER_11"),
        ),
    )

    def check(self, dockerfile: Dockerfile) -> Iterator[Hit]:
        return verification_hits(
            dockerfile,
            "package signature verification",
            unverified_variable,
            _command_problems,
            _TEXT,
            setting_what="package verification",
        )

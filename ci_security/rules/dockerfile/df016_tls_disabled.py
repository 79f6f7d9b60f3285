"""DF016: TLS certificate verification disabled.

Flagged in RUN commands (their command lines, `sh -c` strings and shell here-documents):
`curl -k`/`--insecure`/`--proxy-insecure`, `wget --no-check-certificate`, any pip command with
`--trusted-host` (or `pip config set …trusted-host`), `npm`/`yarn`/`pnpm` setting `strict-ssl` to
false, `git config http.sslVerify false` or `git -c http.sslVerify=false`; anywhere in a RUN's text
(so also in configuration written with `echo`/`cat <<EOF`): apt's `Acquire::https::Verify-Peer` or
`Verify-Host` set to false, yum/dnf `sslverify=0|false|no`, wget's `check_certificate = off`.
Flagged as variables, in ENV, ARG defaults and RUN assignments/`export`: `PYTHONHTTPSVERIFY=0`,
`NODE_TLS_REJECT_UNAUTHORIZED=0`, `NPM_CONFIG_STRICT_SSL=false` (any case), `GIT_SSL_NO_VERIFY`,
`PIP_TRUSTED_HOST`, `GOINSECURE` (any value), `GOFLAGS` containing `-insecure`.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator
from typing import ClassVar

from ci_security.manifests.dockerfile import Dockerfile
from ci_security.manifests.shell import Command, parse_options
from ci_security.models import Severity
from ci_security.rules.base import Hit, RuleMeta
from ci_security.rules.dockerfile.common import pip_args, verification_hits

_CURL_WITH_VALUE = frozenset("AbcCdDeEFHKmoPQrTtuUwxXyYz") | {
    "output",
    "header",
    "data",
    "user",
    "request",
    "cacert",
    "capath",
    "cert",
    "key",
    "proxy",
    "write-out",
    "config",
}
_TEXT = (
    (
        "apt Verify-Peer/Verify-Host false",
        re.compile(r"::Verify-(?:Peer|Host)(?:\s*=\s*|\s+)[\"']?(?:false|0|no)\b", re.I),
    ),
    (
        "yum/dnf sslverify off",
        re.compile(r"(?<!http\.)(?<!/\.)\bsslverify\s*=\s*[\"']?(?:0|false|no)\b", re.I),
    ),
    ("wget check_certificate off", re.compile(r"\bcheck_certificate\s*=\s*(?:off|0|false|no)\b", re.I)),
)
_FALSE = frozenset({"false", "0", "no", "off"})
_GIT_KEY = re.compile(r"http(?:\..+)?\.sslverify", re.I)


def insecure_variable(name: str, value: str) -> str | None:
    """What setting `name=value` (an ENV, ARG or shell variable) disables, if anything."""
    upper, lowered = name.upper(), value.strip().lower()
    if upper in ("PYTHONHTTPSVERIFY", "NODE_TLS_REJECT_UNAUTHORIZED") and lowered == "0":
        return f"{name}=0"
    if upper in ("NPM_CONFIG_STRICT_SSL", "YARN_STRICT_SSL", "YARN_ENABLE_STRICT_SSL") and lowered in _FALSE:
        return f"{name}={value.strip()}"
    if upper == "GIT_SSL_NO_VERIFY":
        return "GIT_SSL_NO_VERIFY"
    if upper in ("PIP_TRUSTED_HOST", "GOINSECURE") and lowered:
        return name
    if upper == "GOFLAGS" and "-insecure" in lowered.split():
        return "GOFLAGS=-insecure"
    return None


def _command_problems(command: Command) -> Iterator[str]:
    name, args = command.name, command.args
    for key, value in command.env:
        if (problem := insecure_variable(key, value)) is not None:
            yield problem
    if name == "export":
        for arg in args:
            key, eq, value = arg.partition("=")
            if eq and (problem := insecure_variable(key, value)) is not None:
                yield problem
    if name == "curl":
        options = parse_options(args, _CURL_WITH_VALUE)
        if options.has("k", "insecure", "proxy-insecure"):
            yield "curl --insecure"
    elif name == "wget":
        options = parse_options(args)
        if options.has("no-check-certificate") or "off" in options.values("check-certificate"):
            yield "wget --no-check-certificate"
    elif (pip := pip_args(command)) is not None:
        if any(
            a == "--trusted-host" or a.startswith("--trusted-host=") or a.endswith(".trusted-host")
            for a in pip
        ):
            yield "pip --trusted-host"
    elif name in ("npm", "yarn", "pnpm"):
        lowered = [a.lower() for a in args]
        # Each word with the one after it (the last with ""); `npm` alone has no pairs.
        pairs = itertools.pairwise([*lowered, ""])
        if any(a in ("--no-strict-ssl", "--strict-ssl=false", "strict-ssl=false") for a in lowered) or any(
            a.lstrip("-") in ("strict-ssl", "enablestrictssl") and b in _FALSE for a, b in pairs
        ):
            yield f"{name} strict-ssl false"
    elif name == "git":
        for k, arg in enumerate(args):
            key, eq, value = arg.partition("=")
            if not _GIT_KEY.fullmatch(key):
                continue
            setting = value if eq else (args[k + 1] if k + 1 < len(args) else "")
            if setting.lower() in _FALSE:
                yield "git http.sslVerify false"
                break


class Df016TlsDisabled:
    meta: ClassVar[RuleMeta] = RuleMeta(
        id="DF016",
        kind="dockerfile",
        title="TLS certificate verification disabled",
        severity=Severity.HIGH,
        rationale="Without certificate verification anyone on the network path (a proxy, a poisoned DNS "
        "answer, a hostile Wi-Fi or CI network) can serve the download, so the packages, scripts and "
        "credentials the build handles are theirs to replace or read; set in ENV it stays off at runtime.",
        remediation="Remove the option or variable; when a corporate proxy re-signs TLS, add its CA to the "
        "trust store (`COPY proxy-ca.crt /usr/local/share/ca-certificates/` + `update-ca-certificates`) "
        "or pass it with `--cacert`, `PIP_CERT`, `NODE_EXTRA_CA_CERTS`.",
        references=(
            "https://pip.pypa.io/en/stable/topics/https-certificates/",
            "https://nodejs.org/api/cli.html#node_tls_reject_unauthorizedvalue",
            "https://git-scm.com/docs/git-config#Documentation/git-config.txt-httpsslVerify",
        ),
        peers=(
            ("checkov", "CKV2_DOCKER_2"),
            ("checkov", "CKV2_DOCKER_3"),
            ("checkov", "CKV2_DOCKER_4"),
            ("checkov", "CKV2_DOCKER_5"),
            ("checkov", "CKV2_DOCKER_6"),
            ("checkov", "CKV2_DOCKER_12"),
            ("checkov", "CKV2_DOCKER_13"),
            ("checkov", "CKV2_DOCKER_14"),
            ("checkov", "CKV2_DOCKER_15"),
            ("checkov", "CKV2_DOCKER_16"),
            ("checkov", "CKV2_DOCKER_18"),
        ),
    )

    def check(self, dockerfile: Dockerfile) -> Iterator[Hit]:
        return verification_hits(dockerfile, "TLS verification", insecure_variable, _command_problems, _TEXT)

"""K8S033: a container's environment holds a secret as a literal `value`.

Two signals, checked on every `env` entry that has a literal string `value` (never on `valueFrom`):
- the value's shape: AWS access key ids, GitHub, GitLab, Slack and Stripe tokens, Google API keys,
  PEM private keys, JWTs, and URLs with a password (`postgres://app:pw@db`);
- the variable's name says it is a secret (password, secret, token, api key, private key,
  credential, …), unless the name says it is about one (`…_FILE`, `…_PATH`, `…_URL`, `…_TTL`,
  `…_ENABLED`, `…_NAME`, …) or the value cannot be one: empty, a reference (`$(VAR)`, `${VAR}`),
  a file path, a boolean, a short number or a placeholder (`GOOGLE_API_KEY_VAL`, `changeme`,
  `<your-key>`, `xxx`: `rules.placeholders`).
A value with a credential's shape is not reported when it is a documentation sample or filler
(`AKIAIOSFODNN7EXAMPLE`, `ghp_xxxx…`). The message names the variable and why, never the value. One
finding per entry, at its `value`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import ClassVar

from ci_security.manifests.kubernetes import K8sObject
from ci_security.models import Severity
from ci_security.rules.base import Hit, RuleMeta
from ci_security.rules.kubernetes.common import kube_linter, where
from ci_security.rules.placeholders import is_placeholder, looks_fake, url_with_password

_SECRET_NAME = re.compile(
    r"passw(?:or)?d|passwd|pwd|secret|token|api[_-]?key|private[_-]?key|credential|access[_-]?key|"
    r"auth[_-]?key|signing[_-]?key|encryption[_-]?key|master[_-]?key|conn(?:ection)?[_-]?string",
    re.IGNORECASE,
)
_ABOUT_A_SECRET = re.compile(
    r"[_-](?:FILE|PATH|DIR|URL|URI|ENDPOINT|HOST|PORT|NAME|KEY_?ID|ID|TTL|EXPIRY|EXPIRES|EXPIRATION|"
    r"TIMEOUT|LENGTH|LEN|SIZE|ENABLED|DISABLED|ENABLE|REQUIRED|HEADER|TYPE|MODE|REF|VERSION|ALGORITHM|"
    r"FORMAT|LOCATION|PROVIDER|AUDIENCE|ISSUER|FIELD|INTERVAL|PERIOD|COUNT|MIN|MAX|RETRIES|LIFETIME|"
    r"DURATION|SECONDS|MINUTES|HOURS|DAYS|POLICY|PREFIX|SCOPE|SCOPES|REGION)$",
    re.IGNORECASE,
)
_SHAPES = (
    ("an AWS access key id", re.compile(r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b")),
    ("a GitHub token", re.compile(r"\b(?:gh[pousr]_[A-Za-z0-9]{36,}|github_pat_[A-Za-z0-9_]{22,})")),
    ("a GitLab token", re.compile(r"\bglpat-[A-Za-z0-9_-]{20,}")),
    ("a Slack token", re.compile(r"\bxox[abposr]-[A-Za-z0-9-]{10,}")),
    ("a Stripe live key", re.compile(r"\b[rs]k_live_[A-Za-z0-9]{20,}")),
    ("a Google API key", re.compile(r"\bAIza[0-9A-Za-z_-]{35}\b")),
    ("a private key", re.compile(r"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY-----")),
    ("a JWT", re.compile(r"\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}")),
)
_NOT_A_SECRET = re.compile(r"\$\(|\$\{|\{\{|^/|^\./|^(?:true|false|yes|no|on|off|[0-9]{1,5})$", re.I)


def _why(name: str, value: str) -> str | None:
    for label, pattern in _SHAPES:
        if any(not looks_fake(match.group(0)) for match in pattern.finditer(value)):
            return f"the value looks like {label}"
    if url_with_password(value):
        return "the value looks like a URL with a password"
    if (
        _SECRET_NAME.search(name)
        and not _ABOUT_A_SECRET.search(name)
        and not _NOT_A_SECRET.search(value)
        and not is_placeholder(value, name)
    ):
        return "the name says it is a secret"
    return None


class K8s033EnvSecret:
    meta: ClassVar[RuleMeta] = RuleMeta(
        id="K8S033",
        kind="kubernetes",
        title="Secret in a plaintext environment variable",
        severity=Severity.HIGH,
        rationale="A secret written into the manifest is readable by everyone with access to the "
        "repository, its history and CI logs, and by anyone who can read the workload's spec in the "
        "cluster; it cannot be rotated without a commit.",
        remediation="Move the value into a Secret (created from a secret manager, Sealed Secrets or "
        "External Secrets) and reference it with `valueFrom.secretKeyRef`, then rotate the exposed value.",
        references=(
            "https://kubernetes.io/docs/concepts/configuration/secret/#using-secrets-as-environment-variables",
            kube_linter("env-var-secret"),
        ),
        peers=(("kube-linter", "env-var-secret"),),
    )

    def check(self, obj: K8sObject) -> Iterator[Hit]:
        for container in obj.containers():
            env = container.data.get("env")
            if not isinstance(env, list):
                continue
            for index, item in enumerate(env):
                if not isinstance(item, dict):
                    continue
                name, value = item.get("name"), item.get("value")
                if not isinstance(value, str) or not value.strip():
                    continue
                why = _why(str(name or ""), value.strip())
                if why is not None:
                    line = obj.line(*container.path, "env", index, "value")
                    message = f"{container.label} sets env {name} to a literal value: {why}"
                    yield Hit(line, message, where(obj, container))

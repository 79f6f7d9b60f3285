"""DF007: a secret written into ENV, ARG or a RUN command line.

ENV values are stored in the image config and ARG defaults and RUN command lines in its history
(`docker history --no-trunc`), so anyone who can pull the image can read them. Flagged:
- an ENV, or an ARG with a default, whose name says it holds a secret (password, passwd, pwd,
  secret, token, api key, private key, access key, credentials, passphrase, or ending in `auth`) and
  whose value is a literal: not empty, not a boolean, not a path, not a placeholder (`${TOKEN}`,
  `changeme`, `<your-key>`, `YOUR_API_KEY`, `xxx`: `rules.placeholders`). Names
  ending in `_FILE`, `_PATH`, `_URL`, `_ID`, `_USER`, `_LENGTH`, … describe a secret, they are not one;
- an ENV that copies a build argument with such a name into the image (`ENV TOKEN=$TOKEN`);
- in any ENV, ARG default or RUN, a value with the shape of a well-known credential (AWS access key
  id, GitHub/GitLab/Slack/Stripe/Google/npm/PyPI/Docker Hub/Hugging Face tokens, a private key) or a
  URL with a password in it (`postgres://app:s3cret@db/app`).
`ARG TOKEN` without a default is not flagged: its value is given at build time. Messages never repeat
the value.

Hadolint's DL3064 and Trivy's DS-0031 are not listed as peers: they judge the name alone, so they also
fire on `ARG GITHUB_TOKEN` without a value, `PASSWORD_MIN_LENGTH=12`, `DB_PASSWORD_FILE=/run/…` or
`GOPRIVATE=…`; imported as DF007 those would become HIGH findings this rule deliberately does not make.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator
from typing import ClassVar

from ci_security.manifests.dockerfile import Dockerfile, Instruction, variable_assignments
from ci_security.models import Severity
from ci_security.rules.base import Hit, RuleMeta
from ci_security.rules.dockerfile.common import all_runs, is_variable, resource_of, stage_label, unquote
from ci_security.rules.placeholders import is_placeholder, looks_fake, url_with_password

_SECRET_WORDS = frozenset(
    {"password", "passwd", "pwd", "secret", "secrets", "token", "tokens", "credential", "credentials"}
    | {"passphrase", "apikey", "privatekey", "accesskey", "secretkey", "authtoken", "pat"}
)
_SECRET_PAIRS = frozenset({("api", "key"), ("private", "key"), ("access", "key"), ("secret", "key")})
_NOT_A_SECRET = frozenset(
    {"file", "path", "dir", "url", "uri", "endpoint", "host", "hostname", "port", "name", "user"}
    | {"username", "id", "length", "len", "size", "ttl", "expiry", "expires", "expiration", "timeout"}
    | {"type", "mode", "enabled", "enable", "disabled", "disable", "policy", "header", "method"}
    | {"version", "format", "prefix", "suffix", "count", "min", "max", "rounds", "algorithm", "algo"}
    | {"location", "required", "hash", "scheme", "provider", "source", "store", "backend", "field"}
)
_NOT_A_VALUE = frozenset({"true", "false", "yes", "no", "on", "off", "none", "null", "nil", "0", "1"})
_CAMEL = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|\d+")
_SHAPES = (
    ("an AWS access key id", re.compile(r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b")),
    ("a GitHub token", re.compile(r"\b(?:gh[pousr]_[A-Za-z0-9]{36,}|github_pat_[A-Za-z0-9_]{40,})\b")),
    ("a GitLab token", re.compile(r"\bglpat-[A-Za-z0-9_-]{20,}")),
    ("a Slack token", re.compile(r"\bxox[abposr]-[A-Za-z0-9-]{10,}")),
    ("a Stripe secret key", re.compile(r"\b[sr]k_live_[A-Za-z0-9]{20,}")),
    ("a Google API key", re.compile(r"\bAIza[0-9A-Za-z_-]{35}\b")),
    ("an npm token", re.compile(r"\bnpm_[A-Za-z0-9]{36}\b")),
    ("a PyPI token", re.compile(r"\bpypi-AgEIcHlwaS5vcmc[A-Za-z0-9_-]{20,}")),
    ("a Docker Hub token", re.compile(r"\bdckr_pat_[A-Za-z0-9_-]{20,}")),
    ("a Hugging Face token", re.compile(r"\bhf_[A-Za-z0-9]{34,}\b")),
    ("a private key", re.compile(r"-----BEGIN (?:[A-Z]+ )*PRIVATE KEY-----")),
)


def _tokens(name: str) -> list[str]:
    return [t.lower() for part in re.split(r"[^A-Za-z0-9]+", name) for t in _CAMEL.findall(part)]


def secret_name(name: str) -> bool:
    """Whether a variable called `name` holds a secret by its name."""
    tokens = _tokens(name)
    if not tokens or tokens[-1] in _NOT_A_SECRET:
        return False
    if tokens[-1] == "auth" or any(t in _SECRET_WORDS for t in tokens):
        return True
    if any(pair in _SECRET_PAIRS for pair in itertools.pairwise(tokens)):
        return True
    return any(
        "password" in t or "passwd" in t or "secret" in t or t.endswith(("token", "tokens")) for t in tokens
    )


def secret_shape(text: str) -> str | None:
    """What kind of well-known credential `text` contains, if any (documentation samples and filler
    such as `AKIAIOSFODNN7EXAMPLE` do not count).
    """
    for what, pattern in _SHAPES:
        if any(not looks_fake(match.group(0)) for match in pattern.finditer(text)):
            return what
    if url_with_password(text):
        return "a URL with a password"
    return None


def _literal(value: str, name: str) -> bool:
    stripped = value.strip()
    return (
        bool(stripped)
        and stripped.lower() not in _NOT_A_VALUE
        and not stripped.startswith(("/", "./", "~/"))
        and not is_placeholder(stripped, name)
    )


class Df007SecretEnv:
    meta: ClassVar[RuleMeta] = RuleMeta(
        id="DF007",
        kind="dockerfile",
        title="Secret in ENV, ARG or RUN",
        severity=Severity.HIGH,
        rationale="ENV values live in the image config and ARG defaults and RUN command lines in the "
        "image history, so everyone who can pull the image, and every registry and cache it passes "
        "through, can read the secret; it also ends up in the build logs.",
        remediation="Pass build-time secrets with `RUN --mount=type=secret,id=token …` (`docker build "
        "--secret id=token,env=TOKEN`) and runtime secrets through the orchestrator's secret store; "
        "rotate any secret that was committed.",
        references=(
            "https://docs.docker.com/build/building/secrets/",
            "https://docs.docker.com/reference/build-checks/secrets-used-in-arg-or-env/",
        ),
    )

    def check(self, dockerfile: Dockerfile) -> Iterator[Hit]:
        args_seen: dict[int | None, set[str]] = {}
        for inst in dockerfile.instructions:
            if inst.keyword not in ("ARG", "ENV"):
                continue
            declared = args_seen.setdefault(inst.stage_index, set())
            found = list(self._declared(dockerfile, inst, declared))
            if inst.keyword == "ARG":
                declared.update(name for name, _ in variable_assignments(inst, dockerfile.escape))
            if found:
                yield Hit(inst.start_line, "; ".join(found), resource_of(dockerfile, inst))
        for stage, run in all_runs(dockerfile):
            inst = run.instruction
            texts = [inst.args, *(h.body for h in inst.heredocs)]
            shape = next((s for s in map(secret_shape, texts) if s is not None), None)
            if shape is not None and "--mount=type=secret" not in inst.original:
                yield Hit(inst.start_line, f"RUN contains {shape}", stage_label(stage))

    @staticmethod
    def _declared(dockerfile: Dockerfile, inst: Instruction, build_args: set[str]) -> Iterator[str]:
        for name, raw in variable_assignments(inst, dockerfile.escape):
            if raw is None:
                continue
            value = unquote(raw, dockerfile)
            shape = secret_shape(value)
            if shape is not None:
                yield f"{inst.keyword} {name} holds {shape}"
            elif secret_name(name):
                if is_variable(value):
                    ref = value.strip("${}").split(":", 1)[0]
                    if inst.keyword == "ENV" and ref in build_args:
                        yield f"ENV {name} copies the build argument {ref} into the image"
                elif _literal(value, name):
                    yield f"{inst.keyword} {name} sets a literal secret value"

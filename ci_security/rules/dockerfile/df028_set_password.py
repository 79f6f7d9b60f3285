"""DF028: a RUN sets an account password.

Flagged: `chpasswd` and `chgpasswd`; `passwd` reading the password from stdin (`--stdin`, or fed by
a pipe) or deleting it (`-d`, an account with no password); `useradd`/`usermod` with `-p`/`--password`.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import ClassVar

from ci_security.manifests.dockerfile import Dockerfile
from ci_security.manifests.shell import Command, parse_options
from ci_security.models import Severity
from ci_security.rules.base import Hit, RuleMeta
from ci_security.rules.dockerfile.common import all_runs, stage_label

_USER_WITH_VALUE = frozenset("bcdefgGkKpsuUZR") | {
    "password",
    "home",
    "shell",
    "uid",
    "gid",
    "groups",
    "comment",
    "base-dir",
    "expiredate",
    "inactive",
    "key",
    "root",
    "prefix",
}


def _sets_password(command: Command, piped: bool) -> str | None:
    if command.name in ("chpasswd", "chgpasswd"):
        return command.name
    if command.name == "passwd":
        options = parse_options(command.args)
        if options.has("stdin") or piped:
            return "passwd --stdin"
        if options.has("d", "delete"):
            return "passwd -d (empty password)"
    if command.name in ("useradd", "usermod", "adduser"):
        options = parse_options(command.args, _USER_WITH_VALUE)
        if options.values("p", "password"):
            return f"{command.name} --password"
    return None


class Df028SetPassword:
    meta: ClassVar[RuleMeta] = RuleMeta(
        id="DF028",
        kind="dockerfile",
        title="Password set in RUN",
        severity=Severity.MEDIUM,
        rationale="A password set at build time is in the image's /etc/shadow (and, as typed, in the "
        "layer history) for everyone who pulls it, and is the same in every container; an account with "
        "a password invites logins the image should not accept.",
        remediation="Create accounts without a password (`useradd --no-log-init --system app`, locked by "
        "default) and provide credentials at runtime through a secret store.",
        references=(
            "https://docs.docker.com/build/building/secrets/",
            "https://docs.docker.com/build/building/best-practices/#user",
        ),
        peers=(("checkov", "CKV2_DOCKER_17"),),
    )

    def check(self, dockerfile: Dockerfile) -> Iterator[Hit]:
        for stage, run in all_runs(dockerfile):
            found = [
                what
                for pipeline in run.pipelines()
                for position, command in enumerate(pipeline)
                if (what := _sets_password(command, position > 0)) is not None
            ]
            if found:
                yield Hit(
                    run.instruction.start_line, f"RUN sets a password with {found[0]}", stage_label(stage)
                )

"""DF034: a RUN writes passwordless sudo (or doas) into the image.

Found in the text of a RUN and its here-documents (so also in `echo … >> /etc/sudoers`, `tee`, `sed -i`
and `cat <<EOF > /etc/sudoers.d/app`): a `NOPASSWD:` tag or `Defaults !authenticate` in a RUN that
writes sudoers (`/etc/sudoers`, `/etc/sudoers.d/…`), and `permit nopass` in one that writes
`/etc/doas.conf`. One finding per RUN, at its first line. A sudoers file added with COPY is not read:
its content is not in the Dockerfile.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import ClassVar

from ci_security.manifests.dockerfile import Dockerfile
from ci_security.models import Severity
from ci_security.rules.base import Hit, RuleMeta
from ci_security.rules.dockerfile.common import all_runs, stage_label

_SUDOERS = re.compile(r"/etc/sudoers\b")
_NOPASSWD = re.compile(r"\bNOPASSWD\s*:|Defaults\s+!\s*authenticate\b")
_DOAS = re.compile(r"/etc/doas(?:\.d/[^\s'\"]*)?\.conf\b|/etc/doas\.d\b")
_NOPASS = re.compile(r"\bpermit\s+(?:\w+\s+)*nopass\b")


class Df034PasswordlessSudo:
    meta: ClassVar[RuleMeta] = RuleMeta(
        id="DF034",
        kind="dockerfile",
        title="Passwordless sudo configured",
        severity=Severity.MEDIUM,
        rationale="A NOPASSWD sudo rule (or doas `permit nopass`) lets any process running as that user "
        "become root without a secret: a non-root USER then protects nothing, and an attacker who gets "
        "code execution in the container is root one command later.",
        remediation="Do the privileged setup in RUN steps before the final `USER`, and do not install "
        "sudo in the runtime image; if an entrypoint must drop privileges, start as root and switch with "
        "gosu or su-exec.",
        references=(
            "https://www.sudo.ws/docs/man/sudoers.man/#Tag_Spec",
            "https://docs.docker.com/build/building/best-practices/#user",
        ),
    )

    def check(self, dockerfile: Dockerfile) -> Iterator[Hit]:
        for stage, run in all_runs(dockerfile):
            inst = run.instruction
            text = "\n".join((inst.original, *(h.body for h in inst.heredocs)))
            if _SUDOERS.search(text) and _NOPASSWD.search(text):
                yield Hit(inst.start_line, "RUN writes a sudoers rule without a password", stage_label(stage))
            elif _DOAS.search(text) and _NOPASS.search(text):
                yield Hit(inst.start_line, "RUN writes a doas rule without a password", stage_label(stage))

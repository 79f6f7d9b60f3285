"""DF005: ADD of a remote URL or git repository without an integrity check.

`ADD --checksum=sha256:…` makes BuildKit verify what it downloaded; a git source pinned to a full
commit id (`…repo.git#<40 hex>`) is fixed content too. Anything else is whatever the server returns
at build time. Checkov's CKV_DOCKER_4 flags every ADD and is mapped to DF004, not here.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import ClassVar

from ci_security.manifests.dockerfile import Dockerfile
from ci_security.models import Severity
from ci_security.rules.base import Hit, RuleMeta
from ci_security.rules.dockerfile.common import is_remote, redact, resource_of, source_words

# A source is one word (split on blanks, newlines included), so `(?::.*)?$` reduces to this, which
# does not rescan the rest of the word from every `#` of a long one.
_COMMIT = re.compile(r"#[0-9a-f]{40}(?::|$)", re.I)


class Df005AddUrl:
    meta: ClassVar[RuleMeta] = RuleMeta(
        id="DF005",
        kind="dockerfile",
        title="ADD downloads without an integrity check",
        severity=Severity.MEDIUM,
        rationale="ADD of a URL puts whatever the server returns at build time into the image: a "
        "compromised or hijacked download host, or a plain-HTTP man in the middle, gets its code into "
        "every build.",
        remediation="Add `--checksum=sha256:<digest>` to the ADD (Dockerfile syntax 1.6+), pin a git "
        "source to a full commit id, or download in a RUN and verify with `sha256sum -c`.",
        references=(
            "https://docs.docker.com/reference/dockerfile/#add---checksum",
            "https://docs.docker.com/build/building/best-practices/#add-or-copy",
        ),
    )

    def check(self, dockerfile: Dockerfile) -> Iterator[Hit]:
        for inst in dockerfile.instructions:
            if inst.keyword != "ADD" or inst.flags.get("checksum"):
                continue
            for source in source_words(dockerfile, inst):
                if is_remote(source) and not _COMMIT.search(source):
                    message = f"ADD {redact(source)} downloads content without --checksum"
                    yield Hit(inst.start_line, message, resource_of(dockerfile, inst))

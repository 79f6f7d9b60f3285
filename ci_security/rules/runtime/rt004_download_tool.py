"""RT004: a download or network tool was run: curl, wget, nc/ncat/netcat, socat, tftp, ftp,
aria2c (also as busybox applets). Attempts to run one that is not installed count too: the intent
is the finding.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import ClassVar

from ci_security.models import Severity
from ci_security.rules.base import RuleMeta
from ci_security.rules.runtime.base import RuntimeContext, RuntimeHit
from ci_security.rules.runtime.common import DOWNLOADERS, command_text, execs, grouped, hit, run_name


class Rt004DownloadTool:
    meta: ClassVar[RuleMeta] = RuleMeta(
        id="RT004",
        kind="runtime",
        title="Download tool run",
        severity=Severity.MEDIUM,
        rationale="Fetching code or data at start-up means the image is not what was scanned: what it "
        "runs depends on a server at run time. It is also the first step of most droppers.",
        remediation="Fetch what the image needs at build time (a pinned, checksummed download in the "
        "Dockerfile) and remove the tool from the runtime image.",
        references=("https://attack.mitre.org/techniques/T1105/",),
    )

    def check(self, context: RuntimeContext) -> Iterator[RuntimeHit]:
        found = [e for e in execs(context.run.events, attempts=True) if run_name(e) in DOWNLOADERS]
        for subject, events in grouped(found, run_name):
            first = events[0]
            failed = f" (could not run: {first.result})" if first.result != "ok" else ""
            yield hit(subject, f"{subject} was run{failed}: {command_text(first)}", events)

"""RT012: the entrypoint did not end the way the policy expects: a batch job (`runtime.expect:
exit`) that exited with a code outside `runtime.exit_codes` (default `[0]`) or was killed by a
signal, or a service (`runtime.expect: running`) that exited before the duration ran out.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import ClassVar

from ci_security.models import Severity
from ci_security.rules.base import RuleMeta
from ci_security.rules.runtime.base import RuntimeContext, RuntimeHit
from ci_security.rules.runtime.common import hit


class Rt012UnexpectedExit:
    meta: ClassVar[RuleMeta] = RuleMeta(
        id="RT012",
        kind="runtime",
        title="Entrypoint ended unexpectedly",
        severity=Severity.LOW,
        rationale="An image that crashes, exits with an error or stops where it should keep serving "
        "behaves differently from what was reviewed; the run's other findings may then miss what it "
        "does when it works.",
        remediation="Read the output kept in the JSON report (`sandbox.stderr`); give the image what it "
        "needs with `--env`, or set `runtime.expect`/`runtime.exit_codes` to what it should do.",
    )

    def check(self, context: RuntimeContext) -> Iterator[RuntimeHit]:
        run = context.run
        if run.end != "exited":
            return
        main = [e for e in run.events if e.kind == "exit" and e.pid == run.pid]
        if context.expect == "exit":
            if run.signal is not None:
                yield hit(f"killed by {run.signal}", f"the entrypoint was killed by {run.signal}", main[:1])
            elif run.exit_code is not None and run.exit_code not in context.exit_codes:
                allowed = ", ".join(str(code) for code in context.exit_codes)
                yield hit(
                    f"exit code {run.exit_code}",
                    f"the entrypoint exited with code {run.exit_code} (expected {allowed})",
                    main[:1],
                )
        elif context.expect == "running":
            how = f"killed by {run.signal}" if run.signal else f"with code {run.exit_code}"
            yield hit(
                "exited early",
                f"the entrypoint exited after {run.elapsed:g} s ({how}) but the policy expects it to keep "
                f"running for {run.duration_limit:g} s",
                main[:1],
            )

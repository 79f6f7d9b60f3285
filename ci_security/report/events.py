"""`--output events=FILE`: the dynamic scan's event log, one JSON object per line (JSON Lines), in
time order: every program run, connection attempt, file written or read, privileged call and
process exit the tracer saw, with pids inside the sandbox and times in seconds since the entrypoint
started (`report.runtime.event_dict` has the keys). Kept as a CI artifact, it is the raw evidence
behind the runtime findings.

Without a dynamic run there is nothing to log: the reporter renders nothing and no file is written.
Every line is written by `sanitize.json_dumps`, so whatever the image named its files or arguments,
the log is valid UTF-8 and no line is read by a CI system as a command.
"""

from __future__ import annotations

from typing import ClassVar

from ci_security.models import Decision, ScanResult
from ci_security.report.base import RenderContext
from ci_security.report.runtime import event_dict
from ci_security.sanitize import json_dumps


class EventsReporter:
    """See the module docstring."""

    name: ClassVar[str] = "events"

    def render(self, result: ScanResult, decision: Decision, context: RenderContext) -> str:
        run = result.sandbox
        if run is None or not run.events:
            return ""
        return "".join(json_dumps(event_dict(event), indent=None) + "\n" for event in run.events)

"""`--output openvex=FILE`: the policy's ignore entries that suppressed vulnerabilities in this scan,
as an OpenVEX document, so the exceptions travel with the image (attach it with `cosign attest
--type openvex`, or feed it to another scanner's `--vex`). After a dynamic scan it also states
`vulnerable_code_not_in_execute_path` for open vulnerabilities of packages the run never loaded, each
statement's notes saying it is the evidence of one bounded run, not proof (`policy.vex`).

The document is deterministic: its timestamp is the image's creation time (or the Unix epoch when
the image has none), never the time of the scan, and its `@id` is a hash of its content, so the same
image under the same policy always yields the same bytes.

When no ignore entry suppressed a vulnerability there is nothing to state, and a document without
statements is invalid OpenVEX (`statements` has `minItems: 1`), so the reporter renders nothing and
the CLI writes no file and says so, rather than hand `cosign attest` an invalid predicate.
"""

from __future__ import annotations

import re
from typing import ClassVar

from ci_security.models import Decision, ScanResult
from ci_security.policy.vex import openvex_document
from ci_security.report.base import RenderContext
from ci_security.sanitize import json_dumps

EPOCH = "1970-01-01T00:00:00Z"
_RFC3339 = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:\d{2})\Z")


def document_timestamp(result: ScanResult) -> str:
    created = result.target.created if result.target else None
    return created if created and _RFC3339.match(created) else EPOCH


class OpenVexReporter:
    """See the module docstring."""

    name: ClassVar[str] = "openvex"

    def render(self, result: ScanResult, decision: Decision, context: RenderContext) -> str:
        document = openvex_document(decision, result, now=document_timestamp(result))
        if not document["statements"]:
            return ""
        return json_dumps(document) + "\n"

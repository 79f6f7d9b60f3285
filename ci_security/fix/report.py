"""The plan as people and programs read it: the JSON plan (`plan.schema.json` describes it), the lines
printed to the terminal or job log, the "Proposed fixes" Markdown section (sticky comment, `-o
markdown`), and each pull/merge request's title, body and commit message.

Every value from the repository, a registry or an advisory reaches Markdown through `sanitize`
(`markdown` for text and table cells, `markdown_code` for references in sentences, `markdown_block`
for the diff) and JSON through `sanitize.json_dumps`. A body is kept under `BODY_LIMIT` characters
(GitHub refuses more than 65,536): the diff is cut first, lists stop at `MAX_IDS` and `MAX_ROWS`.

The commit message ends with the trailer `Ci-Security-Proposal: <id>`, a hash of the branch, the
title and the files' new contents: it is how the platforms recognise the bot's own commits and tell
that a branch already holds a proposal, so a second run with the same proposal changes nothing.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ci_security import __version__
from ci_security.models.fix import SEVERITY_KEYS, Candidate, FixPlan, FixUpdate, SeverityCounts
from ci_security.platforms.base import FIX_TRAILER, Outcome
from ci_security.sanitize import json_dumps, markdown, markdown_block, markdown_code, markdown_link, plain

SCHEMA_VERSION = "1"
TRAILER = FIX_TRAILER.removesuffix(":")
BODY_LIMIT = 60_000
MAX_DIFF = 20_000
MAX_IDS = 50
MAX_ROWS = 50
MAX_REASON = 300


def proposal_id(update: FixUpdate) -> str:
    """The proposal's identity: branch, title and the new file contents."""
    digest = hashlib.sha256()
    for part in (update.branch, update.title, update.file, update.content):
        digest.update(part.encode("utf-8", "surrogatepass"))
        digest.update(b"\0")
    return digest.hexdigest()[:24]


def _counts(counts: SeverityCounts | None) -> dict[str, int] | None:
    return counts.as_dict() if counts is not None else None


def _candidate(candidate: Candidate) -> dict[str, Any]:
    return {
        "reference": candidate.reference,
        "digest": candidate.digest,
        "update_type": candidate.update_type,
        "counts": candidate.counts.as_dict(),
        "fixes": list(candidate.fixes),
        "introduces": list(candidate.introduces),
        "verdict": candidate.verdict,
    }


def update_dict(update: FixUpdate, request: Outcome | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {
        "kind": update.kind,
        "file": update.file,
        "line": update.line,
        "lines": list(update.lines or (update.line,)),
        "current": update.current,
        "proposed": update.proposed,
        "update_type": update.update_type,
        "before": _counts(update.before),
        "after": _counts(update.after),
        "fixes": list(update.fixes),
        "introduces": list(update.introduces),
        "branch": update.branch,
        "title": update.title,
        "diff": update.diff,
    }
    if update.kind == "dependency":
        out["package"] = {"name": update.package, "type": update.package_type, "installed": update.installed}
    else:
        out["platform"] = update.platform
        out["final_stage"] = update.final_stage
        out["candidates"] = [_candidate(c) for c in update.candidates]
    if update.note:
        out["note"] = update.note
    if request is not None:
        out["pull_request"] = {
            "action": request.action,
            **({"url": request.url} if request.url else {}),
            **({"detail": request.detail} if request.detail else {}),
        }
    return out


def plan_dict(plan: FixPlan, requests: Mapping[str, Outcome] | None = None) -> dict[str, Any]:
    """The JSON plan (`plan.schema.json`); `requests` are the pull/merge request outcomes by branch."""
    requests = requests or {}
    return {
        "schema_version": SCHEMA_VERSION,
        "tool": {"name": "ci-security", "version": __version__},
        "updates": [update_dict(u, requests.get(u.branch)) for u in plan.updates],
        "skipped": [
            {"file": s.file, "line": s.line, "reference": s.reference, "reason": s.reason}
            for s in plan.skipped
        ],
    }


def plan_json(plan: FixPlan, requests: Mapping[str, Outcome] | None = None) -> str:
    return json_dumps(plan_dict(plan, requests)) + "\n"


def schema() -> dict[str, Any]:
    """The JSON Schema of the plan, as shipped in the package."""
    import json
    from importlib import resources

    text = resources.files("ci_security.fix").joinpath("plan.schema.json").read_text(encoding="utf-8")
    loaded: dict[str, Any] = json.loads(text)
    return loaded


# --- lines for the terminal and the job log --------------------------------------------------------


def _change(update: FixUpdate) -> str:
    if update.kind == "dependency":
        return f"{update.package} {update.installed} → {update.proposed}"
    return f"{update.current} → {update.proposed}"


def _gain(update: FixUpdate) -> str:
    fixed = len(update.fixes)
    before = update.before.text() if update.before else "-"
    after = update.after.text() if update.after else "-"
    return f"fixes {fixed} ({before} → {after})"


def plan_lines(plan: FixPlan, requests: Mapping[str, Outcome] | None = None) -> list[str]:
    """One line per update and per skip, then a count (printed through `sanitize.log_line`)."""
    requests = requests or {}
    out = []
    for update in plan.updates:
        request = requests.get(update.branch)
        tail = f"; pull request {request.action}" if request is not None else ""
        if request is not None and request.url:
            tail += f" ({request.url})"
        if request is not None and request.detail:
            tail += f": {request.detail}"
        out.append(f"{update.kind} {update.file}:{update.line}: {_change(update)}, {_gain(update)}{tail}")
    for skip in plan.skipped:
        what = f" {skip.reference}" if skip.reference else ""
        out.append(f"skipped {skip.file}:{skip.line}{what}: {skip.reason}")
    out.append(f"{len(plan.updates)} update(s), {len(plan.skipped)} reference(s) left as they are")
    return out


# --- Markdown ----------------------------------------------------------------------------------------


def _environment() -> Any:
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.PackageLoader("ci_security.fix", "templates"),
        autoescape=False,  # noqa: S701 - the output is Markdown; every value is escaped before it gets here
        keep_trailing_newline=True,
        undefined=jinja2.StrictUndefined,
    )
    return env


def _request_cell(request: Outcome | None) -> str:
    if request is None:
        return "not opened (dry run)"
    label = markdown(request.action)
    if request.url:
        label = markdown_link(label, request.url)
    if request.detail:
        label += f": {markdown(request.detail[:MAX_REASON])}"
    return label


def fixes_markdown(plan: FixPlan, requests: Mapping[str, Outcome] | None = None) -> str:
    """The "Proposed fixes" section: each update with its pull/merge request, and what was left."""
    requests = requests or {}
    rows = [
        {
            "change": markdown(_change(update)),
            "where": markdown(f"{update.file}:{update.line}"),
            "fixes": markdown(f"{len(update.fixes)} ({update.before.text() if update.before else '-'})"),
            "request": _request_cell(requests.get(update.branch)),
        }
        for update in plan.updates
    ]
    skipped = [
        {
            "where": markdown(f"{skip.file}:{skip.line}"),
            "reference": markdown(skip.reference or "-"),
            "reason": markdown(skip.reason[:MAX_REASON]),
        }
        for skip in plan.skipped
    ]
    text: str = (
        _environment()
        .get_template("proposed_fixes.md.j2")
        .render(rows=rows, skipped=skipped, max_rows=MAX_ROWS)
    )
    return text.rstrip() + "\n"


@dataclass(frozen=True, slots=True)
class _Row:
    reference_md: str
    update_type: str
    counts: dict[str, int]
    verdict_md: str


def _headline(update: FixUpdate) -> str:
    if update.kind == "dependency":
        return f"Update {update.package} from {update.installed} to {update.proposed} in {update.file}"
    if update.kind == "digest-refresh":
        return f"Refresh the base image {update.current} to its rebuilt digest in {update.file}"
    return f"Update the base image {update.current} to {update.proposed} in {update.file}"


def _vulnerabilities(counts: SeverityCounts) -> str:
    noun = "vulnerability" if counts.total == 1 else "vulnerabilities"
    return f"{counts.total} known {noun} ({markdown(counts.text())})"


def _recommendation(update: FixUpdate) -> str:
    after = update.after or SeverityCounts()
    before = update.before or SeverityCounts()
    if update.kind == "dependency":
        return (
            f"{markdown_code(update.proposed)} is the smallest version that fixes every finding of "
            f"{markdown(update.package)} {markdown(update.installed)} the database knows a fix for: "
            f"{_vulnerabilities(before)} before, {_vulnerabilities(after)} after."
        )
    return (
        f"We recommend {markdown_code(update.proposed)}: ci-security's scan of it finds "
        f"{_vulnerabilities(after)}, against {_vulnerabilities(before)} in {markdown_code(update.current)}. "
        "To use it, merge this pull request, then check that your application still works as expected."
    )


def pull_request_title(update: FixUpdate) -> str:
    """The title, one plain line without control characters (GitHub and GitLab render titles as text)."""
    return " ".join(plain(update.title).split())[:250]


def pull_request_body(update: FixUpdate, *, no_ci: bool = False, db_built: str | None = None) -> str:
    """The body of the pull/merge request for `update` (see the module docstring)."""
    diff = update.diff
    cut = len(diff) > MAX_DIFF
    if cut:
        diff = diff[: diff.rfind("\n", 0, MAX_DIFF) + 1]
    candidates = [
        _Row(
            reference_md=markdown(c.reference),
            update_type=markdown(c.update_type),
            counts=c.counts.as_dict(),
            verdict_md=markdown(
                c.verdict[:MAX_REASON] or ("in use now" if c.update_type == "current" else "")
            ),
        )
        for c in update.candidates[:MAX_ROWS]
    ]
    before = (update.before or SeverityCounts()).as_dict()
    after = (update.after or SeverityCounts()).as_dict()
    text: str = (
        _environment()
        .get_template("pull_request.md.j2")
        .render(
            headline=markdown(_headline(update)),
            recommendation=_recommendation(update),
            file_md=markdown(update.file),
            lines=", ".join(str(n) for n in (update.lines or (update.line,))),
            current_md=markdown(update.current),
            proposed_md=markdown(update.proposed),
            severities=SEVERITY_KEYS,
            before=before,
            after=after,
            candidates=candidates,
            platform_md=markdown(update.platform or "its platform"),
            db_built=bool(db_built),
            db_built_md=markdown(db_built or ""),
            fixes=[markdown(i) for i in update.fixes],
            introduces=[markdown(i) for i in update.introduces],
            max_ids=MAX_IDS,
            diff_block=markdown_block(diff, "diff"),
            diff_cut=cut,
            after_merge=bool(update.note),
            after_merge_md=markdown(update.note[:1].upper() + update.note[1:]) if update.note else "",
            no_ci=no_ci,
            current_code=markdown_code(update.current),
            branch_code=markdown_code(update.branch),
        )
    )
    return text.rstrip()[:BODY_LIMIT] + "\n"


def commit_message(update: FixUpdate) -> str:
    """The commit's message: the title, what it fixes, and the proposal trailer."""
    fixes = ", ".join(update.fixes[:MAX_IDS]) or "none"
    if len(update.fixes) > MAX_IDS:
        fixes += f" and {len(update.fixes) - MAX_IDS} more"
    lines = [
        pull_request_title(update),
        "",
        f"{update.file}: {_change(update)}.",
        f"Fixes: {fixes}.",
    ]
    if update.note:
        lines.append(f"Then: {update.note}.")
    lines += ["", f"{TRAILER}: {proposal_id(update)}"]
    return "\n".join(" ".join(plain(line).split()) if line else "" for line in lines) + "\n"

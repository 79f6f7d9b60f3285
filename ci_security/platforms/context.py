"""The CI run the step is part of, as the CI system's environment describes it (`CiContext`).

Each CI system's step surface reads its own variables (`StepSurface.detect` in `github_actions.py`,
`gitlab_ci.py`, `local.py`); `registry.detect` asks them in turn. API base URLs always come from
those variables (`GITHUB_API_URL`, `CI_API_V4_URL`), so GitHub Enterprise, self-managed GitLab and
the tests' local stand-ins work the same way. The token is kept out of `repr` so it cannot reach a
log by accident.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True, slots=True, kw_only=True)
class CiContext:
    """The CI run the step is part of."""

    # The name of the step surface that detected the run (`platforms.registry`): the set of names is
    # the registry's, open to one more CI system, so it is a string rather than a Literal.
    platform: str
    api_url: str = ""
    repository: str = ""  # owner/name on GitHub, group/project path on GitLab
    project_id: str = ""  # GitLab's numeric project id
    change: int | None = None  # pull request number or merge request iid
    head_sha: str = ""  # the commit under review (the PR's head, not GitHub's merge commit)
    base_sha: str = ""
    sha: str = ""  # the commit the job checked out (GitHub: the merge commit on a PR)
    ref: str = ""  # refs/pull/N/merge, refs/heads/main, …
    event: str = ""
    fork: bool = False
    job_url: str = ""
    summary_path: Path | None = None  # $GITHUB_STEP_SUMMARY
    output_path: Path | None = None  # $GITHUB_OUTPUT
    token: str = field(default="", repr=False)

    @property
    def has_change(self) -> bool:
        return self.change is not None

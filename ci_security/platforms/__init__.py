"""Where results meet the CI systems and code-review platforms: the CI run (`context.py`), the two
contracts (`base.py`: `StepSurface`, what the step does on one CI system, and `Platform`, the review
platform it comments on), one surface module per CI system (`github_actions.py`, `gitlab_ci.py`,
`local.py`, listed in `registry.py`, which also detects which one a run is in), the GitHub and
GitLab API clients (`github.py`, `gitlab.py`), and the retry policy for their APIs.
"""

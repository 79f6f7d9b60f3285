"""Where results meet the code-review platforms: the CI environment (`context.py`), one Protocol for
GitHub and GitLab (`base.py`), their implementations, and the retry policy for their APIs.
"""

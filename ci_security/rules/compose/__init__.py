"""Docker Compose rules: each `compose*.py` module is one rule over one file, as
`ci_security.manifests.compose` reads it (with line positions).
"""

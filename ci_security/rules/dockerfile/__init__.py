"""Dockerfile rules: each `df*.py` module is one rule over one Dockerfile, as
`ci_security.manifests.dockerfile` parses it into stages and instructions with exact line spans;
`common.py` holds what several rules ask of a RUN (its scripts, read by `ci_security.manifests.shell`).
"""

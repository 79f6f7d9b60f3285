"""Kubernetes rules: each `k8s*.py` module is one rule over one object, as
`ci_security.manifests.kubernetes` reads it from a YAML file (with line positions).
"""

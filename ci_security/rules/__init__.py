"""Checks on the manifests that sit next to the image in the repository (Dockerfile first).

Each manifest type has its own subpackage of rules over the model its parser in `ci_security.manifests`
builds; the parsers keep exact line numbers, because every finding a rule makes must point at the line
a reviewer has to change.
"""

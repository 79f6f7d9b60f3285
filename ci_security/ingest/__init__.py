"""Importers for other engines' reports (Trivy, Grype), so their findings flow through our policy,
reports, comments and fixes.
"""

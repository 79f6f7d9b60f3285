"""Vulnerability data: OSV records parsed, stored in an embedded SQLite database, kept up to date
from OSV exports, and the version orderings needed to evaluate their ranges.
"""

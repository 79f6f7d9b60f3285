"""Matching: installed packages against advisories → vulnerabilities. Matchers only say what to search
for (ecosystem, name, version) per package; `runner` evaluates ranges, merges aliases and builds
the findings.
"""

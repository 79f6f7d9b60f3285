"""Catalogers for .NET applications: NuGet dependencies recorded at build time (`*.deps.json`),
resolved (`packages.lock.json`) or pinned (`packages.config`, `Directory.Packages.props`).
"""

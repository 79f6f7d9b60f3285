"""Catalogers for .NET applications (NuGet dependencies recorded at build time)."""

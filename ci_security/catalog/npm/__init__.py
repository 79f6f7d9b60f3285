"""Catalogers for JavaScript packages."""

"""Catalogers for Python packages."""

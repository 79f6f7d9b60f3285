"""Catalogers for operating-system package databases and release files."""

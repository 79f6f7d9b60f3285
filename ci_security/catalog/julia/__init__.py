"""Catalogers for Julia: the package manifest Pkg writes."""

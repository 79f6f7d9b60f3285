"""Catalogers: one per package format, each reading one kind of file; `runner` walks the image once
and hands every cataloger the files it asks for.
"""

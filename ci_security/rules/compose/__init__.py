"""Docker Compose files: `load.py` reads a compose file with line positions; each `compose*.py` module
is one rule over one file.
"""

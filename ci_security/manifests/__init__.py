"""Manifest parsing: the files a repository builds and deploys with, read into models that keep the
line (and column) of everything in them, for every stage that points at a manifest line.

- `dockerfile.py`: a Dockerfile into stages and instructions with exact line spans, variable
  substitution and scopes, as BuildKit reads it;
- `shell.py`: the POSIX shell a RUN executes, into commands (a reader for linting, not a shell);
- `yamldoc.py`: YAML into plain data plus the position of every key and item, the one loader for
  Kubernetes and compose manifests, the policy file and Checkov's manifests;
- `kubernetes.py`, `compose.py`: Kubernetes objects and compose files from those documents.

The rules (`ci_security.rules`), the importers that resolve a peer tool's finding to a line
(`ci_security.ingest`), anchoring image findings to Dockerfile lines (`ci_security.anchor`) and the
policy loader all read manifests through here. Everything parsed comes from a pull request, so it is
hostile: every parser here is bounded by `ci_security.limits` and runs no regular expression that can
backtrack on its input; past a limit it raises an error naming the limit, never a traceback.
"""

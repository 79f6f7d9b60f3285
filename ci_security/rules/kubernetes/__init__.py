"""Kubernetes manifests: `load.py` turns YAML files into objects with line positions; each `k8s*.py`
module is one rule over one object.
"""

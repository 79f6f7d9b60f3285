"""Image access: references, sources (archives, OCI layouts, registries, the Docker daemon), layer
walking and the layered filesystem view. Nothing here extracts a layer to disk.
"""

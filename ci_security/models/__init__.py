"""Leaf layer: frozen dataclasses shared by every stage. Imports nothing else from the package."""

from ci_security.models.image import ImageTarget, LayerInfo, OSInfo, Platform
from ci_security.models.package import LayerRef, Package
from ci_security.models.purl import build_purl
from ci_security.models.result import ScanResult, ScanWarning

__all__ = [
    "ImageTarget",
    "LayerInfo",
    "LayerRef",
    "OSInfo",
    "Package",
    "Platform",
    "ScanResult",
    "ScanWarning",
    "build_purl",
]

"""Leaf layer: frozen dataclasses shared by every stage. Imports nothing else from the package."""

from ci_security.models.advisory import Advisory, Affected, AffectedRange, RangeEvent
from ci_security.models.decision import Decision, ExpiredIgnore, Suppression, Violation
from ci_security.models.image import ImageTarget, LayerInfo, OSInfo, Platform
from ci_security.models.misconfiguration import ManifestSummary, Misconfiguration
from ci_security.models.package import LayerRef, Package
from ci_security.models.purl import build_purl
from ci_security.models.result import DbInfo, ScanResult, ScanWarning
from ci_security.models.runtime import IsolationStep, RuntimeEvent, RuntimeFinding, SandboxRun
from ci_security.models.vulnerability import (
    RATING_KINDS,
    EpssScore,
    KevEntry,
    Location,
    MatchDetail,
    Severity,
    SeverityRating,
    Vulnerability,
)

__all__ = [
    "RATING_KINDS",
    "Advisory",
    "Affected",
    "AffectedRange",
    "DbInfo",
    "Decision",
    "EpssScore",
    "ExpiredIgnore",
    "ImageTarget",
    "IsolationStep",
    "KevEntry",
    "LayerInfo",
    "LayerRef",
    "Location",
    "ManifestSummary",
    "MatchDetail",
    "Misconfiguration",
    "OSInfo",
    "Package",
    "Platform",
    "RangeEvent",
    "RuntimeEvent",
    "RuntimeFinding",
    "SandboxRun",
    "ScanResult",
    "ScanWarning",
    "Severity",
    "SeverityRating",
    "Suppression",
    "Violation",
    "Vulnerability",
    "build_purl",
]

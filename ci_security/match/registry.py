"""Every matcher, listed once, and the package-type index over them."""

from __future__ import annotations

from ci_security.match.apk import ApkMatcher
from ci_security.match.base import Matcher
from ci_security.match.dpkg import DpkgMatcher
from ci_security.match.language import LanguageMatcher
from ci_security.match.rpm import RpmMatcher

MATCHERS: tuple[Matcher, ...] = (
    DpkgMatcher(),
    ApkMatcher(),
    RpmMatcher(),
    LanguageMatcher(),
)
BY_TYPE: dict[str, Matcher] = {t: m for m in MATCHERS for t in m.package_types}

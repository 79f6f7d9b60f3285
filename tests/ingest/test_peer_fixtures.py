"""The stored peer reports are reproducible: Hadolint, Checkov and Trivy (installed by
scripts/setup.sh under .peers/) are run again on tests/fixtures/ingest/config with the commands in
tests/fixtures/ingest/LICENSE-NOTE.md, and each fresh report imports to the same findings as the
stored one. Under CI (CI_SECURITY_REQUIRE_PEERS=1) a missing peer fails instead of skipping.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from testkit.cache import REPO, require_tool, trivy

from ci_security.ingest.base import Importer
from ci_security.ingest.registry import IMPORTERS

FIXTURES = Path(__file__).parent.parent / "fixtures" / "ingest"
CORPUS = FIXTURES / "config"
PEERS = REPO / ".peers"


def peer(name: str) -> str:
    path = PEERS / name
    return str(path) if path.is_file() else require_tool(name)


def findings(importer: Importer, report: Path, base: Path) -> list[tuple[object, ...]]:
    found = importer.load(report, base).misconfigurations
    return sorted(
        (m.rule_id, m.path, m.line or 0, m.resource, m.severity.value, m.message, m.inline_reason or "")
        for m in found
    )


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    # A copy, so no tool writes next to the fixtures and absolute paths differ from the stored ones.
    copy = tmp_path / "config"
    shutil.copytree(CORPUS, copy)
    return copy


def run(command: list[str], cwd: Path, report: Path, codes: tuple[int, ...] = (0, 1)) -> Path:
    done = subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode in codes, done.stderr[-2000:]
    report.write_text(done.stdout, encoding="utf-8")
    return report


def test_hadolint_report_is_reproducible(corpus, tmp_path):
    fresh = run(
        [peer("hadolint"), "-f", "json", "api/Dockerfile", "worker/Dockerfile"], corpus, tmp_path / "h.json"
    )
    importer = IMPORTERS["hadolint"]
    assert findings(importer, fresh, corpus) == findings(
        importer, FIXTURES / "hadolint-2.15.1-config.json", CORPUS
    )


def test_checkov_report_is_reproducible(corpus, tmp_path):
    command = [peer("checkov"), "-d", ".", "--framework", "dockerfile", "kubernetes", "--skip-download"]
    fresh = run([*command, "-o", "json", "--compact"], corpus, tmp_path / "c.json")
    importer = IMPORTERS["checkov"]
    assert findings(importer, fresh, corpus) == findings(
        importer, FIXTURES / "checkov-3.3.30-config.json", CORPUS
    )


def test_trivy_config_report_is_reproducible(corpus, tmp_path):
    command = [trivy(), "config", "--skip-check-update", "-q", "--cache-dir", str(tmp_path / "cache")]
    fresh = run([*command, "-f", "json", "."], corpus, tmp_path / "t.json", codes=(0,))
    importer = IMPORTERS["trivy"]
    assert findings(importer, fresh, corpus) == findings(
        importer, FIXTURES / "trivy-0.76-config.json", CORPUS
    )

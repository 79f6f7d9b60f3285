"""scripts/setup.sh downloads exactly the Debian packages the sandbox tests build images from."""

import re
from pathlib import Path

from testkit.debs import SANDBOX_DEBS

SETUP = Path(__file__).resolve().parents[2] / "scripts" / "setup.sh"


def test_setup_downloads_the_sandbox_packages():
    text = SETUP.read_text()
    listed = re.search(r"sandbox_debs=\(([^)]*)\)", text)
    assert listed is not None
    assert tuple(listed.group(1).split()) == SANDBOX_DEBS
    tools = re.search(r"apt_packages=\(([^)]*)\)", text)
    assert tools is not None and {"bubblewrap", "strace"} <= set(tools.group(1).split())

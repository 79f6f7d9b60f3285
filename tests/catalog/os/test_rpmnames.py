"""rpm's source package names, split from the right."""

from __future__ import annotations

import pytest

from ci_security.catalog.os.rpmnames import evr, parse_source_rpm


@pytest.mark.parametrize(
    ("source_rpm", "expected"),
    [
        ("util-linux-2.32.1-42.el8_8.src.rpm", ("util-linux", "2.32.1-42.el8_8")),
        ("gcc11-11.2.1+git610-1.3.9.nosrc.rpm", ("gcc11", "11.2.1+git610-1.3.9")),
        ("(none)", (None, None)),
        (None, (None, None)),
        ("", (None, None)),
        ("dive-0.9.2-1.rpm", (None, None)),
        ("noversion.src.rpm", (None, None)),
        ("-1-2.src.rpm", (None, None)),
    ],
)
def test_parse_source_rpm(source_rpm: str | None, expected: tuple[str | None, str | None]):
    assert parse_source_rpm(source_rpm) == expected


def test_evr_leaves_out_a_zero_epoch():
    assert evr(None, "1.2", "3.el9") == "1.2-3.el9"
    assert evr(0, "1.2", "3.el9") == "1.2-3.el9"
    assert evr(2, "1.2", "3.el9") == "2:1.2-3.el9"

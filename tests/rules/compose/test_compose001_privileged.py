"""COMPOSE001: overrides in later layers win; `extends` reports at the service that sets the key."""

from ci_security.rules.runner import check_text


def _hits(text: str) -> list[tuple[int, str]]:
    return [(f.line, f.resource) for f in check_text(text, "compose.yaml") if f.rule_id == "COMPOSE001"]


def test_a_later_layer_can_turn_privileged_off_and_on():
    text = (
        "services:\n"  # 1
        "  a:\n"  # 2
        "    image: a:1.0\n"  # 3
        "    privileged: true\n"  # 4
        "  b:\n"  # 5
        "    image: b:1.0\n"  # 6
        "---\n"  # 7
        "services:\n"  # 8
        "  a:\n"  # 9
        "    privileged: false\n"  # 10
        "  b:\n"  # 11
        "    privileged: ${B_PRIVILEGED:-true}\n"  # 12
    )
    assert _hits(text) == [(12, "service b")]


def test_extends_reports_the_base_once():
    text = (
        "services:\n"  # 1
        "  base:\n"  # 2
        "    image: a:1.0\n"  # 3
        "    privileged: true\n"  # 4
        "  child:\n"  # 5
        "    extends: base\n"  # 6
    )
    assert _hits(text) == [(4, "service base")]


def test_string_values_that_are_not_true():
    text = (
        "services:\n"
        "  a:\n"
        "    image: a:1.0\n"
        "    privileged: 'false'\n"
        "  b:\n"
        "    image: b:1.0\n"
        "    privileged: no\n"
    )
    assert _hits(text) == []

"""COMPOSE021: services whose `ports` Docker ignores are skipped, and layers are read."""

from ci_security.rules.runner import check_text


def _lines(text: str) -> list[int]:
    return [f.line for f in check_text(text, "compose.yaml") if f.rule_id == "COMPOSE021"]


def test_services_sharing_another_network_namespace_are_skipped():
    text = (
        "services:\n"  # 1
        "  vpn:\n"  # 2
        "    image: vpn:1.0\n"  # 3
        "    ports:\n"  # 4
        '      - "8080:8080"\n'  # 5
        "  app:\n"  # 6
        "    image: app:1.0\n"  # 7
        '    network_mode: "service:vpn"\n'  # 8
        "    ports:\n"  # 9
        '      - "9090:9090"\n'  # 10
        "  sniffer:\n"  # 11
        "    image: sniffer:1.0\n"  # 12
        "    network_mode: host\n"  # 13
        "    ports:\n"  # 14
        '      - "9091:9091"\n'  # 15
    )
    assert _lines(text) == [5]


def test_an_override_layer_adds_ports():
    text = (
        "services:\n"  # 1
        "  db:\n"  # 2
        "    image: postgres:16.4\n"  # 3
        "    ports:\n"  # 4
        '      - "127.0.0.1:5432:5432"\n'  # 5
        "---\n"  # 6
        "services:\n"  # 7
        "  db:\n"  # 8
        "    ports:\n"  # 9
        '      - "5433:5432"\n'  # 10
    )
    assert _lines(text) == [10]

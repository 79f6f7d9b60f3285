"""Allowed destinations as the policy writes them, and matching against what the sandbox saw."""

import pytest

from ci_security.destinations import is_loopback, parse_destination


@pytest.mark.parametrize(
    ("text", "address", "port", "allowed"),
    [
        ("10.0.0.0/8", "10.1.2.3", 5432, True),
        ("10.0.0.0/8:5432", "10.1.2.3", 5433, False),
        ("192.0.2.1", "192.0.2.1", 4444, True),
        ("[2001:db8::1]:443", "2001:db8::1", 443, True),
        ("2001:db8::/32", "2001:db8:1::5", 80, True),
        ("10.0.0.0/8", "::ffff:10.0.0.9", 80, True),
        ("db.internal", "10.0.0.5", 5432, False),
    ],
)
def test_addresses(text, address, port, allowed):
    assert parse_destination(text).allows_address(address, port) is allowed


def test_names():
    assert parse_destination("*.example.com").allows_name("api.example.com.")
    assert not parse_destination("*.example.com").allows_name("example.com")
    assert parse_destination("DB.internal:5432").allows_name("db.internal", 5432)
    assert not parse_destination("db.internal:5432").allows_name("db.internal", 53)
    assert not parse_destination("10.0.0.1").allows_name("10.0.0.1")


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("", "empty"),
        ("10.0.0.1/8", "host bits set"),
        ("host:99999", "1 to 65535"),
        ("2001:db8::1:99999", r"\[ADDR\]:PORT"),
        ("[2001:db8::1", "closing"),
        ("bad_name!", "DNS name"),
    ],
)
def test_mistakes_say_why(text, reason):
    with pytest.raises(ValueError, match=reason):
        parse_destination(text)


def test_loopback_and_unspecified_stay_on_the_host():
    assert all(is_loopback(a) for a in ("127.0.0.1", "127.9.9.9", "::1", "::ffff:127.0.0.1", "0.0.0.0", "::"))
    assert not any(is_loopback(a) for a in ("192.0.2.1", "10.0.0.1", "not an address"))

"""Tag listing (`distribution.list_tags`): `?n=` and `Link` pagination against Debian's docker-registry
with basic auth, and the bounds a registry that never ends its list runs into."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from testkit.hostile_net import HostileServer, ok
from testkit.images import build_oci_layout, file
from testkit.registries import docker_registry

from ci_security import limits
from ci_security.errors import RegistryError
from ci_security.image.auth import Credentials
from ci_security.image.distribution import RegistryClient, list_tags, next_link
from ci_security.image.reference import parse_docker_reference


def _client(host: str, repo: str, creds: Credentials | None = None) -> RegistryClient:
    return RegistryClient(
        parse_docker_reference(f"{host}/{repo}:x"), label=f"{host}/{repo}", credentials=creds
    )


def test_next_link_is_resolved_against_the_page():
    page = "http://127.0.0.1:5000/v2/a/tags/list?n=2"
    assert next_link('</v2/a/tags/list?last=b&n=2>; rel="next"', page) == (
        "http://127.0.0.1:5000/v2/a/tags/list?last=b&n=2"
    )
    assert next_link('<http://x/y>; rel="prev", <http://x/z>; rel=next', page) == "http://x/z"
    assert next_link("", page) is None
    assert next_link('<>; rel="next"', page) is None


def test_every_page_of_a_real_registry_is_read(tmp_path: Path):
    build_oci_layout(tmp_path / "layout", [[file("etc/hello", "hi\n")]], tag="v1")
    tags = ["1.0", "1.1", "1.2", "2.0-slim", "latest"]
    with docker_registry(tmp_path / "reg", username="ci", password="pw-123") as reg:
        for tag in tags:
            reg.push(tmp_path / "layout", "v1", "team/base", tag)
        client = _client(reg.host, "team/base", Credentials("ci", "pw-123", "test"))
        try:
            assert sorted(list_tags(client, page_size=2)) == sorted(tags)
        finally:
            client.close()
        anonymous = _client(reg.host, "team/base")
        with pytest.raises(RegistryError, match="requires credentials"):
            list_tags(anonymous)
        anonymous.close()


def _endless_pages(server: HostileServer, *, other_origin: str | None = None, loop: bool = False):
    def page(handler):
        number = int(handler.path.rsplit("=", 1)[-1]) if "page=" in handler.path else 0
        target = other_origin or f"/v2/a/tags/list?page={0 if loop else number + 1}"
        body = json.dumps({"name": "a", "tags": [f"t{number}", "bad tag", 7]}).encode()
        ok(body, "application/json", {"Link": f'<{target}>; rel="next"'})(handler)

    server.routes["/v2/a/tags/list"] = page


def test_a_list_that_never_ends_is_bounded():
    with HostileServer() as server:
        _endless_pages(server)
        client = _client(server.host, "a")
        pages = limits.with_overrides(limits.DEFAULTS, {"registry-pages": "5"})
        with limits.use(pages), pytest.raises(limits.LimitExceededError, match="registry-pages"):
            list_tags(client)
        tags = limits.with_overrides(limits.DEFAULTS, {"registry-tags": "3"})
        with limits.use(tags), pytest.raises(limits.LimitExceededError, match="registry-tags"):
            list_tags(client)
        client.close()
    assert len(server.requests) == 5 + 4


def test_next_links_elsewhere_or_in_a_circle_are_not_followed():
    with HostileServer() as elsewhere, HostileServer() as server:
        _endless_pages(server, other_origin=f"{elsewhere.url}/v2/a/tags/list")
        client = _client(server.host, "a")
        with pytest.raises(RegistryError, match="on another server"):
            list_tags(client)
        client.close()
    assert not elsewhere.requests
    with HostileServer() as server:
        _endless_pages(server, loop=True)
        client = _client(server.host, "a")
        with pytest.raises(RegistryError, match="one already read"):
            list_tags(client)
        client.close()


def test_invalid_tags_are_dropped_and_a_non_list_is_an_error():
    with HostileServer() as server:
        listed = b'{"name":"a","tags":["1.0","../x","1.0",null]}'
        server.routes["/v2/a/tags/list"] = ok(listed, "application/json")
        server.routes["/v2/b/tags/list"] = ok(b'{"name":"b","tags":"1.0"}', "application/json")
        server.routes["/v2/c/tags/list"] = ok(b'{"name":"c","tags":null}', "application/json")
        assert list_tags(_client(server.host, "a")) == ["1.0"]
        with pytest.raises(RegistryError, match="not a list"):
            list_tags(_client(server.host, "b"))
        assert list_tags(_client(server.host, "c")) == []

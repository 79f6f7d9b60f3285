"""entrypoint.py: GitHub's INPUT_* variables become CI_SECURITY_* ones, never overriding a value
already set, and `input` becomes an image reference."""

from __future__ import annotations

import entrypoint


def test_inputs_map_to_options_without_overriding():
    env = {
        "INPUT_IMAGE-REF": "ghcr.io/acme/app:1.0",
        "INPUT_SEVERITY": " medium ",
        "INPUT_FAIL-BUILD": "false",
        "INPUT_POLICY": "",
        "INPUT_COMMENT": "true",
        "CI_SECURITY_COMMENT": "false",
        "INPUT_GITHUB-TOKEN": "ghs_token",
    }
    entrypoint.map_inputs(env)
    assert env["CI_SECURITY_IMAGE"] == "ghcr.io/acme/app:1.0"
    assert env["CI_SECURITY_FAIL_ON"] == "medium"
    assert env["CI_SECURITY_FAIL_BUILD"] == "false"
    assert "CI_SECURITY_POLICY" not in env  # an empty input means the default
    assert env["CI_SECURITY_COMMENT"] == "false"  # set explicitly: kept
    assert env["CI_SECURITY_GITHUB_TOKEN"] == "ghs_token"


def test_underscore_spelling_from_docker_run():
    env = {"INPUT_IMAGE_REF": "nginx:1.27"}
    entrypoint.map_inputs(env)
    assert env["CI_SECURITY_IMAGE"] == "nginx:1.27"


def test_input_tarball_or_layout(tmp_path):
    (tmp_path / "layout").mkdir()
    tarball = {"INPUT_INPUT": str(tmp_path / "app.tar")}
    entrypoint.map_inputs(tarball)
    assert tarball["CI_SECURITY_IMAGE"] == f"docker-archive:{tmp_path / 'app.tar'}"
    layout = {"INPUT_INPUT": str(tmp_path / "layout")}
    entrypoint.map_inputs(layout)
    assert layout["CI_SECURITY_IMAGE"] == f"oci:{tmp_path / 'layout'}"
    both = {"INPUT_INPUT": "app.tar", "INPUT_IMAGE-REF": "nginx:1.27"}
    entrypoint.map_inputs(both)
    assert both["CI_SECURITY_IMAGE"] == "nginx:1.27"


def test_rule_links_point_at_the_actions_own_docs_at_its_pinned_ref():
    env = {
        "GITHUB_SERVER_URL": "https://github.com",
        "ACTION_REPOSITORY": "acme/ci-security",
        "ACTION_REF": "0123456789abcdef0123456789abcdef01234567",
    }
    entrypoint.map_inputs(env)
    assert env["CI_SECURITY_DOCS_URL"] == (
        "https://github.com/acme/ci-security/blob/0123456789abcdef0123456789abcdef01234567/docs"
    )
    # GitHub leaves them empty in some composite runs, and a run step never gets them: no link then
    for missing in ({}, {"ACTION_REPOSITORY": "", "ACTION_REF": ""}, {"GITHUB_ACTION_REPOSITORY": "a/b"}):
        entrypoint.map_inputs(missing)
        assert "CI_SECURITY_DOCS_URL" not in missing
    # nothing odd gets into a URL, and an explicit value wins
    for odd in (
        {"ACTION_REPOSITORY": "a/b/../c", "ACTION_REF": "v1"},
        {"ACTION_REPOSITORY": "a/b", "ACTION_REF": "../x"},
        {"ACTION_REPOSITORY": "../..", "ACTION_REF": "v1"},
    ):
        entrypoint.map_inputs(odd)
        assert "CI_SECURITY_DOCS_URL" not in odd
    given = {
        "CI_SECURITY_DOCS_URL": "https://docs.example/ci",
        "GITHUB_ACTION_REPOSITORY": "a/b",
        "GITHUB_ACTION_REF": "v1",
    }
    entrypoint.map_inputs(given)
    assert given["CI_SECURITY_DOCS_URL"] == "https://docs.example/ci"

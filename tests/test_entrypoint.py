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

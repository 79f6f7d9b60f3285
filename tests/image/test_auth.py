import base64
import json

import pytest

from ci_security.errors import RegistryError
from ci_security.image.auth import find_credentials


def _config(tmp_path, doc) -> object:
    path = tmp_path / "config.json"
    path.write_text(json.dumps(doc) if not isinstance(doc, str) else doc)
    return path


def test_explicit_credentials_win(tmp_path):
    creds = find_credentials("ghcr.io", username="u", password="p", config=tmp_path / "none.json")
    assert (creds.username, creds.password, creds.source) == (
        "u",
        "p",
        "CI_SECURITY_REGISTRY_USERNAME/PASSWORD",
    )
    with pytest.raises(RegistryError, match="need both"):
        find_credentials("ghcr.io", username="u", password=None, config=tmp_path / "none.json")


def test_docker_hub_key_and_auth_field(tmp_path):
    auth = base64.b64encode(b"hubuser:hubpass").decode()
    path = _config(tmp_path, {"auths": {"https://index.docker.io/v1/": {"auth": auth}}})
    creds = find_credentials("docker.io", username=None, password=None, config=path)
    assert (creds.username, creds.password) == ("hubuser", "hubpass")
    assert "auths.https://index.docker.io/v1/" in creds.source
    assert "hubpass" not in repr(creds)


def test_identity_token_and_username_password(tmp_path):
    path = _config(
        tmp_path,
        {
            "auths": {
                "a.example": {"identitytoken": "refresh"},
                "https://b.example": {"username": "x", "password": "y"},
            }
        },
    )
    assert (
        find_credentials("a.example", username=None, password=None, config=path).identity_token == "refresh"
    )
    assert find_credentials("b.example", username=None, password=None, config=path).username == "x"
    assert find_credentials("c.example", username=None, password=None, config=path) is None


def test_missing_and_broken_configs(tmp_path):
    assert find_credentials("x.io", username=None, password=None, config=tmp_path / "absent.json") is None
    with pytest.raises(RegistryError, match=r"config.json:1:2: malformed docker config"):
        find_credentials("x.io", username=None, password=None, config=_config(tmp_path, "{nope"))
    bad = _config(tmp_path, {"auths": {"x.io": {"auth": "bm8tY29sb24="}}})  # "no-colon"
    with pytest.raises(RegistryError, match="not base64 user:password"):
        find_credentials("x.io", username=None, password=None, config=bad)


def test_configured_helper_must_exist(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))
    path = _config(tmp_path, {"credHelpers": {"x.io": "nonexistent"}})
    with pytest.raises(RegistryError, match="docker-credential-nonexistent"):
        find_credentials("x.io", username=None, password=None, config=path)

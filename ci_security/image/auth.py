"""Registry credentials, found the way `docker pull` finds them.

Order: `CI_SECURITY_REGISTRY_USERNAME`/`_PASSWORD` (passed in as options) for the image's registry;
then the Docker client config (`$DOCKER_CONFIG/config.json`, else `~/.docker/config.json`): a
per-registry `credHelpers` entry, the global `credsStore`, then inline `auths` (`auth` is base64
`user:password`; `identitytoken` is an OAuth2 refresh token). Docker Hub is stored under
`https://index.docker.io/v1/`. Credentials never appear in messages: `Credentials.source` says where
they came from instead.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from ci_security.errors import RegistryError
from ci_security.image.reference import DOCKER_HUB

_HUB_KEYS = ("https://index.docker.io/v1/", "index.docker.io", "docker.io", "registry-1.docker.io")
_HELPER_TIMEOUT = 30


@dataclass(frozen=True, slots=True)
class Credentials:
    """A username and secret (password or token), and where they were found."""

    username: str | None
    password: str | None = field(repr=False)
    source: str
    identity_token: str | None = field(default=None, repr=False)


def docker_config_path(explicit: Path | None = None) -> Path:
    if explicit is not None:
        return explicit
    base = os.environ.get("DOCKER_CONFIG")
    return Path(base) / "config.json" if base else Path.home() / ".docker" / "config.json"


def _keys_for(registry: str) -> tuple[str, ...]:
    if registry == DOCKER_HUB:
        return _HUB_KEYS
    return (
        registry,
        f"https://{registry}",
        f"http://{registry}",
        f"https://{registry}/v1/",
        f"https://{registry}/v2/",
    )


def _from_helper(helper: str, server: str) -> Credentials | None:
    exe = shutil.which(f"docker-credential-{helper}")
    if exe is None:
        raise RegistryError(
            f"docker credential helper 'docker-credential-{helper}' is configured but not installed"
        )
    try:
        proc = subprocess.run(
            [exe, "get"], input=server.encode(), capture_output=True, timeout=_HELPER_TIMEOUT, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise RegistryError(f"docker credential helper {helper} failed ({exc.__class__.__name__})") from None
    if proc.returncode != 0:
        # "credentials not found in native keychain" is the helper's way of saying "none".
        return None
    try:
        data = json.loads(proc.stdout)
        username, secret = data["Username"], data["Secret"]
    except (ValueError, KeyError, TypeError):
        raise RegistryError(f"docker credential helper {helper} returned malformed output") from None
    if username == "<token>":
        return Credentials(None, None, f"credential helper {helper}", identity_token=secret)
    return Credentials(username, secret, f"credential helper {helper}")


def _from_auth_entry(entry: dict[str, object], where: str) -> Credentials | None:
    token = entry.get("identitytoken")
    if isinstance(token, str) and token:
        return Credentials(None, None, where, identity_token=token)
    auth = entry.get("auth")
    if isinstance(auth, str) and auth:
        try:
            user, sep, password = base64.b64decode(auth).decode("utf-8").partition(":")
        except (binascii.Error, UnicodeDecodeError):
            raise RegistryError(f"{where}: the 'auth' value is not base64 user:password") from None
        if not sep:
            raise RegistryError(f"{where}: the 'auth' value is not base64 user:password")
        return Credentials(user, password, where)
    name, secret = entry.get("username"), entry.get("password")
    if isinstance(name, str) and isinstance(secret, str):
        return Credentials(name, secret, where)
    return None


def find_credentials(
    registry: str, *, username: str | None, password: str | None, config: Path | None = None
) -> Credentials | None:
    """Credentials for `registry` (canonical name, e.g. `docker.io`, `ghcr.io`, `127.0.0.1:5000`)."""
    if username or password:
        if not (username and password):
            raise RegistryError("registry credentials need both CI_SECURITY_REGISTRY_USERNAME and _PASSWORD")
        return Credentials(username, password, "CI_SECURITY_REGISTRY_USERNAME/PASSWORD")
    path = docker_config_path(config)
    try:
        raw = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise RegistryError(f"cannot read docker config {path} ({exc.strerror or exc})") from None
    try:
        doc = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise RegistryError(f"{path}:{exc.lineno}:{exc.colno}: malformed docker config ({exc.msg})") from None
    if not isinstance(doc, dict):
        raise RegistryError(f"{path}: docker config is not a JSON object")
    keys = _keys_for(registry)
    helpers = doc.get("credHelpers")
    if isinstance(helpers, dict):
        for key in keys:
            helper = helpers.get(key)
            if isinstance(helper, str) and helper:
                return _from_helper(helper, key)
    auths = doc.get("auths")
    store = doc.get("credsStore")
    if isinstance(store, str) and store:
        found = _from_helper(store, keys[0])
        if found is not None:
            return found
    if isinstance(auths, dict):
        for key in keys:
            entry = auths.get(key)
            if isinstance(entry, dict):
                creds = _from_auth_entry(entry, f"{path} (auths.{key})")
                if creds is not None:
                    return creds
    return None

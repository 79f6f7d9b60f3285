"""Registry pulls against real servers on 127.0.0.1: Debian's docker-registry (basic auth) and a
bearer-token registry with bounded fault injection."""

import base64
import json
import os
import stat
from pathlib import Path

import pytest
from testkit.hostile_net import HostileRegistry, HostileServer, ok
from testkit.images import (
    DEBIAN_RELEASE,
    build_multiplatform_layout,
    build_oci_layout,
    directory,
    dpkg_status,
    file,
    whiteout,
)
from testkit.registries import TokenRegistry, docker_registry, free_port

from ci_security.errors import RegistryError
from ci_security.http import retry_delay
from ci_security.image.auth import Credentials
from ci_security.image.distribution import RegistryClient, parse_challenge
from ci_security.image.reference import DockerReference
from ci_security.scan import ScanOptions, run

LAYERS = [
    [
        *DEBIAN_RELEASE,
        directory("var/lib/dpkg"),
        file("var/lib/dpkg/status", dpkg_status(("libc6", "2.36-9"), ("bash", "5.2-1"))),
        file("lib/apk/db/installed", "P:musl\nV:1.2.4-r2\nA:x86_64\no:musl\n\n"),
    ],
    [
        whiteout("lib/apk"),
        file("var/lib/dpkg/status", dpkg_status(("libc6", "2.36-9"), ("bash", "5.2-1"), ("curl", "7.88"))),
    ],
    # Incompressible, so the layer blob is large enough for the fault injection to cut or corrupt it.
    [file("app/app.py", "print('hi')\n"), file("app/data.bin", os.urandom(64 << 10))],
]


@pytest.fixture
def layout(tmp_path: Path) -> Path:
    build_oci_layout(tmp_path / "layout", LAYERS, tag="v1")
    return tmp_path / "layout"


@pytest.fixture(autouse=True)
def _no_docker_config(tmp_path, monkeypatch):
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path / "no-docker-config"))


def _names(result) -> dict[str, int]:
    return {p.name: p.layer.index for p in result.packages}


def test_docker_registry_with_basic_auth(tmp_path, layout):
    with docker_registry(tmp_path / "reg", username="ci", password="pw-123") as reg:
        reg.push(layout, "v1", "team/app")
        result = run(
            ScanOptions(
                vulns=False,
                image=f"{reg.host}/team/app:v1",
                registry_username="ci",
                registry_password="pw-123",
            )
        )
    assert _names(result) == {"libc6": 0, "bash": 0, "curl": 1}  # musl was deleted by a whiteout
    assert result.target.transport == "docker"
    assert result.target.repo_digests[0].startswith(f"{reg.host}/team/app@sha256:")
    assert result.target.os.version == "12.5"


def test_docker_registry_credentials_from_docker_config(tmp_path, layout, monkeypatch):
    config_dir = tmp_path / "dockercfg"
    config_dir.mkdir()
    with docker_registry(tmp_path / "reg", username="ci", password="pw-123") as reg:
        auth = base64.b64encode(b"ci:pw-123").decode()
        (config_dir / "config.json").write_text(json.dumps({"auths": {reg.host: {"auth": auth}}}))
        monkeypatch.setenv("DOCKER_CONFIG", str(config_dir))
        reg.push(layout, "v1", "team/app")
        result = run(ScanOptions(vulns=False, image=f"docker://{reg.host}/team/app:v1"))
    assert set(_names(result)) == {"libc6", "bash", "curl"}


def test_docker_registry_wrong_and_missing_credentials(tmp_path, layout):
    with docker_registry(tmp_path / "reg", username="ci", password="pw-123") as reg:
        reg.push(layout, "v1", "team/app")
        with pytest.raises(
            RegistryError, match="refused the credentials from CI_SECURITY_REGISTRY_USERNAME/PASSWORD"
        ) as err:
            run(
                ScanOptions(
                    vulns=False,
                    image=f"{reg.host}/team/app:v1",
                    registry_username="ci",
                    registry_password="wrong-pw",
                )
            )
        assert "wrong-pw" not in str(err.value)
        with pytest.raises(RegistryError, match="requires credentials"):
            run(ScanOptions(vulns=False, image=f"{reg.host}/team/app:v1"))
        with pytest.raises(RegistryError, match="not found"):
            run(
                ScanOptions(
                    vulns=False,
                    image=f"{reg.host}/team/nope:v1",
                    registry_username="ci",
                    registry_password="pw-123",
                )
            )


def test_docker_registry_multi_platform(tmp_path):
    build_multiplatform_layout(
        tmp_path / "multi",
        {
            "linux/amd64": [
                [
                    file("etc/alpine-release", "3.19.1\n"),
                    file("lib/apk/db/installed", "P:musl\nV:1-r0\nA:x86_64\n\n"),
                ]
            ],
            "linux/arm64": [
                [
                    file("etc/alpine-release", "3.19.1\n"),
                    file("lib/apk/db/installed", "P:musl\nV:1-r0\nA:aarch64\n\n"),
                ]
            ],
        },
    )
    with docker_registry(tmp_path / "reg") as reg:
        import subprocess

        subprocess.run(
            [
                "skopeo",
                "copy",
                "--all",
                "--insecure-policy",
                "--dest-tls-verify=false",
                f"oci:{tmp_path / 'multi'}:latest",
                f"docker://{reg.host}/multi:1",
            ],
            check=True,
            capture_output=True,
            timeout=120,
        )
        amd = run(ScanOptions(vulns=False, image=f"{reg.host}/multi:1"))
        arm = run(ScanOptions(vulns=False, image=f"{reg.host}/multi:1", platform="linux/arm64"))
    assert [p.arch for p in amd.packages] == ["x86_64"]
    assert [p.arch for p in arm.packages] == ["aarch64"]
    assert str(arm.target.platform) == "linux/arm64"


def test_bearer_token_challenge(layout):
    with TokenRegistry(layout, "org/app") as reg:
        result = run(
            ScanOptions(
                vulns=False,
                image=f"{reg.host}/org/app:v1",
                registry_username="bob",
                registry_password="s3cret",
            )
        )
        paths = [p for p, _ in reg.requests]
    assert set(_names(result)) == {"libc6", "bash", "curl"}
    assert "/token" in paths
    blob_requests = [h for p, h in reg.requests if "/blobs/" in p]
    assert blob_requests and all(h.get("Authorization", "").startswith("Bearer ") for h in blob_requests)


def test_bearer_token_wrong_credentials(layout):
    with (
        TokenRegistry(layout, "org/app") as reg,
        pytest.raises(RegistryError, match="refused the credentials"),
    ):
        run(
            ScanOptions(
                vulns=False, image=f"{reg.host}/org/app:v1", registry_username="bob", registry_password="nope"
            )
        )


def test_anonymous_token(layout):
    with TokenRegistry(layout, "org/app", anonymous=True) as reg:
        assert len(run(ScanOptions(vulns=False, image=f"{reg.host}/org/app:v1")).packages) == 3


def test_retries_on_503_and_429_with_retry_after(layout):
    with TokenRegistry(layout, "org/app") as reg:
        reg.faults.status_5xx = 2
        reg.faults.status_429 = 1
        reg.faults.retry_after = "1"
        result = run(
            ScanOptions(
                vulns=False,
                image=f"{reg.host}/org/app:v1",
                registry_username="bob",
                registry_password="s3cret",
            )
        )
        assert reg.faults.log == ["429", "503", "503"]
    assert len(result.packages) == 3


def test_gives_up_after_bounded_retries(layout):
    with TokenRegistry(layout, "org/app") as reg:
        reg.faults.status_5xx = 100
        with pytest.raises(RegistryError, match="answered HTTP 503"):
            run(
                ScanOptions(
                    vulns=False,
                    image=f"{reg.host}/org/app:v1",
                    registry_username="bob",
                    registry_password="s3cret",
                )
            )
        assert len(reg.faults.log) == 5


def test_connection_cut_mid_blob_is_retried(layout):
    with TokenRegistry(layout, "org/app") as reg:
        reg.faults.cut_blob = 1
        result = run(
            ScanOptions(
                vulns=False,
                image=f"{reg.host}/org/app:v1",
                registry_username="bob",
                registry_password="s3cret",
            )
        )
        assert reg.faults.log == ["cut"]
    assert len(result.packages) == 3


def test_blob_not_matching_digest(layout):
    with TokenRegistry(layout, "org/app") as reg:
        reg.faults.corrupt_blob = True
        with pytest.raises(RegistryError, match="does not match its digest"):
            run(
                ScanOptions(
                    vulns=False,
                    image=f"{reg.host}/org/app:v1",
                    registry_username="bob",
                    registry_password="s3cret",
                )
            )


def test_unreachable_registry():
    port = free_port()
    with pytest.raises(
        RegistryError,
        match=rf"http://127\.0\.0\.1:{port}/v2/app/manifests/1: cannot connect \(Failed to establish",
    ):
        run(ScanOptions(vulns=False, image=f"127.0.0.1:{port}/app:1"))


def test_credential_helper(tmp_path, layout, monkeypatch):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    helper = bin_dir / "docker-credential-testhelper"
    helper.write_text(
        '#!/bin/sh\nread server\necho "{\\"Username\\": \\"bob\\", \\"Secret\\": \\"s3cret\\"}"\n'
    )
    helper.chmod(helper.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    config_dir = tmp_path / "dockercfg"
    config_dir.mkdir()
    monkeypatch.setenv("DOCKER_CONFIG", str(config_dir))
    with TokenRegistry(layout, "org/app") as reg:
        (config_dir / "config.json").write_text(json.dumps({"credHelpers": {reg.host: "testhelper"}}))
        assert len(run(ScanOptions(vulns=False, image=f"{reg.host}/org/app:v1")).packages) == 3


def test_parse_challenge():
    scheme, params = parse_challenge(
        'Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/nginx:pull"'
    )
    assert scheme == "bearer"
    assert params == {
        "realm": "https://auth.docker.io/token",
        "service": "registry.docker.io",
        "scope": "repository:library/nginx:pull",
    }
    assert parse_challenge('Basic realm="Registry Realm"') == ("basic", {"realm": "Registry Realm"})


class _Resp:
    def __init__(self, value):
        self.headers = {"Retry-After": value} if value is not None else {}


def test_retry_delay_honours_retry_after_with_a_cap():
    assert retry_delay(_Resp("3").headers, 0) == 3.0
    assert retry_delay(_Resp("100000").headers, 0) == 60.0
    assert retry_delay(_Resp(None).headers, 0) == 0.5
    assert retry_delay(_Resp(None).headers, 10) == 8.0
    assert 0 <= retry_delay(_Resp("Wed, 21 Oct 2015 07:28:00 GMT").headers, 0) <= 60


# --- the credential rules (loopback stand-ins from testkit.hostile_net) ------------------------


def _client(host: str, *, insecure: bool = False):
    creds = Credentials("bob", "s3cret", "test")
    return RegistryClient(DockerReference(host, "app", "1"), label="x", credentials=creds, insecure=insecure)


@pytest.mark.parametrize(
    ("registry", "insecure", "realm", "allowed"),
    [
        ("ghcr.io", False, "https://ghcr.io/token", True),
        ("ghcr.io", False, "https://auth.example.com/token", True),  # as the challenge names it
        ("127.0.0.1:5000", False, "http://127.0.0.1:5001/token", True),  # loopback
        ("localhost:5000", False, "http://localhost/token", True),
        ("reg.internal:5000", True, "http://reg.internal:5001/token", True),  # the insecure registry's host
        ("ghcr.io", False, "http://ghcr.io/token", False),  # a downgrade from the registry's https
        ("reg.internal:5000", True, "http://auth.internal/token", False),  # another host over http
        ("ghcr.io", False, "http://192.0.2.1/token", False),
        ("ghcr.io", False, "ftp://ghcr.io/token", False),
        ("ghcr.io", False, "/token", False),
    ],
)
def test_token_realm_rules(registry, insecure, realm, allowed):
    client = _client(registry, insecure=insecure)
    try:
        if allowed:
            assert client._check_realm(realm) == realm
        else:
            with pytest.raises(RegistryError, match="token service"):
                client._check_realm(realm)
    finally:
        client.close()


def test_a_loopback_realm_on_another_port_gets_the_credentials_and_the_registry_the_token():
    with HostileServer({"/token": ok(b'{"token": "tok-123"}', "application/json")}) as tokens:
        with HostileRegistry(bearer_realm=f"{tokens.url}/token") as reg:
            result = run(
                ScanOptions(vulns=False, image=reg.reference, registry_username="bob", registry_password="pw")
            )
            sent = {seen.headers.get("Authorization") for seen in reg.requests} - {None}
        assert result.target.os is not None and result.target.os.family == "alpine"
        assert sent == {"Bearer tok-123"}
        expected = "Basic " + base64.b64encode(b"bob:pw").decode()
        assert [seen.headers.get("Authorization") for seen in tokens.requests] == [expected]
        assert "scope=repository%3Aapp%3Apull" in tokens.requests[0].path


def test_a_token_that_would_inject_a_header_is_refused_unseen():
    evil = b'{"token": "tok\\r\\nX-Injected: yes"}'
    with (
        HostileServer({"/token": ok(evil, "application/json")}) as tokens,
        HostileRegistry(bearer_realm=f"{tokens.url}/token") as reg,
        pytest.raises(RegistryError, match="returned no usable token") as err,
    ):
        run(ScanOptions(vulns=False, image=reg.reference))
    assert "Injected" not in str(err.value) and "\r" not in str(err.value)

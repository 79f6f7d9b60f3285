"""A client for the OCI distribution API (pulling only), on `requests`.

Authentication follows the Docker token protocol: a request answered `401` with
`WWW-Authenticate: Bearer realm=…,service=…,scope=…` is retried with a token from the realm (fetched
with basic credentials, or an OAuth2 refresh token, when there are any); a `Basic` challenge is
answered with the credentials directly. Transient failures (connection errors, `429`, `5xx`) are
retried a bounded number of times with exponential backoff, honouring `Retry-After`. Blobs are
streamed to files in the private work directory and hashed as they arrive; a blob whose digest or
size does not match is deleted and reported.

Registries on loopback (`localhost`, `127.0.0.0/8`, `::1`) are spoken to over plain HTTP, as
Docker and go-containerregistry (Trivy, crane) do; any other registry needs `--insecure-registry`.
"""

from __future__ import annotations

import hashlib
import ipaddress
import re
import time
from collections.abc import Callable
from pathlib import Path

import requests

from ci_security.errors import RegistryError
from ci_security.http import MAX_ATTEMPTS, RETRY_STATUS, TIMEOUT, USER_AGENT, retry_delay, short_reason
from ci_security.image.auth import Credentials
from ci_security.image.reference import DockerReference

MAX_MANIFEST = 4 << 20
MAX_CONFIG = 64 << 20
_CHALLENGE_PARAM = re.compile(r'(\w+)=(?:"([^"]*)"|([^\s,]+))')


def is_loopback(host: str) -> bool:
    name = host.rsplit(":", 1)[0] if not host.startswith("[") else host[1 : host.find("]")]
    if name == "localhost":
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def parse_challenge(header: str) -> tuple[str, dict[str, str]]:
    """Split `Bearer realm="…",service="…"` into the scheme and its parameters."""
    scheme, _, rest = header.strip().partition(" ")
    params = {
        m.group(1).lower(): m.group(2) if m.group(2) is not None else m.group(3)
        for m in _CHALLENGE_PARAM.finditer(rest)
    }
    return scheme.lower(), params


class RegistryClient:
    """Pulls manifests and blobs of one repository."""

    def __init__(
        self,
        ref: DockerReference,
        *,
        label: str,
        credentials: Credentials | None,
        insecure: bool = False,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.ref = ref
        self.label = label
        self.credentials = credentials
        scheme = "http" if insecure or is_loopback(ref.api_host) else "https"
        self.base = f"{scheme}://{ref.api_host}/v2/{ref.repository}"
        self._sleep = sleep
        self._session = requests.Session()
        self._session.headers["User-Agent"] = USER_AGENT
        self._session.trust_env = True

    def close(self) -> None:
        self._session.close()

    # -- transport ---------------------------------------------------------------------------

    def _send(self, url: str, headers: dict[str, str], stream: bool) -> requests.Response:
        """One logical request, with authentication and bounded retries."""
        authed = False
        last: requests.Response | None = None
        for attempt in range(MAX_ATTEMPTS):
            try:
                resp = self._session.get(url, headers=headers, stream=stream, timeout=TIMEOUT)
            except (requests.ConnectionError, requests.Timeout) as exc:
                if attempt + 1 == MAX_ATTEMPTS:
                    raise RegistryError(
                        f"{self.label}: cannot reach registry {self.ref.api_host} ({short_reason(exc)})"
                    ) from None
                self._sleep(retry_delay(None, attempt))
                continue
            if resp.status_code == 401 and not authed:
                challenge = resp.headers.get("WWW-Authenticate", "")
                resp.close()
                self._authenticate(challenge)
                authed = True
                resp = self._retry_after_auth(url, headers, stream)
            if resp.status_code in RETRY_STATUS and attempt + 1 < MAX_ATTEMPTS:
                last = resp
                resp.close()
                self._sleep(retry_delay(resp.headers, attempt))
                continue
            return resp
        assert last is not None
        return last

    def _retry_after_auth(self, url: str, headers: dict[str, str], stream: bool) -> requests.Response:
        try:
            return self._session.get(url, headers=headers, stream=stream, timeout=TIMEOUT)
        except (requests.ConnectionError, requests.Timeout) as exc:
            raise RegistryError(
                f"{self.label}: cannot reach registry {self.ref.api_host} ({short_reason(exc)})"
            ) from None

    def _authenticate(self, challenge: str) -> None:
        scheme, params = parse_challenge(challenge)
        creds = self.credentials
        if scheme == "basic":
            if creds is None or creds.username is None or creds.password is None:
                raise RegistryError(
                    f"{self.label}: registry {self.ref.api_host} requires credentials "
                    "(docker login, or CI_SECURITY_REGISTRY_USERNAME/PASSWORD)"
                )
            self._session.auth = (creds.username, creds.password)
            return
        if scheme != "bearer" or "realm" not in params:
            raise RegistryError(
                f"{self.label}: registry {self.ref.api_host} sent an unsupported auth challenge"
            )
        scope = params.get("scope") or f"repository:{self.ref.repository}:pull"
        query = {"scope": scope}
        if "service" in params:
            query["service"] = params["service"]
        realm = params["realm"]
        try:
            if creds is not None and creds.identity_token:
                resp = self._session.post(
                    realm,
                    data={
                        **query,
                        "grant_type": "refresh_token",
                        "refresh_token": creds.identity_token,
                        "client_id": "ci-security",
                    },
                    timeout=TIMEOUT,
                )
            else:
                auth = (
                    (creds.username, creds.password) if creds and creds.username and creds.password else None
                )
                resp = self._session.get(realm, params=query, auth=auth, timeout=TIMEOUT)
        except (requests.ConnectionError, requests.Timeout) as exc:
            raise RegistryError(
                f"{self.label}: cannot reach the token service of {self.ref.api_host} ({short_reason(exc)})"
            ) from None
        if resp.status_code in (401, 403):
            who = f" from {creds.source}" if creds else " (no credentials were found)"
            raise RegistryError(f"{self.label}: registry {self.ref.api_host} refused the credentials{who}")
        if resp.status_code != 200:
            raise RegistryError(
                f"{self.label}: token service of {self.ref.api_host} answered HTTP {resp.status_code}"
            )
        try:
            body = resp.json()
            token = body.get("token") or body.get("access_token")
        except (ValueError, AttributeError):
            token = None
        if not isinstance(token, str) or not token:
            raise RegistryError(f"{self.label}: token service of {self.ref.api_host} returned no token")
        self._session.auth = None
        self._session.headers["Authorization"] = f"Bearer {token}"

    def _check(self, resp: requests.Response, what: str) -> None:
        if resp.status_code == 200:
            return
        resp.close()
        if resp.status_code == 401:
            who = f" from {self.credentials.source}" if self.credentials else " (no credentials were found)"
            raise RegistryError(f"{self.label}: registry {self.ref.api_host} refused the credentials{who}")
        if resp.status_code == 403:
            raise RegistryError(f"{self.label}: access to {what} denied by {self.ref.api_host}")
        if resp.status_code == 404:
            raise RegistryError(f"{self.label}: {what} not found on {self.ref.api_host}")
        raise RegistryError(f"{self.label}: {self.ref.api_host} answered HTTP {resp.status_code} for {what}")

    # -- API ---------------------------------------------------------------------------------

    def manifest(self, reference: str, accept: str) -> tuple[bytes, str | None, str]:
        """Fetch a manifest or index: (body, media type, digest of the body)."""
        what = (
            f"manifest {self.ref.repository}:{reference}" if ":" not in reference else f"manifest {reference}"
        )
        resp = self._send(f"{self.base}/manifests/{reference}", {"Accept": accept}, stream=True)
        self._check(resp, what)
        body = _read_limited(resp, MAX_MANIFEST, f"{self.label}: {what}")
        media_type = resp.headers.get("Content-Type", "").split(";")[0].strip() or None
        digest = "sha256:" + hashlib.sha256(body).hexdigest()
        return body, media_type, digest

    def blob_bytes(self, digest: str, limit: int = MAX_CONFIG) -> bytes:
        resp = self._send(f"{self.base}/blobs/{digest}", {}, stream=True)
        self._check(resp, f"blob {digest}")
        return _read_limited(resp, limit, f"{self.label}: blob {digest}")

    def download_blob(
        self, digest: str, size: int, dest: Path, progress: Callable[[int], None] | None = None
    ) -> None:
        """Stream a blob to `dest`, verifying size and digest; retry a broken transfer from scratch."""
        algo, _, expected = digest.partition(":")
        if algo not in {"sha256", "sha512"}:
            raise RegistryError(f"{self.label}: unsupported digest {digest!r}")
        for attempt in range(MAX_ATTEMPTS):
            resp = self._send(f"{self.base}/blobs/{digest}", {}, stream=True)
            self._check(resp, f"blob {digest}")
            hasher = hashlib.new(algo)
            written = 0
            try:
                with open(dest, "wb") as out:
                    for chunk in resp.iter_content(chunk_size=1 << 20):
                        out.write(chunk)
                        hasher.update(chunk)
                        written += len(chunk)
                        if progress:
                            progress(len(chunk))
                        if size >= 0 and written > size:
                            break
            except (
                requests.ConnectionError,
                requests.Timeout,
                requests.exceptions.ChunkedEncodingError,
            ) as exc:
                dest.unlink(missing_ok=True)
                if attempt + 1 == MAX_ATTEMPTS:
                    raise RegistryError(
                        f"{self.label}: download of {digest} failed ({short_reason(exc)})"
                    ) from None
                self._sleep(retry_delay(None, attempt))
                continue
            finally:
                resp.close()
            if (size >= 0 and written != size) or hasher.hexdigest() != expected:
                dest.unlink(missing_ok=True)
                raise RegistryError(
                    f"{self.label}: blob {digest} does not match its digest "
                    f"(received {written} bytes, {algo}:{hasher.hexdigest()})"
                )
            return


def _read_limited(resp: requests.Response, limit: int, what: str) -> bytes:
    parts, total = [], 0
    try:
        for chunk in resp.iter_content(chunk_size=1 << 16):
            total += len(chunk)
            if total > limit:
                raise RegistryError(f"{what}: larger than {limit} bytes")
            parts.append(chunk)
    except (requests.ConnectionError, requests.Timeout, requests.exceptions.ChunkedEncodingError) as exc:
        raise RegistryError(f"{what}: transfer failed ({short_reason(exc)})") from None
    finally:
        resp.close()
    return b"".join(parts)

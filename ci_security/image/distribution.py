"""A client for the OCI distribution API (pulling only), on the shared HTTP policy (`ci_security.http`).

Authentication follows the Docker token protocol: a request answered `401` with
`WWW-Authenticate: Bearer realm=…,service=…,scope=…` is retried with a token from the realm (fetched
with basic credentials, or an OAuth2 refresh token, when there are any); a `Basic` challenge is
answered with the credentials directly.

A registry is a server we do not control, so:

- every exchange has a deadline (`metadata_seconds` for manifests, configs and tokens,
  `transfer_seconds` for a layer blob, retries included) and a size cap: a manifest or config is
  read into memory up to `metadata_bytes`, a blob exactly up to the size its descriptor states;
  a body shorter or longer than its descriptor is an error, and a layer without a size is refused;
- every digest that becomes part of a URL or a file name is checked against the strict grammar
  (`image.digest`), and every body is verified against its digest;
- credentials (basic, or the bearer token) are attached only to requests to the registry's own
  scheme, host and port, never to where it redirects (blob storage, another port); basic
  credentials go to a token realm only as the challenge names it, and only over HTTPS, to loopback,
  or to the registry's own host when that registry is itself spoken to over plain HTTP.

Registries on loopback (`localhost`, `127.0.0.0/8`, `::1`) are spoken to over plain HTTP, as
Docker and go-containerregistry (Trivy, crane) do; any other registry needs `--insecure-registry`.
"""

from __future__ import annotations

import hashlib
import re
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from ci_security import limits
from ci_security.errors import RegistryError
from ci_security.http import (
    Client,
    Credential,
    DeadlineLimit,
    Exchange,
    TransferError,
    basic_header,
    display_url,
    is_loopback_host,
    origin,
)
from ci_security.image.auth import Credentials
from ci_security.image.digest import check_digest
from ci_security.image.reference import DockerReference
from ci_security.structured import load_json

if TYPE_CHECKING:
    import requests

_CHALLENGE_PARAM = re.compile(r'(\w+)=(?:"([^"]*)"|([^\s,]+))')
_TOKEN = re.compile(r"[\x21-\x7e]+")  # what may go into an Authorization header as is


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
        self.plain_http = insecure or is_loopback_host(ref.api_host)
        scheme = "http" if self.plain_http else "https"
        self.base = f"{scheme}://{ref.api_host}/v2/{ref.repository}"
        self.origin = origin(self.base)
        self._http = Client(error=RegistryError, sleep=sleep)
        self._credential: Credential | None = None
        self._auth_lock = threading.Lock()

    def close(self) -> None:
        self._http.close()

    # -- transport ---------------------------------------------------------------------------

    def _exchange(self, url: str, limit: DeadlineLimit) -> Exchange:
        return self._http.exchange(url, limit, prefix=f"{self.label}: ")

    def _send(self, ex: Exchange, url: str, headers: dict[str, str]) -> requests.Response:
        """One request to the registry, answering one authentication challenge on the way."""
        used = self._credential
        resp = self._own_401(ex, ex.send(url, headers=headers, credential=used))
        if resp.status_code != 401:
            return resp
        challenge = resp.headers.get("WWW-Authenticate", "")
        resp.close()
        with self._auth_lock:
            if self._credential is used:  # another thread may have authenticated meanwhile
                self._authenticate(challenge)
        return self._own_401(ex, ex.send(url, headers=headers, credential=self._credential))

    def _own_401(self, ex: Exchange, resp: requests.Response) -> requests.Response:
        """`resp`, unless it is a 401 from where the registry redirected: a redirect target (blob
        storage, another port) asking for credentials gets none, and the pull ends there.
        """
        if resp.status_code == 401 and origin(resp.url) != self.origin:
            resp.close()
            raise RegistryError(
                f"{ex.where}: redirected to {display_url(resp.url)}, which answered HTTP 401 "
                "(credentials are only ever sent to the registry itself)"
            )
        return resp

    def _authenticate(self, challenge: str) -> None:
        scheme, params = parse_challenge(challenge)
        creds = self.credentials
        host = self.ref.api_host
        if scheme == "basic":
            if creds is None or creds.username is None or creds.password is None:
                raise RegistryError(
                    f"{self.label}: registry {host} requires credentials "
                    "(docker login, or CI_SECURITY_REGISTRY_USERNAME/PASSWORD)"
                )
            self._credential = Credential(self.origin, basic_header(creds.username, creds.password))
            return
        if scheme != "bearer" or "realm" not in params:
            raise RegistryError(f"{self.label}: registry {host} sent an unsupported auth challenge")
        realm = self._check_realm(params["realm"])
        query = {"scope": params.get("scope") or f"repository:{self.ref.repository}:pull"}
        if "service" in params:
            query["service"] = params["service"]
        with self._exchange(realm, "metadata_seconds") as ex:
            if creds is not None and creds.identity_token:
                resp = ex.send(
                    method="POST",
                    data={
                        **query,
                        "grant_type": "refresh_token",
                        "refresh_token": creds.identity_token,
                        "client_id": "ci-security",
                    },
                    retry=False,
                )
            else:
                basic = (
                    Credential(origin(realm), basic_header(creds.username, creds.password))
                    if creds is not None and creds.username and creds.password
                    else None
                )
                resp = ex.send(params=query, credential=basic)
            if resp.status_code in (401, 403):
                resp.close()
                who = f" from {creds.source}" if creds else " (no credentials were found)"
                raise RegistryError(f"{self.label}: registry {host} refused the credentials{who}")
            if resp.status_code != 200:
                resp.close()
                raise RegistryError(f"{ex.where}: the token service answered HTTP {resp.status_code}")
            body = ex.read(resp, max_bytes=limits.active().metadata_bytes, size_limit="metadata_bytes")
        doc = load_json(body, f"{self.label}: token service answer", error=RegistryError)
        token = doc.get("token") or doc.get("access_token") if isinstance(doc, dict) else None
        if not isinstance(token, str) or not _TOKEN.fullmatch(token):
            # The token itself is never shown, even when it is malformed.
            raise RegistryError(f"{self.label}: the token service of {host} returned no usable token")
        self._credential = Credential(self.origin, f"Bearer {token}")

    def _check_realm(self, realm: str) -> str:
        """The realm URL if credentials may go there; refuse a plain-HTTP realm elsewhere."""
        try:
            scheme, host, _ = origin(realm)
        except ValueError:
            host, scheme = "", ""
        if scheme not in ("http", "https") or not host:
            raise RegistryError(
                f"{self.label}: registry {self.ref.api_host} names an unusable token service "
                f"{display_url(realm)!r}"
            )
        if scheme == "http" and not (is_loopback_host(host) or (self.plain_http and host == self.origin[1])):
            raise RegistryError(
                f"{self.label}: registry {self.ref.api_host} names a token service on another host over "
                f"plain HTTP ({display_url(realm)}); refusing to send credentials or use a token from there"
            )
        return realm

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

    def manifest(self, reference: str, accept: str, size: int | None = None) -> tuple[bytes, str | None, str]:
        """Fetch a manifest or index by tag or digest: (body, media type, digest of the body).
        `size` is the descriptor's size when the manifest was found through an index.
        """
        if ":" in reference:
            reference = check_digest(reference, f"{self.label}: manifest reference")
            what = f"manifest {reference}"
        else:
            what = f"manifest {self.ref.repository}:{reference}"
        url = f"{self.base}/manifests/{reference}"
        cap = limits.active().metadata_bytes
        with self._exchange(url, "metadata_seconds") as ex:
            resp = self._send(ex, url, {"Accept": accept})
            self._check(resp, what)
            media_type = resp.headers.get("Content-Type", "").split(";")[0].strip() or None
            body = self._read(ex, resp, cap, "metadata_bytes", size)
        return body, media_type, "sha256:" + hashlib.sha256(body).hexdigest()

    def blob_bytes(self, digest: str, size: int | None = None) -> bytes:
        """A small blob (the image config) read into memory, up to `metadata_bytes`."""
        digest = check_digest(digest, f"{self.label}: blob")
        url = f"{self.base}/blobs/{digest}"
        with self._exchange(url, "metadata_seconds") as ex:
            resp = self._send(ex, url, {})
            self._check(resp, f"blob {digest}")
            return self._read(ex, resp, limits.active().metadata_bytes, "metadata_bytes", size)

    def _read(self, ex: Exchange, resp: requests.Response, cap: int, limit: str, size: int | None) -> bytes:
        try:
            return ex.read(resp, max_bytes=cap, size_limit=limit, exact=size)
        except TransferError as exc:
            raise RegistryError(str(exc)) from None

    def download_blob(
        self, digest: str, size: int, dest: Path, progress: Callable[[int], None] | None = None
    ) -> int:
        """Stream a blob to `dest`, verifying size and digest; a transfer that breaks off is started
        again (bounded, within the same deadline). Returns the bytes written.
        """
        digest = check_digest(digest, f"{self.label}: layer")
        if size < 0:
            raise RegistryError(
                f"{self.label}: layer {digest} has no size in its descriptor; refusing an unbounded download"
            )
        algo, _, expected = digest.partition(":")
        url = f"{self.base}/blobs/{digest}"
        with self._exchange(url, "transfer_seconds") as ex:

            def transfer() -> int:
                resp = self._send(ex, url, {})
                self._check(resp, f"blob {digest}")
                hasher = hashlib.new(algo)
                try:
                    with open(dest, "wb") as out:
                        for chunk in ex.chunks(
                            resp, max_bytes=limits.active().spool_bytes, size_limit="spool_bytes", exact=size
                        ):
                            out.write(chunk)
                            hasher.update(chunk)
                            if progress:
                                progress(len(chunk))
                except BaseException:
                    dest.unlink(missing_ok=True)
                    raise
                if hasher.hexdigest() != expected:
                    dest.unlink(missing_ok=True)
                    raise RegistryError(
                        f"{self.label}: blob {digest} does not match its digest "
                        f"(received {size} bytes, {algo}:{hasher.hexdigest()})"
                    )
                return size

            return ex.again_if_broken(transfer)


# -- tag listing (used by `ci-security fix`) ------------------------------------------------------

_LINK = re.compile(r'<([^>]*)>\s*;[^,]*?\brel="?next"?', re.IGNORECASE)
_TAG_NAME = re.compile(r"[\w][\w.-]{0,127}\Z")  # the distribution spec's tag grammar
TAG_PAGE = 1000  # `?n=`: what Renovate asks for, and what most registries accept


def next_link(header: str, current: str) -> str | None:
    """The `rel="next"` target of a `Link` header, resolved against `current`, or None."""
    from urllib.parse import urljoin

    found = _LINK.search(header or "")
    return urljoin(current, found[1].strip()) if found and found[1].strip() else None


def list_tags(client: RegistryClient, *, page_size: int = TAG_PAGE) -> list[str]:
    """Every tag of the client's repository, in the registry's order (`GET /v2/<name>/tags/list?n=`,
    then each `Link: <…>; rel="next"` page).

    A registry is not trusted to end its list: at most `registry_pages` pages and `registry_tags`
    tags are read (`LimitExceededError` past either), a next link to another origin or one already
    followed ends the listing with an error, each page is read within `metadata_seconds` and
    `metadata_bytes`, and entries that are not tags by the distribution grammar are dropped.
    """
    bounds = limits.active()
    url: str | None = f"{client.base}/tags/list?n={page_size}"
    seen: set[str] = set()
    tags: dict[str, None] = {}
    pages = 0
    while url is not None:
        if pages == bounds.registry_pages:
            raise limits.LimitExceededError(
                f"{client.label}: tag list", "registry_pages", f"more than {pages} pages"
            )
        if origin(url) != client.origin:
            raise RegistryError(
                f"{client.label}: the tag list's next page is on another server ({display_url(url)}); "
                "not followed"
            )
        if url in seen:
            raise RegistryError(f"{client.label}: the tag list's next page is one already read")
        seen.add(url)
        pages += 1
        with client._exchange(url, "metadata_seconds") as ex:
            resp = client._send(ex, url, {"Accept": "application/json"})
            client._check(resp, f"the tag list of {client.ref.repository}")
            link = resp.headers.get("Link", "")
            body = client._read(ex, resp, bounds.metadata_bytes, "metadata_bytes", None)
        doc = load_json(body, f"{client.label}: tag list", error=RegistryError)
        listed = doc.get("tags") if isinstance(doc, dict) else None
        if listed is not None and not isinstance(listed, list):
            raise RegistryError(f"{client.label}: the tag list is not a list of tags")
        for tag in listed or ():
            if isinstance(tag, str) and _TAG_NAME.match(tag):
                tags.setdefault(tag, None)
        if len(tags) > bounds.registry_tags:
            raise limits.LimitExceededError(
                f"{client.label}: tag list", "registry_tags", f"more than {bounds.registry_tags:,} tags"
            )
        url = next_link(link, url)
    return list(tags)

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

import contextlib
import hashlib
import re
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar
from urllib.parse import urlencode, urljoin, urlsplit, urlunsplit

from ci_security import limits
from ci_security.errors import RegistryError
from ci_security.http import (
    Body,
    Client,
    Credential,
    DeadlineLimit,
    Exchange,
    TransferError,
    backoff,
    basic_header,
    connection_lost,
    display_url,
    is_loopback_host,
    origin,
    retrying,
)
from ci_security.image.auth import Credentials
from ci_security.image.digest import check_digest
from ci_security.image.reference import DockerReference
from ci_security.structured import load_json

if TYPE_CHECKING:
    import requests

T = TypeVar("T")

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

    def _send(
        self,
        ex: Exchange,
        url: str,
        headers: dict[str, str],
        *,
        method: str = "GET",
        body: Callable[[], Body] | None = None,
        retry: bool = True,
    ) -> requests.Response:
        """One request to the registry, answering one authentication challenge on the way. A body
        comes from `body`, called for each attempt (a stream is read once).
        """

        def attempt(credential: Credential | None) -> requests.Response:
            sent = body() if body is not None else None
            return ex.send(url, method=method, headers=headers, body=sent, credential=credential, retry=retry)

        used = self._credential
        resp = self._own_401(ex, attempt(used))
        if resp.status_code != 401:
            return resp
        challenge = resp.headers.get("WWW-Authenticate", "")
        resp.close()
        with self._auth_lock:
            if self._credential is used:  # another thread may have authenticated meanwhile
                self._authenticate(challenge)
        return self._own_401(ex, attempt(self._credential))

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
        # A challenge may name several scopes, space-separated (a cross-repository mount asks to
        # pull from one repository and push to another): one `scope` parameter each, as Docker's
        # token protocol has them; the OAuth2 form takes them space-separated in one.
        scopes = (params.get("scope") or f"repository:{self.ref.repository}:pull").split()
        query = [("scope", scope) for scope in scopes]
        service = {"service": params["service"]} if "service" in params else {}
        query += service.items()
        with self._exchange(realm, "metadata_seconds") as ex:
            if creds is not None and creds.identity_token:
                resp = ex.send(
                    method="POST",
                    data={
                        "scope": " ".join(scopes),
                        **service,
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

        def write(chunks: Iterator[bytes]) -> int:
            try:
                with open(dest, "wb") as out:
                    for chunk in chunks:
                        out.write(chunk)
                        if progress:
                            progress(len(chunk))
            except BaseException:
                dest.unlink(missing_ok=True)
                raise
            return size

        return self.stream_blob(digest, size, write, what="layer")

    def stream_blob(
        self,
        digest: str,
        size: int,
        consume: Callable[[Iterator[bytes]], T],
        *,
        what: str = "blob",
        limit: str = "spool_bytes",
    ) -> T:
        """Hand a blob's bytes to `consume` as they arrive and return what it returns. The pieces are
        exactly `size` bytes in all (at most the `limit` limit), and the iterator raises, after the
        last piece and before it ends, when they do not match `digest`: `consume` must treat what
        it made as unverified until the iteration ends. A transfer that breaks off calls `consume`
        again with a fresh iterator (bounded, within the same `transfer_seconds` deadline), so it
        must start over each time and clean up what it made when the iteration raises.
        """
        digest = check_digest(digest, f"{self.label}: {what}")
        if size < 0:
            raise RegistryError(
                f"{self.label}: {what} {digest} has no size in its descriptor; refusing an unbounded download"
            )
        algo, _, expected = digest.partition(":")
        url = f"{self.base}/blobs/{digest}"
        with self._exchange(url, "transfer_seconds") as ex:

            def verified(resp: requests.Response) -> Iterator[bytes]:
                hasher = hashlib.new(algo)
                bound = int(getattr(limits.active(), limit))
                for chunk in ex.chunks(resp, max_bytes=bound, size_limit=limit, exact=size):
                    hasher.update(chunk)
                    yield chunk
                if hasher.hexdigest() != expected:
                    raise RegistryError(
                        f"{self.label}: blob {digest} does not match its digest "
                        f"(received {size} bytes, {algo}:{hasher.hexdigest()})"
                    )

            def transfer() -> T:
                resp = self._send(ex, url, {})
                self._check(resp, f"blob {digest}")
                return consume(verified(resp))

            return ex.again_if_broken(transfer)

    # -- artifacts: HEAD, push, mount (`db pull`, `db push`) -----------------------------------
    # Kept together and apart from the pull of images above, which needs none of them. An upload
    # is a sequence (open a session, send, close it with the digest); when its connection is lost
    # or the registry answers 429/5xx midway, the whole sequence starts again on a new session,
    # unless the blob turned out to be there after all.

    def manifest_head(self, reference: str, accept: str) -> tuple[str, str | None] | None:
        """(digest, media type) of the manifest `reference` (a tag) points at, from a HEAD request
        (nothing downloaded), or None when there is no such tag. A registry that leaves out the
        digest header gets a GET, and the digest is computed.
        """
        url = f"{self.base}/manifests/{reference}"
        with self._exchange(url, "metadata_seconds") as ex:
            resp = self._send(ex, url, {"Accept": accept}, method="HEAD")
            resp.close()
            if resp.status_code == 404:
                return None
            self._check(resp, f"manifest {self.ref.repository}:{reference}")
            media_type = resp.headers.get("Content-Type", "").split(";")[0].strip() or None
            digest = resp.headers.get("Docker-Content-Digest")
        if digest is None:
            _, media_type, digest = self.manifest(reference, accept)
        return check_digest(digest, f"{self.label}: Docker-Content-Digest", error=RegistryError), media_type

    def referrers(self, digest: str) -> list[dict[str, object]]:
        """Descriptors of the manifests whose `subject` is `digest` (signatures, attestations): from
        the OCI referrers API, or where the registry has none, from the referrers tag schema's index
        (`sha256-<hex>`), as the distribution spec says a client falls back. Descriptors that are not
        objects are left out; the caller checks each field it reads.
        """
        digest = check_digest(digest, f"{self.label}: referrers", error=RegistryError)
        url = f"{self.base}/referrers/{digest}"
        cap = limits.active().image_metadata_bytes
        with self._exchange(url, "metadata_seconds") as ex:
            resp = self._send(ex, url, {"Accept": _OCI_INDEX})
            if resp.status_code == 200:
                body: bytes | None = self._read(ex, resp, cap, "image_metadata_bytes", None)
            else:
                resp.close()
                body = None
        if body is None:
            tag = digest.replace(":", "-")
            if self.manifest_head(tag, _OCI_INDEX) is None:
                return []
            body, _, _ = self.manifest(tag, _OCI_INDEX)
        doc = load_json(
            body,
            f"{self.label}: referrers of {digest}",
            size_limit="image_metadata_bytes",
            error=RegistryError,
        )
        found = doc.get("manifests") if isinstance(doc, dict) else None
        return [item for item in found if isinstance(item, dict)] if isinstance(found, list) else []

    def blob_exists(self, digest: str) -> bool:
        """Whether this repository has blob `digest` (a HEAD request)."""
        digest = check_digest(digest, f"{self.label}: blob", error=RegistryError)
        url = f"{self.base}/blobs/{digest}"
        with self._exchange(url, "metadata_seconds") as ex:
            resp = self._send(ex, url, {}, method="HEAD")
            resp.close()
            if resp.status_code == 404:
                return False
            self._check(resp, f"blob {digest}")
            return True

    def mount_blob(self, digest: str, source: str) -> bool:
        """Link blob `digest` from repository `source` of the same registry into this one, without
        sending it: True when the registry did (201); False when it opened an upload session
        instead (202: the blob is not there, or this client may not read `source`), which is
        cancelled.
        """
        digest = check_digest(digest, f"{self.label}: blob", error=RegistryError)
        url = f"{self.base}/blobs/uploads/?{urlencode({'mount': digest, 'from': source})}"
        with self._exchange(url, "metadata_seconds") as ex:
            resp = self._send(ex, url, {}, method="POST")
            resp.close()
            if resp.status_code == 201:
                return True
            if resp.status_code != 202:
                self._check_push(resp, f"mount of blob {digest} from {source}")
            location = self._location(resp, url)
        with self._exchange(location, "metadata_seconds") as ex, contextlib.suppress(RegistryError):
            self._send(ex, location, {}, method="DELETE").close()  # only frees the session early
        return False

    def upload_blob(self, path: Path, digest: str, size: int, *, chunk_size: int | None = None) -> None:
        """Upload the `size` bytes of `path` as blob `digest`: in one request (POST then one PUT,
        what ORAS and most clients do), or with `chunk_size` in PATCH requests of that many bytes
        (for proxies that cap a request's body), then a closing PUT. The registry checks the
        digest; a lost connection or a 429/5xx starts the upload again (bounded, with backoff).
        """
        digest = check_digest(digest, f"{self.label}: blob", error=RegistryError)
        start = f"{self.base}/blobs/uploads/"

        def attempt() -> bool:
            with self._exchange(start, "transfer_seconds") as ex:
                resp = self._send(ex, start, {}, method="POST")
                resp.close()
                if resp.status_code != 202:
                    self._check_push(resp, f"upload of blob {digest}")
                location = self._location(resp, start)
                offset = 0
                while chunk_size is not None and offset < size:
                    length = min(chunk_size, size - offset)
                    resp = self._send_body(
                        ex, location, "PATCH", path, offset, length,
                        {"Content-Range": f"{offset}-{offset + length - 1}"},
                    )  # fmt: skip
                    if resp.status_code != 202:
                        self._check_push(resp, f"upload of blob {digest} ({offset:,} bytes sent)")
                    location = self._location(resp, location)
                    offset += length
                final = _with_query(location, digest=digest)
                resp = self._send_body(ex, final, "PUT", path, offset, size - offset, {})
                if resp.status_code != 201:
                    self._check_push(resp, f"upload of blob {digest}")
            return True

        def delay(exc: Exception, number: int) -> tuple[float, str] | None:
            if isinstance(exc, _UploadInterruptedError) or (
                isinstance(exc, RegistryError) and connection_lost(exc)
            ):
                return backoff(number), "the upload was interrupted"
            return None

        retrying(
            attempt,
            delay=delay,
            wait=lambda seconds, why: self._http.sleep(seconds),
            before_retry=lambda: True if self.blob_exists(digest) else None,
        )

    def put_manifest(self, reference: str, body: bytes, media_type: str) -> str:
        """Store manifest `body` under `reference` (a tag); its digest, as the registry confirms it."""
        url = f"{self.base}/manifests/{reference}"
        expected = "sha256:" + hashlib.sha256(body).hexdigest()
        with self._exchange(url, "metadata_seconds") as ex:
            resp = self._send(ex, url, {"Content-Type": media_type}, method="PUT", body=lambda: body)
            resp.close()
            if resp.status_code not in (200, 201):
                self._check_push(resp, f"manifest {self.ref.repository}:{reference}")
        said = resp.headers.get("Docker-Content-Digest")
        if said is not None and said != expected:
            raise RegistryError(
                f"{self.label}: {self.ref.api_host} stored the manifest as {said[:80]!r}, not {expected} "
                "(it changed the manifest)"
            )
        return expected

    def _send_body(
        self,
        ex: Exchange,
        url: str,
        method: str,
        path: Path,
        offset: int,
        length: int,
        headers: dict[str, str],
    ) -> requests.Response:
        """One upload request whose body is `length` bytes of `path` from `offset`."""
        opened: list[_FileSlice] = []

        def body() -> Body:
            piece = _FileSlice(path, offset, length)
            opened.append(piece)
            return piece

        try:
            resp = self._send(
                ex, url, {"Content-Type": "application/octet-stream", **headers},
                method=method, body=body, retry=False,
            )  # fmt: skip
        finally:
            for piece in opened:
                piece.close()
        resp.close()
        if resp.status_code == 429 or resp.status_code >= 500:
            raise _UploadInterruptedError(f"{ex.where}: HTTP {resp.status_code} during the upload")
        return resp

    def _location(self, resp: requests.Response, base: str) -> str:
        """The upload session's URL from a `Location` header (relative to `base`): http(s) only."""
        location = resp.headers.get("Location")
        if not location:
            raise RegistryError(f"{self.label}: {self.ref.api_host} opened an upload without a Location")
        target = urljoin(base, location)
        if urlsplit(target).scheme not in ("http", "https"):
            raise RegistryError(f"{self.label}: upload Location {display_url(target)} is not http(s)")
        return target

    def _check_push(self, resp: requests.Response, what: str) -> None:
        """Raise for an answer that ends a push step: 429/5xx may be retried, anything else not."""
        if resp.status_code == 429 or resp.status_code >= 500:
            raise _UploadInterruptedError(
                f"{self.label}: {self.ref.api_host} answered HTTP {resp.status_code} for {what}"
            )
        if resp.status_code in (401, 403):
            who = f" from {self.credentials.source}" if self.credentials else " (no credentials were found)"
            raise RegistryError(
                f"{self.label}: {self.ref.api_host} refused the {what}: the credentials{who} may not push "
                f"to {self.ref.repository} (HTTP {resp.status_code})"
            )
        self._check(resp, what)
        raise RegistryError(f"{self.label}: {self.ref.api_host} answered HTTP {resp.status_code} for {what}")


_OCI_INDEX = "application/vnd.oci.image.index.v1+json"


class _UploadInterruptedError(RegistryError):
    """A push step answered 429 or 5xx: the upload starts again."""


class _FileSlice:
    """`length` bytes of a file from `offset`, as a request body that streams (requests reads it
    in pieces; `len` gives the Content-Length).
    """

    def __init__(self, path: Path, offset: int, length: int) -> None:
        self._file = open(path, "rb")  # noqa: SIM115 - closed by the upload that made it
        self._file.seek(offset)
        self._left = length
        self._length = length

    def read(self, size: int = -1, /) -> bytes:
        want = self._left if size < 0 else min(size, self._left)
        data = self._file.read(want) if want else b""
        if want and not data:
            raise OSError("the file is shorter than the blob it uploads")
        self._left -= len(data)
        return data

    def __iter__(self) -> Iterator[bytes]:
        while piece := self.read(1 << 16):
            yield piece

    def __len__(self) -> int:
        return self._length

    def close(self) -> None:
        self._file.close()


def _with_query(url: str, **values: str) -> str:
    """`url` with `values` added to its query (an upload Location carries its own state there)."""
    parts = urlsplit(url)
    query = f"{parts.query}&{urlencode(values)}" if parts.query else urlencode(values)
    return urlunsplit(parts._replace(query=query))


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

"""Hostile registries, token services and OSV mirrors (loopback stand-ins from `testkit.hostile_net`).

Each case runs `ci-security` as a pipeline would (a subprocess with a wall clock and an address-space
limit, see `testkit.hostile`) against a server that lies, stalls or never finishes, and asserts a
clean refusal: exit 2, one error line naming the URL (never its query string) and the limit, no
credential in any output, nothing left behind — and, for `db update`, the database untouched.
Cases about deadlines lower the deadline with `--limit` so they take seconds; the Retry-After
cases run with the default limits, to show the ceiling itself.
"""

from __future__ import annotations

import hashlib

import pytest
from testkit.hostile import CaseDirs, Outcome, assert_clean_error, run_hostile
from testkit.hostile_net import (
    HostileRegistry,
    HostileServer,
    endless,
    ok,
    redirect,
    sequence,
    status,
    tiny_image,
    trap_proxy_env,
    trickle,
)
from testkit.osvmirror import OsvMirror
from testkit.report_schema import load_report
from testkit.zips import DEFLATED, RawEntry, archive, encrypted, entry, zeros_bomb

USER, PASSWORD = "ci-robot", "pw-SECRET-4711"
CREDENTIALS = {"CI_SECURITY_REGISTRY_USERNAME": USER, "CI_SECURITY_REGISTRY_PASSWORD": PASSWORD}
SIGNATURE = "SIG-SECRET-0815"
TIMEOUT = 45.0  # far past every deadline these cases set; a case that waits longer is a failure


def _scan(case: CaseDirs, image: str, *limits: str, env: dict[str, str] | None = None) -> Outcome:
    args = ["scan", "--no-vulns", "--image", image, "-o", f"json={case.out / 'report.json'}"]
    for item in limits:
        args += ["--limit", item]
    child_env = {"DOCKER_CONFIG": str(case.home / "no-docker-config"), **CREDENTIALS, **(env or {})}
    return run_hostile(args, case, env=child_env, timeout=TIMEOUT)


def _refused(outcome: Outcome, *needles: str, secrets: tuple[str, ...] = (PASSWORD, SIGNATURE)) -> str:
    line = assert_clean_error(outcome, code=2, contains=needles)
    for secret in secrets:
        assert secret not in outcome.stdout + outcome.stderr
    assert "?" not in line.partition("limit")[0], f"a query string reached the message: {line}"
    return line


# --- registries ------------------------------------------------------------------------------


def test_the_stand_in_registry_serves_a_scannable_image(case):
    """The baseline: without a hostile override the same registry is scanned cleanly (so every
    refusal below is about the attack, not the stand-in)."""
    with HostileRegistry(basic=(USER, PASSWORD)) as reg:
        outcome = _scan(case, reg.reference)
    assert outcome.code == 0, outcome.stderr
    assert load_report(case.out / "report.json")["target"]["os"]["family"] == "alpine"


def test_manifest_announcing_a_huge_body(case):
    with HostileRegistry() as reg:
        reg.override(reg.manifest_path(), endless(content_length=100 << 30))
        outcome = _scan(case, reg.reference)
    _refused(outcome, f"{reg.url}/v2/app/manifests/1", "metadata-bytes limit (64 MiB)", "announces")


def test_endless_manifest_without_a_length(case):
    with HostileRegistry() as reg:
        reg.override(reg.manifest_path(), endless(chunked=True))
        outcome = _scan(case, reg.reference)
    _refused(outcome, f"{reg.url}/v2/app/manifests/1", "metadata-bytes limit (64 MiB)")


def test_manifest_trickled_a_byte_at_a_time(case):
    with HostileRegistry() as reg:
        reg.override(reg.manifest_path(), trickle(reg.image.manifest, interval=0.5))
        outcome = _scan(case, reg.reference, "metadata-seconds=3")
    _refused(outcome, f"{reg.url}/v2/app/manifests/1", "metadata-seconds limit (3 s)")


def test_header_block_trickled_a_byte_at_a_time(case):
    """The socket's read timeout never fires on a trickle, nor does a check between body chunks:
    only a deadline over the whole exchange ends this one."""
    with HostileRegistry() as reg:
        reg.override(reg.manifest_path(), trickle(reg.image.manifest, interval=0.5, headers_too=True))
        outcome = _scan(case, reg.reference, "metadata-seconds=3")
    _refused(outcome, f"{reg.url}/v2/app/manifests/1", "metadata-seconds limit (3 s)")


def test_endless_blob_is_not_read_past_its_descriptor(case):
    with HostileRegistry() as reg:
        reg.override(reg.blob_path(reg.image.layer_digest), endless(chunked=True))
        outcome = _scan(case, reg.reference)
    line = _refused(outcome, f"{reg.url}/v2/app/blobs/{reg.image.layer_digest}", "longer than the")
    assert f"{len(reg.image.layer)} bytes its descriptor says" in line


def test_blob_without_a_size_is_not_downloaded(case):
    image = tiny_image(layer_descriptor={"size": None})
    with HostileRegistry(image) as reg:
        reg.override(reg.blob_path(image.layer_digest), endless(chunked=False))
        outcome = _scan(case, reg.reference)
        asked = [seen.path for seen in reg.requests]
    _refused(outcome, "has no size in its descriptor", "refusing an unbounded download")
    assert reg.blob_path(image.layer_digest) not in asked


def test_blob_trickled_past_the_transfer_deadline(case):
    with HostileRegistry() as reg:
        reg.override(reg.blob_path(reg.image.layer_digest), trickle(reg.image.layer, interval=0.5))
        outcome = _scan(case, reg.reference, "transfer-seconds=3")
    _refused(outcome, f"{reg.url}/v2/app/blobs/{reg.image.layer_digest}", "transfer-seconds limit (3 s)")


def test_blob_not_matching_its_digest(case):
    with HostileRegistry() as reg:
        forged = bytes(b ^ 0xFF for b in reg.image.layer)
        reg.override(reg.blob_path(reg.image.layer_digest), ok(forged, "application/octet-stream"))
        outcome = _scan(case, reg.reference)
    _refused(outcome, f"blob {reg.image.layer_digest} does not match its digest")


def test_manifest_not_matching_the_pinned_digest(case):
    with HostileRegistry() as reg:
        pinned = reg.image.manifest_digest
        other = tiny_image(layer_descriptor={"annotations": {"swapped": "yes"}}).manifest
        reg.override(reg.manifest_path(pinned), ok(other, "application/vnd.oci.image.manifest.v1+json"))
        outcome = _scan(case, f"{reg.host}/app@{pinned}")
    _refused(outcome, "manifest: content does not match its digest", pinned)


def test_layer_digest_that_is_a_path(case):
    image = tiny_image(layer_descriptor={"digest": "sha256:aaaa/../../../bbbb"})
    with HostileRegistry(image) as reg:
        outcome = _scan(case, reg.reference)
        asked = [seen.path for seen in reg.requests]
    _refused(outcome, "invalid digest 'sha256:aaaa/../../../bbbb'")
    assert not any("bbbb" in path for path in asked)


def test_retry_after_an_hour_with_the_default_limits(case):
    """`Retry-After: 3600` is not obeyed: above the 60 s ceiling it is an error at once."""
    with HostileRegistry() as reg:
        reg.override(reg.manifest_path(), status(429, b"slow down", {"Retry-After": "3600"}))
        outcome = _scan(case, reg.reference)
    _refused(outcome, f"{reg.url}/v2/app/manifests/1", "retry-after-seconds limit (60 s)", "3600 s")


def test_redirect_loop(case):
    with HostileRegistry() as reg:
        reg.override(reg.manifest_path(), redirect("/loop/a"))
        reg.override("/loop/a", redirect("/loop/b?token=abc"))
        reg.override("/loop/b", redirect("/loop/a"))
        outcome = _scan(case, reg.reference)
    line = _refused(outcome, f"{reg.url}/v2/app/manifests/1", "redirects limit (5)")
    assert "token=abc" not in line


def test_redirect_to_a_file_url(case):
    with HostileRegistry() as reg:
        reg.override(reg.manifest_path(), redirect("file:///etc/passwd"))
        outcome = _scan(case, reg.reference)
    _refused(outcome, f"{reg.url}/v2/app/manifests/1", "redirected to an unsupported scheme")


def test_basic_credentials_never_follow_a_redirect_to_another_port(case):
    with HostileServer() as other, HostileRegistry(basic=(USER, PASSWORD)) as reg:
        other.routes[reg.manifest_path()] = status(401, b"{}", {"WWW-Authenticate": 'Basic realm="give"'})
        reg.override(reg.manifest_path(), redirect(f"{other.url}{reg.manifest_path()}"))
        outcome = _scan(case, reg.reference)
    _refused(outcome, f"redirected to {other.url}/v2/app/manifests/1, which answered HTTP 401")
    assert reg.saw_authorization(), "the registry itself must have been sent the credentials"
    assert other.requests and not other.saw_authorization()


def test_signed_blob_redirect_that_trickles(case):
    """Blob storage behind a redirect gets no credentials, and its signed query string stays out
    of every message."""
    with HostileServer() as storage, HostileRegistry(basic=(USER, PASSWORD)) as reg:
        storage.routes["/blob"] = trickle(reg.image.layer, interval=0.5)
        reg.override(
            reg.blob_path(reg.image.layer_digest),
            redirect(f"{storage.url}/blob?X-Amz-Signature={SIGNATURE}"),
        )
        outcome = _scan(case, reg.reference, "transfer-seconds=3")
    _refused(outcome, f"{reg.url}/v2/app/blobs/{reg.image.layer_digest}", "transfer-seconds limit (3 s)")
    assert storage.requests and not storage.saw_authorization()


def test_token_realm_on_another_host_over_plain_http(case):
    """The challenge names a realm over plain HTTP on another host: refused before any connection
    (the trap proxy, which would receive such a request, sees nothing)."""
    with trap_proxy_env() as (trap, env), HostileRegistry(bearer_realm="http://192.0.2.1/token") as reg:
        outcome = _scan(case, reg.reference, env=env)
    _refused(outcome, "token service on another host over plain HTTP (http://192.0.2.1/token)")
    assert trap.requests == []


def test_token_service_that_trickles(case):
    with HostileServer() as tokens:
        tokens.routes["/token"] = trickle(b'{"token": "tok"}', interval=0.5)
        with HostileRegistry(bearer_realm=f"{tokens.url}/token") as reg:
            outcome = _scan(case, reg.reference, "metadata-seconds=3")
    line = _refused(outcome, f"{tokens.url}/token", "metadata-seconds limit (3 s)")
    assert "scope" not in line
    assert tokens.requests and tokens.saw_authorization()  # a loopback realm may have them


# --- OSV mirrors -----------------------------------------------------------------------------


def _update(case: CaseDirs, mirror: str, *limits: str) -> Outcome:
    args = ["db", "update", "--mirror", mirror, "--ecosystem", "Go"]
    for item in limits:
        args += ["--limit", item]
    return run_hostile(args, case, timeout=TIMEOUT)


def _db_files(case: CaseDirs) -> list[str]:
    return sorted(str(p.relative_to(case.cache)) for p in case.cache.rglob("*") if p.is_file())


def _export_refused(case: CaseDirs, zip_bytes: bytes, *needles: str, limits: tuple[str, ...] = ()) -> str:
    with HostileServer({"/Go/all.zip": ok(zip_bytes, "application/zip")}) as mirror:
        outcome = _update(case, mirror.url, *limits)
    line = _refused(outcome, *needles)
    assert _db_files(case) == [], "a failed update must not leave a database or a part of one"
    return line


def test_endless_export(case):
    with HostileServer({"/Go/all.zip": endless(chunked=True)}) as mirror:
        outcome = _update(case, mirror.url, "download-bytes=1MiB")
    _refused(outcome, f"{mirror.url}/Go/all.zip", "download-bytes limit (1 MiB)")
    assert _db_files(case) == []


def test_export_trickled_past_the_transfer_deadline(case):
    body = archive([entry("GO-1.json", b'{"id": "GO-1", "modified": "2024-01-01T00:00:00Z"}')])
    with HostileServer({"/Go/all.zip": trickle(body, interval=0.5)}) as mirror:
        outcome = _update(case, mirror.url, "transfer-seconds=2")
    _refused(outcome, f"{mirror.url}/Go/all.zip", "transfer-seconds limit (2 s)")
    assert _db_files(case) == []


def test_export_retry_after_an_hour_with_the_default_limits(case):
    with HostileServer({"/Go/all.zip": status(503, b"", {"Retry-After": "3600"})}) as mirror:
        outcome = _update(case, mirror.url)
    _refused(outcome, f"{mirror.url}/Go/all.zip", "retry-after-seconds limit (60 s)")


def test_export_entry_inflating_to_one_and_a_half_gib(case):
    """1.5 MB on the wire, 1.5 GiB inflated: refused by the entry's declared size, unread."""
    bomb = archive([zeros_bomb("GO-2024-0001.json", 1536 << 20)])
    assert len(bomb) < 2 << 20
    _export_refused(case, bomb, "/Go/all.zip!GO-2024-0001.json", "record-bytes limit (16 MiB)")


def test_export_entry_whose_header_understates_its_size(case):
    honest = zeros_bomb("GO-2024-0002.json", 64 << 20)
    lying = RawEntry(honest.name, honest.data, DEFLATED, honest.crc, 1000)
    _export_refused(case, archive([lying]), "/Go/all.zip!GO-2024-0002.json: corrupt entry")


def test_export_with_an_encrypted_entry(case):
    zipped = archive(
        [
            entry("GO-1.json", b'{"id": "GO-1", "modified": "2024-01-01T00:00:00Z"}'),
            encrypted("GO-2.json", b'{"id": "GO-2", "modified": "2024-01-01T00:00:00Z"}', b"pw"),
        ]
    )
    _export_refused(case, zipped, "/Go/all.zip!GO-2.json: the entry is encrypted")


def test_export_with_an_unknown_compression_method(case):
    content = b'{"id": "GO-1", "modified": "2024-01-01T00:00:00Z"}'
    deflate64 = RawEntry("GO-1.json", content, 9, 0, len(content))
    _export_refused(
        case, archive([deflate64]), "/Go/all.zip!GO-1.json: compression method 9 is not supported"
    )


def test_export_entry_that_is_not_utf8(case):
    zipped = archive([entry("GO-1.json", b'{"id": "GO-\xff\xfe", "modified": "2024-01-01T00:00:00Z"}')])
    _export_refused(case, zipped, "/Go/all.zip!GO-1.json: not UTF-8")


def test_export_record_with_a_lone_surrogate(case):
    record = b'{"id": "GO-\\ud800", "modified": "2024-01-01T00:00:00Z", "summary": "x"}'
    zipped = archive([entry("GO-1.json", record)])
    _export_refused(case, zipped, "/Go/all.zip!GO-1.json: the record holds text that is not valid Unicode")


def test_export_whose_end_record_claims_six_million_entries(case):
    zipped = archive([entry("GO-1.json", b"{}")], claim_entries=6_000_000)
    _export_refused(case, zipped, "/Go/all.zip: exceeds the records-per-file limit (5,000,000)")


def test_endless_record_in_an_incremental_update_leaves_the_database_as_it_was(case):
    db_path = case.cache / "ci-security" / "db" / "osv.sqlite"
    record = {"id": "GO-1", "modified": "2024-01-01T00:00:00Z", "affected": []}
    with OsvMirror() as honest:
        honest.put("Go", record)
        outcome = run_hostile(["db", "update", "--mirror", honest.url, "--ecosystem", "Go"], case)
    assert outcome.code == 0, outcome.stderr
    before = hashlib.sha256(db_path.read_bytes()).hexdigest()
    listing = b"2024-06-01T00:00:00Z,GO-2\n2024-01-01T00:00:00Z,GO-1\n"
    routes = {"/Go/modified_id.csv": ok(listing, "text/csv"), "/Go/GO-2.json": endless(chunked=True)}
    with HostileServer(routes) as mirror:
        outcome = _update(case, mirror.url, "record-bytes=1MiB")
    _refused(outcome, f"{mirror.url}/Go/GO-2.json", "record-bytes limit (1 MiB)")
    assert hashlib.sha256(db_path.read_bytes()).hexdigest() == before
    assert _db_files(case) == ["ci-security/db/osv.sqlite"]


def test_mirror_that_redirects_forever(case):
    routes = {"/Go/all.zip": redirect("/Go/elsewhere.zip"), "/Go/elsewhere.zip": redirect("/Go/all.zip")}
    with HostileServer(routes) as mirror:
        outcome = _update(case, mirror.url, "redirects=3")
    _refused(outcome, f"{mirror.url}/Go/all.zip", "redirects limit (3)")


@pytest.mark.parametrize("transient", [1, 2])
def test_transient_mirror_failures_within_the_ceiling_are_retried(case, transient):
    """The other side of the ceiling: a short Retry-After is honoured and the update succeeds."""
    good = archive([entry("GO-1.json", b'{"id": "GO-1", "modified": "2024-01-01T00:00:00Z"}')])
    answers = [status(503, b"", {"Retry-After": "1"})] * transient + [ok(good, "application/zip")]
    with HostileServer({"/Go/all.zip": sequence(*answers)}) as mirror:
        outcome = _update(case, mirror.url)
    assert outcome.code == 0, outcome.stderr
    assert "Go: full, 1 record(s)" in outcome.stdout


def test_db_import_of_a_zip_bomb(case):
    path = case.input / "all.zip"
    path.write_bytes(archive([zeros_bomb("PYSEC-1.json", 1536 << 20)]))
    outcome = run_hostile(["db", "import", str(path)], case, timeout=TIMEOUT)
    _refused(outcome, f"{path}!PYSEC-1.json", "record-bytes limit (16 MiB)")
    assert _db_files(case) == []


def test_the_zip_builders_write_the_real_format():
    """What `zipfile` itself can read back (the honest archives), it reads as written."""
    import io
    import zipfile

    content = b'{"id": "X"}'
    honest = archive([entry("a.json", content), encrypted("b.json", content, b"pw")])
    with zipfile.ZipFile(io.BytesIO(honest)) as read_back:
        assert read_back.read("a.json") == content
        assert read_back.read("b.json", pwd=b"pw") == content


# --- the other feeds (NVD, KEV, EPSS, Amazon, Oracle) ---------------------------------------------


def _feed_update(case: CaseDirs, source: str, mirror: str, *limits: str) -> Outcome:
    args = ["db", "update", "--ecosystem", source, "--feed-mirror", mirror]
    for item in limits:
        args += ["--limit", item]
    return run_hostile(args, case, timeout=TIMEOUT)


def test_endless_nvd_page(case):
    # A page that goes on listing CVEs: read item by item until download-bytes, never whole.
    page = endless(
        prefix=b'{"resultsPerPage": 2000, "startIndex": 0, "totalResults": 2000, "vulnerabilities": [',
        piece=b'{"cve": {"id": "CVE-2024-0001", "metrics": {}}},' * 1000,
    )
    with HostileServer({"/rest/json/cves/2.0": page}) as nvd:
        outcome = _feed_update(case, "NVD", f"nvd={nvd.url}/rest/json/cves/2.0", "download-bytes=1MiB")
    _refused(outcome, f"NVD {nvd.url}/rest/json/cves/2.0", "download-bytes limit (1 MiB)")
    assert _db_files(case) == []


def test_nvd_api_key_does_not_follow_a_redirect_and_is_never_shown(case):
    with HostileServer() as elsewhere:
        elsewhere.routes["/cves"] = ok(
            b'{"resultsPerPage": 0, "startIndex": 0, "totalResults": 0, "vulnerabilities": []}'
        )
        with HostileServer({"/rest/json/cves/2.0": redirect(f"{elsewhere.url}/cves")}) as nvd:
            args = [
                "db",
                "update",
                "--ecosystem",
                "NVD",
                "--feed-mirror",
                f"nvd={nvd.url}/rest/json/cves/2.0",
            ]
            outcome = run_hostile([*args, "--nvd-api-key", "nvd-secret-123"], case, timeout=TIMEOUT)
    assert outcome.code == 0, outcome.stderr
    assert [r.headers.get("apiKey") for r in nvd.requests] == ["nvd-secret-123"]
    assert elsewhere.requests and all("apiKey" not in r.headers for r in elsewhere.requests)
    assert "nvd-secret-123" not in outcome.stdout + outcome.stderr


def test_nvd_page_that_claims_more_than_it_holds(case):
    lying = b'{"resultsPerPage": 0, "startIndex": 0, "totalResults": 10, "vulnerabilities": []}'
    with HostileServer({"/rest/json/cves/2.0": ok(lying)}) as nvd:
        outcome = _feed_update(case, "NVD", f"nvd={nvd.url}/rest/json/cves/2.0")
    _refused(outcome, "the pages make no progress")
    assert len(nvd.requests) == 1  # refused at the first page, not asked again and again


def test_oval_with_an_entity_bomb(case):
    import bz2

    bomb = (
        b'<?xml version="1.0"?><!DOCTYPE d [<!ENTITY a "'
        + b"a" * 1000
        + b'">'
        + b"".join(b'<!ENTITY a%d "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">' % i for i in range(9))
        + b"]><oval_definitions>&a8;</oval_definitions>"
    )
    with HostileServer({"/oval/com.oracle.elsa-ol9.xml.bz2": ok(bz2.compress(bomb))}) as oracle:
        outcome = _feed_update(case, "Oracle Linux:9", f"oracle={oracle.url}/oval")
    _refused(outcome, "com.oracle.elsa-ol9.xml.bz2: has a document type declaration")
    assert _db_files(case) == []


def test_epss_bomb(case):
    import gzip

    bomb = gzip.compress(b"cve,epss,percentile\n" + b"\n" * (80 << 20), 9)
    with HostileServer({"/epss.csv.gz": ok(bomb)}) as epss:
        outcome = _feed_update(case, "EPSS", f"epss={epss.url}/epss.csv.gz", "compression-ratio=10")
    _refused(outcome, "/epss.csv.gz: exceeds the compression-ratio limit (10)")


def test_updateinfo_outside_its_repository(case):
    repomd = (
        b'<repomd><data type="updateinfo"><checksum type="sha256">1</checksum>'
        b'<location href="../../../../etc/updateinfo.xml.gz"/></data></repomd>'
    )
    routes = {
        "/al2023/core/mirrors/latest/x86_64/mirror.list": ok(
            b"https://cdn.amazonlinux.com/al2023/core/guids/1/x86_64/\n"
        ),
        "/al2023/core/guids/1/x86_64/repodata/repomd.xml": ok(repomd),
    }
    with HostileServer(routes) as amazon:
        outcome = _feed_update(case, "Amazon Linux:2023", f"amazon={amazon.url}")
    _refused(outcome, "repodata/repomd.xml: the updateinfo location", "is outside the repository")

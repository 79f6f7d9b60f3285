"""The command line: reports, exit codes, environment variables, one-line errors, no partial files."""

import os
import subprocess
import sys
from pathlib import Path

import click
import pytest
from click.testing import CliRunner
from testkit.images import DEBIAN_RELEASE, build_docker_archive, directory, dpkg_status, file, layer_tar
from testkit.report_schema import load_report

from ci_security import __version__
from ci_security.cli import main

STATUS = dpkg_status(("libc6", "2.36-9+deb12u4"), ("bsdutils", "1:2.38.1-5+deb12u3"))
LAYERS = [[*DEBIAN_RELEASE, directory("var/lib/dpkg"), file("var/lib/dpkg/status", STATUS)]]


@pytest.fixture
def archive(tmp_path: Path) -> Path:
    build_docker_archive(tmp_path / "app.tar", LAYERS)
    return tmp_path / "app.tar"


def _cli(*args: str, env: dict[str, str] | None = None):
    return CliRunner().invoke(main, list(args), env=env, catch_exceptions=False)


def test_json_report_contract(archive, tmp_path):
    out = tmp_path / "report.json"
    result = _cli("scan", "--image", f"docker-archive:{archive}", "--no-vulns", "--output", f"json={out}")
    assert result.exit_code == 0, result.output
    report = load_report(out)
    assert report["schema_version"] == "1"
    assert report["tool"] == {"name": "ci-security", "version": __version__}
    target = report["target"]
    assert target["image"] == f"docker-archive:{archive}"
    assert target["digest"].startswith("sha256:") and target["os"]["family"] == "debian"
    assert target["os"]["version"] == "12.5"
    assert [p["name"] for p in report["packages"]] == ["bsdutils", "libc6"]
    bsd = report["packages"][0]
    assert set(bsd) >= {"name", "version", "type", "purl", "source_name", "source_version", "path", "layer"}
    assert bsd["version"] == "1:2.38.1-5+deb12u3"
    assert bsd["purl"] == "pkg:deb/debian/bsdutils@2.38.1-5%2Bdeb12u3?arch=amd64&distro=debian-12.5&epoch=1"
    assert bsd["path"] == "/var/lib/dpkg/status"
    assert bsd["layer"]["diff_id"] == target["layers"][0]["diff_id"]
    assert "vulnerabilities" not in report  # not checked is not the same as none found
    assert report["warnings"] == []


def test_reports_are_deterministic(archive, tmp_path):
    first, second = tmp_path / "a.json", tmp_path / "b.json"
    for out in (first, second):
        assert (
            _cli("scan", "-i", f"docker-archive:{archive}", "-o", f"json={out}", "--no-vulns").exit_code == 0
        )
    assert first.read_bytes() == second.read_bytes()


def test_default_table_output(archive):
    result = _cli("scan", "--image", f"docker-archive:{archive}", "--no-vulns")
    assert result.exit_code == 0
    assert "debian 12.5" in result.output
    assert "2 (2 deb)" in result.output
    assert "bsdutils" in result.output and "1:2.38.1-5+deb12u3" in result.output


def test_environment_variables_configure_the_scan(archive, tmp_path):
    out = tmp_path / "env.json"
    env = {
        "CI_SECURITY_IMAGE": f"docker-archive:{archive}",
        "CI_SECURITY_OUTPUT": f"json={out} table",
        "CI_SECURITY_NO_VULNS": "true",
    }
    result = _cli("scan", env=env)
    assert result.exit_code == 0, result.output
    assert load_report(out)["packages"]
    assert "Packages" in result.output
    # A flag wins over its variable.
    other = tmp_path / "flag.json"
    assert _cli("scan", "-o", f"json={other}", env=env).exit_code == 0
    assert other.exists()


def _run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    full_env = {**os.environ, **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "ci_security", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env=full_env,
    )


def test_missing_image_is_exit_2_with_one_line(tmp_path):
    proc = _run(
        "scan",
        "--no-vulns",
        "--image",
        f"docker-archive:{tmp_path / 'nope.tar'}",
        "-o",
        f"json={tmp_path / 'r.json'}",
    )
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("ci-security: error: docker-archive:")
    assert "does not exist" in lines[0]
    assert not (tmp_path / "r.json").exists()


def test_corrupt_layer_is_exit_2_and_leaves_no_report(tmp_path):
    good = layer_tar(LAYERS[0])
    archive = tmp_path / "bad.tar"
    build_docker_archive(archive, [], layer_tars=[good])
    archive.write_bytes(archive.read_bytes().replace(b"libc6", b"libc7"))
    report = tmp_path / "r.json"
    report.write_text("previous report")
    proc = _run("scan", "--no-vulns", "--image", f"docker-archive:{archive}", "-o", f"json={report}")
    assert proc.returncode == 2
    assert "does not match its digest" in proc.stderr and len(proc.stderr.strip().splitlines()) == 1
    assert report.read_text() == "previous report"
    assert {p.name for p in tmp_path.iterdir()} == {"bad.tar", "r.json"}  # no temp file left behind


def test_usage_errors_are_exit_2(archive):
    assert _cli("scan", "-i", f"docker-archive:{archive}", "-o", "pdf").exit_code == 2
    assert _cli("scan", "--manifests", "no/such/dir").exit_code == 2
    assert _cli("scan", "-i", "Bad Ref").exit_code == 2
    assert _cli("scan", "-i", f"docker-archive:{archive}", "--platform", "amd64").exit_code == 2
    assert _cli("scan", "--bogus").exit_code == 2


def test_docs_url_must_be_http(archive, tmp_path):
    bad = _cli(
        "scan", "--image", f"docker-archive:{archive}", "--no-vulns", "--docs-url", "javascript:alert(1)"
    )
    assert bad.exit_code == 2
    assert bad.output.strip() == "ci-security: error: --docs-url 'javascript:alert(1)': not an http(s) URL"
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / "Dockerfile").write_text("FROM debian:12\nUSER root\n")
    out = tmp_path / "r.md"
    good = _cli(
        "scan",
        "--manifests",
        str(repo),
        "-o",
        f"markdown={out}",
        env={"CI_SECURITY_DOCS_URL": "https://docs.example/ci/docs"},
    )
    assert good.exit_code in (0, 1), good.output
    assert "[DF001](https://docs.example/ci/docs/rules.md#df001)" in out.read_text()


def test_unwritable_output_is_exit_2(archive, tmp_path):
    result = _cli(
        "scan", "-i", f"docker-archive:{archive}", "-o", f"json={tmp_path / 'no' / 'dir' / 'r.json'}"
    )
    assert result.exit_code == 2


def test_strict_turns_warnings_into_exit_3(tmp_path):
    layers = [
        [*LAYERS[0], file("var/lib/dpkg/status.d/broken", "Package: x\nVersion: 1\nSource: x (1) junk\n")]
    ]
    build_docker_archive(tmp_path / "w.tar", layers)
    ref = f"docker-archive:{tmp_path / 'w.tar'}"
    relaxed = _run("scan", "--no-vulns", "-i", ref, "-o", f"json={tmp_path / 'r.json'}")
    assert relaxed.returncode == 0
    assert "warning: os/dpkg: /var/lib/dpkg/status.d/broken" in relaxed.stderr
    assert load_report(tmp_path / "r.json")["warnings"][0]["path"] == "/var/lib/dpkg/status.d/broken"
    strict = _run("scan", "--no-vulns", "-i", ref, "--strict", "-o", "json")
    assert strict.returncode == 3


def test_version_and_help():
    assert _cli("--version").output.strip() == f"ci-security, version {__version__}"
    help_text = _cli("scan", "--help").output
    assert "CI_SECURITY_IMAGE" in help_text and "--no-vulns" in help_text


def test_help_does_not_import_heavy_modules():
    code = (
        "import sys; from click.testing import CliRunner; from ci_security.cli import main; "
        "CliRunner().invoke(main, ['scan', '--help']); "
        "print(sorted(m for m in ('requests', 'rich', 'ci_security.scan', 'zstandard') if m in sys.modules))"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    assert proc.stdout.strip() == "[]"


def test_hostile_member_is_exit_2_naming_image_and_member(tmp_path):
    import io
    import tarfile

    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        info = tarfile.TarInfo("../../etc/cron.d/evil")
        info.size = 1
        tar.addfile(info, io.BytesIO(b"x"))
    build_docker_archive(tmp_path / "evil.tar", [], layer_tars=[buf.getvalue()])
    proc = _run("scan", "--no-vulns", "-i", f"docker-archive:{tmp_path / 'evil.tar'}")
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == [
        f"ci-security: error: docker-archive:{tmp_path / 'evil.tar'}: layer sha256:"
        f"{__import__('hashlib').sha256(buf.getvalue()).hexdigest()}: tar member '../../etc/cron.d/evil' "
        "escapes the image root"
    ]
    assert not (tmp_path / "etc").exists()


def test_progress_is_drawn_on_a_terminal(archive):
    import pty
    import select

    pid, fd = pty.fork()
    if pid == 0:  # child: stderr is the pseudo-terminal, stdout goes nowhere
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 1)
        os.execv(
            sys.executable,
            [
                sys.executable,
                "-m",
                "ci_security",
                "scan",
                "--no-vulns",
                "-i",
                f"docker-archive:{archive}",
                "-o",
                "json",
            ],
        )
    output = b""
    while True:
        ready, _, _ = select.select([fd], [], [], 60)
        if not ready:
            break
        try:
            chunk = os.read(fd, 65536)
        except OSError:
            break
        if not chunk:
            break
        output += chunk
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    assert b"layer 1/1" in output


def test_archive_scan_imports_only_what_it_uses(archive, tmp_path):
    out = tmp_path / "r.json"
    code = (
        "import sys\nfrom click.testing import CliRunner\nfrom ci_security.cli import main\n"
        f"args = ['scan', '-q', '--no-vulns', '-i', 'docker-archive:{archive}', '-o', 'json={out}']\n"
        "r = CliRunner().invoke(main, args)\n"
        "assert r.exit_code == 0, r.output\n"
        "heavy = ('requests', 'rich', 'cyclonedx', 'zstandard', 'github', 'gitlab', 'jinja2')\n"
        "print(sorted(m for m in heavy if m in sys.modules))\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True
    )
    assert proc.stdout.strip() == "[]"


def test_missing_database_is_exit_2_with_guidance(archive, tmp_path):
    proc = _run("scan", "-i", f"docker-archive:{archive}", "--db", str(tmp_path / "none.sqlite"))
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == [
        f"ci-security: error: no vulnerability database at {tmp_path / 'none.sqlite'}: "
        "run `ci-security db update` (or `db import`), pass --db PATH, or scan with --no-vulns"
    ]


def test_the_cli_offers_exactly_the_registered_formats_and_importers(tmp_path):
    import re

    from ci_security.ingest.registry import IMPORTERS
    from ci_security.report.registry import REPORTERS

    for command in ("scan", "ci"):
        options = {opt for param in main.commands[command].params for opt in param.opts}
        assert {o for o in options if o.startswith("--from-")} == {f"--from-{name}" for name in IMPORTERS}
        envvars = {param.envvar for param in main.commands[command].params}
        assert {f"CI_SECURITY_FROM_{name.upper().replace('-', '_')}" for name in IMPORTERS} <= envvars
    help_text = " ".join(_cli("scan", "--help").output.split())
    assert f"FORMAT is one of {', '.join(REPORTERS)};" in help_text
    assert re.findall(r"--from-([a-z-]+) FILE", help_text) == list(IMPORTERS)
    refused = _cli("scan", "--manifests", str(tmp_path), "-o", "nope")
    assert refused.exit_code == 2
    assert f"(choose from {', '.join(REPORTERS)})" in refused.output
    repo, out = tmp_path / "repo", tmp_path / "out"
    repo.mkdir()
    out.mkdir()
    # A clean Dockerfile: a --manifests path with no manifest at all is an error of its own.
    (repo / "Dockerfile").write_text('FROM scratch\nCOPY app /app\nUSER 1000\nENTRYPOINT ["/app"]\n')
    every = [arg for name in REPORTERS for arg in ("-o", f"{name}={out / name}")]
    assert _cli("scan", "--manifests", str(repo), *every).exit_code == 0
    written = {path.name for path in out.iterdir()}
    # OpenVEX has nothing to say without accepted findings, the event log without a dynamic scan
    assert written == set(REPORTERS) - {"openvex", "events"}


def test_an_importer_named_with_a_dash_gets_its_option_and_variable(tmp_path, monkeypatch):
    # Tools are named as their users spell them (osv-scanner): the option keeps the dash, the
    # parameter and the environment variable cannot.
    from ci_security.options import import_option, import_parameter

    class DashedImporter:
        name = "osv-scanner"
        report = "an osv-scanner JSON report"
        produces = ("vulnerabilities",)

    @click.command()
    @import_option(DashedImporter())  # type: ignore[arg-type]
    def command(**params):
        click.echo(repr(params[import_parameter("osv-scanner")]))

    report = tmp_path / "r.json"
    by_flag = CliRunner().invoke(command, ["--from-osv-scanner", str(report)])
    assert by_flag.exit_code == 0, by_flag.output
    assert by_flag.output.strip() == repr((report,))
    monkeypatch.setenv("CI_SECURITY_FROM_OSV_SCANNER", str(report))
    assert CliRunner().invoke(command, []).output.strip() == repr((report,))

import random
import re
from dataclasses import replace

from ci_security import anchor, limits
from ci_security.anchor import anchor_vulnerabilities, map_layers
from ci_security.manifests.dockerfile import parse_dockerfile
from ci_security.models import ImageTarget, LayerInfo, LayerRef, Location, Package, Severity, Vulnerability

# Real-shaped history entries of public base images.
DEBIAN_12 = "# debian.sh --arch 'amd64' out/ 'bookworm' '@1700000000'"
DEBIAN_12_CLASSIC = (
    "/bin/sh -c #(nop) ADD file:4b03b5f551e3fbdf47ec609712007327828f7530cc3455c43bbcdcaf449a75a9 in / "
)
PYTHON_SLIM = (
    DEBIAN_12,
    "RUN /bin/sh -c set -eux; \tapt-get update; \tapt-get install -y --no-install-recommends "
    "\t\tca-certificates \t\tnetbase \t\ttzdata \t; \trm -rf /var/lib/apt/lists/* # buildkit",
    'RUN /bin/sh -c set -eux; \t\tsavedAptMark="$(apt-mark showmanual)"; \tapt-get update; '
    '\t\tmake -j "$nproc" \t; \tmake install; \tpython3 --version # buildkit',
    "RUN /bin/sh -c set -eux; \tfor src in idle3 pip3 pydoc3 python3 python3-config; do "
    '\t\tdst="$(echo "$src" | tr -d 3)"; \t\tln -svT "$src" "/usr/local/bin/$dst"; \tdone # buildkit',
)
DISTROLESS = ("bazel build @static//:static", "bazel build @static//:static_debian12_nonroot")


def df_text(*rows: str) -> str:
    return "\n".join(rows) + "\n"


def image(*created_by: str | None) -> ImageTarget:
    layers = tuple(
        LayerInfo(
            index=i,
            digest=f"sha256:{i:064x}",
            diff_id=f"sha256:{i + 1000:064x}",
            media_type="application/vnd.oci.image.layer.v1.tar+gzip",
            size=1024,
            created_by=c,
        )
        for i, c in enumerate(created_by)
    )
    return ImageTarget(
        reference="registry.example.com/team/app:1.0",
        transport="registry",
        digest="sha256:" + "a" * 64,
        image_id="sha256:" + "b" * 64,
        platform=None,
        layers=layers,
    )


def layer_lines(dockerfile: str, *created_by: str | None) -> list[int]:
    target = image(*created_by)
    lines = map_layers(target, parse_dockerfile(dockerfile, "Dockerfile"))
    return [lines[layer.index] for layer in target.layers]


def vuln(name: str, layer: int | None, *, target: ImageTarget | None = None, location=None) -> Vulnerability:
    ref = None
    if layer is not None:
        ref = LayerRef(index=layer, digest=f"sha256:{layer:064x}", diff_id=f"sha256:{layer + 1000:064x}")
    return Vulnerability(
        id=f"CVE-2024-{sum(map(ord, name)):04d}",
        aliases=(),
        package=Package(name=name, version="1.0", type="deb", layer=ref),
        fixed_version=None,
        status="affected",
        severity=Severity.HIGH,
        cvss_score=None,
        severity_source="debian",
        location=location,
    )


APP = df_text(
    "# syntax=docker/dockerfile:1",  # 1
    "FROM debian:12",  # 2
    "",  # 3
    "RUN apt-get update && \\",  # 4
    "    apt-get install -y curl",  # 5
    "WORKDIR /app",  # 6
    "COPY requirements.txt /app/",  # 7
    "RUN pip install -r /app/requirements.txt",  # 8
    'CMD ["python3", "-m", "app"]',  # 9
)
APP_BUILDKIT = (
    DEBIAN_12,
    "RUN /bin/sh -c apt-get update &&     apt-get install -y curl # buildkit",
    "WORKDIR /app",
    "COPY requirements.txt /app/ # buildkit",
    "RUN /bin/sh -c pip install -r /app/requirements.txt # buildkit",
)


# --- the end-to-end contract ----------------------------------------------------------------------


def test_base_package_anchors_to_from_and_later_packages_to_their_instruction():
    target = image(*APP_BUILDKIT)
    df = parse_dockerfile(APP, "services/api/Dockerfile")
    vulns = [vuln("libc6", 0), vuln("curl", 1), vuln("urllib3", 4)]
    anchored = anchor_vulnerabilities(vulns, target, df)
    assert [v.location for v in anchored] == [
        Location(path="services/api/Dockerfile", line=2),
        Location(path="services/api/Dockerfile", line=4),
        Location(path="services/api/Dockerfile", line=8),
    ]
    assert [v.package.name for v in anchored] == ["libc6", "curl", "urllib3"]


def test_without_dockerfile_location_stays_unset():
    target = image(*APP_BUILDKIT)
    assert [v.location for v in anchor_vulnerabilities([vuln("curl", 1)], target, None)] == [None]


def test_dockerfile_without_stage_leaves_location_unset():
    df = parse_dockerfile("RUN apt-get update\n", "Dockerfile")
    assert anchor_vulnerabilities([vuln("curl", 1)], image(*APP_BUILDKIT), df)[0].location is None


def test_package_without_layer_anchors_to_from():
    anchored = anchor_vulnerabilities(
        [vuln("imported", None)], image(*APP_BUILDKIT), parse_dockerfile(APP, "Dockerfile")
    )
    assert anchored[0].location == Location(path="Dockerfile", line=2)


def test_existing_location_is_kept():
    given = Location(path="other/Dockerfile", line=40)
    anchored = anchor_vulnerabilities(
        [vuln("x", 1, location=given)], image(*APP_BUILDKIT), parse_dockerfile(APP, "D")
    )
    assert anchored[0].location == given


def test_unknown_layer_anchors_to_from_and_diff_id_wins_over_a_stale_index():
    target = image(*APP_BUILDKIT)
    df = parse_dockerfile(APP, "Dockerfile")
    unknown = vuln("ghost", 9)
    curl = vuln("curl", 0)
    # the finding says index 0, but its diff-id is layer 1's: the diff-id identifies the layer
    stale = LayerRef(index=0, digest="sha256:x", diff_id=target.layers[1].diff_id)
    moved = replace(curl, package=replace(curl.package, layer=stale))
    assert [v.location.line for v in anchor_vulnerabilities([unknown, moved], target, df)] == [2, 4]


# --- builders -------------------------------------------------------------------------------------


def test_buildkit_history():
    assert layer_lines(APP, *APP_BUILDKIT) == [2, 4, 6, 7, 8]


def test_buildkit_workdir_without_layer_is_skipped():
    history = [c for c in APP_BUILDKIT if c != "WORKDIR /app"]
    assert layer_lines(APP, *history) == [2, 4, 7, 8]


def test_classic_builder_history():
    history = (
        DEBIAN_12_CLASSIC,
        "/bin/sh -c apt-get update &&     apt-get install -y curl",
        "/bin/sh -c #(nop) WORKDIR /app",
        "/bin/sh -c #(nop) COPY file:4a3b5c0e8e41a1f8a2c0e8b3d2a1f0e9c8b7a6d5e4f3a2b1c0d9e8f7a6b5 in /app/ ",
        "/bin/sh -c pip install -r /app/requirements.txt",
    )
    assert layer_lines(APP, *history) == [2, 4, 6, 7, 8]


def test_classic_copy_compares_the_destination_only():
    history = (
        DEBIAN_12_CLASSIC,
        "/bin/sh -c apt-get update &&     apt-get install -y curl",
        "/bin/sh -c #(nop) COPY file:4a3b5c0e8e41a1f8 in /srv/ ",
        "/bin/sh -c pip install -r /app/requirements.txt",
    )
    # the COPY went to /srv, not /app/: that layer and everything below is the base image's
    assert layer_lines(APP, *history) == [2, 2, 2, 8]


def test_podman_buildah_history():
    dockerfile = df_text(
        "FROM registry.access.redhat.com/ubi9/ubi-minimal",  # 1
        "RUN --mount=type=cache,target=/var/cache/dnf microdnf install -y python3",  # 2
        "COPY app.py /opt/app/",  # 3
        "RUN <<EOF",  # 4
        "set -e",  # 5
        "python3 -m compileall /opt/app",  # 6
        "EOF",  # 7
    )
    history = (
        "/bin/sh -c #(nop) ADD file:1f2e3d4c5b6a in / ",
        "/bin/sh -c --mount=type=cache,target=/var/cache/dnf microdnf install -y python3",
        "/bin/sh -c #(nop) COPY file:9a8b7c6d5e4f3a2b1c0d in /opt/app/ ",
        "/bin/sh -c <<EOF\nset -e\npython3 -m compileall /opt/app",
    )
    assert layer_lines(dockerfile, *history) == [1, 2, 3, 4]


def test_windows_classic_history():
    dockerfile = df_text(
        "# escape=`",
        "FROM mcr.microsoft.com/windows/servercore:ltsc2022",
        "RUN mkdir C:\\app",
        "WORKDIR C:\\app",
    )
    history = ("Apply image 10.0.20348.2527", "cmd /S /C mkdir C:\\app")
    assert layer_lines(dockerfile, *history) == [2, 3]


# --- mismatches fall back to the base image -------------------------------------------------------


def test_edited_dockerfile_anchors_everything_to_from():
    history = (*APP_BUILDKIT[:-1], "RUN /bin/sh -c pip install flask # buildkit")
    assert layer_lines(APP, *history) == [2, 2, 2, 2, 2]


def test_mismatch_in_the_middle_stops_the_walk():
    history = (
        DEBIAN_12,
        "RUN /bin/sh -c apt-get update &&     apt-get install -y curl # buildkit",
        "RUN /bin/sh -c echo injected by a base ONBUILD trigger # buildkit",
        "COPY requirements.txt /app/ # buildkit",
        "RUN /bin/sh -c pip install -r /app/requirements.txt # buildkit",
    )
    # the curl RUN would match, but it sits below a layer nobody can explain: no guessing
    assert layer_lines(APP, *history) == [2, 2, 2, 7, 8]


def test_missing_history_anchors_to_from():
    assert layer_lines(APP, None, None, None, None, None) == [2, 2, 2, 2, 2]


def test_more_layers_than_instructions_go_to_the_base():
    assert layer_lines(APP, *PYTHON_SLIM, *APP_BUILDKIT[1:]) == [2, 2, 2, 2, 4, 6, 7, 8]


def test_only_the_base_image():
    assert layer_lines(df_text("FROM python:3.12-slim", 'CMD ["python3"]'), *PYTHON_SLIM) == [1, 1, 1, 1]


# --- multi-stage ----------------------------------------------------------------------------------

MULTI = df_text(
    "FROM golang:1.22-bookworm AS builder",  # 1
    "WORKDIR /src",  # 2
    "RUN apt-get update && apt-get install -y libssl-dev",  # 3
    "COPY . .",  # 4
    "RUN go build -o /out/app ./cmd/app",  # 5
    "",  # 6
    "FROM debian:12-slim",  # 7
    "RUN apt-get update && apt-get install -y ca-certificates",  # 8
    "COPY --from=builder /out/app /usr/local/bin/app",  # 9
    'ENTRYPOINT ["/usr/local/bin/app"]',  # 10
)


def test_multi_stage_final_stage_only():
    history = (
        DEBIAN_12,
        "RUN /bin/sh -c apt-get update && apt-get install -y ca-certificates # buildkit",
        "COPY /out/app /usr/local/bin/app # buildkit",
    )
    assert layer_lines(MULTI, *history) == [7, 8, 9]
    df = parse_dockerfile(MULTI, "Dockerfile")
    anchored = anchor_vulnerabilities([vuln("stdlib", 2), vuln("openssl", 0)], image(*history), df)
    assert [v.location.line for v in anchored] == [9, 7]


def test_builder_stage_steps_never_explain_final_layers():
    dockerfile = df_text(
        "FROM golang:1.22 AS builder",  # 1
        "RUN apt-get update && apt-get install -y libssl-dev",  # 2
        "FROM gcr.io/distroless/base-debian12",  # 3
        "COPY --from=builder /go/bin/app /app",  # 4
    )
    history = (*DISTROLESS, "RUN /bin/sh -c apt-get update && apt-get install -y libssl-dev # buildkit")
    assert layer_lines(dockerfile, *history) == [3, 3, 3]
    assert layer_lines(dockerfile, *DISTROLESS, "COPY /go/bin/app /app # buildkit") == [3, 3, 4]


def test_copy_from_classic_builder():
    history = (
        DEBIAN_12_CLASSIC,
        "/bin/sh -c apt-get update && apt-get install -y ca-certificates",
        "/bin/sh -c #(nop) COPY file:0d1e2f3a4b5c6d7e8f90a1b2c3d4e5f6 in /usr/local/bin/app ",
    )
    assert layer_lines(MULTI, *history) == [7, 8, 9]


def test_final_stage_built_from_an_earlier_stage_continues_into_it():
    dockerfile = df_text(
        "FROM python:3.12-slim AS base",  # 1
        "RUN pip install --no-cache-dir poetry==1.8.3",  # 2
        "FROM base AS app",  # 3
        "COPY app /srv/app",  # 4
    )
    history = (
        *PYTHON_SLIM,
        "RUN /bin/sh -c pip install --no-cache-dir poetry==1.8.3 # buildkit",
        "COPY app /srv/app # buildkit",
    )
    assert layer_lines(dockerfile, *history) == [1, 1, 1, 1, 2, 4]


def test_earlier_stage_mismatch_anchors_to_that_stages_from():
    dockerfile = df_text(
        "FROM python:3.12-slim AS base", "RUN pip install poetry", "FROM base", "COPY app /srv/app"
    )
    history = (*PYTHON_SLIM, "RUN /bin/sh -c pip install pipenv # buildkit", "COPY app /srv/app # buildkit")
    assert layer_lines(dockerfile, *history) == [1, 1, 1, 1, 1, 4]


def test_final_stage_mismatch_anchors_to_its_own_from_even_when_built_from_a_stage():
    dockerfile = df_text(
        "FROM python:3.12-slim AS base", "RUN pip install poetry", "FROM base", "COPY app /srv/app"
    )
    history = (*PYTHON_SLIM, "RUN /bin/sh -c pip install poetry # buildkit", "COPY other /srv/app # buildkit")
    assert layer_lines(dockerfile, *history) == [3, 3, 3, 3, 3, 3]


# --- RUN forms ------------------------------------------------------------------------------------

ARGS = df_text(
    "FROM debian:12",  # 1
    "ARG CURL_VERSION=7.88.1-10+deb12u5",  # 2
    "ARG DEBIAN_FRONTEND=noninteractive",  # 3
    "RUN apt-get update && apt-get install -y curl=${CURL_VERSION}",  # 4
)


def test_buildkit_build_arg_prefix():
    run = (
        "RUN |2 CURL_VERSION=7.88.1-10+deb12u5 DEBIAN_FRONTEND=noninteractive /bin/sh -c "
        "apt-get update && apt-get install -y curl=${CURL_VERSION} # buildkit"
    )
    assert layer_lines(ARGS, DEBIAN_12, run) == [1, 4]


def test_classic_build_arg_prefix_with_blank_in_value():
    run = (
        "|2 CURL_VERSION=7.88.1 DEBIAN_FRONTEND=non interactive /bin/sh -c "
        "apt-get update && apt-get install -y curl=${CURL_VERSION}"
    )
    assert layer_lines(ARGS, DEBIAN_12_CLASSIC, run) == [1, 4]


def test_build_arg_prefix_does_not_excuse_another_command():
    run = "RUN |1 CURL_VERSION=8 /bin/sh -c apt-get update && apt-get install -y wget # buildkit"
    assert layer_lines(ARGS, DEBIAN_12, run) == [1, 1]


def test_build_arg_prefix_needs_as_many_assignments():
    run = "RUN |3 A=1 B=2 /bin/sh -c apt-get update && apt-get install -y curl=${CURL_VERSION} # buildkit"
    assert layer_lines(ARGS, DEBIAN_12, run) == [1, 1]


HEREDOC = df_text(
    "FROM debian:12",  # 1
    "RUN <<EOF",  # 2
    "set -e",  # 3
    "apt-get update",  # 4
    "apt-get install -y curl",  # 5
    "EOF",  # 6
    "RUN <<EOF bash",  # 7
    "set -euo pipefail",  # 8
    "curl -fsSL https://example.com/install.sh | sh",  # 9
    "EOF",  # 10
    "RUN <<EOF",  # 11
    "#!/usr/bin/env python3",  # 12
    "print('hello')",  # 13
    "EOF",  # 14
)


def test_heredoc_runs_buildkit():
    history = (
        DEBIAN_12,
        "RUN /bin/sh -c set -e\napt-get update\napt-get install -y curl\n # buildkit",
        "RUN /bin/sh -c <<EOF bash\nset -euo pipefail\n"
        "curl -fsSL https://example.com/install.sh | sh\nEOF # buildkit",
        "RUN /bin/sh -c /dev/pipes/EOF # buildkit",
    )
    assert layer_lines(HEREDOC, *history) == [1, 2, 7, 11]


def test_heredoc_runs_buildah():
    history = (
        "/bin/sh -c #(nop) ADD file:1f2e3d4c in / ",
        "/bin/sh -c <<EOF\nset -e\napt-get update\napt-get install -y curl",
        "/bin/sh -c <<EOF bash\nset -euo pipefail\ncurl -fsSL https://example.com/install.sh | sh",
        "/bin/sh -c <<EOF\n#!/usr/bin/env python3\nprint('hello')",
    )
    assert layer_lines(HEREDOC, *history) == [1, 2, 7, 11]


def test_heredoc_body_must_match():
    history = (DEBIAN_12, "RUN /bin/sh -c set -e\napt-get update\napt-get install -y wget\n # buildkit")
    assert layer_lines(HEREDOC, *history) == [1, 1]


def test_exec_form_run():
    dockerfile = df_text("FROM python:3.12-slim", 'RUN ["pip", "install", "--no-cache-dir", "flask==3.0.3"]')
    assert layer_lines(
        dockerfile, *PYTHON_SLIM, "RUN pip install --no-cache-dir flask==3.0.3 # buildkit"
    ) == [
        1,
        1,
        1,
        1,
        2,
    ]


def test_custom_shell():
    dockerfile = df_text(
        "FROM node:20-bookworm",  # 1
        'SHELL ["/bin/bash", "-o", "pipefail", "-c"]',  # 2
        "RUN curl -fsSL https://deb.nodesource.com/setup_20.x | bash -",  # 3
    )
    run = "RUN /bin/bash -o pipefail -c curl -fsSL https://deb.nodesource.com/setup_20.x | bash - # buildkit"
    assert layer_lines(dockerfile, DEBIAN_12, run) == [1, 3]
    default_shell = "RUN /bin/sh -c curl -fsSL https://deb.nodesource.com/setup_20.x | bash - # buildkit"
    assert layer_lines(dockerfile, DEBIAN_12, default_shell) == [1, 1]


def test_run_with_mount_flags_and_empty_layer_steps():
    dockerfile = df_text(
        "FROM python:3.12-slim",  # 1
        "RUN --mount=type=cache,target=/root/.cache/pip \\",  # 2
        "    pip install -r requirements.txt",  # 3
        "RUN python3 -c 'print(1)'",  # 4  (changes no file: no layer)
        "RUN useradd --create-home app",  # 5
    )
    history = (
        *PYTHON_SLIM,
        "RUN /bin/sh -c pip install -r requirements.txt # buildkit",
        "RUN /bin/sh -c useradd --create-home app # buildkit",
    )
    assert layer_lines(dockerfile, *history) == [1, 1, 1, 1, 2, 5]


# --- COPY / ADD / WORKDIR details -----------------------------------------------------------------


def test_copy_variants():
    dockerfile = df_text(
        "FROM debian:12",  # 1
        "ENV APP_HOME=/srv/app",  # 2
        "ARG SRC=dist",  # 3
        "WORKDIR $APP_HOME",  # 4
        "COPY --chown=app:app --chmod=644 config.toml $APP_HOME/",  # 5
        "COPY $SRC ./static/",  # 6
        "COPY <<EOF /etc/app.conf",  # 7
        "listen = 8080",  # 8
        "EOF",  # 9
        'COPY ["my file.txt", "other.txt", "/data/"]',  # 10
        "ADD https://example.com/tool-1.2.tar.gz /opt/",  # 11
        "WORKDIR logs",  # 12
    )
    history = (
        DEBIAN_12,
        "WORKDIR /srv/app",
        "COPY --chown=app:app config.toml /srv/app/ # buildkit",
        "COPY build ./static/ # buildkit",  # SRC overridden with --build-arg
        "COPY <<EOF /etc/app.conf # buildkit",
        "COPY my file.txt other.txt /data/ # buildkit",
        "ADD https://example.com/tool-1.2.tar.gz /opt/ # buildkit",
        "WORKDIR /srv/app/logs",
    )
    assert layer_lines(dockerfile, *history) == [1, 4, 5, 6, 7, 10, 11, 12]


def test_copy_destination_must_match():
    dockerfile = df_text("FROM debian:12", "ENV APP_HOME=/srv/app", "COPY app.py $APP_HOME/")
    assert layer_lines(dockerfile, DEBIAN_12, "COPY app.py /opt/app/ # buildkit") == [1, 1]


def test_keyword_must_match():
    dockerfile = df_text("FROM debian:12", "ADD app.tar.gz /app/")
    assert layer_lines(dockerfile, DEBIAN_12, "COPY app.tar.gz /app/ # buildkit") == [1, 1]


def test_relative_workdir_with_unknown_base_workdir():
    dockerfile = df_text("FROM node:20", "WORKDIR app", "COPY . .")
    history = (DEBIAN_12, "WORKDIR /usr/src/app", "COPY . . # buildkit")
    assert layer_lines(dockerfile, *history) == [1, 2, 3]


# --- hostile history and Dockerfiles: the matcher does linear work ----------------------------------


def _old_pattern(text: str) -> str:
    """How patterns were built before (a regex with `\\S*` for each unknown): the reference."""
    return r"\S*".join(re.escape(part) for part in anchor._norm(text).split(anchor._UNKNOWN))


def _texts(rng: random.Random, alphabet: list[str], most: int) -> str:
    return "".join(rng.choice(alphabet) for _ in range(rng.randint(0, most)))


def test_word_patterns_agree_with_the_regex_they_replace():
    rng = random.Random(3)
    for _ in range(20_000):
        text = _texts(rng, ["a", "b", " ", "/", "\x00", "\x00\x00", "  "], 7)
        subject = anchor._norm(_texts(rng, ["a", "b", " ", "/", "ab"], 7))
        words = subject.split(" ")
        old = re.fullmatch(_old_pattern(text), subject) is not None
        assert anchor._Pattern.of(text).matches(words) is old, (text, subject)
        rooted = re.fullmatch(r"(?:/\S*)?/" + _old_pattern(text), subject) is not None
        assert anchor._Pattern.of(text, rooted=True).matches(words) is rooted, (text, subject)


def test_classic_copy_and_build_args_read_as_before():
    old_copy = re.compile(r"(?:--\S+ )*\S+ in (.+)")
    rng = random.Random(4)
    for _ in range(20_000):
        subject = anchor._norm(_texts(rng, ["--a", "--", "in", "x", " ", "/d"], 9))
        m = old_copy.fullmatch(subject)
        assert anchor._classic_dest(subject.split(" ")) == (m[1] if m else None), subject
    for _ in range(5_000):
        text = _texts(rng, ["a", " ", "\x00"], 4)
        subject = anchor._norm(_texts(rng, ["A=", "b", " ", "a", "="], 8))
        old = re.fullmatch(r"([A-Za-z_][A-Za-z0-9_]*=.*?) " + _old_pattern(text), subject, re.S)
        expected = old is not None and old[1].count("=") >= 1
        got = anchor._Step._with_args(anchor._Pattern.of(text), tuple(subject.split(" ")), 1)
        assert got is expected, (text, subject)


def test_crafted_history_and_unknowns_cost_linear_time():
    dockerfile = parse_dockerfile(df_text("FROM a", "ARG A", "COPY " + "$A/" * 5000 + " y"), "Dockerfile")
    # `\S*/` repeated 5000 times against 100,000 `a/`: the regex this replaces never finished.
    # A base layer whose build-arg count has 5000 digits (int() refuses that many) ends the walk.
    target = image("RUN |" + "9" * 5000 + " A=b /bin/sh -c x", "COPY " + "a/" * 100_000 + " y")
    assert map_layers(target, dockerfile) == {0: 1, 1: 3}


def test_an_over_limit_dockerfile_leaves_findings_unanchored_with_a_warning(tmp_path):
    from ci_security import scan

    (tmp_path / "Dockerfile").write_text("FROM debian:12\nRUN " + "x" * 2000 + "\n")
    options = scan.ScanOptions(image=None, repo_root=tmp_path)
    warnings: list = []
    small = limits.with_overrides(limits.DEFAULTS, {"line-bytes": "1KiB"})
    vulns = (vuln("openssl", 0),)
    with limits.use(small):
        parsed = scan._dockerfile(options, warnings)
    # Not parsed, so nothing to anchor to: the findings are reported as they are, without lines.
    assert parsed is None and vulns[0].location is None
    (warning,) = warnings
    assert warning.path == "Dockerfile" and "line-bytes" in warning.message and not warning.partial

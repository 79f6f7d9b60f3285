import pytest

from ci_security.manifests.dockerfile import parse_dockerfile
from ci_security.manifests.shell import command_of, parse_shell
from ci_security.rules.dockerfile.common import (
    apk_options,
    apt_action,
    apt_options,
    image_base,
    no_network,
    pip_install,
    redact,
    split_image,
    stage_runs,
)


def lines(*rows: str) -> str:
    return "\n".join(rows) + "\n"


def runs(text: str) -> list[list[tuple[str, ...]]]:
    df = parse_dockerfile(text, "Dockerfile")
    return [
        [(c.name, *c.args) for c in run.commands()] for stage in df.stages for run in stage_runs(df, stage)
    ]


# --- RUN scripts ---------------------------------------------------------------------------------


def test_case_inside_a_continued_run_with_comment_lines():
    text = lines(
        "FROM debian:12",
        "RUN set -eux; \\",
        '    case "$arch" in \\',
        "        amd64) \\",
        "            # only on amd64",
        "            apt-get install -y x; \\",
        "            ;; \\",
        "    esac; \\",
        "    rm -rf /var/lib/apt/lists/*",
    )
    assert runs(text) == [
        [("set", "-eux"), ("apt-get", "install", "-y", "x"), ("rm", "-rf", "/var/lib/apt/lists/*")]
    ]


# --- package managers ----------------------------------------------------------------------------


def test_apt_action_and_pip_install():
    assert (
        apt_action(command_of(["apt-get", "-o", "Dpkg::Options::=--force-confnew", "-y", "install", "x"]))
        == "install"
    )
    assert apt_action(command_of(["apt-cache", "policy"])) is None
    options = pip_install(command_of(["python3", "-m", "pip", "install", "-r", "req.txt", "flask"]))
    assert options is not None and options.positionals == ("flask",)
    assert pip_install(command_of(["uv", "pip", "install", "x"])) is not None
    assert pip_install(command_of(["python3", "script.py", "-m", "pip"])) is None
    assert pip_install(command_of(["pip3.12", "--version"])) is None


# --- RUN instructions -----------------------------------------------------------------------------


def test_run_shell_form_with_joined_continuations():
    text = lines("FROM debian:12", "RUN apt-get update \\", "  && apt-get install -y \\", "     curl")
    assert runs(text) == [[("apt-get", "update"), ("apt-get", "install", "-y", "curl")]]


def test_run_exec_form():
    text = lines(
        "FROM debian:12", 'RUN ["apt-get", "install", "-y", "curl"]', 'RUN ["/bin/sh", "-c", "a && b"]'
    )
    assert runs(text) == [[("apt-get", "install", "-y", "curl")], [("sh", "-c", "a && b"), ("a",), ("b",)]]


def test_run_heredoc_script():
    text = lines("FROM debian:12", "RUN <<EOF", "apt-get update", "apt-get install -y x", "EOF", "USER app")
    assert runs(text) == [[("apt-get", "update"), ("apt-get", "install", "-y", "x")]]


def test_run_heredoc_fed_to_a_shell_is_a_script():
    text = lines("FROM debian:12", "RUN bash -e <<'EOF'", "curl x | sh", "EOF")
    assert runs(text) == [[("bash", "-e"), ("curl", "x"), ("sh",)]]


def test_run_heredoc_data_and_other_interpreters_are_not_scripts():
    text = lines(
        "FROM debian:12",
        "RUN cat <<EOF > /etc/motd",
        "sudo rm -rf /",
        "EOF",
        "RUN python3 <<EOF",
        "import os",
        "EOF",
        "RUN <<EOF",
        "#!/usr/bin/env python3",
        "print('sudo')",
        "EOF",
        "RUN <<EOF",
        "#!/bin/bash",
        "sudo true",
        "EOF",
    )
    assert runs(text) == [[("cat",)], [("python3",)], [], [("true",)]]  # `true`, run under sudo


def test_onbuild_run():
    text = lines("FROM debian:12", "ONBUILD RUN --mount=type=cache,target=/root/.cache pip install x")
    df = parse_dockerfile(text, "Dockerfile")
    (run,) = stage_runs(df, df.stages[0])
    assert run.onbuild and [(c.name, *c.args) for c in run.commands()] == [("pip", "install", "x")]
    assert run.caches("/root/.cache/pip")


def test_non_posix_shell_is_not_parsed_and_is_inherited():
    text = lines(
        "FROM mcr.microsoft.com/windows/servercore:ltsc2022 AS base",
        'SHELL ["powershell", "-Command"]',
        "RUN curl -k x | sh",
        "FROM base",
        "RUN cd C:\\app",
        'RUN ["cmd", "/S", "/C", "echo hi"]',
        'SHELL ["/bin/sh", "-c"]',
        "RUN sudo true",
    )
    assert runs(text) == [[], [], [("cmd", "/S", "/C", "echo hi")], [("true",)]]


def test_mounts():
    text = lines(
        "FROM debian:12", "RUN --mount=type=cache,target=/var/cache/apt,sharing=locked \\", "  apt-get update"
    )
    df = parse_dockerfile(text, "Dockerfile")
    (run,) = stage_runs(df, df.stages[0])
    assert run.mounts == ({"type": "cache", "target": "/var/cache/apt", "sharing": "locked"},)
    assert run.caches("/var/cache/apt/archives") and not run.caches("/var/lib/apt/lists")


def test_a_run_is_parsed_once_per_file_and_not_kept_beyond_it():
    text = "FROM a\nRUN apt-get update && apt-get install -y curl\n"
    dockerfile = parse_dockerfile(text, "Dockerfile")
    (stage,) = dockerfile.stages
    (first,) = stage_runs(dockerfile, stage)
    (again,) = stage_runs(dockerfile, stage)
    assert first.scripts is again.scripts
    (other,) = stage_runs(parse_dockerfile(text, "Dockerfile"), stage)
    assert other.scripts is not first.scripts  # no process-wide cache holding every file's scripts


# --- images ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("ref", "expected"),
    [
        ("python", ("python", None, None)),
        ("python:3.12", ("python", "3.12", None)),
        ("localhost:5000/app", ("localhost:5000/app", None, None)),
        ("localhost:5000/app:1.0@sha256:ab", ("localhost:5000/app", "1.0", "sha256:ab")),
        ("ghcr.io/a/b@sha256:cd", ("ghcr.io/a/b", None, "sha256:cd")),
    ],
)
def test_split_image(ref, expected):
    assert split_image(ref) == expected


def test_image_base_skips_scratch_stages_and_unset_variables():
    text = lines("ARG BASE", "FROM scratch AS a", "FROM a", "FROM ${BASE}", "FROM python:3.12")
    df = parse_dockerfile(text, "Dockerfile")
    assert [image_base(df, s) for s in df.stages] == [None, None, None, "python:3.12"]


def test_redact():
    assert redact("https://user:tok@host/x") == "https://***@host/x"
    assert redact("https://host/x") == "https://host/x"


@pytest.mark.parametrize(
    "text",
    [
        "apt-get install -s curl",
        "apt-get -qqs install curl",
        "apt-get --simulate install curl",
        "apt-get install --just-print curl",
        "apt-get install --dry-run curl",
        "apt-get install --recon curl",
        "apt-get install --no-act curl",
        "apt-get -o APT::Get::Simulate=true install curl",
    ],
)
def test_an_apt_simulation_is_not_an_apt_command(text):
    (command,) = parse_shell(text).all_commands()
    assert apt_options(command) is None


def test_apk_simulation_and_no_network():
    (simulated,) = parse_shell("apk add --simulate curl").all_commands()
    assert apk_options(simulated) is None
    (offline,) = parse_shell("apk add --no-network --virtual .rundeps $deps").all_commands()
    options = apk_options(offline)
    assert options is not None and no_network(options)

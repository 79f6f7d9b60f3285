import pytest

from ci_security.manifests.dockerfile import parse_dockerfile
from ci_security.rules.dockerfile.df032_pipefail import Df032Pipefail


def lines(*rows: str) -> list[int]:
    df = parse_dockerfile("\n".join(rows) + "\n", "Dockerfile")
    return [h.line for h in Df032Pipefail().check(df)]


@pytest.mark.parametrize(
    "run",
    [
        "RUN curl -fsSL https://x | tar -xz",
        "RUN set -e; wget -qO- https://x | gpg --dearmor > k",
        "RUN cat list | xargs apt-get install -y",
        "RUN (curl https://x | tar -x)",
    ],
)
def test_fires(run):
    assert lines("FROM debian:12", run) == [2]


@pytest.mark.parametrize(
    "run",
    [
        "RUN set -o pipefail && curl -fsSL https://x | tar -xz",
        "RUN set -euxo pipefail; curl -fsSL https://x | tar -xz",
        'RUN echo "abc  f" | sha256sum -c -',
        "RUN yes | apt-get install x",
        "RUN curl -fsSL https://x -o x.tgz && tar -xzf x.tgz",
        'RUN ["/bin/sh", "-c", "curl https://x | tar -x"]',
        "RUN bash -o pipefail -c 'curl https://x | tar -x'",
    ],
)
def test_does_not_fire(run):
    assert lines("FROM debian:12", run) == []


def test_shell_instruction_and_inheritance():
    rows = (
        "FROM debian:12 AS base",
        "RUN curl https://x | tar -x",  # 2: before the SHELL
        'SHELL ["/bin/bash", "-euo", "pipefail", "-c"]',
        "RUN curl https://x | tar -x",
        "FROM base",
        "RUN curl https://x | tar -x",
        'SHELL ["/bin/sh", "-c"]',
        "RUN curl https://x | tar -x",  # 8: pipefail turned off again
        "FROM alpine:3.20",
        "RUN wget -qO- https://x | tar -x",  # 10: a new image, no SHELL
        'SHELL ["/bin/ash", "-o", "pipefail", "-c"]',
        "RUN wget -qO- https://x | tar -x",
        'SHELL ["pwsh", "-Command"]',
        "RUN iwr https://x | iex",
    )
    assert lines(*rows) == [2, 8, 10]

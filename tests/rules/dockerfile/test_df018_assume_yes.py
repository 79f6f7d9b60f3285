import pytest

from ci_security.manifests.dockerfile import parse_dockerfile
from ci_security.rules.dockerfile.df018_assume_yes import Df018AssumeYes


def lines(*rows: str) -> list[int]:
    df = parse_dockerfile("\n".join(rows) + "\n", "Dockerfile")
    return [h.line for h in Df018AssumeYes().check(df)]


@pytest.mark.parametrize(
    "run",
    [
        "RUN apt-get install curl",
        "RUN apt-get -q install curl",
        "RUN apt-get remove curl",
        "RUN apt upgrade",
        "RUN yum install git",
        "RUN dnf upgrade",
        "RUN tdnf install git",
        "RUN zypper install git",
        "RUN sudo apt-get install curl",
    ],
)
def test_asks(run):
    assert lines("FROM debian:12", run) == [2]


@pytest.mark.parametrize(
    "run",
    [
        "RUN apt-get install -y curl",
        "RUN apt-get install --yes curl",
        "RUN apt-get --assume-yes install curl",
        "RUN apt-get -qq install curl",
        "RUN apt-get -q=2 install curl",
        "RUN apt-get -o APT::Get::Assume-Yes=true install curl",
        "RUN yes | apt-get install curl",
        "RUN apt-get update",
        "RUN apt-get clean",
        "RUN yum -y install git",
        "RUN dnf install --assumeyes git",
        "RUN dnf clean all",
        "RUN microdnf install git",
        "RUN zypper -n install git",
        "RUN zypper install -y git",
        "RUN zypper refresh",
        "RUN apk add git",
    ],
)
def test_does_not_ask(run):
    assert lines("FROM debian:12", run) == []


def test_assume_yes_configured_in_a_parent_stage():
    rows = (
        "FROM debian:12 AS base",
        """RUN echo 'APT::Get::Assume-Yes "true";' > /etc/apt/apt.conf.d/90yes""",
        "FROM base",
        "RUN apt-get install curl",
        "FROM debian:12",
        "RUN apt-get install curl",
    )
    assert lines(*rows) == [6]

import pytest

from ci_security.manifests.dockerfile import parse_dockerfile
from ci_security.rules.dockerfile.df017_signature_check_disabled import Df017SignatureCheckDisabled


def messages(*rows: str) -> list[str]:
    df = parse_dockerfile("FROM debian:12\n" + "\n".join(rows) + "\n", "Dockerfile")
    return [h.message for h in Df017SignatureCheckDisabled().check(df)]


@pytest.mark.parametrize(
    ("row", "what"),
    [
        ("RUN apt-get install -y --allow-unauthenticated x", "apt-get --allow-unauthenticated"),
        ("RUN apt-get install -y --force-yes x", "apt-get --force-yes"),
        ("RUN apt-get update --allow-insecure-repositories", "apt-get --allow-insecure-repositories"),
        ("RUN apt install -y --allow-unauthenticated x", "apt --allow-unauthenticated"),
        (
            "RUN apt-get -o APT::Get::AllowUnauthenticated=true install -y x",
            "apt AllowUnauthenticated/AllowInsecureRepositories",
        ),
        (
            "RUN echo 'deb [trusted=yes] http://r/ ./' > /etc/apt/sources.list",
            "apt source marked trusted=yes",
        ),
        (
            "RUN echo 'deb [arch=amd64 allow-insecure=yes] http://r/ ./' > /etc/apt/sources.list",
            "apt source marked trusted=yes",
        ),
        ("RUN apk add --no-cache --allow-untrusted /tmp/x.apk", "apk --allow-untrusted"),
        ("RUN yum install -y --nogpgcheck x", "yum --nogpgcheck"),
        ("RUN dnf --nogpgcheck install -y x", "dnf --nogpgcheck"),
        ("RUN microdnf install --nogpgcheck x", "microdnf --nogpgcheck"),
        ("RUN zypper --no-gpg-checks install -y x", "zypper --no-gpg-checks"),
        ("RUN rpm -ivh --nosignature x.rpm", "rpm --nosignature"),
        ("RUN rpm -Uvh --nodigest x.rpm", "rpm --nodigest"),
        ("RUN dnf install -y --setopt=gpgcheck=0 x", "gpgcheck=0"),
        ("RUN printf '[x]\\ngpgcheck=0\\n' > /etc/yum.repos.d/x.repo", "gpgcheck=0"),
        ("RUN GOSUMDB=off go mod download", "GOSUMDB=off"),
    ],
)
def test_run(row, what):
    assert messages(row) == [f"RUN disables package signature verification: {what}"]


def test_gosumdb_in_env_and_heredoc_config():
    assert messages("ENV GOSUMDB=off", "COPY <<EOF /etc/yum.repos.d/x.repo", "gpgcheck=0", "EOF") == [
        "ENV disables package verification: GOSUMDB=off"
    ]
    assert messages("RUN cat <<EOF > /etc/yum.repos.d/x.repo", "[x]", "repo_gpgcheck=0", "EOF") == [
        "RUN disables package signature verification: gpgcheck=0"
    ]


@pytest.mark.parametrize(
    "row",
    [
        "RUN apt-get install -y --no-install-recommends x",
        "RUN echo 'deb [signed-by=/etc/apt/keyrings/k.gpg] https://r/ ./' > /etc/apt/sources.list",
        "RUN rpm --import https://r/KEY && dnf install -y x",
        "RUN echo gpgcheck=1 >> /etc/yum.conf",
        "RUN zypper --gpg-auto-import-keys refresh",
        "ENV GOSUMDB=sum.golang.org GOPRIVATE=git.example.com",
    ],
)
def test_does_not_fire(row):
    assert messages(row) == []

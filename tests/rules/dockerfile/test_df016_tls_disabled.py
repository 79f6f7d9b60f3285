import pytest

from ci_security.manifests.dockerfile import parse_dockerfile
from ci_security.rules.dockerfile.df016_tls_disabled import Df016TlsDisabled


def messages(*rows: str) -> list[str]:
    df = parse_dockerfile("FROM debian:12\n" + "\n".join(rows) + "\n", "Dockerfile")
    return [h.message for h in Df016TlsDisabled().check(df)]


@pytest.mark.parametrize(
    ("row", "what"),
    [
        ("RUN curl -k https://x -o f", "curl --insecure"),
        ("RUN curl -fsSLk https://x -o f", "curl --insecure"),
        ("RUN curl --insecure https://x", "curl --insecure"),
        ("RUN curl --proxy-insecure -x http://p https://x", "curl --insecure"),
        ("RUN wget --no-check-certificate https://x", "wget --no-check-certificate"),
        ("RUN wget --check-certificate=off https://x", "wget --no-check-certificate"),
        ("RUN pip install --trusted-host pypi.example.com flask==3.0", "pip --trusted-host"),
        ("RUN python3 -m pip install --trusted-host=pypi.example.com x==1", "pip --trusted-host"),
        ("RUN pip config set global.trusted-host pypi.example.com", "pip --trusted-host"),
        ("RUN npm config set strict-ssl false", "npm strict-ssl false"),
        ("RUN yarn config set strict-ssl false", "yarn strict-ssl false"),
        ("RUN npm install --strict-ssl=false", "npm strict-ssl false"),
        ("RUN git config --global http.sslVerify false", "git http.sslVerify false"),
        ("RUN git config --global http.https://git.example.com/.sslVerify false", "git http.sslVerify false"),
        ("RUN git -c http.sslVerify=false clone https://x", "git http.sslVerify false"),
        ("RUN GIT_SSL_NO_VERIFY=1 git clone https://x", "GIT_SSL_NO_VERIFY"),
        ("RUN export NODE_TLS_REJECT_UNAUTHORIZED=0 && npm ci", "NODE_TLS_REJECT_UNAUTHORIZED=0"),
        ("RUN env PYTHONHTTPSVERIFY=0 python3 app.py", "PYTHONHTTPSVERIFY=0"),
        (
            "RUN apt-get -o Acquire::https::Verify-Peer=false update",
            "apt Verify-Peer/Verify-Host false",
        ),
        (
            "RUN echo 'Acquire::https::repo.example.com::Verify-Host \"false\";' > /etc/apt/apt.conf.d/x",
            "apt Verify-Peer/Verify-Host false",
        ),
        ("RUN dnf --setopt=sslverify=0 install -y x", "yum/dnf sslverify off"),
        ("RUN echo sslverify=false >> /etc/yum.conf", "yum/dnf sslverify off"),
        ("RUN echo 'check_certificate = off' >> ~/.wgetrc", "wget check_certificate off"),
    ],
)
def test_run(row, what):
    assert messages(row) == [f"RUN disables TLS verification: {what}"]


@pytest.mark.parametrize(
    ("row", "message"),
    [
        (
            "ENV NODE_TLS_REJECT_UNAUTHORIZED=0",
            "ENV disables TLS verification: NODE_TLS_REJECT_UNAUTHORIZED=0",
        ),
        ("ENV PYTHONHTTPSVERIFY 0", "ENV disables TLS verification: PYTHONHTTPSVERIFY=0"),
        ('ENV npm_config_strict_ssl="false"', "ENV disables TLS verification: npm_config_strict_ssl=false"),
        ("ARG GIT_SSL_NO_VERIFY=true", "ARG disables TLS verification: GIT_SSL_NO_VERIFY"),
        ("ARG PIP_TRUSTED_HOST=pypi.example.com", "ARG disables TLS verification: PIP_TRUSTED_HOST"),
        ("ENV GOINSECURE=*.example.com", "ENV disables TLS verification: GOINSECURE"),
        ('ENV GOFLAGS="-mod=mod -insecure"', "ENV disables TLS verification: GOFLAGS=-insecure"),
    ],
)
def test_variables(row, message):
    assert messages(row) == [message]


@pytest.mark.parametrize(
    "row",
    [
        "RUN curl -fsSL -o k https://x",
        "RUN curl -K config.txt https://x",
        "RUN curl -ok https://x",
        "RUN npm config set strict-ssl true",
        "RUN git config --global http.sslVerify true",
        "RUN pip install --cert /etc/ssl/ca.pem flask==3.0",
        "ENV NODE_TLS_REJECT_UNAUTHORIZED=1",
        "ENV PYTHONHTTPSVERIFY=1",
        "ARG PIP_TRUSTED_HOST",
        "ENV NODE_EXTRA_CA_CERTS=/etc/ssl/ca.pem",
        "RUN echo sslverify=1 >> /etc/yum.conf",
        "RUN npm",  # no arguments: found by fuzzing, it raised from zip(strict=True)
        "RUN yarn && pnpm",
    ],
)
def test_does_not_fire(row):
    assert messages(row) == []


def test_one_hit_per_run_listing_every_problem():
    assert messages("RUN curl -k https://x | tar -x && wget --no-check-certificate https://y") == [
        "RUN disables TLS verification: curl --insecure, wget --no-check-certificate"
    ]

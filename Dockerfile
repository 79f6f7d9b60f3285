# syntax=docker/dockerfile:1
# The ci-security plugin image: the GitHub container action (docker-action/action.yml) and the
# GitLab component run it. Everything is installed in a throw-away stage into one virtual
# environment that the final stage copies, so no compiler, pip cache or source tree reaches it; the
# base is pinned by digest (fix pull requests bump it).
FROM python:3.11-slim-bookworm@sha256:a36c24f9cbdf4fd0f52d67f0823eeac19c2028c637cecc392d97f980d4fec56b AS build
# Dependencies first, from the lock alone (exact versions, every file checked against its sha256,
# wheels only, nothing resolved): BuildKit keys this layer on the lock file's content, so it is
# rebuilt only when the lock changes.
COPY requirements/action.lock.txt /tmp/action.lock.txt
RUN python -m venv --without-pip /opt/ci-security/venv \
 && python -m pip --python /opt/ci-security/venv/bin/python install --no-cache-dir --no-input \
      --require-hashes --no-deps --only-binary :all: -r /tmp/action.lock.txt
COPY scripts/lock.py /tmp/lock.py
RUN /opt/ci-security/venv/bin/python -I /tmp/lock.py check-env --lock /tmp/action.lock.txt
WORKDIR /src
COPY pyproject.toml README.md ./
COPY ci_security ./ci_security
# The package itself, built by the locked setuptools already in the environment: no build
# isolation and no index, so nothing unpinned is fetched to build it.
RUN python -m pip --python /opt/ci-security/venv/bin/python install --no-cache-dir --no-input \
      --no-deps --no-build-isolation --no-index .

FROM python:3.11-slim-bookworm@sha256:a36c24f9cbdf4fd0f52d67f0823eeac19c2028c637cecc392d97f980d4fec56b
# The dynamic scan's sandbox (dynamic: true): bubblewrap and strace, pinned to Debian 12's
# versions; util-linux (prlimit, setpriv, unshare) is part of the base. See docs/dynamic.md for
# what the job's container must allow (user namespaces, a /proc mount).
RUN apt-get update \
 && apt-get install -y --no-install-recommends bubblewrap=0.8.0-2+deb12u1 strace=6.1-0.1 \
 && rm -rf /var/lib/apt/lists/*
COPY --from=build /opt/ci-security/venv /opt/ci-security/venv
ENV PATH=/opt/ci-security/venv/bin:$PATH
COPY entrypoint.py /opt/ci-security/entrypoint.py
# uid 1001 is the GitHub-hosted runner's user, which owns the workspace the runner mounts at
# /github/workspace; any other non-root uid could not write the reports there.
USER 1001
# A one-shot CLI, not a service: there is nothing for a health check to probe.
HEALTHCHECK NONE
ENTRYPOINT ["python", "/opt/ci-security/entrypoint.py"]

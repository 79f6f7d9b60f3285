# syntax=docker/dockerfile:1
# The ci-security plugin image: the GitHub container action (docker-action/action.yml) and the
# GitLab component run it. Wheels are built in a throw-away stage so no compiler, pip cache or
# source tree reaches the final image; the base is pinned by digest (fix pull requests bump it).
FROM python:3.11-slim-bookworm@sha256:a36c24f9cbdf4fd0f52d67f0823eeac19c2028c637cecc392d97f980d4fec56b AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY ci_security ./ci_security
RUN python -m pip wheel --no-cache-dir --wheel-dir /wheels .

FROM python:3.11-slim-bookworm@sha256:a36c24f9cbdf4fd0f52d67f0823eeac19c2028c637cecc392d97f980d4fec56b
COPY --from=build /wheels /wheels
RUN python -m pip install --no-cache-dir --no-index --find-links=/wheels ci-security==0.1.0 \
 && rm -rf /wheels
COPY entrypoint.py /opt/ci-security/entrypoint.py
# uid 1001 is the GitHub-hosted runner's user, which owns the workspace the runner mounts at
# /github/workspace; any other non-root uid could not write the reports there.
USER 1001
# A one-shot CLI, not a service: there is nothing for a health check to probe.
HEALTHCHECK NONE
ENTRYPOINT ["python", "/opt/ci-security/entrypoint.py"]

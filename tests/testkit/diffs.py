"""Unified diffs of one file as the GitHub and GitLab APIs return them, for the tests of inline comments
and of the lines they may anchor to.
"""

from __future__ import annotations

DOCKERFILE_PATCH = (
    "@@ -1,4 +1,6 @@\n"
    " FROM debian:12\n"
    "+RUN apt-get update\n"
    "+USER root\n"
    " COPY . /app\n"
    "-RUN make\n"
    "+RUN make all\n"
    ' CMD ["/app/run"]\n'
    "@@ -20,3 +22,4 @@ HEALTHCHECK\n"
    " EXPOSE 80\n"
    "+EXPOSE 443\n"
    " ENV A=1\n"
    " ENV B=2"
)

APP_DIFF = (
    "@@ -1,6 +1,7 @@\n"
    " apiVersion: apps/v1\n"
    " kind: Deployment\n"
    " metadata:\n"
    "+  name: shop\n"
    "+  labels: {app: shop}\n"
    " spec:\n"
    "-  replicas: 1\n"
    "---  removed line that looks like a header\n"
    "+  replicas: 2\n"
    "@@ -18,2 +20,3 @@ spec:\n"
    "       image: shop:1\n"
    "+      securityContext: {privileged: true}\n"
    "       ports: []\n"
)

from ci_security.manifests.dockerfile import parse_dockerfile
from ci_security.rules.dockerfile.df023_copy_from import Df023CopyFrom


def hits(*rows: str) -> list[tuple[int, str]]:
    df = parse_dockerfile("\n".join(rows) + "\n", "Dockerfile")
    return [(h.line, h.message) for h in Df023CopyFrom().check(df)]


def test_references():
    assert hits(
        "FROM golang:1.22 AS Build",
        "COPY --from=build /a /a",  # 2: itself (names are case-insensitive)
        "COPY --from=0 /a /a",  # 3: itself by index
        "COPY --from=later /a /a",  # 4: defined below
        "FROM alpine:3.20",
        "COPY --from=BUILD /a /a",
        "COPY --from=0 /a /a",
        "COPY --from=2 /a /a",  # 8: a later index
        "COPY --from=biuld /a /a",  # 9: typo: pulled from Docker Hub
        "COPY --from=busybox:1.36 /bin/busybox /busybox",
        "COPY --from=ghcr.io/acme/tools /t /t",
        "COPY --from=${TOOLS_IMAGE} /t /t",
        "ARG STAGE=build",
        "COPY --from=${STAGE} /a /a",
        "FROM alpine:3.20 AS later",
    ) == [
        (2, "COPY --from=build refers to its own stage"),
        (3, "COPY --from=0 refers to its own stage"),
        (4, "COPY --from=later refers to a stage defined later"),
        (8, "COPY --from=2 refers to a later stage"),
        (9, "COPY --from=biuld names no earlier stage, so it pulls the image docker.io/library/biuld"),
    ]

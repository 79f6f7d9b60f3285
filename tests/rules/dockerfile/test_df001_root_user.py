import pytest

from ci_security.manifests.dockerfile import parse_dockerfile
from ci_security.rules.dockerfile.df001_root_user import Df001RootUser


def hits(*rows: str) -> list[tuple[int, str]]:
    df = parse_dockerfile("\n".join(rows) + "\n", "Dockerfile")
    return [(h.line, h.message) for h in Df001RootUser().check(df)]


@pytest.mark.parametrize("user", ["root", "0", "root:root", "0:0", '"root"', "${RUN_AS}"])
def test_root_user_forms(user):
    assert [line for line, _ in hits("FROM debian:12", "ARG RUN_AS=root", f"USER {user}")] == [3]


@pytest.mark.parametrize("user", ["app", "10001", "10001:0", "rootless", "${UNSET}"])
def test_non_root_or_unknown_user(user):
    assert hits("FROM debian:12", f"USER {user}") == []


def test_missing_user_points_at_the_final_from():
    assert hits("FROM golang:1.22 AS build", "USER app", "FROM debian:12", "COPY --from=build /a /a") == [
        (3, "the final stage sets no USER, so the container runs as root")
    ]


def test_user_inherited_from_a_parent_stage():
    assert hits("FROM debian:12 AS base", "USER app", "FROM base", "RUN true") == []
    assert hits("FROM debian:12 AS base", "USER root", "FROM base", "RUN true") == [
        (2, "the last USER of the final stage is root (inherited from stage base)")
    ]


def test_last_user_wins():
    assert hits("FROM debian:12", "USER root", "RUN apt-get update", "USER app") == []


def test_distroless_nonroot_tag_sets_a_user():
    assert hits("FROM gcr.io/distroless/static-debian12:nonroot") == []
    assert hits("FROM gcr.io/distroless/static-debian12:latest") != []


def test_only_the_final_stage_counts():
    assert hits("FROM debian:12 AS build", "USER root", "FROM debian:12", "USER app") == []

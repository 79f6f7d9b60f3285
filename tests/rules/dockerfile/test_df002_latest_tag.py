from ci_security.manifests.dockerfile import parse_dockerfile
from ci_security.rules.dockerfile.df002_latest_tag import Df002LatestTag
from ci_security.rules.dockerfile.df003_digest_pin import Df003DigestPin


def lines(rule, *rows: str) -> list[int]:
    df = parse_dockerfile("\n".join(rows) + "\n", "Dockerfile")
    return [h.line for h in rule.check(df)]


def test_latest_and_untagged():
    rows = (
        "ARG BASE=python",
        "FROM ubuntu",  # 2 untagged
        "FROM ubuntu:latest",  # 3
        "FROM ubuntu:LATEST",  # 4
        "FROM ${BASE}",  # 5 untagged after substitution
        "FROM localhost:5000/app",  # 6 a registry port is not a tag
        "FROM ubuntu:24.04",
        "FROM ubuntu@sha256:0123",
        "FROM ubuntu:latest@sha256:0123",
        "FROM scratch",
        "FROM ubuntu:24.04 AS base",
        "FROM base",
        "FROM ${UNSET_BASE}",
        "FROM --platform=$BUILDPLATFORM golang:1.22",
    )
    assert lines(Df002LatestTag(), *rows) == [2, 3, 4, 5, 6]


def test_digest_pin_skips_scratch_stages_and_variables():
    rows = (
        "FROM ubuntu:24.04 AS base",  # 1
        "FROM base",
        "FROM scratch",
        "FROM ubuntu@sha256:0123",
        "FROM ${UNSET_BASE}",
        "FROM golang:1.22",  # 6
    )
    assert lines(Df003DigestPin(), *rows) == [1, 6]

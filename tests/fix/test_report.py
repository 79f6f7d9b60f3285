"""The plan as text: pull-request bodies from the jinja2 template with every untrusted value escaped
(references, paths and advisory ids come from the repository, a registry and advisory feeds), bodies
kept under GitHub's limit, the commit trailer, the JSON plan against its schema, and the terminal lines."""

from __future__ import annotations

import re

import jsonschema

from ci_security.fix.report import (
    BODY_LIMIT,
    TRAILER,
    commit_message,
    fixes_markdown,
    plan_dict,
    plan_lines,
    proposal_id,
    pull_request_body,
    schema,
)
from ci_security.models.fix import Candidate, FixPlan, FixSkip, FixUpdate, SeverityCounts
from ci_security.platforms.base import Outcome

HOSTILE = "evil@org #1 <img src=x> [x](https://evil.example) ``` /close"


def update(**changes) -> FixUpdate:
    values = dict(
        kind="base-image",
        file="Dockerfile",
        line=3,
        current="python:3.11.4-slim",
        proposed="python:3.11.9-slim",
        update_type="patch",
        branch="ci-security/base-image/dockerfile-python",
        title="ci-security: update python from 3.11.4-slim to 3.11.9-slim in Dockerfile",
        diff="diff --git a/Dockerfile b/Dockerfile\n--- a/Dockerfile\n+++ b/Dockerfile\n@@ -3 +3 @@\n"
        "-FROM python:3.11.4-slim\n+FROM python:3.11.9-slim\n",
        content="FROM python:3.11.9-slim\n",
        original="FROM python:3.11.4-slim\n",
        lines=(3,),
        before=SeverityCounts(critical=1, high=4, medium=9, low=2),
        after=SeverityCounts(medium=1),
        fixes=("CVE-2024-0001", "CVE-2024-0002"),
        candidates=(
            Candidate(
                reference="python:3.11.4-slim",
                digest="sha256:" + "a" * 64,
                update_type="current",
                counts=SeverityCounts(critical=1, high=4, medium=9, low=2),
            ),
            Candidate(
                reference="python:3.11.9-slim",
                digest="sha256:" + "b" * 64,
                update_type="patch",
                counts=SeverityCounts(medium=1),
                verdict="recommended",
            ),
        ),
        final_stage=True,
        platform="linux/amd64",
    )
    values.update(changes)
    return FixUpdate(**values)


def test_the_body_says_what_changes_and_why():
    body = pull_request_body(update(), no_ci=True)
    assert body.startswith("## Update the base image python:3.11.4-slim to python:3.11.9-slim in Dockerfile")
    assert (
        "We recommend `python:3.11.9-slim`: ci-security's scan of it finds 1 known vulnerability (1 medium)"
        in body
    )
    assert (
        "| Dockerfile | 3 | python:3.11.4-slim | python:3.11.9-slim | 1 → 0 | 4 → 0 | 9 → 1 | 2 → 0 | 0 → 0 |"
        in body
    )
    assert "| python:3.11.9-slim | patch | 0 | 0 | 1 | 0 | 0 | recommended |" in body
    assert "```diff\ndiff --git a/Dockerfile b/Dockerfile" in body
    assert (
        "GITHUB_TOKEN" in body and "How to undo" in body and "close the pull request without merging" in body
    )
    assert "GITHUB_TOKEN" not in pull_request_body(update(), no_ci=False)


def test_untrusted_text_is_escaped_everywhere():
    hostile = update(
        file=f"docker/{HOSTILE}",
        current=f"registry.example/{HOSTILE}:1",
        fixes=(HOSTILE,),
        note=HOSTILE,
        diff=f"diff --git a/x b/x\n+{HOSTILE}\n+````\n",
        candidates=(
            Candidate(
                reference=HOSTILE,
                digest="sha256:" + "c" * 64,
                update_type="patch",
                counts=SeverityCounts(),
                verdict=HOSTILE,
            ),
        ),
    )
    body = pull_request_body(hostile)
    outside_code = body.split("`````diff")[0] + body.split("`````diff")[1].split("\n`````")[1]
    outside_code = re.sub(r"(`+)[^`].*?(?<!`)\1(?!`)", "", outside_code)  # inline code shows text verbatim
    assert "<img" not in outside_code and "@org" not in outside_code and "](https://evil" not in outside_code
    assert "\n/close" not in body
    assert "`````diff\n" in body  # the fence is longer than the four backticks inside the diff


def test_long_bodies_are_cut_below_githubs_limit():
    huge = update(
        diff="diff --git a/Dockerfile b/Dockerfile\n" + "+x\n" * 60_000,
        fixes=tuple(f"CVE-{i}" for i in range(500)),
    )
    body = pull_request_body(huge)
    assert len(body) <= BODY_LIMIT + 1 and "The diff is cut here" in body and "…and 450 more" in body


def test_commit_message_carries_the_proposal():
    first = update()
    message = commit_message(first)
    assert message.splitlines()[0] == first.title
    assert message.rstrip().endswith(f"{TRAILER}: {proposal_id(first)}")
    assert proposal_id(update(content="FROM python:3.11.10-slim\n")) != proposal_id(first)


def test_plan_json_lines_and_markdown():
    plan = FixPlan(
        updates=(update(),),
        skipped=(
            FixSkip(file="Dockerfile", line=1, reason="scratch is the empty image", reference="scratch"),
        ),
    )
    requests = {update().branch: Outcome(action="created", url="https://github.com/o/r/pull/9")}
    document = plan_dict(plan, requests)
    jsonschema.Draft202012Validator(schema()).validate(document)
    assert document["updates"][0]["pull_request"] == {
        "action": "created",
        "url": "https://github.com/o/r/pull/9",
    }
    assert document["updates"][0]["before"] == {"critical": 1, "high": 4, "medium": 9, "low": 2, "unknown": 0}
    lines = plan_lines(plan, requests)
    assert lines[0].startswith("base-image Dockerfile:3: python:3.11.4-slim → python:3.11.9-slim, fixes 2 (")
    assert lines[-1] == "1 update(s), 1 reference(s) left as they are"
    markdown = fixes_markdown(plan, requests)
    assert (
        "[created](https://github.com/o/r/pull/9)" in markdown
        and "1 reference(s) left as they are" in markdown
    )

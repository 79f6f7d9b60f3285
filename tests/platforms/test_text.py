"""Diff anchors and comment sizing shared by the GitHub and GitLab platforms."""

from __future__ import annotations

from testkit.diffs import APP_DIFF, DOCKERFILE_PATCH
from testkit.github_standin import right_side_lines

from ci_security.platforms.base import marker
from ci_security.platforms.github import COMMENT_LIMIT
from ci_security.platforms.text import comparable, diff_lines, fit, is_gone, job_link, struck

KEY = "image:registry.example/shop"


def anchors(patch: str | None) -> frozenset[int]:
    return frozenset(diff_lines(patch))


def test_anchorable_lines_of_multiple_hunks():
    assert anchors(DOCKERFILE_PATCH) == frozenset({1, 2, 3, 4, 5, 6, 22, 23, 24, 25})
    assert anchors(DOCKERFILE_PATCH) == frozenset(right_side_lines(DOCKERFILE_PATCH))


def test_anchorable_lines_of_added_deleted_renamed_and_binary_files():
    assert anchors("@@ -0,0 +1,3 @@\n+a\n+b\n+c") == frozenset({1, 2, 3})
    assert anchors("@@ -1,2 +0,0 @@\n-a\n-b") == frozenset()
    assert anchors("@@ -5 +5 @@\n-a: 1\n+a: 2") == frozenset({5})
    assert anchors(None) == anchors("") == frozenset()


def test_anchorable_lines_edge_cases():
    no_newline = "@@ -1,2 +1,2 @@\n a\n-b\n\\ No newline at end of file\n+b\n\\ No newline at end of file"
    assert anchors(no_newline) == frozenset({1, 2})
    # a whole `git diff` of two files: headers outside hunks are not lines
    whole = (
        "diff --git a/x b/x\n--- a/x\n+++ b/x\n@@ -1,2 +1,3 @@ section\n a\n+b\n c\n"
        "diff --git a/y b/y\n--- a/y\n+++ b/y\n@@ -10,0 +11,2 @@\n+d\n+e\n"
    )
    assert anchors(whole) == frozenset({1, 2, 3, 11, 12})
    # an empty context line (trailing space stripped by an editor) still counts
    assert anchors("@@ -1,3 +1,3 @@\n a\n\n c") == frozenset({1, 2, 3})


def test_fit_keeps_short_bodies_and_cuts_long_ones_at_a_line():
    assert fit("short", "<!-- m -->", limit=COMMENT_LIMIT)[0] == "short\n\n<!-- m -->"
    exact = "x" * (100 - len("\n\n<!-- m -->"))
    assert fit(exact, "<!-- m -->", limit=100)[0] == exact + "\n\n<!-- m -->"

    long = "\n".join(f"line {n}" for n in range(100))
    cut, _ = fit(long, "<!-- m -->", job_url="https://ci/job/1", limit=200)
    assert len(cut) <= 200
    head = cut.split("\n\n…truncated")[0]
    assert long.startswith(head + "\n")
    assert cut.endswith("…truncated: the full report is in the job (https://ci/job/1)\n\n<!-- m -->")


def test_fit_leaves_a_body_at_the_limit_alone_and_closes_a_code_fence() -> None:
    tag = marker(KEY)
    exact = "x" * (100 - len(tag) - 2)
    assert fit(exact, tag, limit=100) == (f"{exact}\n\n{tag}", False)
    text, cut = fit("```\n" + "code line\n" * 100, tag, limit=600, job_url="")
    assert cut
    assert len(text) <= 600
    assert text.endswith(f"```\n\n…truncated: the full report is in the job\n\n{tag}")
    text, _ = fit("~~~\n" + "code line\n" * 100, tag, limit=600)
    assert text.endswith(f"~~~\n\n…truncated: the full report is in the job\n\n{tag}")


def test_diff_lines_maps_new_lines_to_old_ones() -> None:
    assert diff_lines(APP_DIFF) == {
        1: 1,
        2: 2,
        3: 3,
        4: None,
        5: None,
        6: 4,
        7: None,
        20: 18,
        21: None,
        22: 19,
    }
    assert diff_lines("@@ -1 +1 @@\n-a\n\\ No newline at end of file\n+b\n") == {1: None}
    assert diff_lines("--- a/x\n+++ b/x\n@@ -0,0 +1 @@\n+only\n") == {1: None}
    assert diff_lines("") == {}


def test_bodies_compare_without_the_job_link():
    body = "## ci-security\n\n2 findings"
    one = f"{body}\n\n{job_link('https://ci/runs/1')}\n\n{marker(KEY)}"
    two = f"{body}\n\n{job_link('https://ci/runs/2')}\n\n{marker(KEY)}".replace("\n", "\r\n")
    assert comparable(one) == comparable(two) == f"{body}\n\n{marker(KEY)}"
    cut = fit(body * 40, marker(KEY), limit=200, job_url="https://ci/runs/1")[0]
    recut = fit(body * 40, marker(KEY), limit=200, job_url="https://ci/runs/22")[0]
    assert cut != recut and comparable(cut) == comparable(recut)
    assert comparable(one) != comparable(one.replace("2 findings", "3 findings"))
    assert job_link("") == ""


def test_a_gone_finding_keeps_its_text_struck_through():
    mark = marker(KEY)
    body = "**DF001** Image runs as root (MEDIUM)\n\nthe final stage\nruns as root\n\n<sub>ci-security</sub>"
    gone = struck(f"{body}\n\n{mark}", mark, "abc123")
    assert gone == (
        "~~**DF001** Image runs as root (MEDIUM)~~\n\n~~the final stage~~\n~~runs as root~~\n\n"
        f"<sub>ci-security</sub>\n\n✅ No longer reported in abc123 (ci-security).\n\n{mark}"
    )
    assert is_gone(gone) and not is_gone(body)
    assert is_gone("✅ No longer reported by ci-security (commit 1)")  # the wording before
    fenced = struck(f"text\n```\ncode\n```\n\n{mark}", mark, "")
    assert fenced.startswith("~~text~~\n```\ncode\n```\n\n✅ No longer reported in the latest commit")

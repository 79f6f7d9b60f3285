"""Plans against a real docker-registry on 127.0.0.1 (basic auth, credentials from the Docker client
config) holding tags of a base image built here with different package versions, and advisories
written for these tests: the recommended tag is the one the evidence supports; suffix, precision and
pre-release rules hold; a digest-pinned reference gets a digest refresh; ARG-defined, multi-stage,
`--platform` and registry-with-port Dockerfiles are rewritten as their golden files say, and the
diffs apply with `git apply`. Every reference is an update or a skip, and the JSON plan validates
against the schema in the package."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import jsonschema
import pytest
from testkit.fixworld import FIXTURES, FixWorld

from ci_security.fix.evidence import Evidence, EvidenceOptions
from ci_security.fix.options import PlanOptions
from ci_security.fix.plan import make_plan
from ci_security.fix.report import plan_dict, schema
from ci_security.models.fix import FixPlan
from ci_security.policy.model import FixImageRule, FixRules

GOLDEN = FIXTURES / "golden"


def plan_for(world: FixWorld, repo: Path, rules: FixRules | None = None, **options) -> FixPlan:
    evidence = EvidenceOptions(
        db_path=world.db, docker_config=world.docker_config, cache_dir=world.work / "cache"
    )
    with Evidence(evidence) as scans:
        plan = make_plan(
            PlanOptions(root=repo, rules=rules or FixRules(dependencies=False), db_path=world.db, **options),
            scans,
        )
    jsonschema.Draft202012Validator(schema()).validate(plan_dict(plan))
    return plan


def write(repo: Path, files: dict[str, str]) -> Path:
    repo.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (repo / name).write_text(text)
    return repo


def test_the_recommendation_is_what_the_evidence_supports(world, tmp_path):
    h = world.host
    repo = write(tmp_path / "repo", {"Dockerfile": f"FROM {h}/team/base:1.0\nRUN true\n"})
    plan = plan_for(world, repo)
    (update,) = plan.updates
    assert (update.kind, update.proposed, update.update_type) == ("base-image", f"{h}/team/base:1.1", "minor")
    assert update.before.as_dict() == {"critical": 0, "high": 1, "medium": 1, "low": 1, "unknown": 0}
    assert update.after.as_dict() == {"critical": 0, "high": 0, "medium": 0, "low": 1, "unknown": 0}
    assert update.fixes == ("CVE-2099-1001", "CVE-2099-1002") and update.introduces == ()
    verdicts = {c.reference.rsplit(":", 1)[1]: c.verdict for c in update.candidates}
    # 1.2 removes as much but brings a CRITICAL; 2.0 is a major, not allowed by default; the clean
    # pre-release, date and hash tags are never candidates
    assert verdicts == {"1.0": "", "1.2": "adds CVE-2099-1003 (CRITICAL)", "1.1": "recommended"}
    assert update.branch == "ci-security/base-image/dockerfile-team-base"
    assert update.title == f"ci-security: update {h}/team/base from 1.0 to 1.1 in Dockerfile"
    assert update.diff == (
        "diff --git a/Dockerfile b/Dockerfile\n--- a/Dockerfile\n+++ b/Dockerfile\n@@ -1,2 +1,2 @@\n"
        f"-FROM {h}/team/base:1.0\n+FROM {h}/team/base:1.1\n RUN true\n"
    )
    assert plan.skipped == ()


def test_majors_only_when_the_policy_allows_them(world, tmp_path):
    repo = write(tmp_path / "repo", {"Dockerfile": f"FROM {world.host}/team/base:1.0\n"})
    rules = FixRules(
        dependencies=False,
        images=(FixImageRule(patterns=("*/team/base",), update_types=("patch", "minor", "major")),),
    )
    (update,) = plan_for(world, repo, rules).updates
    assert update.proposed.endswith("/team/base:2.0") and update.update_type == "major"
    assert update.after.total == 0


def test_suffix_precision_and_prereleases(world, tmp_path):
    h = world.host
    repo = write(
        tmp_path / "repo",
        {
            "slim.Dockerfile": f"FROM {h}/team/base:1.0-slim\n",
            "patch.Dockerfile": f"FROM {h}/team/base:1.1.4\n",
        },
    )
    plan = plan_for(world, repo)
    proposed = {u.file: u.proposed.rsplit(":", 1)[1] for u in plan.updates}
    # the flavour stays -slim (1.2-slim removes the most); three numbers stay three (1.1.5, not 1.2)
    assert proposed == {"slim.Dockerfile": "1.2-slim", "patch.Dockerfile": "1.1.5"}
    slim = next(u for u in plan.updates if u.file == "slim.Dockerfile")
    assert [c.reference.rsplit(":", 1)[1] for c in slim.candidates] == ["1.0-slim", "1.2-slim", "1.1-slim"]


def test_a_digest_pinned_reference_gets_a_digest_refresh(world, tmp_path):
    h = world.host
    old, new = world.digests["team/base:1.1@old"], world.digests["team/base:1.1"]
    repo = write(tmp_path / "repo", {"Dockerfile": f"FROM {h}/team/base:1.1@{old}\n"})
    (update,) = plan_for(world, repo).updates
    assert (update.kind, update.update_type) == ("digest-refresh", "digest")
    assert update.proposed == f"{h}/team/base:1.1@{new}"
    assert update.fixes == ("CVE-2099-1002",)
    assert update.title == f"ci-security: refresh {h}/team/base:1.1 to {new[:19]} in Dockerfile"
    kinds = {c.update_type: c.verdict for c in update.candidates}
    assert kinds == {"current": "", "digest": "recommended", "minor": "adds CVE-2099-1003 (CRITICAL)"}


def test_nothing_to_fix_is_a_skip_with_the_reason(world, tmp_path):
    h = world.host
    repo = write(
        tmp_path / "repo",
        {
            "Dockerfile": f"FROM {h}/team/base:2.0\nFROM {h}/team/base:latest\nFROM {h}/team/base:1.3rc1\n",
            "only-minor.Dockerfile": f"FROM {h}/team/base:1.1\n",
        },
    )
    rules = FixRules(dependencies=False, update_types=("patch",))
    plan = plan_for(world, repo, rules)
    assert plan.updates == ()
    reasons = {(s.file, s.line): s.reason for s in plan.skipped}
    assert reasons == {
        ("Dockerfile", 1): "no newer tag of the same flavour and precision",
        (
            "Dockerfile",
            2,
        ): "the tag latest is not a version (a name, a date or a hash): no newer tag can be told",
        ("Dockerfile", 3): "the tag 1.3rc1 is a pre-release: only stable releases are proposed",
        ("only-minor.Dockerfile", 1): "newer tags exist (minor, major) but the policy allows only patch",
    }


def test_policy_leaves_images_alone_and_bounds_registries(world, tmp_path):
    h = world.host
    repo = write(
        tmp_path / "repo", {"Dockerfile": f"FROM {h}/team/base:1.0\n", "b.Dockerfile": "FROM nginx:1.25\n"}
    )
    plan = plan_for(world, repo, FixRules(dependencies=False, ignore_images=("*/team/*",)),
                    allowed_registries=(h,))  # fmt: skip
    reasons = {s.file: s.reason for s in plan.skipped}
    assert reasons == {
        "Dockerfile": "left alone by the policy (fix.ignore_images: */team/*)",
        "b.Dockerfile": "docker.io is not in the policy's images.allowed_registries: not contacted",
    }


def test_registry_errors_are_skips(world, tmp_path):
    h = world.host
    repo = write(tmp_path / "repo", {"Dockerfile": f"FROM {h}/team/missing:1.0\n"})
    (skip,) = plan_for(world, repo).skipped
    assert "not found" in skip.reason and skip.line == 1
    bare = write(tmp_path / "bare", {"Dockerfile": f"FROM {h}/team/base:1.0\n"})
    evidence = EvidenceOptions(db_path=world.db, docker_config=tmp_path / "none.json")
    with Evidence(evidence) as scans:
        plan = make_plan(PlanOptions(root=bare, rules=FixRules(dependencies=False)), scans)
    assert "requires credentials" in plan.skipped[0].reason


@pytest.mark.parametrize("case", ["arg", "multi-stage", "platform", "registry-port"])
def test_golden_dockerfiles(world, tmp_path, case):
    """Each update is its own pull request against the file as it is: merge one (`git apply` its
    diff), plan again, until nothing is left; the file is then the golden one.
    """
    source = world.substitute((GOLDEN / case / "Dockerfile").read_text())
    expected = world.substitute((GOLDEN / case / "Dockerfile.expected").read_text())
    repo = write(tmp_path / "repo", {"Dockerfile": source})
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@example.com"]
    subprocess.run([*git, "init", "-q", str(repo)], check=True)
    merged = 0
    for _ in range(5):
        plan = plan_for(world, repo)
        if not merged:  # the first plan has an update for every image reference
            assert all(s.reason.startswith("FROM build is the build stage") for s in plan.skipped), (
                plan.skipped
            )
        if not plan.updates:
            break
        update = plan.updates[0]
        patch = tmp_path / f"{merged}.patch"
        patch.write_text(update.diff)
        subprocess.run([*git, "-C", str(repo), "apply", str(patch)], check=True, capture_output=True)
        assert (repo / "Dockerfile").read_text() == update.content
        merged += 1
    assert merged >= 1
    assert (repo / "Dockerfile").read_text() == expected


def test_golden_platform_case_pins_the_platforms_manifest(world, tmp_path):
    source = world.substitute((GOLDEN / "platform" / "Dockerfile").read_text())
    (update,) = plan_for(world, write(tmp_path / "repo", {"Dockerfile": source})).updates
    assert update.platform == "linux/arm64"
    assert update.proposed.endswith(world.digests["team/multi:1.1@linux/arm64"])
    assert update.candidates[0].digest == world.digests["team/multi:1.0@linux/arm64"]


def test_the_json_plan_lists_every_reference(world, tmp_path):
    h = world.host
    repo = write(
        tmp_path / "repo",
        {
            "Dockerfile": f"ARG X\nFROM {h}/team/base:1.0 AS a\nFROM a\nFROM scratch\nFROM ${{X}}:1\n",
            "compose.yaml": f"services:\n  db:\n    image: {h}/team/base:1.0-slim\n",
        },
    )
    document = plan_dict(plan_for(world, repo))
    looked = sorted(
        [(u["file"], u["line"]) for u in document["updates"]]
        + [(s["file"], s["line"]) for s in document["skipped"]]
    )
    assert looked == [
        ("Dockerfile", 2),
        ("Dockerfile", 3),
        ("Dockerfile", 4),
        ("Dockerfile", 5),
        ("compose.yaml", 3),
    ]
    compose = next(u for u in document["updates"] if u["file"] == "compose.yaml")
    assert compose["proposed"] == f"{h}/team/base:1.2-slim"
    assert json.loads(json.dumps(document)) == document


def test_shared_layers_are_scanned_once(world, tmp_path):
    """Ten Dockerfiles over one base: one scan of the current image and one of each candidate."""
    h = world.host
    repo = write(tmp_path / "repo", {f"d{i}.Dockerfile": f"FROM {h}/team/base:1.0\n" for i in range(10)})
    evidence = EvidenceOptions(db_path=world.db, docker_config=world.docker_config)
    with Evidence(evidence) as scans:
        plan = make_plan(PlanOptions(root=repo, rules=FixRules(dependencies=False)), scans)
        assert scans.scans == 3  # 1.0, 1.2 and 1.1
    assert len(plan.updates) == 10 and len({u.branch for u in plan.updates}) == 10
    shutil.rmtree(repo)


def test_the_steps_credentials_never_go_to_a_registry_a_dockerfile_names(world, tmp_path):
    """--registry-username/--registry-password are for the registry of --image; a Dockerfile in a
    pull request naming another registry gets only what the Docker config holds for that one."""
    from testkit.hostile_net import HostileServer, status

    challenge = {"WWW-Authenticate": 'Basic realm="evil"'}
    with HostileServer(default=status(401, b"{}", challenge)) as evil:
        repo = write(tmp_path / "repo", {"Dockerfile": f"FROM {evil.host}/team/base:1.0\n"})
        evidence = EvidenceOptions(
            db_path=world.db,
            docker_config=world.docker_config,
            credentials_for=world.host,
            username="fixer",
            password="pw-fix-123",
        )
        with Evidence(evidence) as scans:
            plan = make_plan(PlanOptions(root=repo, rules=FixRules(dependencies=False)), scans)
    assert "requires credentials" in plan.skipped[0].reason
    assert evil.requests and not evil.saw_authorization()

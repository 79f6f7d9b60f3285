"""Hostile Dockerfiles: mutation fuzzing of the real ones in tests/fixtures/manifests through the
parser, every rule and the history anchoring, and the shapes that used to hang or crash, each run to
its end. Nothing may raise: a file is analysed, or over a limit it gets MAN001.

Iterations are bounded and the generators seeded; the `timeout` marks only keep a regression from
stalling the suite (no assertion is on time).
"""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from testkit.mutate import TOKENS, mutants

from ci_security.anchor import map_layers
from ci_security.manifests.dockerfile import DockerfileLimitError, expansion_budget, parse_dockerfile
from ci_security.models import ImageTarget, LayerInfo
from ci_security.rules.runner import check_text

MANIFESTS = Path(__file__).parents[2] / "fixtures" / "manifests"
SEEDS = sorted(p for p in MANIFESTS.rglob("*") if p.is_file() and "dockerfile" in p.name.lower())
DOCKERFILE_TOKENS = (
    *TOKENS,
    b"\\\n",
    b"`\n",
    b"# escape=`\n",
    b"# syntax=docker/dockerfile:1\n",
    b"ARG A=$A$A$A$A\n",
    b"ENV B=${A:-${A:-x}}\n",
    b"${A//a/b}",
    b"${A##*a?b}",
    b"${A%%b*}",
    b"FROM base AS b\n",
    b"FROM b\n",
    b" AS ",
    b"--from=b ",
    b"--mount=type=cache,target=/x ",
    b"RUN <<EOF\n",
    b"\nEOF\n",
    b"ONBUILD ",
    b'SHELL ["/bin/bash", "-o", "pipefail", "-c"]\n',
    b"sh -c '",
    b"$((",
    b"<(",
    b"case x in a) ",
    b";;",
    b"&&",
    b"|",
)


def _history(text: str, rng: random.Random) -> ImageTarget:
    """An image whose history claims (and mangles) some of the Dockerfile's own lines."""
    lines = [line for line in text.splitlines() if line.strip()] or ["RUN x"]
    steps = []
    for _ in range(rng.randint(1, 6)):
        line = rng.choice(lines)
        steps.append(
            rng.choice([line, f"{line} # buildkit", f"/bin/sh -c #(nop) {line}", "RUN |1 A=b " + line])
        )
    layers = tuple(
        LayerInfo(
            index=i,
            digest=f"sha256:{i:064x}",
            diff_id=f"sha256:{i + 1000:064x}",
            media_type="application/vnd.oci.image.layer.v1.tar",
            size=1,
            created_by=step,
        )
        for i, step in enumerate(steps)
    )
    return ImageTarget(
        reference="example.com/app:1",
        transport="registry",
        digest="sha256:" + "a" * 64,
        image_id="sha256:" + "b" * 64,
        platform=None,
        layers=layers,
    )


@pytest.mark.timeout(900)
def test_mutated_dockerfiles_never_raise():
    assert len(SEEDS) > 50
    rng = random.Random(21)
    analysed = 0
    for path in SEEDS:
        seed = path.read_bytes()
        for data in mutants(seed, rng, 12, tokens=DOCKERFILE_TOKENS, max_size=64 << 10):
            text = data.decode("utf-8", errors="replace")
            findings = check_text(text, "Dockerfile")
            assert not [f for f in findings if "internal error" in f.message], findings
            for finding in findings:
                assert finding.line is None or 1 <= finding.line <= max(1, text.count("\n") + 1), finding
                finding.message.encode("utf-8")
            analysed += not any(f.rule_id == "MAN001" and "not analysed" in f.message for f in findings)
            try:
                with expansion_budget():
                    map_layers(_history(text, rng), parse_dockerfile(text, "Dockerfile"))
            except DockerfileLimitError:
                pass  # the scan then leaves findings unanchored, with a warning
    assert analysed > len(SEEDS)


def _shapes() -> dict[str, str]:
    long = 300_000
    bomb = "".join(f"ARG {b}=" + f"${a}" * 16 + "\n" for a, b in zip("ABCDEFG", "BCDEFGH", strict=True))
    return {
        "long RUN": "FROM a\nRUN " + "a" * long + "\n",
        "RUN of blanks after an apt setting": "FROM a\nRUN echo APT::Install-Recommends" + " " * long + "x\n",
        "RUN of brackets": "FROM a\nRUN echo " + "[" * long + "\n",
        "RUN of URL scheme letters": "FROM a\nENV U=" + "a1" * long + "://x\n",
        "RUN of command substitutions": "FROM a\nRUN " + "$(" * long + "\n",
        "RUN of backticks": "FROM a\nRUN " + "`a " * (long // 3) + "\n",
        "RUN of heredoc openers": "FROM a\nRUN " + "<<A " * (long // 4) + "\nA\n",
        "padded syntax directive": "# syntax=" + " " * long + "x\nFROM a\n",
        "continuation lines": "FROM a\nRUN a \\\n" + "b \\\n" * 99_000 + "c\n",
        "too many continuation lines": "FROM a\nRUN a \\\n" + "\\\n" * 100_001 + "c\n",
        "replace on a long value": "ARG X=" + "a" * long + "\nFROM ${X//a/b}\n",
        "remove on a long value": "ARG X=" + "ab" * long + "\nFROM ${X##*a*b*a}${X%%b*a*b}\n",
        "ARG bomb": "ARG A=" + "x" * 500 + "\n" + bomb + "FROM a\nRUN echo $H\n",
        "ARG bomb in a stage": "FROM a\nARG A=" + "x" * 500 + "\n" + bomb + "WORKDIR $H\nEXPOSE $H\n",
        "nested braces": "ARG X=1\nFROM " + "${X:-" * 10_000 + "}" * 10_000 + "\n",
        "deep JSON": "FROM a\nRUN " + "[" * long + "\nONBUILD RUN " + "[" * long + "\n",
        "chained stages": "FROM a AS s0\n"
        + "".join(f"FROM s{i} AS s{i + 1}\nRUN apt-get install -y x\nWORKDIR w\n" for i in range(20_000)),
        "SHELL and RUN pairs": "FROM a\n" + 'SHELL ["/bin/sh", "-c"]\nRUN a | b\n' * 20_000,
        "many ARG and WORKDIR": "FROM a\n" + "ARG A=b\nWORKDIR $A\n" * 40_000,
    }


@pytest.mark.timeout(600)
@pytest.mark.parametrize("name", list(_shapes()))
def test_hostile_shapes_are_analysed_or_refused(name):
    text = _shapes()[name]
    findings = check_text(text, "Dockerfile")
    refused = [f for f in findings if f.rule_id == "MAN001" and "not analysed" in f.message]
    for finding in refused:
        assert "limit" in finding.message and "--limit" in finding.message
    expected_refusals = {
        "too many continuation lines": "continuation-lines",
        "ARG bomb": "expansion-bytes",
        "ARG bomb in a stage": "expansion-bytes",
        "nested braces": "nesting-depth",
    }
    if name in expected_refusals:
        assert refused and expected_refusals[name] in refused[0].message
    else:
        assert not refused


@pytest.mark.parametrize(
    "instruction",
    [
        "EXPOSE " + "2" * 22_308,  # found by fuzzing: int() refuses more than 4,300 digits
        "EXPOSE 0" + "0" * 5000 + "22-" + "9" * 5000,
        "EXPOSE ²²",  # a digit to str.isdigit(), not to int()
        "COPY --from=" + "1" * 5000 + " /a /b",
        "COPY --from=²  /a /b",
        "RUN apt-get install -q=" + "2" * 5000 + " x",
        "RUN apt-get install --quiet=²² x",
    ],
)
def test_numbers_of_any_length_or_script(instruction):
    findings = check_text(f"FROM debian:12 AS base\n{instruction}\n", "Dockerfile")
    assert not [f for f in findings if f.rule_id == "MAN001"]

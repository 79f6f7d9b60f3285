"""Hostile shell text: mutation fuzzing of the real RUN scripts of tests/fixtures/manifests through the
shell reader, and the shapes that used to exhaust the stack or take quadratic time, each read to its
end. The reader never raises, keeps every word it reports inside the text it read, and stays within
its nesting bounds.

Iterations are bounded and the generator seeded; the `timeout` marks only keep a regression from
stalling the suite (no assertion is on time).
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from pathlib import Path

import pytest
from testkit.mutate import TOKENS, mutants

from ci_security.manifests import shell
from ci_security.manifests.dockerfile import parse_dockerfile
from ci_security.manifests.shell import Command, Script, parse_shell

MANIFESTS = Path(__file__).parents[1] / "fixtures" / "manifests"
SHELL_TOKENS = (
    *TOKENS,
    b"$((",
    b"${X:-",
    b"<(",
    b">(",
    b"<<<",
    b"<<-EOF\n",
    b"$'",
    b"2>&1",
    b"&&",
    b"||",
    b"|&",
    b";;",
    b";&",
    b"(",
    b")",
    b"{ ",
    b"; }",
    b"case x in a) ",
    b" esac",
    b"sh -c '",
    b'bash -c "',
    b"su -c ",
    b"eval ",
    b"sudo -u x ",
    b"env A=b ",
    b"xargs -n1 ",
    b"f() ",
    b"A=1 ",
)


def _seeds() -> list[str]:
    """The shell text of every RUN in the real Dockerfiles: shell-form arguments and here-documents."""
    seeds: list[str] = []
    for path in sorted(MANIFESTS.rglob("*")):
        if not path.is_file() or "dockerfile" not in path.name.lower():
            continue
        dockerfile = parse_dockerfile(path.read_text(encoding="utf-8", errors="replace"), path.name)
        for instruction in dockerfile.instructions:
            if instruction.keyword != "RUN":
                continue
            if instruction.form != "exec" and instruction.args.strip():
                seeds.append(instruction.args)
            seeds.extend(heredoc.body for heredoc in instruction.heredocs if heredoc.body.strip())
    return seeds


def _own_commands(script: Script) -> Iterator[Command]:
    """The commands read from the script's own text: its pipelines and its substitutions, not the
    `sh -c` scripts (whose text is a word with its quotes removed).
    """
    for pipeline in script.pipelines:
        for command in pipeline:
            yield command
            for sub in command.substitutions():
                yield from _own_commands(sub)


def _nesting(script: Script) -> int:
    """How deep substitutions and `sh -c` scripts nest below `script`, counted without recursion."""
    deepest = 0
    stack = [(script, 0)]
    while stack:
        current, depth = stack.pop()
        deepest = max(deepest, depth)
        for pipeline in current.pipelines:
            for command in pipeline:
                stack.extend((sub, depth + 1) for sub in command.substitutions())
                if command.inner is not None:
                    stack.append((command.inner, depth + 1))
    return deepest


def _check(text: str) -> Script:
    script = parse_shell(text)
    assert isinstance(script, Script)
    for command in _own_commands(script):
        for word in (*command.prefix, *command.words, *command.herestrings):
            assert word.raw in text, (word.raw, text[:200])
    assert _nesting(script) <= shell._MAX_NESTING + shell._MAX_DEPTH + 1
    # Every command is made of text: the reader cannot invent commands faster than it reads.
    count = sum(1 for _ in script.all_commands())
    assert count <= (shell._MAX_DEPTH + 1) * (len(text) + 1)
    return script


@pytest.mark.timeout(900)
def test_mutated_run_scripts_never_raise():
    seeds = _seeds()
    assert len(seeds) > 150
    rng = random.Random(14)
    commands = 0
    for seed in seeds:
        for data in mutants(seed.encode("utf-8"), rng, 20, tokens=SHELL_TOKENS, max_size=32 << 10):
            commands += sum(1 for _ in _check(data.decode("utf-8", errors="replace")).all_commands())
    assert commands > len(seeds)  # the variants are still read as shell, not refused wholesale


def _shapes() -> dict[str, tuple[str, bool]]:
    """Shape name -> (text, whether it closes): the reader reads an unclosed quote or substitution to
    the end of the text, so what follows an open shape is part of it.
    """
    long = 300_000
    return {
        "command substitutions": ("$(" * long, False),
        "closed command substitutions": ("echo " + "$(" * 100_000 + "x" + ")" * 100_000, True),
        "backticks": ("`a " * (long // 3), True),
        "escaped backticks": ("a `" + "b \\`" * 100_000 + "`", True),
        "process substitutions": ("<(" * long, False),
        "parameter expansions": ("${" * long, False),
        "arithmetic": ("$((" * long, False),
        "open double quote": ('"' + "$x " * long, False),
        "ANSI-C quotes": ("$'" + "\\'" * long, False),
        "nested case": ("case x in a) " * 20_000 + "y ;; esac " * 20_000, True),
        "case items": ("case x in " + "a) y ;; " * 100_000 + "esac", True),
        # Each `eval` level reads its arguments again, up to the `sh -c` depth: linear, 9 times over.
        "nested eval": ("eval " * 20_000, True),
        "eval of substitutions": ("eval " + "$(" * 60 + "eval " * 1000 + ")" * 60, True),
        "sh -c words": ("sh -c " * (long // 6), True),
        "redirections": ("a " + "<<A " * (long // 4), True),
        "here-strings": ("a " + "<<< x " * (long // 6), True),
        "pipes": ("a |" * (long // 3) + " b", True),
        "subshells": ("(" * long + ")" * long, True),
        "functions": ("f() { " * (long // 6) + "x" + "; }" * (long // 6), True),
        "wrappers": ("sudo env A=b timeout 1 " * 10_000 + "apt-get install x", True),
        "comments": ("# x\n" * (long // 4), True),
        "continuations": ("a \\\n" * (long // 4), True),
        "blanks": (" " * long + "x", True),
    }


@pytest.mark.timeout(600)
@pytest.mark.parametrize("name", list(_shapes()))
def test_hostile_shapes_are_read_to_their_end(name):
    text, closes = _shapes()[name]
    script = _check(text + "; curl example.com")
    # After a shape that closes, the reader has not lost its place: the next command is read.
    assert ("curl" in [command.name for command in script.all_commands()]) is closes


def test_wrappers_are_unwrapped_however_many():
    script = parse_shell("sudo env A=b timeout 1 " * 10_000 + "apt-get install x")
    (command,) = script.top_commands()
    assert command.name == "apt-get"
    assert len(command.wrappers) == 30_000

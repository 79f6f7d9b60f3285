import random
import re
from pathlib import Path

import pytest

from ci_security import limits
from ci_security.manifests import dockerfile as parse
from ci_security.manifests.dockerfile import (
    DockerfileLimitError,
    Heredoc,
    ParseIssue,
    expansion_budget,
    find_dockerfile,
    parse_dockerfile,
    scope_at,
    split_words,
    substitute,
)


def lines(*rows: str) -> str:
    return "\n".join(rows) + "\n"


def summary(text: str) -> list[tuple[str, str, int, int, int | None]]:
    df = parse_dockerfile(text, "Dockerfile")
    return [(i.keyword, i.args, i.start_line, i.end_line, i.stage_index) for i in df.instructions]


def issues(text: str) -> list[tuple[int, str]]:
    return [(i.line, i.message) for i in parse_dockerfile(text, "Dockerfile").errors]


# --- instructions, continuations, comments: (keyword, args, start_line, end_line, stage_index) ---

INSTRUCTION_CASES = [
    pytest.param(
        lines("FROM debian:12", "RUN apt-get update"),
        [("FROM", "debian:12", 1, 1, 0), ("RUN", "apt-get update", 2, 2, 0)],
        id="simple",
    ),
    pytest.param(
        lines("from debian:12", "  run   echo hi  "),
        [("FROM", "debian:12", 1, 1, 0), ("RUN", "echo hi", 2, 2, 0)],
        id="keyword-case-and-leading-whitespace",
    ),
    pytest.param(
        lines("FROM debian:12", "RUN apt-get update && \\", "    apt-get install -y curl"),
        [("FROM", "debian:12", 1, 1, 0), ("RUN", "apt-get update &&     apt-get install -y curl", 2, 3, 0)],
        id="continuation-keeps-indentation",
    ),
    pytest.param(
        lines("FROM debian:12", "RUN a \\  ", "b"),
        [("FROM", "debian:12", 1, 1, 0), ("RUN", "a b", 2, 3, 0)],
        id="continuation-with-trailing-blanks",
    ),
    pytest.param(
        lines(
            "FROM debian:12", "RUN echo hello \\", "# comment", "   # indented comment", "", "   ", "world"
        ),
        [("FROM", "debian:12", 1, 1, 0), ("RUN", "echo hello world", 2, 7, 0)],
        id="comments-and-blank-lines-inside-continuation",
    ),
    pytest.param(
        lines("FROM debian:12", "RUN a \\", "b \\", "c"),
        [("FROM", "debian:12", 1, 1, 0), ("RUN", "a b c", 2, 4, 0)],
        id="several-continuations",
    ),
    pytest.param(
        lines(
            "# escape=`",
            "FROM mcr.microsoft.com/windows/nanoserver",
            "COPY testfile.txt c:\\",
            "RUN dir c:\\",
        ),
        [
            ("FROM", "mcr.microsoft.com/windows/nanoserver", 2, 2, 0),
            ("COPY", "testfile.txt c:\\", 3, 3, 0),
            ("RUN", "dir c:\\", 4, 4, 0),
        ],
        id="backtick-escape-backslash-is-literal",
    ),
    pytest.param(
        lines("# escape=`", "FROM nanoserver", "RUN powershell -Command `", "    Write-Host hi"),
        [("FROM", "nanoserver", 2, 2, 0), ("RUN", "powershell -Command     Write-Host hi", 3, 4, 0)],
        id="backtick-continuation",
    ),
    pytest.param(
        lines("FROM microsoft/nanoserver", "COPY testfile.txt c:\\\\", "RUN dir c:\\"),
        [("FROM", "microsoft/nanoserver", 1, 1, 0), ("COPY", "testfile.txt c:\\RUN dir c:", 2, 3, 0)],
        id="default-escape-joins-windows-paths",
    ),
    pytest.param(
        lines(
            "# a comment", "FROM debian:12 # not a comment", "RUN echo 'we are running some # of cool things'"
        ),
        [
            ("FROM", "debian:12 # not a comment", 2, 2, 0),
            ("RUN", "echo 'we are running some # of cool things'", 3, 3, 0),
        ],
        id="hash-inside-line-is-argument",
    ),
    pytest.param(
        "FROM debian:12\r\nRUN a \\\r\n  b\r\n",
        [("FROM", "debian:12", 1, 1, 0), ("RUN", "a   b", 2, 3, 0)],
        id="crlf",
    ),
    pytest.param(
        "\ufeffFROM debian:12\nRUN x",
        [("FROM", "debian:12", 1, 1, 0), ("RUN", "x", 2, 2, 0)],
        id="bom-and-no-final-newline",
    ),
    pytest.param(
        lines(
            "ARG BASE=debian",
            "ARG TAG=12",
            "FROM ${BASE}:${TAG} AS build",
            "ARG TAG",
            "RUN make",
            "FROM scratch",
        ),
        [
            ("ARG", "BASE=debian", 1, 1, None),
            ("ARG", "TAG=12", 2, 2, None),
            ("FROM", "${BASE}:${TAG} AS build", 3, 3, 0),
            ("ARG", "TAG", 4, 4, 0),
            ("RUN", "make", 5, 5, 0),
            ("FROM", "scratch", 6, 6, 1),
        ],
        id="global-and-stage-args",
    ),
    pytest.param(
        lines("FROM a", "COPY --from=builder --chown=1000:1000 /out/app /usr/local/bin/"),
        [("FROM", "a", 1, 1, 0), ("COPY", "/out/app /usr/local/bin/", 2, 2, 0)],
        id="flags-removed-from-args",
    ),
]


@pytest.mark.parametrize(("text", "expected"), INSTRUCTION_CASES)
def test_instructions(text, expected):
    assert summary(text) == expected


def test_continuation_with_comment_only_at_end_keeps_last_content_line():
    df = parse_dockerfile(lines("FROM a", "RUN a \\", "  b \\", "# trailing comment", "RUN c"), "Dockerfile")
    run = df.instructions[1]
    # the comment does not end the continuation, so `RUN c` is still part of it (Docker behaves so)
    assert (run.args, run.start_line, run.end_line) == ("a   b RUN c", 2, 5)


def test_comments_are_recorded_with_their_lines():
    df = parse_dockerfile(lines("# top", "FROM a", "  # indented", "RUN a \\", "# inside", "b"), "Dockerfile")
    assert [(c.line, c.text) for c in df.comments] == [(1, "top"), (3, "indented"), (5, "inside")]


def test_original_keeps_keyword_and_flags():
    df = parse_dockerfile(
        lines("FROM a", "RUN --mount=type=cache,target=/root/.cache \\", "  pip install x"), "D"
    )
    run = df.instructions[1]
    assert run.original == "RUN --mount=type=cache,target=/root/.cache   pip install x"
    assert run.args == "pip install x"


# --- parser directives ----------------------------------------------------------------------------

DIRECTIVE_CASES = [
    pytest.param(
        lines("# syntax=docker/dockerfile:1", "# escape=`", "# check=skip=all", "FROM a"),
        {"syntax": "docker/dockerfile:1", "escape": "`", "check": "skip=all"},
        id="all-three",
    ),
    pytest.param(
        lines("#syntax = docker/dockerfile:1.7", "#\t  EsCaPe= `", "FROM a"),
        {"syntax": "docker/dockerfile:1.7", "escape": "`"},
        id="whitespace-and-case",
    ),
    pytest.param(
        lines("# syntax=x", "", "# escape=`", "FROM a"), {"syntax": "x"}, id="blank-line-ends-block"
    ),
    pytest.param(lines("# about my file", "# syntax=x", "FROM a"), {}, id="comment-ends-block"),
    pytest.param(lines("# unknowndirective=value", "# syntax=x", "FROM a"), {}, id="unknown-ends-block"),
    pytest.param(lines("FROM a", "# syntax=x"), {}, id="after-instruction-is-comment"),
    pytest.param(lines("# direc \\", "tive=value", "FROM a"), {}, id="no-continuation"),
]


@pytest.mark.parametrize(("text", "expected"), DIRECTIVE_CASES)
def test_directives(text, expected):
    assert parse_dockerfile(text, "Dockerfile").directives == expected


def test_directive_lines_are_not_comments_but_later_ones_are():
    df = parse_dockerfile(lines("# syntax=x", "# escape=`", "FROM a"), "Dockerfile")
    assert df.comments == ()
    df = parse_dockerfile(lines("# about", "# escape=`", "FROM a"), "Dockerfile")
    assert [c.line for c in df.comments] == [1, 2]
    assert df.escape == "\\"


# --- stages ---------------------------------------------------------------------------------------

STAGE_CASES = [
    pytest.param(
        lines("FROM debian:12"),
        [(0, None, "debian:12", "debian:12", None, 1)],
        id="plain",
    ),
    pytest.param(
        lines("FROM golang:1.22 as Builder", "FROM gcr.io/distroless/static AS final"),
        [
            (0, "builder", "golang:1.22", "golang:1.22", None, 1),
            (1, "final", "gcr.io/distroless/static", "gcr.io/distroless/static", None, 2),
        ],
        id="names-case-insensitive-as",
    ),
    pytest.param(
        lines("FROM --platform=$BUILDPLATFORM golang:1.22 AS build"),
        [(0, "build", "golang:1.22", "golang:1.22", "$BUILDPLATFORM", 1)],
        id="platform",
    ),
    pytest.param(
        lines(
            "ARG REG=docker.io", "ARG IMAGE=library/python", "ARG TAG", "FROM $REG/${IMAGE}:${TAG:-3.12}-slim"
        ),
        [(0, None, "docker.io/library/python:3.12-slim", "$REG/${IMAGE}:${TAG:-3.12}-slim", None, 4)],
        id="global-args-default-modifier",
    ),
    pytest.param(
        lines("ARG DEBUG=1", "FROM base${DEBUG:+-debug}"),
        [(0, None, "base-debug", "base${DEBUG:+-debug}", None, 2)],
        id="alt-modifier-set",
    ),
    pytest.param(
        lines("ARG DEBUG", "FROM base${DEBUG:+-debug}"),
        [(0, None, "base", "base${DEBUG:+-debug}", None, 2)],
        id="alt-modifier-unset",
    ),
    pytest.param(
        lines("ARG GO", "FROM golang:${GO}-bookworm"),
        [(0, None, "golang:${GO}-bookworm", "golang:${GO}-bookworm", None, 2)],
        id="unknown-variable-kept",
    ),
    pytest.param(
        lines("ARG V=1", "FROM a", "ARG V=2", "FROM b:$V"),
        [(0, None, "a", "a", None, 2), (1, None, "b:1", "b:$V", None, 4)],
        id="stage-arg-does-not-reach-from",
    ),
    pytest.param(
        lines("ARG A=x", "ARG B=${A}y", "FROM img:$B"),
        [(0, None, "img:xy", "img:$B", None, 3)],
        id="arg-default-uses-earlier-arg",
    ),
]


@pytest.mark.parametrize(("text", "expected"), STAGE_CASES)
def test_stages(text, expected):
    df = parse_dockerfile(text, "Dockerfile")
    assert [(s.index, s.name, s.base, s.base_raw, s.platform, s.from_line) for s in df.stages] == expected
    assert df.errors == ()


def test_stage_instructions_and_lookup():
    df = parse_dockerfile(
        lines(
            "FROM golang AS build",
            "RUN go build",
            "FROM build AS test",
            "RUN go test",
            "FROM debian",
            "COPY --from=build /a /b",
        ),
        "Dockerfile",
    )
    build, test, final = df.stages
    assert [i.keyword for i in build.instructions] == ["RUN"]
    assert df.final_stage is final
    assert df.stage("BUILD") is build
    assert df.stage("1") is test
    assert df.parent_of(test) is build
    assert df.parent_of(final) is None
    copy = final.instructions[0]
    assert copy.flags == {"from": "build"}
    assert df.stage(copy.flags["from"], before=final.index) is build


def test_flags():
    df = parse_dockerfile(
        lines(
            "FROM a",
            "RUN --mount=type=cache,target=/var/cache/apt \\",
            '  --mount="type=secret,id=tok" --network=none apt-get update',
            "COPY --link --chmod=755 app /app",
        ),
        "Dockerfile",
    )
    run, copy = df.instructions[1:]
    assert run.flags == {"mount": "type=secret,id=tok", "network": "none"}
    assert run.flag_list == (
        ("mount", "type=cache,target=/var/cache/apt"),
        ("mount", "type=secret,id=tok"),
        ("network", "none"),
    )
    assert run.args == "apt-get update"
    assert copy.flags == {"link": "", "chmod": "755"}
    assert copy.args == "app /app"


# --- heredocs -------------------------------------------------------------------------------------

HEREDOC_CASES = [
    pytest.param(
        lines("FROM a", "RUN <<EOF", "apt-get update", "apt-get install -y curl", "EOF", "USER app"),
        "<<EOF",
        (2, 5),
        [Heredoc("EOF", "apt-get update\napt-get install -y curl\n", 3, 5)],
        id="run",
    ),
    pytest.param(
        lines("FROM a", "RUN <<-EOT bash", "\t\tset -e", "\techo hi", "\tEOT"),
        "<<-EOT bash",
        (2, 5),
        [Heredoc("EOT", "set -e\necho hi\n", 3, 5, chomp=True)],
        id="chomp-strips-tabs",
    ),
    pytest.param(
        lines("FROM a", "RUN <<EOT", "\tEOT", "EOT"),
        "<<EOT",
        (2, 4),
        [Heredoc("EOT", "\tEOT\n", 3, 4)],
        id="tabbed-terminator-needs-chomp",
    ),
    pytest.param(
        lines("FROM a", 'COPY <<"EOF" /script.sh', 'echo "hello ${FOO}"', "EOF"),
        '<<"EOF" /script.sh',
        (2, 4),
        [Heredoc("EOF", 'echo "hello ${FOO}"\n', 3, 4, expand=False)],
        id="copy-quoted-delimiter",
    ),
    pytest.param(
        lines("FROM a", "RUN <<'E'OF cat"),
        "<<'E'OF cat",
        (2, 2),
        [Heredoc("EOF", "", 2, 2, expand=False)],
        id="partly-quoted-unterminated",
    ),
    pytest.param(
        lines(
            "FROM a",
            "RUN <<FILE1 cat > file1 && <<FILE2 cat > file2",
            "I am",
            "first",
            "FILE1",
            "I am",
            "second",
            "FILE2",
        ),
        "<<FILE1 cat > file1 && <<FILE2 cat > file2",
        (2, 8),
        [Heredoc("FILE1", "I am\nfirst\n", 3, 5), Heredoc("FILE2", "I am\nsecond\n", 6, 8)],
        id="several",
    ),
    pytest.param(
        lines("FROM a", "RUN python3 <<EOF", "# not a comment", "print(1) \\", "", "EOF"),
        "python3 <<EOF",
        (2, 6),
        [Heredoc("EOF", "# not a comment\nprint(1) \\\n\n", 3, 6)],
        id="body-lines-are-raw",
    ),
    pytest.param(
        lines("FROM a", "RUN cat \\", "  <<EOF > /etc/motd", "hi", "EOF"),
        "cat   <<EOF > /etc/motd",
        (2, 5),
        [Heredoc("EOF", "hi\n", 4, 5)],
        id="after-continuation",
    ),
    pytest.param(
        lines("FROM a", "RUN <<EOF", "EOF"),
        "<<EOF",
        (2, 3),
        [Heredoc("EOF", "", 3, 3)],
        id="empty-body",
    ),
    pytest.param(
        lines("FROM a", "ONBUILD RUN <<EOF", "make", "EOF"),
        "RUN <<EOF",
        (2, 4),
        [Heredoc("EOF", "make\n", 3, 4)],
        id="onbuild",
    ),
    pytest.param(lines("FROM a", 'RUN echo "<<EOF"'), 'echo "<<EOF"', (2, 2), [], id="quoted-marker-is-text"),
    pytest.param(lines("FROM a", "RUN cat<<EOF"), "cat<<EOF", (2, 2), [], id="marker-must-start-a-word"),
    pytest.param(lines("FROM a", "CMD <<EOF"), "<<EOF", (2, 2), [], id="not-for-cmd"),
    pytest.param(lines("FROM a", "RUN echo 1 << 2"), "echo 1 << 2", (2, 2), [], id="bare-operator"),
]


@pytest.mark.parametrize(("text", "args", "span", "heredocs"), HEREDOC_CASES)
def test_heredocs(text, args, span, heredocs):
    inst = parse_dockerfile(text, "Dockerfile").instructions[1]
    assert inst.args == args
    assert (inst.start_line, inst.end_line) == span
    assert list(inst.heredocs) == heredocs


def test_heredoc_then_more_instructions_and_comment_after():
    df = parse_dockerfile(lines("FROM a", "COPY <<EOF /etc/app.conf", "key=1", "EOF", "# done", "RUN x"), "D")
    assert [(i.keyword, i.start_line, i.end_line) for i in df.instructions] == [
        ("FROM", 1, 1),
        ("COPY", 2, 4),
        ("RUN", 6, 6),
    ]
    assert [c.line for c in df.comments] == [5]


# --- exec form vs shell form ----------------------------------------------------------------------

FORM_CASES = [
    pytest.param(
        'RUN ["apt-get", "install", "-y", "curl"]',
        "exec",
        ("apt-get", "install", "-y", "curl"),
        id="run-exec",
    ),
    pytest.param("RUN apt-get install -y curl", "shell", None, id="run-shell"),
    pytest.param('CMD ["python3", "app.py"]', "exec", ("python3", "app.py"), id="cmd-exec"),
    pytest.param("CMD python3 app.py", "shell", None, id="cmd-shell"),
    pytest.param('ENTRYPOINT ["/entrypoint.sh"]', "exec", ("/entrypoint.sh",), id="entrypoint"),
    pytest.param("ENTRYPOINT ['/entrypoint.sh']", "shell", None, id="single-quotes-are-not-json"),
    pytest.param('CMD ["a", 1]', "shell", None, id="non-string-element"),
    pytest.param('COPY ["my file.txt", "/app/"]', "exec", ("my file.txt", "/app/"), id="copy-json"),
    pytest.param('RUN --network=none ["true"]', "exec", ("true",), id="json-after-flags"),
    pytest.param(
        'SHELL ["/bin/bash", "-o", "pipefail", "-c"]',
        "exec",
        ("/bin/bash", "-o", "pipefail", "-c"),
        id="shell",
    ),
    pytest.param("ENV A=1", None, None, id="env-has-no-form"),
    pytest.param('LABEL x=["a"]', None, None, id="label-has-no-form"),
]


@pytest.mark.parametrize(("line", "form", "json_args"), FORM_CASES)
def test_forms(line, form, json_args):
    inst = parse_dockerfile(lines("FROM a", line), "Dockerfile").instructions[1]
    assert (inst.form, inst.json_args) == (form, json_args)


# --- issues ---------------------------------------------------------------------------------------

ISSUE_CASES = [
    pytest.param(lines("FROM a", "RUN x"), [], id="clean"),
    pytest.param(
        lines("ARG V=1", "ENV X=1", "LABEL a=b", "FROM a"),
        [
            (2, "ENV before the first FROM: only ARG may precede it"),
            (3, "LABEL before the first FROM: only ARG may precede it"),
        ],
        id="before-from",
    ),
    pytest.param(lines("FROM a", "RUNN make"), [(2, "unknown instruction: RUNN")], id="unknown-keyword"),
    pytest.param(
        lines("FROM a", "RUN apt-get update &&", "    apt-get install -y curl"),
        [(3, "unknown instruction: APT-GET")],
        id="forgotten-continuation",
    ),
    pytest.param(
        lines("FROM a", "RUN a \\"), [(2, "line continuation at end of file")], id="continuation-at-eof"
    ),
    pytest.param(
        lines("FROM a", "RUN a \\", "  b \\", "", "# only a comment"),
        [(3, "line continuation at end of file")],
        id="continuation-at-eof-after-blank-and-comment",
    ),
    pytest.param(
        lines("FROM a", "RUN <<EOF", "echo hi"),
        [(2, "unterminated heredoc EOF: no line 'EOF' before end of file")],
        id="unterminated-heredoc",
    ),
    pytest.param(
        lines("RUN x"),
        [
            (1, "RUN before the first FROM: only ARG may precede it"),
            (1, "no FROM instruction: a Dockerfile must define at least one stage"),
        ],
        id="no-from",
    ),
    pytest.param("", [(1, "no FROM instruction: a Dockerfile must define at least one stage")], id="empty"),
    pytest.param(
        lines("FROM a b", "FROM a AS b c"),
        [
            (1, "FROM requires either one or three arguments (image [AS name])"),
            (2, "FROM requires either one or three arguments (image [AS name])"),
        ],
        id="from-arity",
    ),
    pytest.param(
        lines("FROM a AS x", "FROM b AS X"), [(2, "duplicate stage name 'X'")], id="duplicate-stage"
    ),
    pytest.param(lines("FROM a AS 1st"), [(1, "invalid stage name '1st'")], id="invalid-stage-name"),
    pytest.param(
        lines("ARG B", "FROM ${B:-}"),
        [(2, "base image name '${B:-}' is blank after substitution")],
        id="blank-base",
    ),
    pytest.param(
        lines("FROM a", "SHELL /bin/bash -c"),
        [(2, "SHELL requires the arguments to be in JSON form")],
        id="shell-not-json",
    ),
    pytest.param(
        lines("FROM a", "WORKDIR"), [(2, "WORKDIR requires at least one argument")], id="missing-args"
    ),
    pytest.param(
        lines("# syntax=a", "# syntax=b", "FROM a"),
        [(2, "only one syntax parser directive can be used")],
        id="duplicate-directive",
    ),
    pytest.param(
        lines("# escape=|", "FROM a"),
        [(1, "invalid escape character '|': must be a backslash or a backtick")],
        id="invalid-escape",
    ),
]


@pytest.mark.parametrize(("text", "expected"), ISSUE_CASES)
def test_issues(text, expected):
    assert issues(text) == expected


def test_issues_are_data_and_parsing_goes_on():
    df = parse_dockerfile(lines("FROM a", "BOGUS x", "RUN <<EOF", "never closed"), "Dockerfile")
    assert [i.keyword for i in df.instructions] == ["FROM", "BOGUS", "RUN"]
    assert df.errors == (
        ParseIssue(2, "unknown instruction: BOGUS"),
        ParseIssue(3, "unterminated heredoc EOF: no line 'EOF' before end of file"),
    )
    assert df.instructions[2].heredocs[0].body == "never closed\n"
    assert (df.instructions[2].start_line, df.instructions[2].end_line) == (3, 4)


def test_path_is_kept_as_given():
    assert parse_dockerfile("FROM a\n", "services/api/Dockerfile").path == "services/api/Dockerfile"


# --- substitution ---------------------------------------------------------------------------------

VARS = {"A": "alpha", "EMPTY": "", "UNSET": None, "P": "foobarbaz", "SP": "x y"}

SUBSTITUTE_CASES = [
    ("$A", "alpha"),
    ("${A}_x", "alpha_x"),
    ("$A_x", ""),
    ("${NOPE}", ""),
    ("${UNSET}", ""),
    ("${A:-d}|${EMPTY:-d}|${UNSET:-d}|${NOPE:-d}", "alpha|d|d|d"),
    ("${A-d}|${EMPTY-d}|${UNSET-d}", "alpha||d"),
    ("${A:+alt}|${EMPTY:+alt}|${UNSET:+alt}", "alt||"),
    ("${A+alt}|${EMPTY+alt}|${UNSET+alt}", "alt|alt|"),
    ("${UNSET:-${A}}", "alpha"),
    ("${P#f*b}|${P##f*b}|${P%b*}|${P%%b*}", "arbaz|az|foobar|foo"),
    ("${P/ba/fo}|${P//ba/fo}", "fooforbaz|fooforfoz"),
    ("'$A' \"$A\"", "$A alpha"),
    ("\\$A \\${A}", "$A ${A}"),
    ('"a\\"b"', 'a"b'),
    ("$ 5$", "$ 5$"),
    ("${A", "${A"),
    ("${!A}", "${!A}"),
]


@pytest.mark.parametrize(("text", "expected"), SUBSTITUTE_CASES)
def test_substitute(text, expected):
    assert substitute(text, VARS) == expected


def test_substitute_raw_keeps_quotes_and_on_unset_sees_the_reference():
    assert substitute("'$A' \"$A\" $NOPE ${NOPE:?x}", VARS, raw=True, on_unset=lambda ref: f"<{ref}>") == (
        "'$A' \"alpha\" <$NOPE> <${NOPE:?x}>"
    )


def test_substitute_with_backtick_escape():
    assert substitute("c:\\app `$A $A", VARS, escape="`") == "c:\\app $A alpha"


def test_split_words():
    assert split_words('"my file" $SP ${EMPTY} \'$A b\' x"y"z', VARS) == ["my file", "x", "y", "$A b", "xyz"]


def test_scope_at():
    df = parse_dockerfile(
        lines(
            "ARG VERSION=1.2",
            "ARG OTHER",
            "FROM debian AS base",
            "ENV APP=/srv/app PATH=/opt/bin:$PATH",
            "FROM base",
            "ARG VERSION",
            "ARG MODE=fast",
            "ENV MODE=slow",
            "COPY . $APP",
        ),
        "Dockerfile",
    )
    copy = df.instructions[-1]
    assert scope_at(df, copy) == {"VERSION": "1.2", "MODE": "slow", "APP": "/srv/app", "PATH": "/opt/bin:"}
    assert scope_at(df, df.instructions[2]) == {"VERSION": "1.2", "OTHER": None}
    assert scope_at(df, df.instructions[1]) == {"VERSION": "1.2"}


# --- find_dockerfile -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("files", "expected"),
    [
        (["Dockerfile", "Containerfile"], "Dockerfile"),
        (["Containerfile", "docker/Dockerfile"], "Containerfile"),
        (["docker/Dockerfile"], "docker/Dockerfile"),
        (["build/Dockerfile"], None),
        ([], None),
    ],
)
def test_find_dockerfile(tmp_path: Path, files, expected):
    for name in files:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("FROM a\n")
    found = find_dockerfile(tmp_path)
    assert (found.relative_to(tmp_path).as_posix() if found else None) == expected


def test_find_dockerfile_ignores_directories(tmp_path: Path):
    (tmp_path / "Dockerfile").mkdir()
    (tmp_path / "Containerfile").write_text("FROM a\n")
    assert find_dockerfile(tmp_path) == tmp_path / "Containerfile"


# --- hostile input: bounded work and limits -------------------------------------------------------


def _old_glob_regex(pattern: str) -> re.Pattern[str]:
    """The glob translation the parser used before segments (the reference for what they mean)."""
    out: list[str] = []
    i = 0
    while i < len(pattern):
        c = pattern[i]
        if c == "\\" and i + 1 < len(pattern):
            out.append(re.escape(pattern[i + 1]))
            i += 2
            continue
        out.append(".*" if c == "*" else "." if c == "?" else re.escape(c))
        i += 1
    return re.compile("".join(out), re.S)


def _old_remove(value: str, op: str, pattern: str) -> str:
    glob = _old_glob_regex(pattern)
    ends = range(len(value) + 1)
    if op in ("#", "##"):
        for k in ends if op == "#" else reversed(ends):
            if glob.fullmatch(value[:k]):
                return value[k:]
        return value
    for k in reversed(ends) if op == "%" else ends:
        if glob.fullmatch(value[k:]):
            return value[:k]
    return value


def _old_replace(value: str, pattern: str, repl: str, every: bool) -> str:
    if not pattern:
        return value
    glob = _old_glob_regex(pattern)
    out: list[str] = []
    i = 0
    while i <= len(value):
        end = next((e for e in range(len(value), i, -1) if glob.fullmatch(value[i:e])), None)
        if end is None:
            if i < len(value):
                out.append(value[i])
            i += 1
            continue
        out.append(repl)
        i = end
        if not every:
            out.append(value[i:])
            break
    return "".join(out)


def test_glob_operators_agree_with_the_regex_they_replace():
    rng = random.Random(11)
    for _ in range(6000):
        value = "".join(rng.choice("ab\n*") for _ in range(rng.randint(0, 9)))
        pattern = "".join(
            rng.choice(["a", "b", "*", "?", "\\*", "\\", "\n"]) for _ in range(rng.randint(0, 5))
        )
        for op in ("#", "##", "%", "%%"):
            assert parse._remove(value, op, pattern) == _old_remove(value, op, pattern), (value, op, pattern)
        for every in (False, True):
            got = parse._replace(value, pattern, "R", every)
            assert got == _old_replace(value, pattern, "R", every), (value, pattern, every)


def test_substitution_of_a_long_value_is_linear():
    value = "a" * 500_000
    variables = {"X": value, "Y": "ab" * 250_000}
    assert substitute("${X//a/b}", variables) == "b" * 500_000
    assert substitute("${X/a*a/b}", variables) == "b"
    assert substitute("${Y##*a*b*a}", variables) == "b"
    assert substitute("${Y%%b*a*b}", variables) == "a"
    assert substitute("${Y#a*b}", variables) == "ab" * 249_999
    with pytest.raises(DockerfileLimitError, match="expansion-bytes"):
        substitute("${X//a/bbb}", variables)  # 1.5 MB out of 500 KB
    with pytest.raises(DockerfileLimitError, match="a pattern of 200,001 characters"):
        substitute("${X//" + "?" * 200_000 + "b/c}", variables)


_OLD_DIRECTIVE = re.compile(r"#\s*([A-Za-z][A-Za-z0-9]*)\s*=\s*(.+?)\s*")


def test_directives_read_by_hand_agree_with_the_regex_they_replace():
    rng = random.Random(5)
    for _ in range(20_000):
        line = "".join(rng.choice(["#", " ", "\t", "=", "a", "Z", "9", "_", "x y", "é"]) for _ in range(8))
        m = _OLD_DIRECTIVE.fullmatch(line.strip())
        assert parse._directive(line) == ((m[1], m[2]) if m else None), line
    padded = parse_dockerfile("# syntax=" + " " * 1_000_000 + "x\nFROM a\n", "Dockerfile")
    assert padded.directives == {"syntax": "x"}


def test_lines_and_continuations_are_bounded():
    small = limits.with_overrides(limits.DEFAULTS, {"line-bytes": "1KiB", "continuation-lines": "10"})
    with limits.use(small):
        with pytest.raises(DockerfileLimitError, match=r"line 2: exceeds the line-bytes limit \(1 KiB\);"):
            parse_dockerfile("FROM a\nRUN " + "x" * 1100 + "\n", "Dockerfile")
        with pytest.raises(
            DockerfileLimitError, match=r"line 2: exceeds the line-bytes limit .*continuation"
        ):
            parse_dockerfile("FROM a\nRUN a \\\n" + ("y" * 200 + " \\\n") * 6 + "z\n", "Dockerfile")
        with pytest.raises(DockerfileLimitError, match="line 2: exceeds the continuation-lines limit"):
            parse_dockerfile("FROM a\nRUN a \\\n" + "b \\\n" * 11 + "c\n", "Dockerfile")
        with pytest.raises(DockerfileLimitError, match="continuation-lines"):
            parse_dockerfile("FROM a\nRUN a \\\n" + "\n" * 20 + "c\n", "Dockerfile")  # blank lines count
        assert parse_dockerfile("FROM a\nRUN a \\\n" + "b \\\n" * 9 + "c\n", "Dockerfile").errors == ()
    joined = parse_dockerfile("FROM a\nRUN a \\\n" + "b \\\n" * 99_000 + "c\n", "Dockerfile")
    assert joined.instructions[1].end_line == 99_003


def test_an_arg_expansion_bomb_stops_at_the_limit():
    bomb = (
        "ARG A="
        + "x" * 500
        + "\n"
        + "".join(f"ARG {b}=" + f"${a}" * 16 + "\n" for a, b in zip("ABCDEFG", "BCDEFGH", strict=True))
    )
    # ARG D is 500 x 16**3 bytes: the first past the limit.
    with pytest.raises(DockerfileLimitError, match="line 4: exceeds the expansion-bytes limit"):
        parse_dockerfile(bomb + "FROM a\n", "Dockerfile")  # global ARGs are expanded for FROM
    df = parse_dockerfile("FROM a\n" + bomb + "WORKDIR $H\n", "Dockerfile")
    with pytest.raises(DockerfileLimitError, match="line 5: exceeds the expansion-bytes limit"):
        scope_at(df, df.instructions[-1])


def test_arg_and_env_values_are_bounded_together():
    copies = "ARG A=" + "x" * 600_000 + "\nARG B=y$A\n"
    with pytest.raises(DockerfileLimitError, match=r"line 2: .*ARG values together"):
        parse_dockerfile(copies + "FROM a\n", "Dockerfile")
    df = parse_dockerfile("FROM a\n" + copies.replace("ARG", "ENV") + "WORKDIR /\n", "Dockerfile")
    with pytest.raises(DockerfileLimitError, match=r"line 3: .*ARG and ENV values together"):
        scope_at(df, df.instructions[-1])


def test_all_expansions_of_an_analysis_share_a_budget():
    variables = {"A": "x" * 600_000}
    with expansion_budget():
        for _ in range(27):
            substitute("$A", variables)
        with pytest.raises(DockerfileLimitError, match="16 times the limit"):
            for _ in range(10):
                substitute("$A", variables)
    for _ in range(40):  # outside an analysis only each expansion is bounded
        substitute("$A", variables)


def test_nested_braces_stop_before_the_stack_does():
    nested = "${X:-" * 5000 + "}" * 5000
    with pytest.raises(DockerfileLimitError, match="nesting-depth"):
        substitute(nested, {})
    assert substitute("${X:-" * 50 + "y" + "}" * 50, {}) == "y"


def test_deep_json_arrays_are_shell_form_not_a_crash():
    df = parse_dockerfile("FROM a\nRUN " + "[" * 100_000 + "\n", "Dockerfile")
    assert df.instructions[1].form == "shell"


def test_scopes_of_many_instructions_are_one_table():
    rows = (f"ARG A{i}=${{A{i - 1}:+v}}{i}\nWORKDIR $A{i}\n" for i in range(1, 20_001))
    text = "FROM a AS s0\n" + "".join(rows)
    df = parse_dockerfile(text, "Dockerfile")
    workdirs = [i for i in df.instructions if i.keyword == "WORKDIR"]
    assert [substitute(w.args, scope_at(df, w)) for w in workdirs[:3]] == ["1", "v2", "v3"]
    last = scope_at(df, workdirs[-1])
    assert last["A20000"] == "v20000" and len(last) == 20_000
    # a long chain of stages, each inheriting the ENV of the one before
    chain = "FROM a AS s0\nENV V0=v\n" + "".join(
        f"FROM s{i - 1} AS s{i}\nENV V{i}=$V{i - 1}\n" for i in range(1, 5000)
    )
    df = parse_dockerfile(chain + "WORKDIR $V0$V4999\n", "Dockerfile")
    assert substitute(df.instructions[-1].args, scope_at(df, df.instructions[-1])) == "vv"
    assert df.stage("s10", before=11) is df.stages[10] and df.stage("s10", before=10) is None

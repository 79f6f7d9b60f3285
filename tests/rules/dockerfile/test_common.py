import pytest

from ci_security.manifests.dockerfile import parse_dockerfile
from ci_security.rules.dockerfile.common import (
    apk_options,
    apt_action,
    apt_options,
    command_of,
    image_base,
    no_network,
    parse_options,
    parse_shell,
    pip_install,
    redact,
    split_image,
    stage_runs,
)


def lines(*rows: str) -> str:
    return "\n".join(rows) + "\n"


def pipelines(text: str) -> list[list[tuple[str, ...]]]:
    """Each pipeline as a list of (program, *args)."""
    return [[(c.name, *c.args) for c in p] for p in parse_shell(text).all_pipelines()]


def programs(text: str) -> list[str]:
    return [c.name for c in parse_shell(text).all_commands()]


def runs(text: str) -> list[list[tuple[str, ...]]]:
    df = parse_dockerfile(text, "Dockerfile")
    return [
        [(c.name, *c.args) for c in run.commands()] for stage in df.stages for run in stage_runs(df, stage)
    ]


# --- splitting into pipelines and commands ---------------------------------------------------------

SPLIT_CASES = [
    pytest.param(
        "a 1 && b 2 || c 3; d 4", [[("a", "1")], [("b", "2")], [("c", "3")], [("d", "4")]], id="lists"
    ),
    pytest.param("a | b -x | c", [[("a",), ("b", "-x"), ("c",)]], id="pipeline"),
    pytest.param("a |& b", [[("a",), ("b",)]], id="pipe-stderr"),
    pytest.param("a & b", [[("a",)], [("b",)]], id="background"),
    pytest.param("a\nb\n\nc", [[("a",)], [("b",)], [("c",)]], id="newlines"),
    pytest.param("a \\\n  b", [[("a", "b")]], id="line-continuation-in-heredoc-body"),
    pytest.param("echo 'a && b' \"c | d\"", [[("echo", "a && b", "c | d")]], id="quotes-protect-operators"),
    pytest.param('echo "a \\"b\\" \\$c" \'x\\y\'', [[("echo", 'a "b" $c', "x\\y")]], id="escapes"),
    pytest.param("echo a\\ b \\&\\& c", [[("echo", "a b", "&&", "c")]], id="backslash-outside-quotes"),
    pytest.param(
        "echo $HOME ${X:-a b} $((1 + 2))", [[("echo", "$HOME", "${X:-a b}", "$((1 + 2))")]], id="expansions"
    ),
    pytest.param("echo $'a\\'b' x", [[("echo", "a\\'b", "x")]], id="ansi-c-quotes"),
    pytest.param("a # comment | b\nc", [[("a",)], [("c",)]], id="comment"),
    pytest.param("echo a#b", [[("echo", "a#b")]], id="hash-inside-word"),
    pytest.param("cmd > /dev/null 2>&1 < in.txt", [[("cmd",)]], id="redirects-are-not-arguments"),
    pytest.param("cmd &> log; cmd2 >> out 2> err", [[("cmd",)], [("cmd2",)]], id="more-redirects"),
    pytest.param("echo 2 3", [[("echo", "2", "3")]], id="digits-are-arguments"),
    pytest.param("( cd /x && make ) || true", [[("cd", "/x")], [("make",)], [("true",)]], id="subshell"),
    pytest.param("{ a; b; } > log", [[("a",)], [("b",)]], id="brace-group"),
    pytest.param(
        "if [ -f x ]; then rm x; elif true; then :; else touch x; fi",
        [[("[", "-f", "x", "]")], [("rm", "x")], [("true",)], [(":",)], [("touch", "x")]],
        id="if",
    ),
    pytest.param(
        "for p in a b; do apt-get install $p; done",
        [[("apt-get", "install", "$p")]],
        id="for-loop-header-dropped",
    ),
    pytest.param(
        "while read -r l; do echo $l; done < f",
        [[("read", "-r", "l")], [("echo", "$l")]],
        id="while",
    ),
    pytest.param("! grep -q x f", [[("grep", "-q", "x", "f")]], id="negation"),
    pytest.param("f() { echo hi; }; f", [[("echo", "hi")], [("f",)]], id="function"),
]


@pytest.mark.parametrize(("text", "expected"), SPLIT_CASES)
def test_split(text, expected):
    assert pipelines(text) == expected


def test_case_items_are_parsed_and_patterns_skipped():
    text = (
        'case "$(dpkg --print-architecture)" in amd64|x86_64) A=x64; curl -o a x ;; arm64) A=arm64 ;;'
        ' *) echo "unsupported $A"; exit 1 ;; esac; echo done'
    )
    assert programs(text) == ["dpkg", "", "curl", "", "echo", "exit", "echo"]


def test_case_inside_a_continued_run_with_comment_lines():
    text = lines(
        "FROM debian:12",
        "RUN set -eux; \\",
        '    case "$arch" in \\',
        "        amd64) \\",
        "            # only on amd64",
        "            apt-get install -y x; \\",
        "            ;; \\",
        "    esac; \\",
        "    rm -rf /var/lib/apt/lists/*",
    )
    assert runs(text) == [
        [("set", "-eux"), ("apt-get", "install", "-y", "x"), ("rm", "-rf", "/var/lib/apt/lists/*")]
    ]


# --- assignments, wrappers, programs --------------------------------------------------------------


def test_leading_assignments_are_not_the_program():
    command = next(parse_shell("DEBIAN_FRONTEND=noninteractive A+=1 apt-get install -y x").all_commands())
    assert command.name == "apt-get"
    assert command.args == ("install", "-y", "x")
    assert command.assignments == (("DEBIAN_FRONTEND", "noninteractive"), ("A", "1"))


def test_assignment_only_command_keeps_its_substitutions():
    assert programs('savedAptMark="$(apt-mark showmanual)"') == ["apt-mark", ""]


@pytest.mark.parametrize(
    ("text", "name", "args", "wrappers"),
    [
        ("sudo -E -u app apt-get update", "apt-get", ("update",), ("sudo",)),
        ("sudo -Eu app apt-get update", "apt-get", ("update",), ("sudo",)),
        ("env -i PATH=/bin FOO=1 /usr/bin/curl -k x", "curl", ("-k", "x"), ("env",)),
        ("xargs -r -I{} apt-get install {}", "apt-get", ("install", "{}"), ("xargs",)),
        ("xargs -n 1 pip install", "pip", ("install",), ("xargs",)),
        ("timeout -s KILL 30 wget x", "wget", ("x",), ("timeout",)),
        ("busybox wget -O- x", "wget", ("-O-", "x"), ("busybox",)),
        ("gosu app node server.js", "node", ("server.js",), ("gosu",)),
        ("nice -n 10 time make", "make", (), ("nice", "time")),
        ("command -v curl", "command", ("-v", "curl"), ()),
        ("exec /app/run", "run", (), ("exec",)),
    ],
)
def test_wrappers_are_skipped(text, name, args, wrappers):
    command = next(c for c in parse_shell(text).all_commands())
    assert (command.name, command.args, command.wrappers) == (name, args, wrappers)


def test_env_wrapper_assignments_are_in_env():
    command = next(parse_shell("A=1 env B=2 sh").all_commands())
    assert command.env == (("A", "1"), ("B", "2"))


# --- nested code: sh -c, su -c, eval, substitutions -----------------------------------------------


def test_sh_c_string_is_parsed():
    assert pipelines("sh -c 'apt-get update && apt-get install -y x'") == [
        [("sh", "-c", "apt-get update && apt-get install -y x")],
        [("apt-get", "update")],
        [("apt-get", "install", "-y", "x")],
    ]


def test_shell_options_before_c():
    command = next(parse_shell('bash -euxo pipefail -c "curl x | sh"').all_commands())
    assert command.inner is not None
    assert [[c.name for c in p] for p in command.inner.all_pipelines()] == [["curl", "sh"]]


def test_shell_without_c_has_no_inner_script():
    assert next(parse_shell("bash script.sh -c x").all_commands()).inner is None


def test_su_c_and_eval():
    assert programs("su -c 'pip install x' app") == ["su", "pip"]
    # eval runs its words as code: here the output of ssh-agent, a command named by a substitution
    assert programs('eval "$(ssh-agent -s)"') == ["ssh-agent", "eval", "ssh-agent", "$(ssh-agent -s)"]


def test_command_substitutions_backticks_and_process_substitution():
    assert programs('echo "$(uname -m)" `id -u` <(curl x) >(tee log)') == [
        "uname",
        "id",
        "curl",
        "tee",
        "echo",
    ]


def test_nested_substitution():
    assert programs('a "$(b "$(c)")"') == ["c", "b", "a"]


def test_program_from_a_substitution_keeps_its_text():
    command = [c for c in parse_shell('sh -c "$(curl -fsSL https://x/y.sh)"').all_commands()][-1]
    assert command.name == "$(curl -fsSL https://x/y.sh)"
    assert command.program_word is not None
    assert [c.name for s in command.program_word.subs for c in s.all_commands()] == ["curl"]


def test_heredoc_redirects_and_herestrings():
    command = next(parse_shell("cat <<-'EOF' > /etc/x").all_commands())
    assert command.heredocs == ("EOF",)
    command = next(c for c in parse_shell('bash <<< "$(curl x)"').top_commands())
    assert [w.text for w in command.herestrings] == ["$(curl x)"]
    assert command.args == ()


def test_subshell_flag():
    assert [(c.name, c.subshell) for c in parse_shell("(cd a && make); cd b").all_commands()] == [
        ("cd", True),
        ("make", True),
        ("cd", False),
    ]


@pytest.mark.parametrize(
    "text", ['echo "unterminated', "echo 'x", "a $(b", "case x in a)", "${", "`a", "((", "))"]
)
def test_broken_text_does_not_raise(text):
    parse_shell(text)


def test_deep_sh_c_nesting_is_bounded():
    text = "echo x"
    for _ in range(20):
        text = "sh -c " + repr(text).replace("\\'", "'")
    parse_shell(text)


# --- options ---------------------------------------------------------------------------------------


def test_parse_options():
    options = parse_options(
        ["-yq", "-o", "A=1", "--no-install-recommends", "install", "--x=2", "pkg"], frozenset("o")
    )
    assert options.flags == (
        ("y", None),
        ("q", None),
        ("o", "A=1"),
        ("no-install-recommends", None),
        ("x", "2"),
    )
    assert options.positionals == ("install", "pkg")
    assert options.has("y") and options.values("o") == ["A=1"]


def test_parse_options_attached_value_and_double_dash():
    options = parse_options(["-oX=1", "--", "-y"], frozenset("o"))
    assert options.flags == (("o", "X=1"),)
    assert options.positionals == ("-y",)


def test_parse_options_stop_at_positional():
    options = parse_options(["-e", "script.sh", "-c", "x"], stop_at_positional=True)
    assert options.flags == (("e", None),)
    assert options.positionals == ("script.sh", "-c", "x")


def test_apt_action_and_pip_install():
    assert (
        apt_action(command_of(["apt-get", "-o", "Dpkg::Options::=--force-confnew", "-y", "install", "x"]))
        == "install"
    )
    assert apt_action(command_of(["apt-cache", "policy"])) is None
    options = pip_install(command_of(["python3", "-m", "pip", "install", "-r", "req.txt", "flask"]))
    assert options is not None and options.positionals == ("flask",)
    assert pip_install(command_of(["uv", "pip", "install", "x"])) is not None
    assert pip_install(command_of(["python3", "script.py", "-m", "pip"])) is None
    assert pip_install(command_of(["pip3.12", "--version"])) is None


# --- RUN instructions -----------------------------------------------------------------------------


def test_run_shell_form_with_joined_continuations():
    text = lines("FROM debian:12", "RUN apt-get update \\", "  && apt-get install -y \\", "     curl")
    assert runs(text) == [[("apt-get", "update"), ("apt-get", "install", "-y", "curl")]]


def test_run_exec_form():
    text = lines(
        "FROM debian:12", 'RUN ["apt-get", "install", "-y", "curl"]', 'RUN ["/bin/sh", "-c", "a && b"]'
    )
    assert runs(text) == [[("apt-get", "install", "-y", "curl")], [("sh", "-c", "a && b"), ("a",), ("b",)]]


def test_run_heredoc_script():
    text = lines("FROM debian:12", "RUN <<EOF", "apt-get update", "apt-get install -y x", "EOF", "USER app")
    assert runs(text) == [[("apt-get", "update"), ("apt-get", "install", "-y", "x")]]


def test_run_heredoc_fed_to_a_shell_is_a_script():
    text = lines("FROM debian:12", "RUN bash -e <<'EOF'", "curl x | sh", "EOF")
    assert runs(text) == [[("bash", "-e"), ("curl", "x"), ("sh",)]]


def test_run_heredoc_data_and_other_interpreters_are_not_scripts():
    text = lines(
        "FROM debian:12",
        "RUN cat <<EOF > /etc/motd",
        "sudo rm -rf /",
        "EOF",
        "RUN python3 <<EOF",
        "import os",
        "EOF",
        "RUN <<EOF",
        "#!/usr/bin/env python3",
        "print('sudo')",
        "EOF",
        "RUN <<EOF",
        "#!/bin/bash",
        "sudo true",
        "EOF",
    )
    assert runs(text) == [[("cat",)], [("python3",)], [], [("true",)]]  # `true`, run under sudo


def test_onbuild_run():
    text = lines("FROM debian:12", "ONBUILD RUN --mount=type=cache,target=/root/.cache pip install x")
    df = parse_dockerfile(text, "Dockerfile")
    (run,) = stage_runs(df, df.stages[0])
    assert run.onbuild and [(c.name, *c.args) for c in run.commands()] == [("pip", "install", "x")]
    assert run.caches("/root/.cache/pip")


def test_non_posix_shell_is_not_parsed_and_is_inherited():
    text = lines(
        "FROM mcr.microsoft.com/windows/servercore:ltsc2022 AS base",
        'SHELL ["powershell", "-Command"]',
        "RUN curl -k x | sh",
        "FROM base",
        "RUN cd C:\\app",
        'RUN ["cmd", "/S", "/C", "echo hi"]',
        'SHELL ["/bin/sh", "-c"]',
        "RUN sudo true",
    )
    assert runs(text) == [[], [], [("cmd", "/S", "/C", "echo hi")], [("true",)]]


def test_mounts():
    text = lines(
        "FROM debian:12", "RUN --mount=type=cache,target=/var/cache/apt,sharing=locked \\", "  apt-get update"
    )
    df = parse_dockerfile(text, "Dockerfile")
    (run,) = stage_runs(df, df.stages[0])
    assert run.mounts == ({"type": "cache", "target": "/var/cache/apt", "sharing": "locked"},)
    assert run.caches("/var/cache/apt/archives") and not run.caches("/var/lib/apt/lists")


def test_a_run_is_parsed_once_per_file_and_not_kept_beyond_it():
    text = "FROM a\nRUN apt-get update && apt-get install -y curl\n"
    dockerfile = parse_dockerfile(text, "Dockerfile")
    (stage,) = dockerfile.stages
    (first,) = stage_runs(dockerfile, stage)
    (again,) = stage_runs(dockerfile, stage)
    assert first.scripts is again.scripts
    (other,) = stage_runs(parse_dockerfile(text, "Dockerfile"), stage)
    assert other.scripts is not first.scripts  # no process-wide cache holding every file's scripts


def test_deeply_nested_substitutions_are_kept_as_text_past_the_nesting_bound():
    script = parse_shell("echo " + "$(" * 100_000 + "x" + ")" * 100_000 + " && curl y")
    assert [c.name for c in script.top_commands()] == ["echo", "curl"]
    assert len(list(script.all_commands())) >= 64
    backticks = parse_shell("a `" + "b \\`" * 10_000 + "`; c")
    assert "c" in [cmd.name for cmd in backticks.top_commands()]


def test_substitutions_inside_eval_and_sh_c_share_one_nesting_bound():
    # Found by fuzzing: each `eval` level parsed 64 more levels of `$(`, past the interpreter's stack.
    code = "x"
    for _ in range(9):
        code = "eval " + "$(" * 60 + code + ")" * 60
    assert "x" not in [c.name for c in parse_shell(code).all_commands()]  # below the bound: text
    cases = parse_shell("case x in a) " * 5000 + "y ;; esac" * 5000)  # nested cases, found by fuzzing
    assert "y" in [c.name for c in cases.all_commands()]
    assert [c.name for c in parse_shell("case x in a) y ;; esac").all_commands()] == ["y"]


# --- images ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("ref", "expected"),
    [
        ("python", ("python", None, None)),
        ("python:3.12", ("python", "3.12", None)),
        ("localhost:5000/app", ("localhost:5000/app", None, None)),
        ("localhost:5000/app:1.0@sha256:ab", ("localhost:5000/app", "1.0", "sha256:ab")),
        ("ghcr.io/a/b@sha256:cd", ("ghcr.io/a/b", None, "sha256:cd")),
    ],
)
def test_split_image(ref, expected):
    assert split_image(ref) == expected


def test_image_base_skips_scratch_stages_and_unset_variables():
    text = lines("ARG BASE", "FROM scratch AS a", "FROM a", "FROM ${BASE}", "FROM python:3.12")
    df = parse_dockerfile(text, "Dockerfile")
    assert [image_base(df, s) for s in df.stages] == [None, None, None, "python:3.12"]


def test_redact():
    assert redact("https://user:tok@host/x") == "https://***@host/x"
    assert redact("https://host/x") == "https://host/x"


@pytest.mark.parametrize(
    "text",
    [
        "apt-get install -s curl",
        "apt-get -qqs install curl",
        "apt-get --simulate install curl",
        "apt-get install --just-print curl",
        "apt-get install --dry-run curl",
        "apt-get install --recon curl",
        "apt-get install --no-act curl",
        "apt-get -o APT::Get::Simulate=true install curl",
    ],
)
def test_an_apt_simulation_is_not_an_apt_command(text):
    (command,) = parse_shell(text).all_commands()
    assert apt_options(command) is None


def test_apk_simulation_and_no_network():
    (simulated,) = parse_shell("apk add --simulate curl").all_commands()
    assert apk_options(simulated) is None
    (offline,) = parse_shell("apk add --no-network --virtual .rundeps $deps").all_commands()
    options = apk_options(offline)
    assert options is not None and no_network(options)

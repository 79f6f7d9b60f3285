"""The shell reader: pipelines and commands, wrappers, `sh -c` scripts, substitutions, options."""

from __future__ import annotations

import shlex

import pytest

from ci_security.manifests.shell import parse_options, parse_shell


def pipelines(text: str) -> list[list[tuple[str, ...]]]:
    """Each pipeline as a list of (program, *args)."""
    return [[(c.name, *c.args) for c in p] for p in parse_shell(text).all_pipelines()]


def programs(text: str) -> list[str]:
    return [c.name for c in parse_shell(text).all_commands()]


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
    ("text", "expected"),
    [
        ('echo "unterminated', [("echo", "unterminated")]),  # an open quote reads to the end
        ("echo 'x", [("echo", "x")]),
        ("a $(b", [("b",), ("a", "$(b")]),  # the substitution is still read, as far as it goes
        ("case x in a)", []),
        ("${", [("${",)]),
        ("`a", [("a",), ("`a",)]),
        ("((", []),
        ("))", []),
    ],
)
def test_broken_text_is_read_to_its_end(text, expected):
    assert [(c.name, *c.args) for c in parse_shell(text).all_commands()] == expected


def test_deep_sh_c_nesting_is_bounded():
    text = "echo x"
    for _ in range(10):
        text = "sh -c " + shlex.quote(text)
    command = next(parse_shell(text).top_commands())
    depth = 0
    while command.inner is not None:
        depth += 1
        command = next(command.inner.top_commands())
    assert depth == 8  # _MAX_DEPTH: the ninth `sh -c` keeps its script as a word
    assert command.name == "sh"
    assert command.args[0] == "-c"
    assert command.args[1].startswith("sh -c ")


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

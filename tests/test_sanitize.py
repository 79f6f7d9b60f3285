"""One test per sink: text carrying workflow commands, Markdown/HTML, mentions and escape sequences
comes out inert there, checked by reading the output the way that sink's consumer reads it (a model
of the GitHub runner's command parser, a Markdown renderer, rich, a strict JSON parser), and shown to
be dangerous without the sanitiser, so no test passes by accident.
"""

from __future__ import annotations

import io
import json
import re

import pytest
from testkit.markdown import render
from testkit.workflow import runner_commands

from ci_security import sanitize

HOSTILE = (
    "evil\n::error file=x::pwned\r\n##[warning]legacy \x1b[31mred\x1b[0m \x1b]8;;https://evil.example\x07link"
    "\x1b]8;;\x07 \x1b]0;retitled\x07 [bold red]x[/] </details><img src=x onerror=alert(1)> "
    "<script>alert(1)</script> @everyone @octo-org/team #123 !45 &67 GH-8 [click](https://evil.example) "
    "![i](https://evil.example/i.png) `code` | pipe | *em* _u_ ~~s~~ $x^2$ https://evil.example "
    "www.evil.example \u202eevil\u200b \ud800 \x00\x7f\x85\u2028 ::stop-commands::tok ::add-mask::x"
)
LINES = "/close\n- item\n# heading\n  ::error::indented\n\u00a0::warning::nbsp\n1. one\n===\n> quote"


def test_the_runner_model_sees_the_attacks_in_raw_text():
    names = [name for name, _, _ in runner_commands(HOSTILE + "\n" + LINES)]
    assert names == ["error", "warning", "error", "warning"]


# -- terminal ---------------------------------------------------------------------------------------


def test_terminal_and_rich_output_is_plain_text_on_one_line():
    from rich.console import Console

    cleaned = sanitize.terminal(HOSTILE)
    assert "\n" not in cleaned and "\r" not in cleaned
    assert not re.search("[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b\u202e\u2028\ud800-\udfff]", cleaned)
    # an OSC string (a window title) goes with its sequence; the text of an OSC 8 hyperlink stays
    assert "evil\\n::error file=x::pwned\\n##[warning]legacy red link  [bold red]x[/]" in cleaned
    buffer = io.StringIO()
    console = Console(
        file=buffer, force_terminal=True, color_system="truecolor", width=1000, emoji=False, highlight=False
    )
    console.print(sanitize.rich_markup(HOSTILE), soft_wrap=True)
    shown = buffer.getvalue()
    # rich printed the markup as text (it crashes on `[/]` otherwise), and no escape sequence at all
    assert "[bold red]x[/]" in shown
    assert "\x1b" not in shown
    with pytest.raises(Exception, match="closing tag"):
        Console(file=io.StringIO()).print("os: [/]")  # what an os-release ID did to the table
    console.print(sanitize.rich_markup("os: [/]"))
    assert "os: [/]" in buffer.getvalue()


# -- CI logs ----------------------------------------------------------------------------------------


def test_log_lines_carry_no_workflow_command():
    assert runner_commands(sanitize.log_line(HOSTILE)) == []
    assert runner_commands(sanitize.log_line(LINES)) == []
    line = sanitize.log_line("::stop-commands::abc")
    assert line == "\\::stop-commands::abc"
    # a rendered report: cleaned per field by its renderer, then every line guarded
    rendered = "Name\n::error::wrapped cell\n  ::warning::x\nok ##[error]y\n\u3000::notice::z"
    guarded = sanitize.log_output(rendered)
    assert runner_commands(rendered) and runner_commands(guarded) == []
    assert guarded.count("\n") == rendered.count("\n")
    assert len(sanitize.log_line("x" * 100_000)) == sanitize.LOG_LINE_LIMIT


def test_workflow_commands_carry_the_text_as_data_only():
    command = sanitize.workflow_command("warning", HOSTILE, file="a,b:c.yaml", line=3, title=HOSTILE)
    assert "\n" not in command and "\r" not in command
    ((name, props, data),) = runner_commands(command)
    assert name == "warning"
    assert props == {"file": "a,b:c.yaml", "line": "3", "title": sanitize.plain(HOSTILE, multiline=True)}
    assert data == sanitize.plain(HOSTILE, multiline=True)  # multi-line, as the runner decodes it
    mask = sanitize.workflow_command("add-mask", "s3cr%t\nvalue")
    assert runner_commands(mask) == [("add-mask", {}, "s3cr%t\nvalue")]
    with pytest.raises(ValueError):
        sanitize.workflow_command("error::x", "y")


# -- Markdown ---------------------------------------------------------------------------------------


def _mentions_or_references(text: str) -> list[str]:
    # GitHub and GitLab find these in the rendered text, not in the Markdown source.
    return re.findall(r"(?:^|\W)(@[A-Za-z0-9]|#[0-9]|![0-9]|&[0-9]|GH-[0-9]|https?://|www\.)", text)


def test_markdown_renders_as_the_text_itself():
    raw = render(f"| a | b |\n| --- | --- |\n| {HOSTILE.replace(chr(10), ' ')} | x |\n")
    assert {"img", "script", "a", "code"} <= set(raw.tags)  # what the sanitiser is up against
    cell = sanitize.markdown(HOSTILE)
    parsed = render(f"| a | b |\n| --- | --- |\n| {cell} | x |\n")
    assert set(parsed.tags) == {"table", "thead", "tr", "th", "tbody", "td"}
    assert parsed.links == []
    text = "".join(parsed.text).replace("\u200b", "")
    assert "</details><img src=x onerror=alert(1)>" in text and "[click](https://evil.example)" in text
    assert "`code` | pipe | *em* _u_ ~~s~~ $x^2$" in text
    assert _mentions_or_references("".join(parsed.text)) == []
    assert parsed.tags.count("td") == 2 and "x" in parsed.text  # the second cell is still the second


def test_markdown_block_syntax_and_quick_actions_at_line_starts():
    parsed = render(sanitize.markdown(LINES, multiline=True))
    assert set(parsed.tags) == {"p"}
    note = sanitize.gitlab_note("intro\n" + sanitize.markdown(LINES, multiline=True))
    assert not re.search(r"(?m)^[ \t]*/[a-z]", note)
    # the note pass also holds when a part was not escaped, and leaves code blocks alone
    assert (
        sanitize.gitlab_note("ok\n /merge\n```\n/not-a-command\n```")
        == "ok\n \\/merge\n```\n/not-a-command\n```"
    )


def test_markdown_code_and_links():
    code = sanitize.markdown_code("a``b`c @everyone")
    assert code == "```a``b`c @everyone```"
    assert render(code).tags == ["p", "code"]
    assert sanitize.markdown_link("x", "javascript:alert(1)") == "x"
    assert sanitize.markdown_link("x", "https://e.example/a b") == "x"
    link = sanitize.markdown_link("CVE", "https://e.example/p?q=(1)|<2>")
    assert link == "[CVE](https://e.example/p?q=%281%29%7C%3C2%3E)"
    assert render(link).links == ["https://e.example/p?q=%281%29%7C%3C2%3E"]


# -- JSON and SARIF ---------------------------------------------------------------------------------


def test_json_is_valid_utf8_with_the_same_value():
    value = {"name": HOSTILE, HOSTILE: [HOSTILE, 1, None], "bytes": "ab\udc80\udcff"}
    encoded = sanitize.json_dumps(value)
    data = encoded.encode("utf-8")  # a lone surrogate would raise here
    assert runner_commands(encoded) == [] and "##[" not in encoded
    assert not re.search("[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e]", encoded.replace("\n", ""))
    back = json.loads(data.decode("utf-8", "strict"))
    assert back["name"] == HOSTILE.replace("\ud800", "\ufffd")
    assert back["bytes"] == "ab\ufffd\ufffd"
    # a library's JSON with a lone surrogate escaped (or raw) comes out the same way
    assert json.loads(sanitize.json_text('{"a": "\\udc80 ##[error]x"}')) == {"a": "\ufffd ##[error]x"}
    assert "##[" not in sanitize.json_text('{"a": "##[error]x"}')


def test_sarif_messages_have_no_embedded_links():
    message = sanitize.sarif_message("see [here](1) and \\[x] \x1b[31m\nnext")
    assert message == "see \\[here\\](1) and \\\\\\[x\\] \nnext"
    assert not re.search(r"(?<!\\)\[[^\]]*(?<!\\)\]\(\d+\)", message)

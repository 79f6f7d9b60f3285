"""A model of how GitHub's runner reads workflow commands from a step's output, for tests that
check nothing from an image or a pull request becomes one. Written from the runner's parser
(actions/runner `ActionCommand.TryParseV2` and `TryParse`, `ActionCommandManager.TryProcessCommand`):
lines as .NET's `ReadLine` splits them (CR, LF, CRLF); `::name props::data` after leading
whitespace, else the legacy `##[name props]data` anywhere in a line; registered names only
(case-insensitive).
"""

from __future__ import annotations

import re

# The runner's registered commands (actions/runner ActionCommandManager): every command extension
# plus stop-commands.
REGISTERED = {
    "set-env",
    "set-output",
    "save-state",
    "add-mask",
    "add-path",
    "add-matcher",
    "remove-matcher",
    "debug",
    "warning",
    "error",
    "notice",
    "group",
    "endgroup",
    "echo",
    "stop-commands",
}


def _unescape(text: str, *, prop: bool) -> str:
    pairs = [("%0D", "\r"), ("%0A", "\n")] + ([("%3A", ":"), ("%2C", ",")] if prop else []) + [("%25", "%")]
    for token, value in pairs:
        text = text.replace(token, value)
    return text


def runner_commands(log: str) -> list[tuple[str, dict[str, str], str]]:
    """The workflow commands GitHub's runner reads from a step's output: lines as .NET's ReadLine
    splits them (CR, LF, CRLF); `::name props::data` after leading whitespace (TryParseV2), else
    `##[name props]data` anywhere in the line (the legacy TryParse); registered names only.
    """
    found: list[tuple[str, dict[str, str], str]] = []
    for line in re.split(r"\r\n|\r|\n", log):
        text = line.lstrip()
        if text.startswith("::"):
            end = text.find("::", 2)
            if end >= 0:
                name, _, props = text[2:end].partition(" ")
                if name.lower() in REGISTERED:
                    pairs = (p.split("=", 1) for p in props.split(",") if "=" in p)
                    found.append(
                        (
                            name,
                            {k: _unescape(v, prop=True) for k, v in pairs},
                            _unescape(text[end + 2 :], prop=False),
                        )
                    )
                    continue
        start = line.find("##[")
        close = line.find("]", start) if start >= 0 else -1
        if close > 0:
            name = line[start + 3 : close].split(" ", 1)[0]
            if name.lower() in REGISTERED:
                found.append((name, {}, line[close + 1 :]))
    return found


def acted_on(log: str) -> list[tuple[str, dict[str, str], str]]:
    """The commands the runner acts on: as `runner_commands`, but between `::stop-commands::TOKEN`
    and the line `::TOKEN::` nothing counts (the runner registers TOKEN as the resume command).
    """
    acted: list[tuple[str, dict[str, str], str]] = []
    token: str | None = None
    for line in re.split(r"\r\n|\r|\n", log):
        if token is not None:
            if line.lstrip() == f"::{token}::":
                token = None
            continue
        for name, props, data in runner_commands(line):
            if name.lower() == "stop-commands":
                token = data
            acted.append((name, props, data))
    return acted

r"""The one place untrusted text is made safe for the place it is shown: one function per sink.

Everything in an image (os-release, architecture, package names and versions, file paths), in an
advisory record and in a pull request (manifest contents, policy reasons) is written by someone else.
Each sink gives some characters a meaning, and text from those sources must never get it:

- **Terminal** (`terminal`, `rich_markup`): ANSI/CSI/OSC/DCS escape sequences, C0/C1 control
  characters and invisible formatting characters (zero-width, bidi overrides, U+2028) are removed, so
  a package name cannot recolour, retitle or rewrite the log; in single-line fields a newline is shown
  as the two characters `\n` (and a tab as a space), so one field is one line. `rich_markup` also
  escapes rich's `[style]` markup, which would otherwise be interpreted (or crash on `[/]`).
- **CI job logs** (`log_line`, `log_output`): the terminal rules, plus GitHub's workflow commands. The
  runner takes a line whose text, after leading whitespace, starts with `::` as a command, and (the
  legacy syntax) `##[command]` anywhere in a line, including `::stop-commands::` (which would silence
  every later annotation of the step) and `::add-mask::`. A line from untrusted text never starts
  with `::` (a backslash is put in front) and never contains `##[` (written `#\#[`). GitLab's
  collapsible sections are escape sequences, removed with the rest.
- **GitHub workflow commands we write** (`workflow_command`): data and property values are encoded
  as the runner decodes them (`%25`, `%0D`, `%0A`; in properties also `%3A` and `%2C`), after the
  terminal cleaning, so a value can neither end the command nor start another.
- **Markdown** (`markdown`, `markdown_code`, `markdown_block`, `markdown_link`) for job summaries,
  PR/MR comments and SARIF help: `&`, `<`, `>` become entities (no HTML: no `</details>`, no
  `<img>`), Markdown punctuation that starts emphasis, code, links, images, tables, strikethrough and math
  (`\ ` * _ [ ] | ~ # $`) is backslash-escaped, block syntax at the start of a line (`-`, `+`, `=`,
  `1.`, and `/`, a GitLab quick action) is escaped, and the things a platform turns into
  notifications or cross-references get a zero-width space after their sigil (`@user`, `@org/team`,
  `#123`, `!123`, `&123`, `GH-123`), as do bare URLs (`https://…`, `www.…`), which would otherwise be
  autolinked. Platforms find mentions in the rendered text, so a backslash does not stop them; the
  zero-width space does, and `&#8203;` keeps the Markdown source ASCII.
- **GitLab notes** (`gitlab_note`): a line that starts with `/` outside a code block is a quick
  action GitLab runs as the note's author when the note is created; every such line is escaped.
- **JSON and SARIF** (`json_dumps`, `json_text`, `sarif_message`): always valid UTF-8 (lone
  surrogates, which is how undecodable bytes reach a Python string, become U+FFFD), control
  characters, DEL, C1, U+2028/U+2029 and bidi controls written as `\u` escapes, and `##[` written
  `#\u0023[`, so a report printed to a CI log cannot carry a workflow command; the JSON value is the
  same. SARIF plain-text messages escape `[` and `]` (SARIF §3.11.6: otherwise `[text](1)` is an
  embedded link).

Reporters, the CI step and the CLI call these functions; none of them formats untrusted text itself.
The functions are pure, linear in the input and never raise on any `str`.
"""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import quote, urlsplit

VISIBLE_NEWLINE = "\\n"
LOG_LINE_LIMIT = 8192  # characters of one log line built from untrusted text
ZWSP = "&#8203;"  # zero-width space, as a Markdown entity

# ESC-introduced sequences (ECMA-48): CSI, OSC/DCS/SOS/PM/APC strings up to their terminator (or the
# end of the line), and the two-byte and nF escapes; then the same introducers as 8-bit C1
# characters. Every repetition is a single character class, so matching is linear.
_ANSI = re.compile(
    r"\x1b\[[0-?]*[ -/]*[@-~]?"
    r"|\x1b[\]PX^_][^\x07\x1b\x9c\n]*(?:\x07|\x1b\\|\x9c)?"
    r"|\x1b[ -/]*[0-~]?"
    r"|\x9b[0-?]*[ -/]*[@-~]?"
    r"|[\x90\x98\x9d\x9e\x9f][^\x07\x1b\x9c\n]*(?:\x07|\x1b\\|\x9c)?"
)
_SURROGATE = re.compile("[\ud800-\udfff]")
# C0 and C1 controls (newline and tab are handled apart), DEL, and the characters that render as
# nothing: format characters (Cf: zero-width, bidi embeddings and isolates, BOM, soft hyphen), line
# and paragraph separators, and the other default-ignorable code points. A log line or a Markdown
# cell must look like what it is; culture-aware string matching (the runner is .NET) skips such
# characters, so `#\u200b#[` would still read as `##[` there.
_INVISIBLE = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x9f"
    "\u00ad\u034f\u0600-\u0605\u061c\u06dd\u070f\u0890\u0891\u08e2\u115f\u1160\u17b4\u17b5"
    "\u180b-\u180f\u200b-\u200f\u2028-\u202e\u2060-\u206f\u3164\ufe00-\ufe0f\ufeff\uffa0\ufff0-\ufffb"
    "\U000110bd\U000110cd\U00013430-\U0001343f\U0001bca0-\U0001bca3\U0001d173-\U0001d17a"
    "\U000e0000-\U000e0fff]"
)


def text(value: object) -> str:
    """`value` as a string of valid Unicode: lone surrogates (undecodable bytes) become U+FFFD."""
    return _SURROGATE.sub("\ufffd", value if isinstance(value, str) else str(value))


def plain(value: object, *, multiline: bool = False) -> str:
    r"""The cleaning every text sink starts with: escape sequences, control and invisible characters
    removed, line ends normalised. A single-line value shows each newline as `\n` and each tab as a
    space; a multi-line value keeps newlines (and turns tabs into spaces).
    """
    out = text(value).replace("\r\n", "\n").replace("\r", "\n")
    out = _ANSI.sub("", out)
    out = _INVISIBLE.sub("", out).replace("\t", " ")
    return out if multiline else out.replace("\n", VISIBLE_NEWLINE)


# -- terminal ---------------------------------------------------------------------------------------


def terminal(value: object) -> str:
    """One field on one terminal line (see `plain`)."""
    return plain(value)


def rich_markup(value: object) -> str:
    """One field for a rich `console.print` or table cell: terminal-clean, markup escaped."""
    from rich.markup import escape  # rich costs ~60 ms to import; only its callers need it

    return escape(plain(value))


# -- CI job logs ------------------------------------------------------------------------------------


def _guard(line: str) -> str:
    stripped = line.lstrip()
    if stripped.startswith("::"):
        start = len(line) - len(stripped)
        line = f"{line[:start]}\\{line[start:]}"
    return line.replace("##[", "#\\#[")


def log_line(value: object, limit: int = LOG_LINE_LIMIT) -> str:
    """One line for a CI log (stdout or stderr): terminal-clean, one line, inert for GitHub's
    workflow-command parser, at most `limit` characters.
    """
    line = plain(value)
    if len(line) > limit:
        line = line[: limit - 1] + "…"
    return _guard(line)


def log_output(rendered: str) -> str:
    """A report rendered for standard output, every line guarded like `log_line` but not cleaned:
    its renderer already cleaned each untrusted field (and a terminal table keeps its colours).
    Wrapping a table cell can still start a line with `::`, which this catches.
    """
    return "\n".join(_guard(line) for line in rendered.split("\n"))


# -- GitHub workflow commands -----------------------------------------------------------------------

_COMMAND = re.compile(r"[a-z][a-z-]*")
_PROPERTY = re.compile(r"[a-zA-Z][a-zA-Z]*")


def workflow_data(value: object) -> str:
    """A workflow command's message: `%`, CR and LF encoded as the runner decodes them."""
    return plain(value, multiline=True).replace("%", "%25").replace("\n", "%0A")


def workflow_property(value: object) -> str:
    """A workflow command's property value: also `:` and `,`, which end a property."""
    return workflow_data(value).replace(":", "%3A").replace(",", "%2C")


def workflow_command(command: str, message: object, **properties: object) -> str:
    """`::command key=value,…::message` with every value encoded. `command` and the property names
    are ours (checked); properties whose value is None or "" are left out.
    """
    if not _COMMAND.fullmatch(command) or not all(_PROPERTY.fullmatch(k) for k in properties):
        raise ValueError(f"not a workflow command: {command!r} {sorted(properties)!r}")
    given = [f"{key}={workflow_property(v)}" for key, v in properties.items() if v is not None and v != ""]
    head = f"{command} {','.join(given)}" if given else command
    return f"::{head}::{workflow_data(message)}"


# -- Markdown ---------------------------------------------------------------------------------------

_MD_CHARS = str.maketrans(
    {
        "&": "&amp;",
        "<": "&lt;",
        ">": "&gt;",
        **{c: "\\" + c for c in "\\`*_[]|~#$"},
    }
)
# After the translation above: sigils a platform turns into a ping or a cross-reference.
_MD_REFERENCE = re.compile(r"@(?=[A-Za-z0-9_-])|(?:\\#|!|&amp;)(?=[0-9])|(?i:\bgh)-(?=[0-9])")
_MD_AUTOLINK = re.compile(r"(?i:(?<=[a-z0-9+.-])://|\bwww(?=\.))")
# Block syntax at the start of a line: bullet lists and thematic breaks (`- `, `+ `, `--`), setext
# underlines (a line of `=`), ordered lists (`1. `, `1) `) and GitLab quick actions (`/close`). A
# version such as `1.0` or a name such as `-x` starts no block and is left alone.
_MD_LINE_START = re.compile(r"^( {0,3})([-+](?=[ -]|$)|=(?= *=* *$)|/|[0-9]{1,9}(?=[.)](?: |$)))")


def _md_line(line: str) -> str:
    out = line.translate(_MD_CHARS)
    out = _MD_REFERENCE.sub(lambda m: m[0] + ZWSP, out)
    out = _MD_AUTOLINK.sub(lambda m: ("www" + ZWSP) if m[0].lower() == "www" else (":" + ZWSP + "//"), out)
    start = _MD_LINE_START.match(out)
    if start:
        mark = start[2]
        # `1.` is escaped on its dot, the others on the character itself.
        fixed = f"{mark}\\" if mark[0].isdigit() else f"\\{mark}"
        out = start[1] + fixed + out[start.end() :]
    return out


def markdown(value: object, *, multiline: bool = False) -> str:
    """Text that renders as itself in GitHub- and GitLab-flavoured Markdown, inline (a table cell,
    a list item, a sentence) or, with `multiline`, as lines of a paragraph. Safe in table cells.
    """
    return "\n".join(_md_line(line) for line in plain(value, multiline=multiline).split("\n"))


def markdown_code(value: object) -> str:
    """`value` as an inline code span (shown verbatim, nothing in it is a mention or a link); the
    fence is longer than any run of backticks inside. Not for table cells (`|` ends a cell even
    inside code there): use `markdown` for those.
    """
    body = plain(value)
    longest = max((len(run) for run in re.findall("`+", body)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if body.startswith(("`", " ")) or body.endswith(("`", " ")) or not body else ""
    return f"{fence}{pad}{body}{pad}{fence}"


def markdown_block(value: object, info: str = "") -> str:
    """`value` as a fenced code block (shown verbatim, lines kept): the fence is longer than any run
    of backticks inside, at least three; `info` (ours, e.g. `diff`) names the language.
    """
    body = plain(value, multiline=True)
    longest = max((len(run) for run in re.findall("`+", body)), default=0)
    fence = "`" * max(3, longest + 1)
    return f"{fence}{info}\n{body.rstrip(chr(10))}\n{fence}"


_URL_SAFE = ":/?#[]@!$&*+,;=%-._~"


def safe_url(url: object) -> str | None:
    """An http(s) URL with a host, percent-encoded so it cannot end a Markdown link destination or a
    table cell; None for anything else (javascript:, data:, relative, or with spaces or controls).
    """
    raw = text(url).strip()
    if not raw or any(ch.isspace() or _INVISIBLE.match(ch) for ch in raw):
        return None
    try:
        parts = urlsplit(raw)
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return None
    return quote(raw, safe=_URL_SAFE)


def markdown_link(label: str, url: object) -> str:
    """`[label](url)` where `label` is Markdown the caller escaped; just `label` when the URL is not
    a safe http(s) URL.
    """
    safe = safe_url(url)
    return f"[{label}]({safe})" if safe else label


_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")


def gitlab_note(body: str) -> str:
    """A GitLab note body with every line that would run as a quick action (`/close`, `/merge`,
    `/approve` at the start of a line, outside code blocks) escaped. Applied to the whole note after
    it is assembled, so it holds whatever the parts did.
    """
    out: list[str] = []
    fence: str | None = None
    for line in text(body).split("\n"):
        marker = _FENCE.match(line)
        if fence is None and marker:
            fence = marker[1][0]
        elif fence is not None and marker and marker[1][0] == fence:
            fence = None
        elif fence is None and line.lstrip(" \t").startswith("/"):
            indent = len(line) - len(line.lstrip(" \t"))
            line = f"{line[:indent]}\\{line[indent:]}"
        out.append(line)
    return "\n".join(out)


# -- JSON and SARIF ---------------------------------------------------------------------------------

# Characters json.dumps leaves raw (with ensure_ascii=False) that a reader's terminal or editor may
# act on: DEL and C1 controls, the JavaScript line terminators, bidi embeddings and isolates.
_JSON_RAW = re.compile("[\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


def json_value(value: Any) -> Any:
    """A JSON-ready value with every string (and key) valid Unicode."""
    if isinstance(value, str):
        return text(value)
    if isinstance(value, dict):
        return {text(k) if isinstance(k, str) else k: json_value(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_value(v) for v in value]
    return value


def _json_post(encoded: str) -> str:
    # Only string contents can hold these characters, so escaping them keeps the same JSON value.
    encoded = _JSON_RAW.sub(lambda m: f"\\u{ord(m[0]):04x}", encoded)
    return encoded.replace("##[", "#\\u0023[")


def json_dumps(value: Any, *, indent: int | None = 2) -> str:
    """JSON text for a report: valid UTF-8 whatever the strings held (see the module docstring)."""
    return _json_post(json.dumps(json_value(value), indent=indent, ensure_ascii=False))


def json_text(encoded: str, *, indent: int | None = 2) -> str:
    r"""A JSON document another library serialised, made safe like `json_dumps` (parsed and written
    again: a lone surrogate may be raw or a `\udXXX` escape there).
    """
    return json_dumps(json.loads(text(encoded)), indent=indent)


_SARIF_BRACKET = re.compile(r"(\\*)([\[\]])")


def sarif_message(value: object) -> str:
    """A SARIF plain-text message: clean, multi-line allowed, literal brackets escaped (and any
    backslashes before them doubled), so no untrusted text becomes an embedded link (§3.11.6).
    """
    return _SARIF_BRACKET.sub(lambda m: m[1] * 2 + "\\" + m[2], plain(value, multiline=True))

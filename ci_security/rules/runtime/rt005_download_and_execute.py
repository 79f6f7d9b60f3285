"""RT005: something downloaded was executed: the dropper chain.

A download tool's run (RT004's programs) followed by the execution of what it fetched, in one of
three shapes:

- to a file: `wget -O /tmp/x http://…; sh /tmp/x` or `chmod +x x; ./x`: a later program is the file
  the tool wrote (`-O`/`-o`/`--output…`, or the URL's file name for `wget URL` and `curl -O URL`), or
  a shell or interpreter is given that file as its script;
- through a pipe: `curl … | sh`: a shell or interpreter without a script (it reads standard input)
  started beside a tool writing to standard output, by the same parent, within two seconds;
- through the command line: `sh -c "$(wget -O- …)"`: a shell or interpreter with `-c`/`-e` started by
  the process that ran a tool writing to standard output, after it.

Attempts count: in the sandbox the download fails, and the execution still shows the intent.
"""

from __future__ import annotations

import posixpath
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import ClassVar

from ci_security.models import RuntimeEvent, Severity
from ci_security.rules.base import RuleMeta
from ci_security.rules.runtime.base import RuntimeContext, RuntimeHit
from ci_security.rules.runtime.common import (
    DOWNLOADERS,
    INTERPRETERS,
    SHELLS,
    command_text,
    execs,
    hit,
    names,
    run_name,
)

_PIPE_WINDOW = 2.0
# Options of curl and wget that take a value (so `-sSLo x` is read as -s -S -L -o x).
_CURL_VALUES = frozenset("oHdubcCeEFKrTwxXyYzAmUQ")
_WGET_VALUES = frozenset("OoaPiTtwABeDIQUXY")


@dataclass(frozen=True, slots=True)
class _Download:
    event: RuntimeEvent
    url: str
    to_stdout: bool
    files: frozenset[str]


def _option_value(
    argv: Sequence[str], values: frozenset[str], wanted: str, long_names: Sequence[str]
) -> str | None:
    found: str | None = None
    i = 1
    while i < len(argv):
        word = argv[i]
        for name in long_names:
            if word == name and i + 1 < len(argv):
                found = argv[i + 1]
                i += 1
            elif word.startswith(name + "="):
                found = word.split("=", 1)[1]
        if word.startswith("-") and not word.startswith("--") and len(word) > 1:
            for position, flag in enumerate(word[1:], start=1):
                if flag in values:
                    rest = word[position + 1 :]
                    value = rest if rest else (argv[i + 1] if i + 1 < len(argv) else "")
                    if not rest:
                        i += 1
                    if flag == wanted:
                        found = value
                    break
        i += 1
    return found


def _download(event: RuntimeEvent) -> _Download | None:
    tool = run_name(event)
    if tool not in DOWNLOADERS:
        return None
    argv = event.argv
    if argv and posixpath.basename(argv[0]) in ("busybox", "toybox"):
        argv = argv[1:]
    url = next((word for word in argv[1:] if "://" in word), "")
    remote_name = posixpath.basename(url.split("?", 1)[0].rstrip("/")) if url else ""
    files: set[str] = set()
    to_stdout = False
    if tool == "wget":
        output = _option_value(argv, _WGET_VALUES, "O", ("--output-document",))
        if output == "-":
            to_stdout = True
        elif output:
            files.add(output)
        elif remote_name:
            files.add(remote_name)
    elif tool == "curl":
        output = _option_value(argv, _CURL_VALUES, "o", ("--output",))
        if output and output != "-":
            files.add(output)
        elif (
            "-O" in argv
            or "--remote-name" in argv
            or any(w.startswith("-") and not w.startswith("--") and "O" in w for w in argv[1:])
        ):
            if remote_name:
                files.add(remote_name)
        else:
            to_stdout = True
    else:
        to_stdout = True  # nc, socat, ftp: what they receive goes to standard output
    return _Download(event, url, to_stdout, frozenset(files))


def _same_file(written: str, used: str) -> bool:
    if not written or not used:
        return False
    a, b = posixpath.normpath(written), posixpath.normpath(used)
    if a == b:
        return True
    # One side relative (`-O x.sh`, then `sh ./x.sh` or `/tmp/x.sh` run from the same folder).
    if not a.startswith("/") or not b.startswith("/"):
        return posixpath.basename(a) == posixpath.basename(b)
    return False


def _runs_file(event: RuntimeEvent, files: frozenset[str]) -> bool:
    if any(_same_file(f, event.path or "") for f in files):
        return True
    if run_name(event) in SHELLS | INTERPRETERS:
        return any(_same_file(f, word) for f in files for word in event.argv[1:] if not word.startswith("-"))
    return False


def _reads_stdin(event: RuntimeEvent) -> bool:
    """A shell or interpreter with no script to run: it runs what it reads."""
    if run_name(event) not in SHELLS | INTERPRETERS:
        return False
    args = [word for word in event.argv[1:] if word not in ("-s", "-", "-i", "-x", "-e", "-u")]
    return not args


def _runs_argument(event: RuntimeEvent) -> bool:
    return run_name(event) in SHELLS | INTERPRETERS and any(word in ("-c", "-e") for word in event.argv[1:])


class Rt005DownloadAndExecute:
    meta: ClassVar[RuleMeta] = RuleMeta(
        id="RT005",
        kind="runtime",
        title="Downloaded code executed",
        severity=Severity.HIGH,
        rationale="Running what was just downloaded hands the image to whoever controls the server (or "
        "the network path to it): the code that runs was never built, scanned or reviewed. It is the "
        "shape of nearly every dropper and of `curl | sh` installers.",
        remediation="Build what the image runs into the image, verified by checksum or signature at "
        "build time; if this is an attack, rebuild the image from a trusted base and rotate the "
        "credentials it could reach.",
        references=(
            "https://attack.mitre.org/techniques/T1105/",
            "https://attack.mitre.org/techniques/T1059/",
        ),
    )

    def check(self, context: RuntimeContext) -> Iterator[RuntimeHit]:
        ran = list(execs(context.run.events, attempts=True))
        downloads = [d for e in ran if (d := _download(e)) is not None]
        seen: set[tuple[int, int]] = set()
        for download in downloads:
            source = download.event
            for index, later in enumerate(ran):
                if later is source or (later.result != "ok" and not _runs_file(later, download.files)):
                    continue
                how = None
                if later.time >= source.time and download.files and _runs_file(later, download.files):
                    how = "ran the downloaded file"
                elif download.to_stdout and later.ppid is not None and later.ppid == source.ppid:
                    if _reads_stdin(later) and abs(later.time - source.time) <= _PIPE_WINDOW:
                        how = "read the download through a pipe"
                    elif _runs_argument(later) and later.time >= source.time:
                        how = "was given the download as its command"
                elif (
                    download.to_stdout
                    and later.pid == source.ppid
                    and _runs_argument(later)
                    and later.time >= source.time
                ):
                    how = "was given the download as its command"
                key = (id(source), index)
                if how is None or key in seen or names(later) & {run_name(source)}:
                    continue
                seen.add(key)
                subject = download.url or command_text(source, 120)
                message = f"{run_name(later)} (pid {later.pid}) {how} of {command_text(source)}"
                yield hit(subject, f"{message}: {command_text(later)}", [source, later])

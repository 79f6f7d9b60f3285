"""Reading and checking the policy file, with every problem located at `file:line:col`.

The file is read by the YAML loader the manifests use (`manifests.yamldoc.load_config`), which
keeps where each key and value sits. It reads YAML 1.2 (`yes` stays a string, so a misspelt boolean
is an error rather than a silent `true`) and keeps timestamps as strings, so `2026-13-01` reaches the
schema's `format: date` check and gets a line. Every duplicate key is reported, and the first value
of each is kept; a mapping key that is a list or a mapping is an error at its position.

The file is written by whoever opens the pull request, so it is bounded before it is parsed: at most
the `policy-bytes` limit is read (it can only be raised on the command line, since the file is read
before its own `limits:` are known), and the loader checks its nesting depth and alias expansion
before the composer, which recurses, builds anything.

Problems come in three levels. Errors make the file unusable (`load_policy` raises `PolicyError`);
warnings (`expires` more than a year away) and notes (an ignore entry that has expired) are shown by
`ci-security policy check` but do not stop a scan: an expired entry is reported by evaluation, as
`Decision.expired`, and simply suppresses nothing.
"""

from __future__ import annotations

import difflib
import functools
import json
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from importlib import resources
from pathlib import Path
from typing import Any, Literal

from ci_security import limits
from ci_security.destinations import parse_destination
from ci_security.errors import UsageError
from ci_security.manifests.yamldoc import (
    KeyProblem,
    Positions,
    YamlSyntaxError,
    YamlTooComplexError,
    load_config,
)
from ci_security.models import Severity
from ci_security.policy.model import (
    RUNTIME_RULE_ID,
    Checks,
    FailOn,
    FixImageRule,
    FixRules,
    IgnoreRule,
    ImageRules,
    Policy,
    PolicyError,
    RuntimePolicy,
    parse_duration,
)
from ci_security.policy.schema_check import SchemaChecker, SchemaError
from ci_security.structured import read_document

MAX_IGNORE_DAYS = 365
MIN_REASON = 10

_SEVERITIES = {
    "critical": Severity.CRITICAL,
    "high": Severity.HIGH,
    "medium": Severity.MEDIUM,
    "low": Severity.LOW,
    "unknown": Severity.UNKNOWN,
}
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}\Z")
_TYPE_NAMES = {
    "object": "a mapping",
    "array": "a list",
    "string": "a string",
    "boolean": "a boolean (true or false)",
    "integer": "an integer",
    "number": "a number",
    "null": "nothing (null)",
}


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong with a policy file; `level` is "error", "warning" or "note"."""

    path: str
    line: int
    col: int
    message: str
    level: Literal["error", "warning", "note"] = "error"

    @property
    def is_error(self) -> bool:
        return self.level == "error"

    def __str__(self) -> str:
        label = "" if self.is_error else f"{self.level}: "
        return f"{self.path}:{self.line}:{self.col}: {label}{self.message}"


_NOWHERE = Positions({}, {}, (1, 1))


def schema() -> dict[str, Any]:
    """The policy file's JSON Schema (Draft 2020-12), as shipped in the package."""
    text = resources.files("ci_security.policy").joinpath("schema.json").read_text(encoding="utf-8")
    loaded: dict[str, Any] = json.loads(text)
    return loaded


@functools.cache
def _validator() -> SchemaChecker:
    # Not jsonschema: see schema_check.py for why (start-up time on every scan with a policy).
    return SchemaChecker(schema())


# --- parsing -------------------------------------------------------------------------------------


def _syntax_problem(name: str, exc: YamlSyntaxError) -> Problem:
    message = f"invalid YAML: {exc.message}"
    if exc.context and exc.message.startswith("but "):
        message = f"invalid YAML: {exc.context}, {exc.message}"
    elif exc.context and exc.context_line is not None:
        message += f" ({exc.context} at line {exc.context_line})"
    return Problem(name, exc.line, exc.column, message)


def _key_problem(name: str, problem: KeyProblem) -> Problem:
    if problem.kind == "duplicate":
        message = f"duplicate key {problem.key!r} (first defined at line {problem.first_line})"
    else:
        message = f"a key must be a string, not a {problem.kind}"
    return Problem(name, problem.line, problem.column, message)


def _parse(text: str, name: str) -> tuple[Any, Positions, list[Problem]]:
    try:
        document = load_config(text, where=name)
    except YamlSyntaxError as exc:
        return None, _NOWHERE, [_syntax_problem(name, exc)]
    except YamlTooComplexError as exc:
        raise exc.error from None
    if document is None:
        return None, _NOWHERE, []
    return document.data, document.positions, [_key_problem(name, p) for p in document.key_problems]


# --- positions and messages ----------------------------------------------------------------------


def _position(positions: Positions, path: Sequence[Any], *, at_key: bool = False) -> tuple[int, int]:
    """1-based line and column of the value at `path` (or of its key, with `at_key`); the nearest
    known ancestor when the path leaves the document.
    """
    return positions.key(path) if at_key else positions.value(path)


def _where(path: Sequence[Any]) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "policy"


def _describe(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "nothing (null)"
    if isinstance(value, str):
        return f"the string {value!r}"
    if isinstance(value, int | float):
        return f"the number {value}"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    return type(value).__name__


def _suggest(value: str, choices: Sequence[str]) -> str:
    if value.lower() in choices:
        return f"; write it in lower case: {value.lower()!r}"
    close = difflib.get_close_matches(value.lower(), choices, n=1, cutoff=0.6)
    return f"; did you mean {close[0]!r}?" if close else ""


def _schema_problems(data: Any, positions: Positions, name: str) -> Iterator[Problem]:
    for error in _validator().iter_errors(data):
        yield from _explain(error, positions, name)


def _explain(error: SchemaError, positions: Positions, name: str) -> Iterator[Problem]:
    path = list(error.absolute_path)
    where = _where(path)
    kind = error.validator
    value = error.instance
    expected: Any = error.validator_value

    def at(message: str, *, sub: Sequence[Any] = (), at_key: bool = False) -> Problem:
        line, col = _position(positions, [*path, *sub], at_key=at_key)
        return Problem(name, line, col, message)

    if kind == "additionalProperties" and isinstance(value, dict):
        properties = error.schema.get("properties", {}) if isinstance(error.schema, Mapping) else {}
        known = sorted(properties)
        for key in value:
            if key in known or isinstance(key, tuple | dict):
                continue  # a list or mapping as a key is reported where the file is parsed
            hint = ""
            if isinstance(key, str):
                close = difflib.get_close_matches(key, known, n=1, cutoff=0.6)
                hint = (
                    f" (did you mean {close[0]!r}?)" if close else f" (expected one of: {', '.join(known)})"
                )
            what = f"unknown top-level key {key!r}" if not path else f"{where}: unknown key {key!r}"
            yield at(f"{what}{hint}", sub=[key], at_key=True)
    elif kind == "type":
        names = [expected] if isinstance(expected, str) else list(expected)
        wanted = " or ".join(_TYPE_NAMES.get(t, t) for t in names)
        yield at(f"{where}: expected {wanted}, got {_describe(value)}")
    elif kind == "enum":
        choices = [str(c) for c in expected]
        what = "severity" if "critical" in choices else "value"
        if "component_not_present" in choices:
            what = "OpenVEX justification"
        hint = _suggest(value, choices) if isinstance(value, str) else ""
        yield at(f"{where}: unknown {what} {value!r} (expected one of: {', '.join(choices)}){hint}")
    elif kind == "const":
        yield at(f"{where}: unsupported version {value!r} (this ci-security reads version {expected})")
    elif kind == "required" and isinstance(value, dict):
        label = _entry_label(path, value)
        for key in expected:
            if key not in value:
                yield at(f"{label}: missing required key {key!r}")
    elif kind == "minLength" and isinstance(value, str):
        if expected <= 1:
            yield at(f"{where}: must not be empty")
        else:
            yield at(_too_short(where, value))
    elif kind == "minItems":
        yield at(f"{where}: must list at least one entry (leave the key out to apply no restriction)")
    elif kind == "uniqueItems":
        yield at(f"{where}: lists the same entry more than once")
    elif kind == "format" and expected == "date":
        yield at(f"{where}: {value!r} is not a real date (YYYY-MM-DD)")
    else:
        yield at(f"{where}: {error.message}")


def _too_short(where: str, value: str) -> str:
    return (
        f"{where}: too short ({len(value.strip())} characters; at least {MIN_REASON}: "
        "say why the finding is acceptable and who decided)"
    )


def _entry_label(path: Sequence[Any], entry: Any) -> str:
    label = _where(path)
    if isinstance(entry, dict) and isinstance(entry.get("id"), str) and entry["id"].strip():
        label += f" ({entry['id']})"
    return label


# --- semantic checks -----------------------------------------------------------------------------


def _real_date(value: Any) -> date | None:
    if not isinstance(value, str) or not _DATE.match(value):
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        return None


def _semantic_problems(
    data: Any,
    positions: Positions,
    name: str,
    today: date | None,
    base: Path | None,
    known_rules: frozenset[str] | None,
) -> Iterator[Problem]:
    if not isinstance(data, dict):
        return
    fail = data.get("fail_on")
    if isinstance(fail, dict) and "epss" in fail:
        yield from _check_epss(positions, fail["epss"], name)
    if isinstance(data.get("limits"), dict):
        yield from _check_limits(data, positions, name)
    if isinstance(data.get("runtime"), dict):
        yield from _check_runtime(data, positions, name, known_rules)
    ignores = data.get("ignore")
    if isinstance(ignores, list):
        for i, entry in enumerate(ignores):
            if isinstance(entry, dict):
                yield from _check_ignore(positions, i, entry, name, today)
    fix = data.get("fix")
    if isinstance(fix, dict):
        yield from _check_fix(positions, fix, name)
    vex = data.get("vex")
    if base is not None and isinstance(vex, list):
        for i, item in enumerate(vex):
            if isinstance(item, str) and item and not (base / item).is_file():
                line, col = _position(positions, ["vex", i])
                yield Problem(name, line, col, f"vex[{i}]: no such file: {base / item}")


def _check_epss(positions: Positions, value: Any, name: str) -> Iterator[Problem]:
    path: list[Any] = ["fail_on", "epss"]
    if isinstance(value, dict):
        if len(value) != 1:
            line, col = _position(positions, path)
            yield Problem(name, line, col, "fail_on.epss: give one of score or percentile")
        items = [(key, v, [*path, key]) for key, v in value.items() if key in ("score", "percentile")]
    else:
        items = [("score", value, path)]
    for key, number, where in items:
        if isinstance(number, bool) or not isinstance(number, int | float):
            continue  # the schema reports the type
        if not 0 <= number <= 1:
            line, col = _position(positions, where)
            label = "fail_on.epss" if where == path else f"fail_on.epss.{key}"
            yield Problem(
                name, line, col, f"{label}: {number!r} is not between 0 and 1 (EPSS {key}s are fractions)"
            )


def _check_fix(positions: Positions, fix: dict[str, Any], name: str) -> Iterator[Problem]:
    count = fix.get("max_open_prs")
    if isinstance(count, int) and not isinstance(count, bool) and count < 0:
        line, col = _position(positions, ["fix", "max_open_prs"])
        yield Problem(
            name, line, col, f"fix.max_open_prs: {count} is negative (0 opens none, updates the rest)"
        )
    places: list[list[Any]] = []
    patterns = fix.get("ignore_images")
    if isinstance(patterns, list):
        places.extend(["fix", "ignore_images", i] for i in range(len(patterns)))
    images = fix.get("images")
    for i, entry in enumerate(images if isinstance(images, list) else []):
        match = entry.get("match") if isinstance(entry, dict) else None
        if isinstance(match, list):
            places.extend(["fix", "images", i, "match", j] for j in range(len(match)))
    for path in places:
        pattern: Any = {"fix": fix}
        for part in path:
            pattern = pattern[part]
        # a tag or digest in a pattern would never match: patterns are on names without them
        if isinstance(pattern, str) and (":" in pattern.rsplit("/", 1)[-1] or "@" in pattern):
            line, col = _position(positions, path)
            yield Problem(
                name, line, col, f"{_where(path)}: {pattern!r} names a tag or digest; give the image name"
            )


def _check_limits(root: dict[str, Any], positions: Positions, name: str) -> Iterator[Problem]:
    known = limits.known_flags()
    for key, value in root["limits"].items():
        if not isinstance(key, str):
            continue  # reported by the schema or the parser
        flag = key.strip().replace("_", "-")
        if flag not in known:
            line, col = _position(positions, ["limits", key], at_key=True)
            close = difflib.get_close_matches(flag, known, n=1, cutoff=0.6)
            hint = f"did you mean {close[0]!r}?" if close else "see docs/security.md for the names"
            yield Problem(name, line, col, f"limits: unknown limit {key!r} ({hint})")
            continue
        if not isinstance(value, str | int) or isinstance(value, bool):
            continue  # the schema reports the type
        line, col = _position(positions, ["limits", key])
        try:
            limits.parse_value(flag.replace("-", "_"), str(value))
        except UsageError as exc:
            reason = str(exc).partition(": ")[2] or str(exc)
            yield Problem(name, line, col, f"limits.{key}: {value!r}: {reason}")
            continue
        if flag == "policy-bytes":
            yield Problem(
                name,
                line,
                col,
                "limits.policy-bytes has no effect here: the policy file is read before its limits are "
                "known; raise it with --limit policy-bytes=VALUE",
                "warning",
            )


def _check_runtime(
    root: Any, positions: Positions, name: str, known_rules: frozenset[str] | None
) -> Iterator[Problem]:
    section = root["runtime"]

    def at(
        path: Sequence[Any], message: str, level: Literal["error", "warning", "note"] = "error"
    ) -> Problem:
        # A severity override is located at its key (the rule id), everything else at its value.
        line, col = _position(positions, ["runtime", *path], at_key=path[0] == "severity")
        return Problem(name, line, col, message, level)

    duration = section.get("duration")
    if isinstance(duration, str | int) and not isinstance(duration, bool):
        try:
            parse_duration(duration)
        except ValueError as exc:
            yield at(["duration"], f"runtime.duration: {duration!r}: {exc}")
    codes = section.get("exit_codes")
    if isinstance(codes, list):
        for i, code in enumerate(codes):
            if isinstance(code, int) and not isinstance(code, bool) and not 0 <= code <= 255:
                yield at(["exit_codes", i], f"runtime.exit_codes[{i}]: {code} is not an exit code (0 to 255)")
        if section.get("expect", "any") != "exit":
            yield at(
                ["exit_codes"], "runtime.exit_codes has no effect unless runtime.expect is exit", "warning"
            )
    destinations = section.get("allowed_destinations")
    if isinstance(destinations, list):
        for i, item in enumerate(destinations):
            if isinstance(item, str) and item.strip():
                try:
                    parse_destination(item)
                except ValueError as exc:
                    yield at(
                        ["allowed_destinations", i], f"runtime.allowed_destinations[{i}]: {item!r}: {exc}"
                    )
    for key in ("enable", "disable"):
        items = section.get(key)
        if isinstance(items, list):
            for i, item in enumerate(items):
                if isinstance(item, str):
                    yield from _check_rule_id(item, [key, i], f"runtime.{key}[{i}]", at, known_rules)
    overrides = section.get("severity")
    if isinstance(overrides, dict):
        for key in overrides:
            if isinstance(key, str):
                yield from _check_rule_id(key, ["severity", key], f"runtime.severity.{key}", at, known_rules)


def _check_rule_id(
    value: str,
    path: Sequence[Any],
    where: str,
    at: Any,
    known_rules: frozenset[str] | None,
) -> Iterator[Problem]:
    if not RUNTIME_RULE_ID.match(value.strip()):
        yield at(path, f"{where}: {value!r} is not a runtime rule id (RT001, RT002, …)")
    elif known_rules is not None and value.strip().upper() not in known_rules:
        close = difflib.get_close_matches(value.strip().upper(), sorted(known_rules), n=1, cutoff=0.6)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        yield at(path, f"{where}: no runtime rule {value!r}{hint}; see docs/rules.md", "warning")


def _check_ignore(
    positions: Positions, i: int, entry: dict[str, Any], name: str, today: date | None
) -> Iterator[Problem]:
    path: list[Any] = ["ignore", i]
    ident = entry.get("id")
    if isinstance(ident, str) and ident and not ident.strip():
        line, col = _position(positions, [*path, "id"])
        yield Problem(name, line, col, f"{_where(path)}.id: must not be empty")
    reason = entry.get("reason")
    if isinstance(reason, str) and len(reason) >= MIN_REASON and len(reason.strip()) < MIN_REASON:
        line, col = _position(positions, [*path, "reason"])
        yield Problem(name, line, col, _too_short(f"{_where(path)}.reason", reason))
    expires = _real_date(entry.get("expires"))
    if expires is None or today is None:
        return
    line, col = _position(positions, [*path, "expires"])
    label = _entry_label(path, entry)
    if expires < today:
        yield Problem(
            name, line, col, f"{label} expired on {expires.isoformat()}; it suppresses nothing", "note"
        )
    elif expires > today + timedelta(days=MAX_IGNORE_DAYS):
        yield Problem(
            name,
            line,
            col,
            f"{label} expires on {expires.isoformat()}, more than {MAX_IGNORE_DAYS} days away; "
            "accepted risks should be reviewed at least once a year",
            "warning",
        )


# --- public API ----------------------------------------------------------------------------------


def _read(path: Path) -> str:
    data = read_document(path, "policy file", size_limit="policy_bytes", error=PolicyError)
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise PolicyError(f"{path}: the policy file is not UTF-8 text (byte {exc.start})") from None


def check_text(
    text: str,
    name: str,
    *,
    today: date | None = None,
    base: Path | None = None,
    known_rules: frozenset[str] | None = None,
) -> list[Problem]:
    """Every problem in policy text `text` (named `name` in messages), sorted by position.
    `today` enables the expiry notes and warnings; `base` (the policy file's folder) the check that
    `vex` files exist; `known_rules` (the runtime rules' ids) a warning for an id no rule has.
    """
    return _check(text, name, today, base, known_rules)[2]


def _check(
    text: str, name: str, today: date | None, base: Path | None, known_rules: frozenset[str] | None = None
) -> tuple[Any, Positions, list[Problem]]:
    data, positions, problems = _parse(text, name)
    if data is not None or not problems:
        problems.extend(_schema_problems({} if data is None else data, positions, name))
        problems.extend(_semantic_problems(data, positions, name, today, base, known_rules))
    unique = dict.fromkeys(problems)
    return data, positions, sorted(unique, key=lambda p: (p.line, p.col, p.level != "error", p.message))


def check_policy(path: Path, today: date, known_rules: frozenset[str] | None = None) -> list[Problem]:
    """What `ci-security policy check FILE` prints: every error, warning and note in the file."""
    return check_text(_read(path), str(path), today=today, base=path.parent, known_rules=known_rules)


def load_policy(path: Path) -> Policy:
    """The policy in `path`; `PolicyError` naming the first error (and how many there are) when the
    file cannot be used. Warnings and notes do not stop loading.
    """
    return parse_policy(_read(path), str(path), base=path.parent)


def parse_policy(text: str, name: str, *, base: Path | None = None) -> Policy:
    """The policy in YAML `text` (named `name` in messages; `vex` paths are relative to `base`)."""
    data, positions, problems = _check(text, name, None, base)
    errors = [p for p in problems if p.is_error]
    if errors:
        more = (
            f" (and {len(errors) - 1} more; run `ci-security policy check {name}`)" if len(errors) > 1 else ""
        )
        raise PolicyError(f"{errors[0]}{more}")
    return _build({} if data is None else data, positions, name)


def _severity(value: str) -> Severity | None:
    return None if value == "none" else _SEVERITIES[value]


def _runtime(data: Any, positions: Positions, name: str | None) -> RuntimePolicy:
    section = data.get("runtime") or {}
    disable = tuple(str(r).strip() for r in section.get("disable", ()))
    sources = tuple(
        (rule.upper(), f"{name or 'policy'}:{_position(positions, ['runtime', 'disable', i])[0]}")
        for i, rule in enumerate(disable)
    )
    duration = section.get("duration")
    return RuntimePolicy(
        duration=parse_duration(duration) if duration is not None else RuntimePolicy().duration,
        expect=section.get("expect", "any"),
        exit_codes=tuple(int(c) for c in section.get("exit_codes", (0,))),
        allowed_destinations=tuple(str(d).strip() for d in section.get("allowed_destinations", ())),
        enable=tuple(str(r).strip().upper() for r in section.get("enable", ())),
        disable=tuple(r.upper() for r in disable),
        severity=tuple(
            (str(k).strip().upper(), _SEVERITIES[v]) for k, v in section.get("severity", {}).items()
        ),
        sources=sources,
    )


def _build(data: Any, positions: Positions, name: str | None) -> Policy:
    """A `Policy` from data that passed `check_text`; `positions` give the entries' sources."""
    fail = data.get("fail_on", {})
    epss = fail.get("epss")
    epss_score = epss.get("score") if isinstance(epss, dict) else epss
    in_use_severity = fail.get("in_use_severity")
    fail_on = FailOn(
        severity=_severity(fail.get("severity", "high")),
        fixable_only=bool(fail.get("fixable_only", True)),
        new_only=bool(fail.get("new_only", False)),
        kev=bool(fail.get("kev", False)),
        epss_score=float(epss_score) if epss_score is not None else None,
        epss_percentile=float(epss["percentile"])
        if isinstance(epss, dict) and "percentile" in epss
        else None,
        in_use=bool(fail.get("in_use", False)),
        in_use_severity=_SEVERITIES[in_use_severity] if in_use_severity else None,
    )
    ignores = []
    for i, entry in enumerate(data.get("ignore", [])):
        expires = _real_date(entry["expires"])
        assert expires is not None
        line, _ = _position(positions, ["ignore", i])
        ignores.append(
            IgnoreRule(
                id=entry["id"].strip(),
                reason=str(entry["reason"]).strip(),
                expires=expires,
                packages=tuple(str(p) for p in entry.get("packages", ())),
                paths=tuple(str(p) for p in entry.get("paths", ())),
                images=tuple(str(p) for p in entry.get("images", ())),
                vex_justification=entry.get("vex_justification"),
                source=f"{name or 'policy'}:{line}",
            )
        )
    checks_data = data.get("checks", {})
    disable = tuple(str(r) for r in checks_data.get("disable", ()))
    sources = tuple(
        (rule.upper(), f"{name or 'policy'}:{_position(positions, ['checks', 'disable', i])[0]}")
        for i, rule in enumerate(disable)
    )
    overrides = tuple((str(k), _SEVERITIES[v]) for k, v in checks_data.get("severity", {}).items())
    img = data.get("images", {})
    allowed = img.get("allowed_registries")
    images = ImageRules(
        allowed_registries=tuple(str(p) for p in allowed) if allowed is not None else None,
        require_digest=bool(img.get("require_digest", False)),
        forbid_latest=bool(img.get("forbid_latest", False)),
        require_non_root=bool(img.get("require_non_root", False)),
    )
    fix_data = data.get("fix", {})
    fix = FixRules(
        update_types=tuple(str(t) for t in fix_data.get("update_types", FixRules().update_types)),
        images=tuple(
            FixImageRule(
                patterns=tuple(str(p) for p in entry["match"]),
                update_types=tuple(str(t) for t in entry["update_types"]),
                source=f"{name or 'policy'}:{_position(positions, ['fix', 'images', i])[0]}",
            )
            for i, entry in enumerate(fix_data.get("images", ()))
        ),
        ignore_images=tuple(str(p) for p in fix_data.get("ignore_images", ())),
        max_open_prs=int(fix_data.get("max_open_prs", FixRules().max_open_prs)),
        pin_digests=bool(fix_data.get("pin_digests", False)),
        dependencies=bool(fix_data.get("dependencies", True)),
        labels=tuple(str(label) for label in fix_data.get("labels", FixRules().labels)),
    )
    return Policy(
        version=int(data.get("version", 1)),
        runtime=_runtime(data, positions, name),
        fail_on=fail_on,
        severity_source=str(data.get("severity_source", "vendor")),
        ignore=tuple(ignores),
        checks=Checks(
            enable=tuple(str(r) for r in checks_data.get("enable", ())),
            disable=disable,
            severity=overrides,
            sources=sources,
        ),
        images=images,
        vex=tuple(str(p) for p in data.get("vex", ())),
        fix=fix,
        limits=tuple(
            (str(k).strip().replace("-", "_"), str(v)) for k, v in (data.get("limits") or {}).items()
        ),
        source=name,
    )

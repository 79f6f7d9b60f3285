"""Values that stand for a secret instead of being one, shared by the secret rules (DF007, K8S033,
COMPOSE018) so that a template or an example is not reported as a leaked credential.

A placeholder is text that a human must replace before the value is used:
- a reference to something else: `${VAR}`, `$(VAR)`, `$VAR`, `{{ .Values.x }}`, `%VAR%`, `@VAR@`,
  `__VAR__`, `<your-key>`, `[API KEY]`;
- a value that names a variable rather than holding a secret: an upper-case identifier with an
  underscore (`GOOGLE_API_KEY_VAL`, `YOUR_TOKEN`, `REPLACE_ME`), or the variable's own name;
- an instruction to the reader: `changeme`, `change-me`, `replace_me`, `your-api-key`,
  `insert-key-here`, `put_your_token_here`, `to-be-set`, `placeholder`, `redacted`, `TODO`, `TBD`;
- filler: one character repeated (`xxx`, `XXXXXXXX`, `****`, `...`).

`url_with_password()` finds a URL whose password is a literal, not one of these.
`looks_fake()` applies the same idea to a token that has the *shape* of a real credential
(`AKIAIOSFODNN7EXAMPLE`, AWS's documentation key; `ghp_xxxxxxxx…`): such a token is a sample
when it says so (`EXAMPLE`, `SAMPLE`, `DUMMY`, `FAKE`) or is padded with one repeated filler character.

Weak but real values (`password`, `secret`, `admin`, `postgres`) are not placeholders: a default
password committed to a compose file is exactly what the secret rules are for.
"""

from __future__ import annotations

import re

_REFERENCE = re.compile(
    r"^(?:\$\{[^}]*\}|\$\([^)]*\)|\$[A-Za-z_][A-Za-z0-9_]*|\{\{.*\}\}|%[A-Za-z_][A-Za-z0-9_]*%"
    r"|@[A-Za-z_][A-Za-z0-9_]*@|__[A-Za-z0-9_]+__|<[^<>]*>|\[[^\[\]]*\])$",
    re.S,
)
_IDENTIFIER = re.compile(r"^[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+$")
_SEP = r"[-_ .]?"
_INSTRUCTION = re.compile(
    rf"^your{_SEP}\w|(?:^|[-_ .])here$|change{_SEP}(?:me|it|this)|replace{_SEP}(?:me|this|with)"
    rf"|insert{_SEP}(?:your|here|key|token|password|secret)|paste{_SEP}(?:your|here)|fill{_SEP}(?:me|in)"
    rf"|put{_SEP}your|enter{_SEP}your|set{_SEP}me$|to{_SEP}be{_SEP}(?:set|replaced|filled|changed)"
    r"|placeholder|redacted|^(?:todo|tbd|fixme|none|null|nil|undefined|unset|notset|n/?a|empty|tba)$",
    re.I,
)
_SAMPLE = re.compile(r"example|sample|dummy|fake|placeholder|redacted", re.I)
_FILLER_RUN = re.compile(r"([xX*#.0])\1{5,}")
# scheme://[user]:password@ — the user may be empty (`redis://:pw@cache:6379`).
# From `://` on; the scheme before it is checked by walking back (`_scheme_before`): searched from
# every letter of a long run of scheme characters, `[a-z][a-z0-9+.-]*://` would be quadratic.
_URL_PASSWORD = re.compile(r"://[^\s/:@]*:([^\s/@]+)@")
_SCHEME_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+.-")


def is_placeholder(value: str, name: str = "") -> bool:
    """Whether `value` (of a variable called `name`) stands for a secret instead of being one."""
    text = value.strip().strip("'\"").strip()
    if not text:
        return True
    if _REFERENCE.match(text) or _IDENTIFIER.match(text):
        return True
    if name and text.lower() == name.strip().lower():
        return True
    if len(text) >= 3 and len(set(text.lower())) == 1:
        return True
    return bool(_INSTRUCTION.search(text))


def looks_fake(token: str) -> bool:
    """Whether a token with a credential's shape is a documentation sample or padded filler."""
    return bool(_SAMPLE.search(token) or _FILLER_RUN.search(token)) or is_placeholder(token)


def _scheme_before(text: str, position: int) -> bool:
    """Whether a URL scheme (`[A-Za-z][A-Za-z0-9+.-]*`) ends at `position`. The runs of scheme
    characters before two `://` never overlap (`:` and `/` end them), so all the walks are linear.
    """
    found = False
    while position > 0 and text[position - 1] in _SCHEME_CHARS:
        position -= 1
        found = found or (text[position].isascii() and text[position].isalpha())
    return found


def url_with_password(text: str) -> bool:
    """Whether `text` holds a URL with a literal password (`postgres://app:s3cret@db/app`): not a
    reference (`${DB_PASSWORD}`, `$(PW)`), not an unresolved compose variable, not a placeholder.
    """
    for match in _URL_PASSWORD.finditer(text):
        if not _scheme_before(text, match.start()):
            continue
        password = match.group(1)
        if "$" in password or "\x00" in password or is_placeholder(password):
            continue
        return True
    return False
